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
--each-condition: lambda is the larger of the other sources' clean runs' and aged runs' (fit_calibration's
conditions), as training.calibration.prior --aged calibrates.
--shares (samples from training.calibration.gan --samples-out: the very runs, at the photos' own size, that the
shipped calibration fitted): lambda weighted to the training mixture of sources as that calibration weights it,
each left-out source's share dropped and the others' renormalised.
--chance N: the same test on N random relabellings of the photos into pseudo-sources of the real sources' sizes (a
photo's runs kept together: --runs-per-photo consecutive runs, 2 as auto_samples writes them, clean then aged).
The pseudo-sources are exchangeable by construction, so how low their worst cell falls is what sampling alone does
at this many photos a source; the real worst cell is a shift between sources only where it falls below that.
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


def coverage_on(score, error, groups, aged, fit_on, test_on, alpha, clean_only=False, widen=None,
                each_condition=False, shares=None, source=None):
    """{aged: (mean coverage over runs, its standard error, runs)} on the runs test_on, clean and aged apart (a
    condition with no run left out), with lambda fitted on the runs fit_on (their clean runs only with clean_only,
    per group when the runs have groups). widen(fit_on) -> every run's score, as a check fitted on fit_on widens it;
    None: the scores as they are. each_condition: lambda the larger of the clean and the aged runs' own. shares
    ({source: share}, with each run's source): the fitted runs' risk weighted by their sources' shares, as
    training.calibration.gan weights it to the training mixture."""
    fit = fit_on & (~aged if clean_only else True)
    conditions = ["aged" if a else "clean" for a in aged[fit]] if each_condition else None
    fit_groups = [g for g, f in zip(groups, fit) if f]
    weights = None
    if shares:   # the runs' sources as the groups the mixture is weighted over (the shares of those fitted)
        fit_groups = [str(x) for x in np.asarray(source)[fit]]
        weights = {g: shares[g] for g in set(fit_groups)}
    cal = fit_calibration(list(score[fit]), list(error[fit]), alphas=(alpha,),   # lambda at exactly this alpha
                          groups=fit_groups, shares=weights, conditions=conditions)
    tested = widen(fit_on) if widen is not None else score
    out = {}
    for is_aged in (False, True):
        sel = test_on & (aged == is_aged)
        if sel.any():
            m, se = mean_sem(covered(cal, alpha, tested[sel], error[sel], [g for g, s in zip(groups, sel) if s]))
            out[is_aged] = (m, se, int(sel.sum()))
    return out


def left_out(score, error, groups, source, aged, alpha, **kw):
    """{(source, aged): (mean, standard error, runs)}: each source's coverage with lambda fitted on the others
    (coverage_on's keywords)."""
    return {(src, is_aged): v for src in sorted(set(source))
            for is_aged, v in coverage_on(score, error, groups, aged, source != src, source == src, alpha,
                                          source=source, **kw).items()}


def pseudo_sources(source, runs_per_photo, rng):
    """The runs' source labels shuffled between photos: every source keeps its number of photos, and a photo's
    runs_per_photo consecutive runs keep one label."""
    source = np.asarray(source)
    if len(source) % runs_per_photo:
        raise ValueError(f"{len(source)} runs are not whole photos of {runs_per_photo} runs each")
    photos = source[::runs_per_photo]
    if any(len(set(source[i:i + runs_per_photo])) != 1 for i in range(0, len(source), runs_per_photo)):
        raise ValueError(f"runs of one photo ({runs_per_photo} consecutive) carry different sources: is "
                         f"--runs-per-photo right for these samples?")
    return np.repeat(rng.permutation(photos), runs_per_photo)


