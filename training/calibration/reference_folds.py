"""Held-out calibration folds for the `reference` backend's radius: does a calibration rule land in 0.88-0.92?

    python -m training.calibration.reference_folds runs/reference31/calib_full.npz [--splits 100] [--subset 84]

Reads the pixel samples a calibration saved (training.calibration.reference --samples-out: per pair a score and
error sample, its group, set and source), all from calibration photos and CamVid train frames. Each split halves
the pairs at random (stratified by set and group); the rule is fitted on one half (training.calibration.reference
.group_lambdas, exactly as the calibration fits it) and its coverage at alpha is measured on the other half, each
set weighted like the benchmark's pools (20 pairs per set: framing, scene 2 s, scene 5 s, kind) and also pooled
as the half comes. Then both halves swap. Printed: the mean over splits, the spread (sd) and the share of
splits inside the band. `--subset N` fits on N pairs drawn with the calibration's old proportions instead of a
half (what a calibration of N pairs would give), and measures on the rest.
"""
from __future__ import annotations

import argparse
import sys

import numpy as np

from training.calibration.reference import group_lambdas

BENCH_MIX = {"framing": 1.0, "scene 2 s": 1.0, "scene 5 s": 1.0, "kind": 1.0}


def load(path):
    d = np.load(path)
    keep = [~np.isnan(s) for s in d["score"]]
    return ([s[k] for s, k in zip(d["score"], keep)], [e[k] for e, k in zip(d["error"], keep)],
            [str(g) for g in d["group"]], [str(k) for k in d["set"]], [str(s) for s in d["source"]])


def coverages(table, alpha, scores, errors, groups):
    return np.array([np.mean(e <= table[g][alpha] * s) for s, e, g in zip(scores, errors, groups)])


def mixed(cov, sets, mix=BENCH_MIX):
    """Coverage of a pool made like the benchmark's: every set's mean weighted by its share."""
    present = [k for k in mix if k in sets]
    total = sum(mix[k] for k in present)
    return sum(mix[k] / total * cov[[s == k for s in sets]].mean() for k in present)


def fit(rule, idx, data, alpha):
    scores, errors, groups, sets, _ = data
    pick = lambda a: [a[i] for i in idx]  # noqa: E731
    return group_lambdas(pick(scores), pick(errors), pick(groups), pick(sets),
                         BENCH_MIX if rule == "sets" else None, alphas=(alpha,))


def halves(strata, rng):
    a, b = [], []
    for key in sorted(set(strata)):
        idx = rng.permutation([i for i, s in enumerate(strata) if s == key])
        cut = len(idx) // 2 + (rng.random() < 0.5 if len(idx) % 2 else 0)
        a += list(idx[:cut])
        b += list(idx[cut:])
    return a, b


def old_subset(sets, n, rng, proportions=None):
    """n pairs drawn with the old calibration's proportions (48 framing, 10 + 10 scene, 16 kind of 84)."""
    proportions = proportions or {"framing": 48, "scene 2 s": 10, "scene 5 s": 10, "kind": 16}
    total = sum(proportions.values())
    out = []
    for k, p in proportions.items():
        idx = [i for i, s in enumerate(sets) if s == k]
        out += list(rng.choice(idx, min(len(idx), round(n * p / total)), replace=False))
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("samples")
    p.add_argument("--alpha", type=float, default=0.1)
    p.add_argument("--splits", type=int, default=200)
    p.add_argument("--rules", default="pairs,sets", help="pairs: every pair counts the same (the old rule); "
                   "sets: within each group the sets weighted like the benchmark's pools")
    p.add_argument("--subset", type=int, default=0, help="fit on this many pairs (old proportions), not a half")
    p.add_argument("--band", default="0.88,0.92")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    data = load(args.samples)
    scores, errors, groups, sets, _ = data
    lo, hi = map(float, args.band.split(","))
    n = len(scores)
    aligned = lambda k: sum(s == k and g == "aligned" for s, g in zip(sets, groups))  # noqa: E731
    print(f"{n} pairs: " + ", ".join(f"{k} {sets.count(k)} ({aligned(k)} aligned)" for k in dict.fromkeys(sets)))
    strata = [f"{s}/{g}" for s, g in zip(sets, groups)]
    for rule in args.rules.split(","):
        rng = np.random.default_rng(args.seed)
        bench_like, pooled, per_set, lams = [], [], {k: [] for k in dict.fromkeys(sets)}, []
        for _ in range(args.splits):
            if args.subset:
                a = old_subset(sets, args.subset, rng)
                pairs = [(a, [i for i in range(n) if i not in set(a)])]
            else:
                a, b = halves(strata, rng)
                pairs = [(a, b), (b, a)]
            for fit_idx, test_idx in pairs:
                table = fit(rule, fit_idx, data, args.alpha)
                lams.append([table[g][args.alpha] for g in sorted(table)])
                t_sets = [sets[i] for i in test_idx]
                cov = coverages(table, args.alpha, [scores[i] for i in test_idx], [errors[i] for i in test_idx],
                                [groups[i] for i in test_idx])
                bench_like.append(mixed(cov, t_sets))
                pooled.append(cov.mean())
                for k in per_set:
                    per_set[k].append(cov[[s == k for s in t_sets]].mean())
        bl, po, lams = np.array(bench_like), np.array(pooled), np.array(lams)
        size = f"{args.subset} pairs (old proportions)" if args.subset else "one half"
        print(f"rule {rule}, fitted on {size}, {len(bl)} fits: coverage at alpha {args.alpha:g} on the held-out "
              f"pairs, sets weighted like the benchmark {bl.mean():.3f} (sd {bl.std():.3f}; inside {lo:g}-{hi:g} in "
              f"{np.mean((bl >= lo) & (bl <= hi)):.0%}, above in {np.mean(bl > hi):.0%}); pooled as they come "
              f"{po.mean():.3f} (sd {po.std():.3f}); per set "
              + ", ".join(f"{k} {np.mean(v):.3f}" for k, v in per_set.items())
              + "; lambda " + ", ".join(f"{g} {m:.3f} (sd {s:.3f})" for g, m, s in
                                        zip(sorted(set(groups)), lams.mean(0), lams.std(0))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
