"""When the "unlike the calibration photos" check flags a photo, how much wider must the radius be?

    python -m training.calibration.novelty_widening [--backend gan] [--per-source 6] [--points 10]

Calibration photos (training.gan.data.held_out_slices 'calib', at 256x256) run as they are and corrupted in ways a
scan can go wrong (CORRUPTIONS: noise, blur, posterised tones, a negative, an underexposure), Auto or, for a
Scribble backend, with --points hint-protocol strokes. Per corruption: the share the check flags
(colorcore.novelty), the distance over its limit, and the radius's coverage at alpha 0.1 (the truth: the photo's
colour at the corrupted lightness). Then, over every flagged run, the factor the shipped lambda would need to
cover 90 % of their pixels (conformal risk control on the flagged runs alone, over the shipped lambda): the
calibrated widening for a flagged photo. A factor at or below 1 says the radius already covers what the check
flags.
"""
from __future__ import annotations

import argparse
import sys

import numpy as np

NOISE_SEED = 0


def corruptions(rng):
    """{name: gray (H, W) in 0..1 -> corrupted gray}."""
    import cv2

    def noise(sigma):
        return lambda g: np.clip(g + rng.normal(0, sigma, g.shape), 0, 1)
    return {"clean": lambda g: g, "noise 0.1": noise(0.1), "noise 0.2": noise(0.2), "noise 0.35": noise(0.35),
            "blur 6 px": lambda g: cv2.GaussianBlur(g, (0, 0), 6), "3 tones": lambda g: np.round(g * 2) / 2,
            "negative": lambda g: 1 - g, "underexposed": lambda g: g * 0.25}


def measure(backend, per_source, points, seed=NOISE_SEED):
    """{corruption: [(flagged, distance / limit, coverage, error, radius)]}."""
    from colorcore import ColorizeRequest, run_backend
    from colorcore.calibration import coverage
    from training.evaluation import chroma_error, colours_at, gray_of, hint_positions, hint_scribbles, load_rgb
    from training.gan import data
    from training.shared_data import shared_data
    rng = np.random.default_rng(seed)
    funcs = corruptions(rng)
    out = {k: [] for k in funcs}
    slices = data.held_out_slices(shared_data(), "calib", per_source)
    for src, files in slices.items():
        for path in files:
            rgb = load_rgb(path)
            gray = gray_of(rgb)[..., 0]
            scribbles = hint_scribbles(rgb, hint_positions(rgb.shape[:2], points, rng)) if points else None
            for name, corrupt in funcs.items():
                g = np.repeat(np.asarray(corrupt(gray.copy()), np.float32)[..., None], 3, axis=2)
                truth = colours_at(rgb, g)
                res = run_backend(backend, ColorizeRequest(image=g, mode="scribble" if points else "auto",
                                                           scribbles=scribbles))
                info = res.info
                err = chroma_error(res.rgb, truth)
                out[name].append((bool(info["unlike_calibration"]),
                                  info["calibration_distance"] / info["calibration_distance_limit"],
                                  coverage(res.uncertainty, err), err, res.uncertainty))
        print(f"\r{src} done", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    return out


def widening(runs, alpha=0.1):
    """The factor over the runs' own radius that covers 1 - alpha of their pixels (conformal risk control on these
    runs), or None with too few runs."""
    from colorcore.calibration import crc_lambda
    if len(runs) < int(1 / alpha):
        return None
    return crc_lambda([r[4] for r in runs], [r[3] for r in runs], alpha)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--backend", default="gan")
    p.add_argument("--per-source", type=int, default=6)
    p.add_argument("--points", type=int, default=0, help="strokes per photo (a Scribble backend); 0: Auto")
    args = p.parse_args(argv)
    from colorcore import load_registry
    backend = load_registry().get(args.backend)
    if backend.unavailable_reason():
        sys.exit(backend.unavailable_reason())
    if backend.needs_scribbles and not args.points:
        sys.exit(f"{args.backend} colours from strokes: give --points (e.g. 10)")
    out = measure(backend, args.per_source, args.points)
    print(f"{args.backend}{f' @{args.points} points' if args.points else ''}: corruption | runs | flagged | "
          f"distance / limit | coverage (mean ± se)")
    from bench.common import mean_sem
    for name, runs in out.items():
        cov = mean_sem([r[2] for r in runs])
        print(f"  {name:14s} | {len(runs):4d} | {np.mean([r[0] for r in runs]):.2f} | "
              f"{np.mean([r[1] for r in runs]):5.2f} | {cov[0]:.3f} ±{cov[1]:.3f}")
    flagged = [r for runs in out.values() for r in runs if r[0]]
    factor = widening(flagged)
    print(f"flagged runs: {len(flagged)}; their coverage {np.mean([r[2] for r in flagged]) if flagged else float('nan'):.3f}; "
          f"widening that covers 0.9 of their pixels: "
          + (f"{factor:.3f}" + (" (<= 1: the radius already covers them)" if factor <= 1 else "")
             if factor is not None else "too few flagged runs"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
