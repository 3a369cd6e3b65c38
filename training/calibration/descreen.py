"""colorcore.descreen's two numbers, chosen on the calibration slices, and where Auto's old prints fall short.

    python -m training.calibration.descreen strengths [--per-source 40]
    python -m training.calibration.descreen blur [--per-source 40] [--sigmas 0,0.2,0.3,0.4,0.5,0.6]
    python -m training.calibration.descreen split SAMPLES.npz [--transform halftone]

strengths  every calibration photo as it is and aged by each of training.aging's recipes (seeded as
           training.calibration.auto_samples ages them): the strength of its strongest grid
           (colorcore.descreen.strongest_grid) with and without a halftone screen in its ageing. PEAK_RATIO must
           lie between the two.
blur       Auto (`gan`, shipped λ) through the engine on the calibration photos whose "print" ageing drew a
           screen, the screen found blurred out of its copy by each sigma (in periods; 0: left in): mean chroma
           error and coverage at α 0.1, per source and overall. DESCREEN_SIGMA is chosen here.
split      leave-one-source-out coverage (training.calibration.loso's rule: λ fitted on the other sources) of the
           aged runs of auto_samples' SAMPLES.npz, those whose ageing drew --transform (a screen: halftone) apart
           from the rest.
"""
from __future__ import annotations

import argparse
import sys
from unittest import mock

import numpy as np

from training.aging import AGEING, CALIBRATION_SEED, RECIPES, age, photo_rng

FLAT = np.full((256, 256, 3), 0.5, np.float32)


def drawn(index, seed=CALIBRATION_SEED, recipe="print"):
    """{transform: its parameters} the ageing of photo `index` draws, as auto_samples ages it (the draws depend on
    a 256x256 photo's shape, not on its values)."""
    return dict(age(FLAT, photo_rng(seed, index), recipe_name=recipe)[1])


def screened(index, seed=CALIBRATION_SEED, recipe="print"):
    """The screen period the ageing of photo `index` draws, or None."""
    return drawn(index, seed, recipe).get("halftone", {}).get("period")


def calibration_photos(per_source):
    from training.gan import data
    from training.shared_data import shared_data
    return data.held_out_slices(shared_data(), "calib", per_source)


def strengths(per_source):
    """{(condition, has a screen): [strength, ...]}."""
    from colorcore import descreen
    from training.evaluation import gray_of, load_rgb
    out = {}
    for files in calibration_photos(per_source).values():
        for i, path in enumerate(files):
            gray = gray_of(load_rgb(path))
            out.setdefault(("as it is", False), []).append(descreen.strongest_grid(gray)[1])
            for recipe in sorted(RECIPES):
                aged, steps = age(gray, photo_rng(CALIBRATION_SEED, i), recipe_name=recipe)
                key = (recipe, "halftone" in dict(steps))
                out.setdefault(key, []).append(descreen.strongest_grid(aged)[1])
    return out


def blur(per_source, sigmas):
    """{sigma: [(source, coverage, mean chroma error), ...]} over the screened calibration runs."""
    from bench.descreen import screen_left_in
    from colorcore import ColorizeRequest, descreen, load_registry, run_backend
    from colorcore.calibration import coverage
    from training.evaluation import chroma_error, gray_of, load_rgb
    gan = load_registry().get("gan")
    out = {s: [] for s in sigmas}
    for source, files in calibration_photos(per_source).items():
        for i, path in enumerate(files):
            if screened(i) is None:
                continue
            rgb = load_rgb(path)
            aged, _ = age(gray_of(rgb), photo_rng(CALIBRATION_SEED, i))
            for s in sigmas:
                with screen_left_in() if s == 0 else mock.patch.object(descreen, "DESCREEN_SIGMA", s):
                    res = run_backend(gan, ColorizeRequest(image=aged, mode="auto"))
                err = chroma_error(res.rgb, rgb)
                out[s].append((source, coverage(res.uncertainty, err), float(err.mean())))
    return out


def split(samples, transform="halftone"):
    """{(source, "with" | "without"): (mean coverage, runs)} of the aged runs whose ageing drew `transform` and of
    the others, λ fitted on the other sources (training.calibration.loso's rule)."""
    from training.calibration.loso import coverage_on
    d = np.load(samples, allow_pickle=True)
    score, error, source, aged = d["score"], d["error"], d["source"], d["aged"].astype(bool)
    index = np.zeros(len(score), int)
    for src in set(source):   # each run's index within its source, as auto_samples seeds its ageing
        for condition in (False, True):
            sel = np.flatnonzero((source == src) & (aged == condition))
            index[sel] = np.arange(len(sel))
    draws = [drawn(i) for i in range(int(index.max()) + 1)]
    has = np.array([a and transform in draws[i] for a, i in zip(aged, index)])
    groups = [str(g) for g in d["group"]]
    out = {}
    for src in sorted(set(source)):
        for name, sel in (("with", has), ("without", aged & ~has)):
            m, _, n = coverage_on(score, error, groups, aged, source != src, (source == src) & sel, 0.1)[True]
            out[src, name] = (m, n)
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("what", choices=("strengths", "blur", "split"))
    p.add_argument("samples", nargs="?", help="split: auto_samples' SAMPLES.npz")
    p.add_argument("--per-source", type=int, default=40)
    p.add_argument("--sigmas", default="0,0.2,0.3,0.4,0.5,0.6")
    p.add_argument("--transform", default="halftone", choices=AGEING, help="split: the ageing to split by")
    args = p.parse_args(argv)
    if args.what == "strengths":
        for (condition, screen), v in sorted(strengths(args.per_source).items()):
            v = np.asarray(v)
            print(f"{condition:10s} {'screen' if screen else 'no screen':10s} {len(v):4d} runs: strength min "
                  f"{v.min():.1f}, median {np.median(v):.1f}, max {v.max():.1f}")
    elif args.what == "blur":
        res = blur(args.per_source, [float(s) for s in args.sigmas.split(",")])
        for s, rows in res.items():
            per = {src: [r for r in rows if r[0] == src] for src in dict.fromkeys(r[0] for r in rows)}
            print(f"sigma {s:.2f} periods, {len(rows)} runs: coverage {np.mean([r[1] for r in rows]):.3f}, "
                  f"mean chroma error {np.mean([r[2] for r in rows]):.2f}; per source "
                  + ", ".join(f"{src} {np.mean([r[1] for r in v]):.3f}" for src, v in per.items()))
    else:
        if not args.samples:
            p.error("split needs the SAMPLES.npz of training.calibration.auto_samples")
        res = split(args.samples, args.transform)
        for (src, name), (m, n) in res.items():
            print(f"{src:20s} aged, {name:7s} {args.transform}: {m:.3f} ({n} runs)")
        for name in ("with", "without"):
            runs = [v for (_, nm), v in res.items() if nm == name]
            print(f"{'all sources':20s} aged, {name:7s} {args.transform}: "
                  f"{sum(m * n for m, n in runs) / max(sum(n for _, n in runs), 1):.3f} ({sum(n for _, n in runs)} runs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
