"""Pixel samples of an Auto backend's raw score and error on the calibration slices, clean and aged, for the
leave-one-source-out check (training/calibration/loso.py).

    python -m training.calibration.auto_samples OUT.npz [--backend gan] [--per-source 15] [--ageing print] [--disagreement]

Photos: the calibration slice of every training source (training.gan.data.held_out_slices 'calib'), at 256x256, each
as it is and aged like an old print (training.aging, seeded per photo, by the recipe --ageing names). The raw score
is the radius over the shipped lambda(0.1) (the backend's own run, as the engine runs it). Saved as
training.calibration.prior's --samples-out: score, error (2000 pixels a run), group (none), source, aged; with the
chroma |ab|, a, b and lightness of the result at the same pixels (the share of it in the score is the backend's
"score_chroma"), how much the network's test-time views disagree there (training.calibration.view_spread; `gan`-like
backends), with --disagreement how far the result's chroma is from the `prior`'s guess without strokes, and each
input's training.calibration.print_like.features (the print-like experiment fits its check on
them), so a change of the score can be tried on the samples without running the backend again.
"""
from __future__ import annotations

import argparse
import sys

import numpy as np

from colorcore import ColorizeRequest, color, load_registry, run_backend
from training.aging import CALIBRATION_SEED, DEFAULT_RECIPE, RECIPES, age, photo_rng
from training.calibration import print_like
from training.calibration.prior import save_samples
from training.calibration.suggest_reach import strokeless_prior
from training.evaluation import chroma_error, gray_of, load_rgb
from training.shared_data import shared_data


def spread_of(backend):
    """training.calibration.view_spread of the backend's network, as a function of the gray input (None for a
    backend without such a network)."""
    from backends.gan import infer
    from training.calibration.view_spread import view_spread
    if not hasattr(backend, "weights_path") or backend.condition_channels:
        return None
    G, path = infer.load_generator(backend.weights_path), backend.weights_path
    size, post = infer.native_size(path), infer.load_postprocess(path)
    return lambda gray: view_spread(G, color.lightness(gray), size, post)


def score_chroma_of(backend):
    """The share of the result's chroma in the backend's raw score (its postprocess "score_chroma"; 0 without)."""
    from backends.gan.infer import SCORE_CHROMA, load_postprocess
    path = getattr(backend, "weights_path", None)
    return float((load_postprocess(path) or {}).get(SCORE_CHROMA, 0.0)) if path else 0.0


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out")
    p.add_argument("--backend", default="gan")
    p.add_argument("--per-source", type=int, default=15)
    p.add_argument("--seed", type=int, default=CALIBRATION_SEED)
    p.add_argument("--ageing", default=DEFAULT_RECIPE, choices=sorted(RECIPES), help="training.aging's recipe")
    p.add_argument("--disagreement", action="store_true",
                   help="also store how far the result's chroma is from the `prior`'s guess without strokes (a "
                        "second colorizer: training.calibration.suggest_reach.strokeless_prior)")
    args = p.parse_args(argv)
    from training.gan import data
    backend = load_registry().get(args.backend)
    if backend.unavailable_reason():
        sys.exit(backend.unavailable_reason())
    lam = backend.calibration().lam(0.1)
    spread = spread_of(backend)
    prior = load_registry().get("prior") if args.disagreement else None
    scores, errors, groups, runs, chromas, lightness, features, spreads = [], [], [], [], [], [], [], []
    a_s, b_s, disagreements = [], [], []
    slices = data.held_out_slices(shared_data(), "calib", args.per_source)
    total = sum(len(v) for v in slices.values())
    for src, files in slices.items():
        for i, path in enumerate(files):
            rgb = load_rgb(path)
            for aged in (False, True):
                gray = gray_of(rgb)
                if aged:
                    gray, _ = age(gray, photo_rng(args.seed, i), recipe_name=args.ageing)
                res = run_backend(backend, ColorizeRequest(image=gray, mode="auto"))
                scores.append(res.uncertainty / lam)
                errors.append(chroma_error(res.rgb, rgb))
                lab = color.rgb_to_lab(res.rgb)
                chromas.append(np.linalg.norm(lab[..., 1:], axis=-1))
                lightness.append(lab[..., 0])
                a_s.append(lab[..., 1])
                b_s.append(lab[..., 2])
                if prior is not None:
                    disagreements.append(chroma_error(res.rgb, strokeless_prior(prior, gray)[0]))
                features.append(print_like.features(gray))
                spreads.append(spread(gray) if spread else None)
                groups.append("")
                runs.append((src, aged))
            print(f"\r{len(runs) // 2}/{total} photos", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    pixels = {"chroma": chromas, "lightness": lightness, "a": a_s, "b": b_s}
    if spread is not None:
        pixels["view_spread"] = spreads
    if prior is not None:
        pixels["disagreement"] = disagreements
    # the score's chroma share, so a change of the share can be tried on the samples (auto_score_variants)
    share = score_chroma_of(backend)
    save_samples(args.out, scores, errors, groups, runs, pixels=pixels,
                 photos={"features": features, "score_chroma": [share] * len(runs)})
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
