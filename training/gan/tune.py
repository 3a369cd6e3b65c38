"""Tune the chroma post-processing (global gain, shrink towards gray where the predicted error is
large) on one of the trainer's held-out splits. Run before calibrate.

By default on the CALIBRATION split: bench/auto.py reports every training source's VALIDATION slice, so a
setting chosen there would be chosen on the benchmark's own photos (the weights up to v4 were tuned on it). The
calibration split is held out from training as well; the conformal radius calibrated on it afterwards sees one
number chosen on the same photos (the gain), which can only tighten its coverage on new photos negligibly.

    python -m training.gan.tune --weights backends/gan/weights/gan.pt \
        --splits runs/gan/gan_v1/gan.splits.json [--min-colourfulness 0.75] [--write]

Picks the setting with the best mean PSNR whose colourfulness ratio stays >= --min-colourfulness
and stores it as "postprocess" in the JSON beside the weights (with --write); with --sizes, the
prediction size is chosen the same way and stored as the weights' "size".
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np


GAINS = [round(0.7 + 0.025 * k, 3) for k in range(29)]   # 0.7 .. 1.4
TAUS = [0.0, 40.0, 25.0, 15.0]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--weights", required=True)
    p.add_argument("--splits", required=True, help="<run>.splits.json written by the trainer, or 'shipped': the "
                   "shipped models' held-out split (training.gan.data.load_splits)")
    p.add_argument("--size", type=int, default=None, help="prediction size (default: the weights' own)")
    p.add_argument("--sizes", default="",
                   help="comma-separated prediction sizes to choose from as well (e.g. 176,224,256); the chosen "
                        "one is written as the weights' \"size\"")
    p.add_argument("--eval-size", type=int, default=256, help="images resized to this square size first")
    p.add_argument("--min-colourfulness", type=float, default=0.75)
    p.add_argument("--flip", action="store_true",
                   help="average each prediction with that of the mirrored photo (stored as the postprocess's "
                        "\"flip\", so the backend does the same)")
    p.add_argument("--scales", default="",
                   help="comma-separated factors of the size (e.g. 0.8182,1.2727): predict at each of those sizes "
                        "and average (stored as the postprocess's \"scales\", so the backend does the same)")
    p.add_argument("--split", choices=("calib", "val"), default="calib",
                   help="the held-out split to tune on (default calib: bench/auto.py reports the val slices)")
    p.add_argument("--write", action="store_true")
    args = p.parse_args(argv)
    from PIL import Image
    from colorcore import color
    from . import data
    from backends.gan import infer
    from training.evaluation import colourfulness, psnr as psnr_uint8

    scales = [float(v) for v in args.scales.split(",") if v]
    sizes = sorted({args.size or infer.native_size(args.weights)} | {int(v) for v in args.sizes.split(",") if v})
    G = infer.load_generator(args.weights)
    try:
        splits = data.load_splits(args.splits)
    except ValueError as e:
        sys.exit(f"--splits: {e}")
    root = splits.get("val_root", splits["data"])
    photos = splits[args.split]
    gains, taus = GAINS, TAUS
    psnr = np.zeros((len(sizes), len(gains), len(taus), len(photos)))
    col = np.zeros_like(psnr)
    col_gt, psnr_gray = [], []
    for i, rel in enumerate(photos):
        with Image.open(data.resolve(root, rel)) as im:
            im = im.convert("RGB").resize((args.eval_size, args.eval_size), Image.BICUBIC)
            rgb = np.asarray(im, np.float32) / 255.0
        L = color.lightness(rgb)
        # a mask-conditioned generator (partial-gan) is tuned with the whole image selected
        full = np.ones(L.shape, np.float32) if G.config["in_ch"] == 2 else None
        # same path as the backend, without post-processing; with no dropout samples the raw score is
        # the predicted error s_head, upsampled to full size
        col_gt.append(colourfulness(rgb))
        psnr_gray.append(psnr_uint8(color.with_lightness(L, np.zeros(L.shape + (2,), np.float32)), rgb))
        for z, size in enumerate(sizes):
            ab, s = infer.colorize_L(G, L, size=size, samples=0, mask=full,
                                     post={"flip": args.flip, "scales": scales})
            s = s[..., None]
            for a, g in enumerate(gains):
                for b, t in enumerate(taus):
                    pred = color.with_lightness(L, infer.shrink_chroma(ab, s, gain=g, tau=t))
                    psnr[z, a, b, i] = psnr_uint8(pred, rgb)
                    col[z, a, b, i] = colourfulness(pred)
    mp = psnr.mean(-1)
    cr = col.mean(-1) / np.mean(col_gt)
    print(f"{args.split}: {len(photos)} images, gray PSNR {np.mean(psnr_gray):.2f}")
    best = None
    for z, size in enumerate(sizes):
        print(f"size {size}:")
        for a, g in enumerate(gains):
            print(" ".join(f"g={g:.3f},tau={t:>4.0f}: {mp[z, a, b]:.2f} dB c={cr[z, a, b]:.2f} |"
                           for b, t in enumerate(taus)))
            for b, t in enumerate(taus):
                if cr[z, a, b] >= args.min_colourfulness and (best is None or mp[z, a, b] > mp[best]):
                    best = (z, a, b)
    if best is None:
        best = np.unravel_index(np.argmax(cr), cr.shape)
    size, g, t = sizes[best[0]], gains[best[1]], taus[best[2]]
    post = {"gain": g, "tau": t, "flip": args.flip, **({"scales": scales} if scales else {}),
            "tuned_on": f"{len(photos)} {args.split} images (held out from training)",
            "psnr": round(float(mp[best]), 3), "colourfulness_ratio": round(float(cr[best]), 3),
            "gray_psnr": round(float(np.mean(psnr_gray)), 3),
            "psnr_no_post": round(float(mp[best[0], gains.index(1.0), 0]), 3)}
    print(f"chosen: size {size},", json.dumps(post))
    if args.write:
        meta_path = Path(args.weights).with_suffix(".json")
        meta = json.loads(meta_path.read_text())
        # the uncertainty score's chroma share is calibrate's choice, not tune's: kept (calibrate again after tuning)
        kept = {k: v for k, v in (meta.get("postprocess") or {}).items() if k.startswith(infer.SCORE_CHROMA)}
        meta["postprocess"] = dict(post, **kept)
        if len(sizes) > 1:
            meta["size"] = size
        meta_path.write_text(json.dumps(meta, indent=1) + "\n")
        print(f"wrote postprocess into {meta_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
