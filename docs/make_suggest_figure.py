"""Rebuilds docs/uncertainty/where_to_paint.jpg: old photographs from ../shared/data/oldphotos_v1, each as Auto's
result with the regions colorcore.suggest cuts it into (outlined) and the five places it suggests (numbered,
best first), beside the uncertainty layer they are weighed by (0 to 60 Delta E as black to white).

    python docs/make_suggest_figure.py
"""
import numpy as np
from make_uncertainty_figure import HEIGHT, PHOTOS, ROOT, SCALE, auto_run   # the same photos, scale and size
from PIL import Image, ImageDraw

from colorcore import load_registry
from colorcore import suggest as S
from training.shared_data import shared_data

OUT = ROOT / "docs" / "uncertainty" / "where_to_paint.jpg"
PLACES = 5     # as the plug-in's layer


def outlined(rgb, labels):
    """rgb with a white line where the region changes (labels brought to rgb's size, nearest)."""
    import cv2
    H, W = rgb.shape[:2]
    lab = cv2.resize(labels.astype(np.int32), (W, H), interpolation=cv2.INTER_NEAREST)
    edge = np.zeros((H, W), bool)
    edge[1:] |= lab[1:] != lab[:-1]
    edge[:, 1:] |= lab[:, 1:] != lab[:, :-1]
    out = rgb.copy()
    out[edge] = 1.0
    return out


def circled(tile, places, scale):
    from PIL import ImageFont
    draw = ImageDraw.Draw(tile)
    font = ImageFont.load_default(size=16)
    for i, p in enumerate(places, 1):
        x, y, r = p["x"] * scale, p["y"] * scale, max(8.0, p["radius"] * scale)
        draw.ellipse([x - r, y - r, x + r, y + r], outline=(255, 40, 40), width=3)
        draw.text((x + r + 3, y - 9), str(i), fill=(255, 40, 40), font=font, stroke_width=2, stroke_fill=(0, 0, 0))
    return tile


def row(path, backend):
    _, res = auto_run(path, backend)
    places = S.suggest(res.rgb, res.uncertainty, PLACES)
    _, L, ab, r = S.working(res.rgb, res.uncertainty, S.REGION_PIXELS)
    labels, _ = S.region_clusters(L, ab, max(S.REGION_CLUSTERS, PLACES), r > 0)   # the regions suggest() ranks
    radius = np.repeat(np.clip(res.uncertainty / SCALE, 0, 1)[..., None], 3, axis=2)
    panels = [outlined(res.rgb, labels), radius]
    tiles = [Image.fromarray((np.clip(p, 0, 1) * 255 + 0.5).astype(np.uint8)) for p in panels]
    k = HEIGHT / tiles[0].height
    w = round(tiles[0].width * k)
    tiles = [circled(t.resize((w, HEIGHT), Image.LANCZOS), places, k) for t in tiles]
    out = Image.new("RGB", (2 * w + 6, HEIGHT), (255, 255, 255))
    for i, t in enumerate(tiles):
        out.paste(t, (i * (w + 6), 0))
    return out


def main():
    backend = load_registry().get("gan")
    rows = [row(shared_data(ROOT) / "oldphotos_v1" / p, backend) for p in PHOTOS]
    width = max(r.width for r in rows)
    sheet = Image.new("RGB", (width, sum(r.height + 6 for r in rows) - 6), (255, 255, 255))
    y = 0
    for r in rows:
        sheet.paste(r, (0, y))
        y += r.height + 6
    OUT.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(OUT, quality=88)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
