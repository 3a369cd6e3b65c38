"""Held-out calibration folds for the `prior` radius by size: does every quarter of the radii cover >= 0.85?

    python -m training.calibration.prior_folds SAMPLES.npz [--saved-floor 0] [--floors 0,0.5,1,1.5,2] [--splits 4]

Reads the pixel samples a calibration saved (training.calibration.prior --aged --samples-out: per run a score and
error sample, its hint group, source and whether aged; the runs of one photo are consecutive, 6 to a photo with
--aged). The score is the network part plus a constant floor (backends.prior.fusion.SCORE_FLOOR); the samples
hold it with the floor they were made with (--saved-floor), so any other floor is the same score shifted. Each
split halves the calibration photos at random within each source; lambda is fitted per group on one half
(colorcore.calibration.fit_calibration, as the calibration fits it) and measured on the other, then the halves
swap. Per group, clean and aged apart: the coverage (mean over runs) and, as bench/uncertainty.py reports it, the
pooled coverage within each quartile of the radius (small -> large), the mean over splits. The issue's target:
>= 0.85 in each quartile. With --lambda-by-quartile also: what lambda each quartile would need alone (on all runs).
"""
from __future__ import annotations

import argparse
import sys

import numpy as np

from colorcore.calibration import fit_calibration

ALPHA = 0.1


def quartile_coverage(radius, error):
    """Pooled coverage within each quartile of the radius (small -> large), as bench/uncertainty.py's by_size."""
    r, e = np.ravel(radius), np.ravel(error)
    q = np.searchsorted(np.quantile(r, [0.25, 0.5, 0.75]), r, side="right")
    return [float(np.mean(e[q == k] <= r[q == k])) for k in range(4)]


def photo_halves(source, per_photo, rng):
    """A boolean per run: the run's photo is in the first half (half of each source's photos, at random)."""
    photo = np.arange(len(source)) // per_photo
    first = np.zeros(photo.max() + 1, bool)
    for src in sorted(set(source)):
        ps = np.unique(photo[source == src])
        first[rng.permutation(ps)[:len(ps) // 2]] = True
    return first[photo]


def held_out(score, error, group, aged, source, per_photo, splits, seed=0):
    """{(group, aged): [coverage, q1, q2, q3, q4]}, each the mean over 2 * splits held-out halves."""
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(splits):
        half = photo_halves(source, per_photo, rng)
        for fit in (half, ~half):
            cal = fit_calibration(list(score[fit]), list(error[fit]), groups=list(group[fit]), alphas=(ALPHA,))
            row = {}
            for g in sorted(set(group)):
                for a in (False, True):
                    sel = ~fit & (group == g) & (aged == a)
                    if sel.any():
                        r = cal.lam(ALPHA, g) * score[sel]
                        row[(g, a)] = [float(np.mean(np.mean(error[sel] <= r, axis=1)))] + \
                            quartile_coverage(r, error[sel])
            rows.append(row)
    return {k: np.mean([r[k] for r in rows], axis=0) for k in rows[0]}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("samples")
    p.add_argument("--saved-floor", type=float, default=None,
                   help="the floor the samples' scores hold (default: backends.prior.fusion.SCORE_FLOOR)")
    p.add_argument("--floors", default="0,0.5,1,1.5,2")
    p.add_argument("--splits", type=int, default=4)
    p.add_argument("--lambda-by-quartile", action="store_true")
    args = p.parse_args(argv)
    if args.saved_floor is None:
        from backends.prior.fusion import SCORE_FLOOR
        args.saved_floor = SCORE_FLOOR
    d = np.load(args.samples)
    score, error = d["score"].astype(np.float64), d["error"].astype(np.float64)
    group, aged, source = d["group"].astype(str), d["aged"].astype(bool), d["source"].astype(str)
    per_photo = 6 if aged.any() else 3
    base = score - args.saved_floor
    print(f"held-out coverage at alpha {ALPHA} ({len(score)} runs, {len(score) // per_photo} photos, "
          f"{args.splits} splits in photo halves x 2): overall : by radius quartile small -> large")
    for f in (float(x) for x in args.floors.split(",")):
        out = held_out(base + f, error, group, aged, source, per_photo, args.splits)
        worst = min(min(v[1:]) for v in out.values())
        print(f"floor {f:g}: worst quartile {worst:.3f}")
        for (g, a), v in out.items():
            print(f"   {g:15s} {'aged ' if a else 'clean'} {v[0]:.3f} : {'/'.join(f'{x:.3f}' for x in v[1:])}")
        if args.lambda_by_quartile:
            s = base + f
            for g in sorted(set(group)):
                sel = group == g
                r, e = s[sel].ravel(), error[sel].ravel()
                q = np.searchsorted(np.quantile(r, [0.25, 0.5, 0.75]), r, side="right")
                need = [np.quantile(e[q == k] / r[q == k], 1 - ALPHA) for k in range(4)]
                print(f"   {g:15s} lambda each quartile would need alone: {'/'.join(f'{x:.3f}' for x in need)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
