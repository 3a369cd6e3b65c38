"""What ranks the `prior`'s errors better? AUSE of score variants on the calibration slices.

    python -m training.calibration.prior_ause [--per-source 8] [--points 10,100] [--out runs/unc30/prior_ause]

For each calibration photo (training.gan.data.held_out_slices 'calib': never trained on, never benchmarked on; at
256x256 as the benchmarks), clean and aged like an old print (training.aging), the default Scribble backend with the
hint protocol's strokes: per pixel sample the chroma error, the raw score (radius over the run's lambda) without the
gamut's factor (backends/prior/fusion.gamut_factor, replaced by 1 while collecting) and the result's Lab. Then the
AUSE (bench/uncertainty.py's) per source and as a macro mean of
  score + w |ab|             for each weight w in WEIGHTS (the `gan` score's chroma share, infer.chroma_weighted)
  score * (G / 100) ** p     for each power p in GAMUT_POWERS (G: colorcore.gamut.gamut_reach, the largest error the
                             gamut allows; fusion.GAMUT_POWER was chosen here)
and, for the powers, the coverage by quartile of the radius with lambda fitted on half the photos (each condition's
larger, as training.calibration.prior fits it) and measured on the other half, 4 random halvings.
Photos' samples go to OUT/samples.npz, so --report re-reads them.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

WEIGHTS = (0.0, 0.05, 0.1, 0.2, 0.3, 0.5)
GAMUT_POWERS = (0.0, 0.15, 0.25, 0.35, 0.5)
SAMPLE = 3000


def collect(per_source, points, seed=7):
    from unittest import mock
    from backends.prior import fusion
    with mock.patch.object(fusion, "gamut_factor", lambda L, ab: np.ones(np.shape(L), np.float32)):
        return _collect(per_source, points, seed)


def _collect(per_source, points, seed):
    from colorcore import ColorizeRequest, color, load_registry, run_backend
    from training.aging import age
    from training.evaluation import chroma_error, gray_of, hint_positions, hint_scribbles, load_rgb
    from training.gan import data
    from training.shared_data import shared_data
    prior = load_registry().get("prior")
    cal = prior.calibration()
    rows = []
    slices = data.held_out_slices(shared_data(), "calib", per_source)
    todo = [(s, f) for s, files in slices.items() for f in files]
    for i, (source, path) in enumerate(todo):
        rgb = load_rgb(path)
        for aged in (False, True):
            for k in points:
                rng = np.random.default_rng(seed + i)
                gray = gray_of(rgb)
                if aged:
                    gray, _ = age(gray, np.random.default_rng(seed + i + 1))
                scr = hint_scribbles(rgb, hint_positions(rgb.shape[:2], k, rng))
                res = run_backend(prior, ColorizeRequest(image=gray, mode="scribble", scribbles=scr))
                lam = cal.lam(0.1, res.info.get("calibration_group"))
                err = chroma_error(res.rgb, rgb).ravel()
                score = (res.uncertainty / lam).ravel()
                lab = color.rgb_to_lab(res.rgb).reshape(-1, 3)
                pick = rng.choice(err.size, min(SAMPLE, err.size), replace=False)
                rows.append((source, aged, k, err[pick], score[pick], lab[pick], i))
        print(f"\r{i + 1}/{len(todo)} photos", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    return rows


def gamut_scaled(score, lab, power):
    from colorcore.gamut import gamut_reach
    return score * (np.maximum(gamut_reach(lab[:, 0], lab[:, 1:]), 1e-6) / 100.0) ** power


def halves_by_quartile(rows, variant, splits=4, seed=0):
    """Coverage by quartile of the radius (small -> large) on held-out halves of the photos, clean and aged: lambda
    fitted on one half (the larger of its clean and aged runs'), measured on the other; {aged: 4 values}."""
    from colorcore.calibration import fit_calibration
    from training.calibration.prior_folds import quartile_coverage
    photos = sorted({r[6] for r in rows})
    rng = np.random.default_rng(seed)
    out = {False: [], True: []}
    for _ in range(splits):
        half = set(rng.permutation(photos)[: len(photos) // 2].tolist())
        for fit_side in (True, False):
            fit = [r for r in rows if (r[6] in half) == fit_side]
            lam = fit_calibration([variant(r) for r in fit], [r[3] for r in fit], alphas=(0.1,),
                                  conditions=[r[1] for r in fit]).lambdas[0.1]
            for r in rows:
                if (r[6] in half) != fit_side:
                    out[r[1]].append(quartile_coverage(lam * variant(r), r[3]))
    return {a: np.mean(v, axis=0) for a, v in out.items()}


def report(rows):
    from bench.common import macro_mean, mean_sem
    from bench.uncertainty import ause
    sources = sorted({r[0] for r in rows})
    variants = dict({f"w {w:g}": (lambda r, w=w: r[4] + w * np.hypot(r[5][:, 1], r[5][:, 2])) for w in WEIGHTS},
                    **{f"p {p:g}": (lambda r, p=p: gamut_scaled(r[4], r[5], p)) for p in GAMUT_POWERS})
    for k in sorted({r[2] for r in rows}):
        at_k = [r for r in rows if r[2] == k]
        for aged in (False, True):
            sel = [r for r in at_k if r[1] == aged]
            line = []
            for name, variant in variants.items():
                per = {s: mean_sem([ause(r[3], variant(r))[0] for r in sel if r[0] == s]) for s in sources}
                line.append(f"{name}: {macro_mean(list(per.values()))[0]:.4f}")
            print(f"AUSE {'aged' if aged else 'clean'} @{k} pts  " + "  ".join(line))
        for p in GAMUT_POWERS:
            q = halves_by_quartile(at_k, lambda r, p=p: gamut_scaled(r[4], r[5], p))
            print(f"@{k} pts p {p:g}: coverage by quartile of the radius, held-out halves, clean "
                  + "/".join(f"{v:.3f}" for v in q[False]) + "  aged " + "/".join(f"{v:.3f}" for v in q[True]))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--per-source", type=int, default=8)
    p.add_argument("--points", default="10,100")
    p.add_argument("--out", default="runs/unc30/prior_ause")
    p.add_argument("--report", action="store_true")
    args = p.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "samples.npz"
    if args.report:
        z = np.load(path, allow_pickle=False)
        rows = [(str(s), bool(a), int(k), e, sc, lab, int(ph)) for s, a, k, e, sc, lab, ph in
                zip(z["source"], z["aged"], z["points"], z["err"], z["score"], z["lab"], z["photo"])]
    else:
        rows = collect(args.per_source, [int(k) for k in args.points.split(",")])
        np.savez_compressed(path, source=[r[0] for r in rows], aged=[r[1] for r in rows], points=[r[2] for r in rows],
                            err=np.stack([r[3] for r in rows]), score=np.stack([r[4] for r in rows]),
                            lab=np.stack([r[5] for r in rows]), photo=[r[6] for r in rows])
    report(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