def chance_worst(score, error, groups, source, aged, alpha, tries, runs_per_photo=2, seed=0, **kw):
    """The worst left-out cell (left_out's, with its keywords) on each of `tries` random relabellings of the photos
    into pseudo-sources (pseudo_sources): what sampling alone gives, with no shift between sources."""
    rng = np.random.default_rng(seed)
    return np.array([min(v[0] for v in left_out(score, error, groups, pseudo_sources(source, runs_per_photo, rng),
                                                 aged, alpha, **kw).values()) for _ in range(tries)])


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("samples")
    p.add_argument("--alpha", type=float, default=0.1)
    p.add_argument("--clean-only", action="store_true",
                   help="fit lambda on the clean runs only (as a calibration without aged photos would)")
    p.add_argument("--print-like", action="store_true",
                   help="lambda on the clean runs, widened by the print-like check (training.calibration.print_like)")
    p.add_argument("--each-condition", action="store_true",
                   help="lambda the larger of the clean runs' and the aged runs' (as training.calibration.prior "
                        "--aged calibrates)")
    p.add_argument("--chance", type=int, default=0, metavar="N",
                   help="also run the test on N random relabellings of the photos into pseudo-sources (exchangeable "
                        "by construction): how low the worst cell falls by sampling alone")
    p.add_argument("--shares", action="store_true",
                   help="weight the fitted sources by the shares the samples carry (training.calibration.gan "
                        "--samples-out: the runs and the rule the shipped calibration used)")
    p.add_argument("--runs-per-photo", type=int, default=2,
                   help="consecutive runs of one photo in the samples, kept together by --chance (auto_samples: 2)")
    args = p.parse_args(argv)
    if args.each_condition and (args.clean_only or args.print_like):
        sys.exit("--each-condition fits on clean and aged runs; it cannot go with --clean-only or --print-like")
    d = np.load(args.samples)
    score, error, group, source, aged = d["score"], d["error"], d["group"], d["source"], d["aged"].astype(bool)
    groups = [str(g) for g in group]
    if args.shares and "share_sources" not in d.files:
        sys.exit(f"--shares: {args.samples} carries no shares; make it with training.calibration.gan --samples-out")
    shares = dict(zip(map(str, d["share_sources"]), map(float, d["share_values"]))) if args.shares else None
    kw = dict(clean_only=args.clean_only or args.print_like, each_condition=args.each_condition, shares=shares,
              widen=(lambda fit_on: widened_by_check(d, fit_on, args.alpha)) if args.print_like else None)
    per = left_out(score, error, groups, source, aged, args.alpha, **kw)
    everything = np.ones(len(score), bool)
    pooled = coverage_on(score, error, groups, aged, everything, everything, args.alpha, source=source, **kw)

    def cell(v):
        return f"{v[0]:.3f} ±{v[1]:.3f} ({v[2]} runs)" if v is not None else "-"
    print(f"coverage at alpha {args.alpha} on the left-out source (lambda fitted on the others)")
    print(f"{'source':20s} | {'clean':24s} | aged")
    for src in sorted(set(source)):
        print(f"{src:20s} | {cell(per.get((src, False))):24s} | {cell(per.get((src, True)))}")
    print(f"{'(none left out)':20s} | {cell(pooled.get(False)):24s} | {cell(pooled.get(True))}")
    (src, is_aged), (m, _, _) = min(per.items(), key=lambda kv: kv[1][0])
    print(f"{'met ' if m >= 0.87 else 'MISSED'} >= 0.87 on every left-out source, clean and aged "
          f"(worst {src}{' aged' if is_aged else ''}: {m:.3f})")
    if args.chance:
        w = chance_worst(score, error, groups, source, aged, args.alpha, args.chance, args.runs_per_photo, **kw)
        print(f"by chance ({args.chance} random pseudo-sources of the same sizes, no shift between them): worst cell "
              f"median {np.median(w):.3f}, 10th percentile {np.percentile(w, 10):.3f}; >= 0.87 in "
              f"{(w >= 0.87).mean():.0%} of them; the real worst {m:.3f} is below "
              f"{(w > m).mean():.0%} of them")
    return 0


if __name__ == "__main__":
    sys.exit(main())
