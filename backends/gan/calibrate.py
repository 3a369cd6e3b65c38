"""Conformal calibration of the `gan` raw uncertainty score on the held-out calibration split.

    python -m backends.gan.calibrate --weights backends/gan/weights/gan.pt \
        --splits runs/gan/gan_v1/gan.splits.json [--size 256] [--samples 8]

Runs the backend exactly as the engine does (full-resolution image, chroma predicted at
--size, guided upsampling) on each calibration image, takes the chroma error
|ab_pred - ab_true| per pixel, and fits lambda(alpha) by conformal risk control
(colorcore.calibration.fit_calibration). A constant radius (score = 1) is calibrated on the
same images and stored too, as the baseline the per-pixel radius has to beat. Writes
calibration.json beside the weights.

Weights with a mask input (partial-gan) are calibrated on random selections of the training
mask families, one per image (seeded), counting only the pixels inside the selection: outside it
the radius is zero by construction.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np


def load_rgb(path) -> np.ndarray:
    from PIL import Image
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"), dtype=np.float32) / 255.0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--weights", required=True)
    p.add_argument("--splits", required=True, help="<run>.splits.json written by the trainer")
    p.add_argument("--size", type=int, default=None, help="default: the backend's default size")
    p.add_argument("--samples", type=int, default=8)
    p.add_argument("--limit", type=int, default=0)
    args = p.parse_args(argv)

    from colorcore import ColorizeRequest, color
    from colorcore.calibration import coverage, fit_calibration
    from .plugin import GanBackend
    from backends.partial_gan.plugin import PartialGanBackend
    from backends.partial_gan.masks import random_mask

    from .plugin import DEFAULT_SIZE
    args.size = args.size or DEFAULT_SIZE
    splits = json.loads(Path(args.splits).read_text())
    rels = splits["calib"][:args.limit or None]
    in_ch = json.loads(Path(args.weights).with_suffix(".json").read_text())["generator"]["in_ch"]
    backend = (PartialGanBackend if in_ch == 2 else GanBackend)(args.weights)
    rng = np.random.default_rng(1234)
    if backend.unavailable_reason():
        sys.exit(backend.unavailable_reason())
    scores, errors = [], []
    t0 = time.time()
    for i, rel in enumerate(rels):
        rgb = load_rgb(Path(splits["data"], rel))
        # the backend sees only the lightness of its input, so the colour photo itself can be passed
        mask = random_mask(rng, (rgb * 255 + 0.5).astype(np.uint8)) if backend.takes_mask else None
        out = backend.run(ColorizeRequest(image=rgb, seed=0, mode="partial" if backend.takes_mask else "auto",
                                          mask=mask, options={"size": args.size, "samples": args.samples}))
        ab_true = color.rgb_to_lab(rgb)[..., 1:]
        inside = mask > 0.5 if mask is not None else np.ones(rgb.shape[:2], bool)
        errors.append(np.linalg.norm(out.ab - ab_true, axis=-1)[inside].astype(np.float32))
        scores.append(out.score[inside])
        if i % 50 == 0:
            print(f"{i}/{len(rels)} ({time.time() - t0:.0f}s)", flush=True)
    source = (f"{len(rels)} held-out images of {Path(splits['data']).name} (never trained on), "
              f"size {args.size}, samples {args.samples}"
              + (", inside one random training-family selection each" if backend.takes_mask else ""))
    const = fit_calibration([np.ones_like(s) for s in scores], errors, source=source)
    cal = fit_calibration(scores, errors, source=source, size=args.size, samples=args.samples,
                          constant_radius={str(a): v for a, v in const.lambdas.items()},
                          mean_score=float(np.mean([s.mean() for s in scores])))
    lam = cal.lam(0.1)
    cov = float(np.mean([coverage(lam * s, e) for s, e in zip(scores, errors)]))
    rad = float(np.mean([(lam * s).mean() for s in scores]))
    cal.extra.update(calib_coverage_at_0_1=round(cov, 4), calib_mean_radius_at_0_1=round(rad, 3),
                     calib_constant_radius_at_0_1=round(const.lam(0.1), 3))
    out_path = Path(args.weights).parent / "calibration.json"
    cal.save(out_path)
    print(json.dumps(cal.describe(), indent=1))
    print(f"wrote {out_path} in {time.time() - t0:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
