"""Fit the variational backend's uncertainty: score mixing weights, then the conformal lambda.

    python -m training.calibration.variational [--data FOLDER] [--images 420]

Photos: the calibration slice of every training source (training.gan.data.held_out_slices: never trained on,
never benchmarked on, the same photos the `prior` calibrates on), or a folder of colour photos (--data).
Hint sets follow the benchmark protocol (6x6 patches of mean ab at Gaussian positions), one set per
scribble-count group on every photo, its number of points drawn from the protocol's counts in that group.
Images are split in two disjoint halves: the first picks the score's unreached gain and floor (smallest mean
radius at alpha = 0.1), the second calibrates lambda, so the conformal guarantee holds for the second half's
distribution. Writes calibration.json beside the backend.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from colorcore import color, novelty
from colorcore.calibration import crc_lambda, fit_calibration
from training.evaluation import POINT_COUNTS, chroma_error, hint_positions, hint_scribbles, list_images, load_rgb
from colorcore.intervals import KEY, channel_errors, fit_intervals
from training.shared_data import shared_data

from backends.variational.plugin import CALIBRATION_FILE, VariationalBackend
from backends.variational.propagate import propagate_scribbles
from backends.variational.strokes import SCRIBBLE_GROUPS, scribble_group
from backends.variational.uncertainty import raw_score

GAINS = (0.0, 5.0, 10.0, 20.0, 40.0)
FLOORS = (1.0, 2.0, 4.0, 6.0, 9.0, 13.0)


def hint_counts_per_group(rng):
    """One hint count for each scribble-count group (SCRIBBLE_GROUPS), drawn from the protocol's counts in it.
    Every photo then calibrates every group, so a group's lambda rests on all the photos, not a third of them,
    and its conformal finite-sample margin (a risk of 1/(n+1): about +0.014 coverage at 70 photos) shrinks."""
    counts, low = [], 0
    for top, _ in SCRIBBLE_GROUPS:
        counts.append(int(rng.choice([c for c in POINT_COUNTS if c > low and (top is None or c <= top)])))
        low = top
    return counts


def sample_cases(paths, seed):
    """(unreached, variance, chroma error, group, per-channel RGB errors, novelty.input_features or None) per hint
    set: one per scribble-count group for each photo (the photo's novelty features on its first only)."""
    rng = np.random.default_rng(seed)
    opts = VariationalBackend().validate_options({})
    cases = []
    for i, path in enumerate(paths):
        rgb = load_rgb(path)
        L = color.lightness(rgb)
        for k, n in enumerate(hint_counts_per_group(rng)):
            scribbles = hint_scribbles(rgb, hint_positions(rgb.shape[:2], n, rng))
            prop = propagate_scribbles(L, scribbles, opts)   # 256x256: working size = full size
            pred = color.with_lightness(L, prop.ab)
            cases.append((prop.unreached, prop.variance, chroma_error(pred, rgb), scribble_group(prop.strokes),
                          channel_errors(pred, rgb, L, prop.ab), novelty.input_features(rgb) if k == 0 else None))
        print(f"\r{i + 1}/{len(paths)} images", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    return cases


def mean_radius(cases, gain, floor, alpha=0.1):
    scores = [raw_score(d, v, gain, floor) for d, v, *_ in cases]
    lam = crc_lambda(scores, [c[2] for c in cases], alpha)
    return lam * float(np.mean([s.mean() for s in scores]))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="a folder of colour photos to calibrate on instead, searched recursively "
                                       "(default: the calibration slice of every training source)")
    parser.add_argument("--images", type=int, default=420, help="images used in all (half to fit, half to calibrate)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", default=str(CALIBRATION_FILE))
    args = parser.parse_args(argv)
    if args.data:
        where, paths = args.data, list_images(args.data)
    else:
        from training.gan import data
        where = f"the calibration slices under {shared_data()}"
        paths = [p for files in data.held_out_slices(shared_data(), "calib").values() for p in files]
    if len(paths) < 20:
        parser.error(f"need at least 20 images in {where}; found {len(paths)}")
    pick = np.random.default_rng(args.seed).permutation(len(paths))[:args.images]
    half = len(pick) // 2
    fit_cases = sample_cases([paths[i] for i in pick[:half]], args.seed)
    cal_cases = sample_cases([paths[i] for i in pick[half:]], args.seed + 1)
    best = min(((mean_radius(fit_cases, g, f), g, f) for g in GAINS for f in FLOORS))
    _, gain, floor = best
    print(f"score: unreached_gain={gain} floor={floor} (mean radius at alpha=0.1 on the fit half: {best[0]:.2f})")
    scores = [raw_score(d, v, gain, floor) for d, v, *_ in cal_cases]
    errors = [c[2] for c in cal_cases]
    groups = [c[3] for c in cal_cases]
    # the baseline: one constant radius, calibrated the same way (per group too)
    constant = fit_calibration([np.ones_like(e) for e in errors], errors, groups=groups)
    source = (f"{Path(args.data).name if args.data else 'calibration slices'}: {len(pick) - half} images, one hint "
              f"set per group from the counts {POINT_COUNTS}, seed {args.seed}")
    cal = fit_calibration(scores, errors, groups=groups, score={"unreached_gain": gain, "floor": floor},
                          source=source, constant_radius=constant.describe(),
                          **{KEY: fit_intervals(scores, [c[4] for c in cal_cases], groups=groups),
                             novelty.KEY: novelty.fit_novelty([np.append(c[5], novelty.score_feature(s))
                                                               for c, s in zip(cal_cases, scores)
                                                               if c[5] is not None])})
    cal.save(args.out)
    print(f"wrote {args.out}: lambdas {cal.lambdas}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
