"""Rebuilds docs/uncertainty/old_photos.jpg: old photographs from ../shared/data/oldphotos_v1, each as the gray
input, Auto's result (the shipped `gan`, default options) and its uncertainty layer (the calibrated radius at
alpha = 0.1, 0 to 60 Delta E as black to white, the same scale for every photo), one row per photo.

    python docs/make_uncertainty_figure.py
"""
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from colorcore import ColorizeRequest, load_registry, run_backend
from training.shared_data import shared_data

ROOT = Path(__file__).resolve().parents[1]
PHOTOS = ["DeOldify_test_images/AnselAdamsYosemite.jpg", "DeOldify_test_images/1870Girl.jpg",
          "DeOldify_test_images/1890CliffHouseSF.jpg"]
OUT = ROOT / "docs" / "uncertainty" / "old_photos.jpg"
SCALE = 60.0   # Delta E shown as white
HEIGHT = 300


def auto_run(path, backend):
    """The photo at most 640 px a side (sRGB in [0, 1]) and Auto's result on it."""
    with Image.open(path) as im:
        im = im.convert("RGB")
        im.thumbnail((640, 640))
        rgb = np.asarray(im, np.float32) / 255.0
    return rgb, run_backend(backend, ColorizeRequest(image=rgb, seed=0))


def row(path, backend):
    rgb, res = auto_run(path, backend)
    radius = np.clip(res.uncertainty / SCALE, 0, 1)
    panels = [rgb, res.rgb, np.repeat(radius[..., None], 3, axis=2)]
    tiles = [Image.fromarray((p * 255 + 0.5).astype(np.uint8)) for p in panels]
    w = round(tiles[0].width * HEIGHT / tiles[0].height)
    tiles = [t.resize((w, HEIGHT), Image.LANCZOS) for t in tiles]
    out = Image.new("RGB", (3 * w + 12, HEIGHT), (255, 255, 255))
    for i, t in enumerate(tiles):
        out.paste(t, (i * (w + 6), 0))
    return out, float(np.mean(res.uncertainty))


def main():
    backend = load_registry().get("gan")
    root = shared_data(ROOT) / "oldphotos_v1"
    rows = [row(root / p, backend) for p in PHOTOS]
    W = max(r.width for r, _ in rows)
    fig = Image.new("RGB", (W, len(rows) * (HEIGHT + 6) + 24), (255, 255, 255))
    draw = ImageDraw.Draw(fig)
    draw.text((6, 4), f"input | Auto (gan) | uncertainty radius at alpha 0.1, black 0 to white {SCALE:g} Delta E",
              fill=(0, 0, 0))
    for i, (r, mean) in enumerate(rows):
        fig.paste(r, (0, 24 + i * (HEIGHT + 6)))
        print(f"{PHOTOS[i]}: mean radius {mean:.1f} Delta E")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    fig.save(OUT, quality=85, optimize=True)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
