"""How aged calibration photos compare with real old scans, on the statistics the novelty and print-like checks
read (training.calibration.print_like.FEATURES at novelty.SIDE): medians and interquartile ranges per group.

    python -m training.calibration.aged_stats [--per-source 10] [--real-limit 60] [--recipes print,scan]

Groups: real old scans (oldphotos_v1: DeOldify's test images, BOPBtL's old photos, RNI6's real gray photos; the
first real-limit of each, whole, as users bring them), the calibration slices' photos clean (256x256, as the
calibrations load them), and the same photos aged by each of training.aging's RECIPES (seeded per photo as
training.calibration.auto_samples seeds them). An ageing recipe is closer to real scans when its medians are.
"""
from __future__ import annotations

import argparse
import sys

import numpy as np

from training.aging import CALIBRATION_SEED, RECIPES, age, photo_rng
from training.calibration import print_like
from training.evaluation import gray_of, list_images, load_rgb
from training.shared_data import shared_data

REAL_FOLDERS = ("oldphotos_v1/DeOldify_test_images", "oldphotos_v1/BOPBtL_old", "oldphotos_v1/RNI6_real_gray")


def group_rows(per_source: int, real_limit: int, recipes) -> dict:
    """{group name: (n, len(FEATURES)) rows}."""
    from training.gan import data
    root = shared_data()
    rows = {"real old scans": [print_like.features(gray_of(load_rgb(p, size=None)))
                               for f in REAL_FOLDERS for p in list_images(root / f, real_limit)]}
    rows["clean"] = []
    rows.update({f"aged ({r})": [] for r in recipes})
    for files in data.held_out_slices(root, "calib", per_source).values():
        for i, path in enumerate(files):
            gray = gray_of(load_rgb(path))
            rows["clean"].append(print_like.features(gray))
            for r in recipes:
                rows[f"aged ({r})"].append(print_like.features(age(gray, photo_rng(CALIBRATION_SEED, i),
                                                                   recipe_name=r)[0]))
    return {k: np.asarray(v) for k, v in rows.items()}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--per-source", type=int, default=10)
    p.add_argument("--real-limit", type=int, default=60)
    p.add_argument("--recipes", default=",".join(RECIPES))
    args = p.parse_args(argv)
    recipes = [r for r in args.recipes.split(",") if r]
    unknown = [r for r in recipes if r not in RECIPES]
    if unknown:
        sys.exit(f"unknown ageing recipe(s) {', '.join(unknown)}: expected some of {', '.join(RECIPES)}")
    rows = group_rows(args.per_source, args.real_limit, recipes)
    print("median [interquartile range]".ljust(22) + "".join(f"{f[:15]:>17s}" for f in print_like.FEATURES))
    for name, X in rows.items():
        q1, med, q3 = np.percentile(X, [25, 50, 75], axis=0)
        print(f"{name:16s} {len(X):4d} " + "".join(f"{m:8.3f} [{b - a:5.2f}]" for m, a, b in zip(med, q1, q3)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
