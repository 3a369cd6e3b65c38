"""Rebuilds docs/uncertainty/descreen.jpg: the sample cottage printed through a halftone screen (period 4.5 px,
training.aging.halftone), then Auto (the shipped `gan`) with the screen left in the network's copy and taken out
(colorcore.descreen, as the engine does), each with its uncertainty layer (0 to 60 Delta E as black to white).
Top row: the whole picture; bottom row: the centre enlarged 3x, where the screen shows.

    python docs/make_descreen_figure.py
"""
from pathlib import Path
from unittest import mock

import numpy as np
from PIL import Image, ImageDraw

from colorcore import ColorizeRequest, descreen, load_registry, run_backend
from training.aging import halftone

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "uncertainty" / "descreen.jpg"
PERIOD = 4.5
SCALE = 60.0   # Delta E shown as white


def main():
    with Image.open(ROOT / "examples" / "sample" / "cottage.png") as im:
        gray = np.repeat(np.asarray(im.convert("L"), np.float32)[..., None] / 255.0, 3, axis=2)
    screened, _ = halftone(gray, np.random.default_rng(0), {"period": (PERIOD, PERIOD)})
    gan = load_registry().get("gan")
    found = run_backend(gan, ColorizeRequest(image=screened, seed=0))
    with mock.patch.object(descreen, "screen_period", return_value=None):
        left = run_backend(gan, ColorizeRequest(image=screened, seed=0))
    unc = lambda r: np.repeat(np.clip(r.uncertainty / SCALE, 0, 1)[..., None], 3, axis=2)  # noqa: E731
    panels = [("printed through a screen", screened), ("Auto, screen left in", left.rgb),
              ("its uncertainty", unc(left)), (f"Auto, screen taken out ({found.info['descreened']:.1f} px)",
                                               found.rgb), ("its uncertainty", unc(found))]
    H, W = gray.shape[:2]
    ch, cw = H // 3, W // 3
    y0, x0 = (H - ch) // 2, (W - cw) // 2
    tiles = []
    for title, img in panels:
        u8 = (np.clip(img, 0, 1) * 255 + 0.5).astype(np.uint8)
        whole = Image.fromarray(u8)
        zoom = Image.fromarray(u8[y0:y0 + ch, x0:x0 + cw]).resize((cw * 3, ch * 3), Image.NEAREST)
        col = Image.new("RGB", (W, 18 + H + zoom.height), "white")
        ImageDraw.Draw(col).text((4, 3), title, fill="black")
        col.paste(whole, (0, 18))
        col.paste(zoom, (0, 18 + H))
        tiles.append(col)
    sheet = Image.new("RGB", (sum(t.width for t in tiles) + 6 * (len(tiles) - 1), tiles[0].height), "white")
    x = 0
    for t in tiles:
        sheet.paste(t, (x, 0))
        x += t.width + 6
    sheet.thumbnail((1800, 1800))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(OUT, quality=85)
    print(f"wrote {OUT}: mean radius left in {left.uncertainty.mean():.1f}, taken out {found.uncertainty.mean():.1f}")


if __name__ == "__main__":
    main()
