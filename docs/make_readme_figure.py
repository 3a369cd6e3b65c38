"""Rebuilds docs/images/scribble_before_after.jpg: a real historical photo from ../shared/data/oldphotos_v1,
scribbled by hand (the strokes below), colorized by the `variational` backend, with its uncertainty layer; and
docs/images/scribble_few_strokes.jpg: the same photo with only a handful of those strokes (FEW), colorized by
`variational` and by `prior`, side by side, and `prior` with one more stroke (DRESS).

    python docs/make_readme_figure.py
"""
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from colorcore import ColorizeRequest, load_registry, run_backend
from training.shared_data import shared_data

ROOT = Path(__file__).resolve().parents[1]
PHOTO = shared_data(ROOT) / "oldphotos_v1" / "DeOldify_test_images" / "1870Girl.jpg"
OUT = ROOT / "docs" / "images" / "scribble_before_after.jpg"
OUT_FEW = ROOT / "docs" / "images" / "scribble_few_strokes.jpg"

SKY, TREES, GRASS, DRY = (150, 185, 225), (55, 85, 45), (120, 140, 60), (170, 150, 90)
SKIN, HAIR, WHITE, DARK = (225, 175, 150), (225, 195, 125), (248, 246, 240), (45, 45, 45)
STROKES = [  # (x0, y0, x1, y1), colour: painted by hand while looking at the photo
    ((20, 40, 440, 52), SKY), ((20, 115, 180, 125), SKY), ((340, 110, 445, 122), SKY),
    ((30, 178, 110, 186), TREES), ((335, 185, 440, 192), TREES), ((120, 165, 185, 175), TREES),
    ((25, 300, 120, 308), GRASS), ((350, 300, 450, 308), GRASS), ((25, 420, 125, 428), GRASS),
    ((350, 430, 450, 438), GRASS), ((20, 590, 200, 598), DRY), ((300, 600, 450, 608), DRY),
    ((40, 230, 130, 236), GRASS), ((340, 240, 440, 246), GRASS),
    ((220, 178, 246, 184), SKIN), ((228, 196, 240, 200), SKIN), ((166, 350, 174, 368), SKIN),
    ((296, 350, 304, 368), SKIN),
    ((204, 150, 212, 200), HAIR), ((268, 160, 276, 200), HAIR), ((215, 140, 250, 146), HAIR),
    ((250, 105, 300, 115), WHITE), ((205, 300, 285, 310), WHITE), ((190, 420, 300, 430), WHITE),
    ((240, 550, 252, 590), DARK), ((268, 550, 280, 590), DARK),
]


FEW = [STROKES[i] for i in (0, 3, 6, 14, 18, 21)]   # one each: sky, trees, grass, skin, hair, the white bow
DRESS = STROKES[22]                                   # the one more stroke the last panel adds: white on the dress


def scribble_layer(size, strokes=STROKES):
    colour, alpha = Image.new("RGB", size), Image.new("L", size, 0)
    dc, da = ImageDraw.Draw(colour), ImageDraw.Draw(alpha)
    for (x0, y0, x1, y1), rgb in strokes:
        dc.rectangle([x0 - 2, y0 - 2, x1 + 2, y1 + 2], fill=rgb)
        da.rounded_rectangle([x0, y0, x1, y1], radius=3, fill=255)
    colour.putalpha(alpha.filter(ImageFilter.GaussianBlur(1.0)))
    return colour


def strip(panels, path, h=300):
    panels = [p.resize((round(p.width * h / p.height), h), Image.LANCZOS) for p in panels]
    out = Image.new("RGB", (sum(p.width for p in panels) + 6 * (len(panels) - 1), h), "white")
    x = 0
    for p in panels:
        out.paste(p, (x, 0))
        x += p.width + 6
    path.parent.mkdir(parents=True, exist_ok=True)
    out.save(path, quality=85, optimize=True)
    print(f"wrote {path} ({path.stat().st_size // 1024} KB)")


def colorize(photo, scr, backend):
    req = ColorizeRequest(image=np.asarray(photo, np.float32) / 255, mode="scribble",
                          scribbles=np.asarray(scr, np.float32) / 255)
    return run_backend(load_registry().get(backend), req)


def painted(photo, scr):
    out = photo.copy()
    out.paste(scr, (0, 0), scr)
    return out


def as_image(rgb):
    return Image.fromarray(np.round(rgb * 255).astype(np.uint8))


def main():
    photo = Image.open(PHOTO).convert("RGB")
    scr = scribble_layer(photo.size)
    res = colorize(photo, scr, "variational")
    unc = res.uncertainty / max(float(res.uncertainty.max()), 1e-6)
    strip([photo, painted(photo, scr), as_image(res.rgb),
           Image.fromarray(np.round(unc * 255).astype(np.uint8)).convert("RGB")], OUT)
    print(f"uncertainty white = {res.uncertainty.max():.1f} dE")
    few = scribble_layer(photo.size, FEW)
    more = scribble_layer(photo.size, FEW + [DRESS])
    strip([painted(photo, few), as_image(colorize(photo, few, "variational").rgb),
           as_image(colorize(photo, few, "prior").rgb), as_image(colorize(photo, more, "prior").rgb)], OUT_FEW)


if __name__ == "__main__":
    main()
