"""Leave-one-source-out: does the calibrated radius hold on a source the calibration never saw?

    python -m training.calibration.loso runs/unc30/prior_aged/samples.npz [--alpha 0.1]

Reads the pixel samples a calibration saved (training.calibration.prior --samples-out: per run a score and error
sample, its group, source and whether the photo was aged). For every source: lambda is fitted on the runs of every
other source (colorcore.calibration.fit_calibration, per group when the runs have groups, as the backend
calibrates), and the coverage is measured on the left-out source's runs, clean and aged apart: the mean over runs
of the share of pixels within the radius, ± its standard error. The issue's target: >= 0.87 on every left-out
source, clean and aged. The last line is the same with every source in (no source left out) for comparison.
--print-like (samples with each run's print_like.features, from training.calibration.auto_samples): as a pipeline
with the print-like check would run a backend, lambda is fitted on the other sources' clean runs and the check with its
widening on all their runs (training.calibration.print_like), then applied to the left-out source.
"""
from __future__ import annotations

import argparse
import sys

import numpy as np

from bench.common import mean_sem
from colorcore.calibration import coverage, fit_calibration


def covered(cal, alpha, score, error, groups):
    return [coverage(cal.lam(alpha, g if g in cal.groups else None) * s, e) for s, e, g in zip(score, error, groups)]


def widened_by_check(d, fit_on, alpha):
    """Every run's score widened by the print-like check fitted on the runs `fit_on`."""
    from training.calibration.print_like import fit_print_like, widened
    score, error, aged = d["score"], d["error"], d["aged"].astype(bool)
    fitted = fit_print_like(d["features"][fit_on], aged[fit_on], list(score[fit_on]), list(error[fit_on]))
    return np.asarray(widened(fitted, d["features"], list(score), alpha))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("samples")
    p.add_argument("--alpha", type=float, default=0.1)
    p.add_argument("--clean-only", action="store_true",
                   help="fit lambda on the clean runs only (as a calibration without aged photos would)")
    p.add_argument("--print-like", action="store_true",
                   help="lambda on the clean runs, widened by the print-like check (training.calibration.print_like)")
    args = p.parse_args(argv)
    d = np.load(args.samples)
    score, error, group, source, aged = d["score"], d["error"], d["group"], d["source"], d["aged"].astype(bool)
    args.clean_only |= args.print_like
    groups = [str(g) for g in group]
    rows = []
    worst = {}
    for src in sorted(set(source)):
        out = (source != src) & (~aged if args.clean_only else True)
        cal = fit_calibration(list(score[out]), list(error[out]), groups=[g for g, o in zip(groups, out) if o])
        tested = widened_by_check(d, source != src, args.alpha) if args.print_like else score
        row = [src]
        for is_aged in (False, True):
            sel = (source == src) & (aged == is_aged)
            if not sel.any():
                row.append("-")
                continue
            m, se = mean_sem(covered(cal, args.alpha, tested[sel], error[sel], [g for g, s in zip(groups, sel) if s]))
            worst[(src, is_aged)] = m
            row.append(f"{m:.3f} ±{se:.3f} ({int(sel.sum())} runs)")
        rows.append(row)
    fit = ~aged if args.clean_only else np.ones(len(score), bool)
    cal = fit_calibration(list(score[fit]), list(error[fit]), groups=[g for g, f in zip(groups, fit) if f])
    tested = widened_by_check(d, np.ones(len(score), bool), args.alpha) if args.print_like else score
    row = ["(none left out)"]
    for is_aged in (False, True):
        sel = aged == is_aged
        if sel.any():
            m, se = mean_sem(covered(cal, args.alpha, tested[sel], error[sel], [g for g, s in zip(groups, sel) if s]))
            row.append(f"{m:.3f} ±{se:.3f} ({int(sel.sum())} runs)")
        else:
            row.append("-")
    rows.append(row)
    print(f"coverage at alpha {args.alpha} on the left-out source (lambda fitted on the others)")
    print(f"{'source':20s} | {'clean':24s} | aged")
    for r in rows:
        print(f"{r[0]:20s} | {r[1]:24s} | {r[2]}")
    (src, is_aged), m = min(worst.items(), key=lambda kv: kv[1])
    print(f"{'met ' if m >= 0.87 else 'MISSED'} >= 0.87 on every left-out source, clean and aged "
          f"(worst {src}{' aged' if is_aged else ''}: {m:.3f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
