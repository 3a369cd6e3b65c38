"""Draws the sample photo that ships with the repo (our own synthetic scene, no outside data):
a gray 'old photo' of a cottage, its painted scribbles, written as cottage.png and cottage_scribbles.png.

    python examples/sample/make_sample.py
"""
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

HERE = Path(__file__).parent
W, H = 480, 320


def scene():
    rng = np.random.default_rng(1905)
    img = Image.new("RGB", (W, H))
    d = ImageDraw.Draw(img)
    for y in range(H):                                    # sky, lighter towards the horizon
        t = y / H
        d.line([(0, y), (W, y)], fill=(int(90 + 120 * t), int(140 + 90 * t), int(215 + 30 * t)))
    d.ellipse([370, 30, 430, 90], fill=(250, 235, 170))   # sun
    d.polygon([(0, 200), (120, 150), (260, 190), (380, 140), (480, 180), (480, 320), (0, 320)],
              fill=(70, 130, 60))                          # hills
    d.rectangle([0, 250, W, H], fill=(110, 150, 70))      # meadow
    d.rectangle([140, 170, 300, 270], fill=(225, 215, 190))   # cottage walls
    d.polygon([(125, 175), (220, 105), (315, 175)], fill=(150, 50, 40))   # roof
    d.rectangle([200, 220, 235, 270], fill=(95, 60, 35))  # door
    for x in (160, 255):
        d.rectangle([x, 190, x + 28, 215], fill=(60, 80, 110))   # windows
    d.rectangle([62, 170, 76, 265], fill=(90, 65, 40))    # tree trunk
    d.ellipse([30, 110, 110, 190], fill=(45, 100, 45))    # tree crown
    arr = np.asarray(img.filter(ImageFilter.GaussianBlur(1.2)), np.float32)
    arr += rng.normal(0, 6, arr.shape[:2])[..., None]     # film grain
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))


def scribbles():
    colour = Image.new("RGB", (W, H))
    alpha = Image.new("L", (W, H), 0)
    dc, da = ImageDraw.Draw(colour), ImageDraw.Draw(alpha)
    strokes = [((30, 30, 300, 40), (80, 130, 220)), ((250, 110, 440, 118), (110, 160, 230)),
               ((20, 215, 120, 222), (60, 130, 50)), ((330, 190, 470, 198), (70, 135, 55)),
               ((20, 285, 460, 292), (120, 160, 60)), ((160, 235, 190, 260), (220, 210, 185)),
               ((250, 230, 290, 260), (225, 215, 190)), ((180, 150, 260, 160), (160, 45, 35)),
               ((205, 235, 228, 262), (100, 60, 30)), ((50, 135, 90, 150), (40, 105, 40)),
               ((66, 200, 72, 250), (90, 60, 35)), ((390, 55, 410, 65), (250, 225, 140))]
    for box, rgb in strokes:
        dc.rounded_rectangle([box[0] - 3, box[1] - 3, box[2] + 3, box[3] + 3], radius=3, fill=rgb)
        da.rounded_rectangle(box, radius=3, fill=255)
    colour.putalpha(alpha.filter(ImageFilter.GaussianBlur(1.0)))   # a soft brush: only the opacity fades
    return colour


if __name__ == "__main__":
    scene().convert("L").save(HERE / "cottage.png", optimize=True)
    scribbles().save(HERE / "cottage_scribbles.png", optimize=True)
    print("wrote", HERE / "cottage.png", HERE / "cottage_scribbles.png")
