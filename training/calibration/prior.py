"""Conformal calibration of the `prior` backend's uncertainty, per scribble-count group (as `variational`).

    python -m training.calibration.prior [--weights backends/prior/weights/prior.pt] [--per-source 30]

Photos: the calibration slice of every training source (training.gan.data.held_out_slices: never trained on,
never benchmarked on), resized to 256x256. Hints follow the benchmark protocol (6x6 patches of mean ab at
Gaussian positions), one set per scribble-count group on every photo, its number drawn from the protocol's
counts in that group (training.calibration.variational.hint_counts_per_group); the backend runs as the engine runs
it. lambda(alpha) by conformal risk control on the chroma error, overall and per group
(colorcore.calibration.fit_calibration); a constant radius calibrated alike is stored as the baseline to beat.
With --aged every photo also runs aged like an old print, and each lambda is the larger of the clean runs' and the
aged runs' (fit_calibration's conditions), so the promise holds on clean inputs and on old prints alike, not only
on their even mixture.
Writes calibration.json beside the weights.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from colorcore import ColorizeRequest, color, novelty
from colorcore.calibration import fit_calibration
from colorcore.contract import validate_request
from colorcore.intervals import KEY, channel_errors, fit_intervals
from colorcore.pipeline import backend_view
from training.aging import CALIBRATION_SEED, photo_rng
from training.evaluation import (POINT_COUNTS, as_old_print, chroma_error, gray_of, hint_positions, hint_scribbles,
                                 load_rgb)
from training.shared_data import shared_data
from training.calibration.variational import hint_counts_per_group

from backends.prior.fusion import SCORE_FLOOR
from backends.prior.plugin import PriorBackend


def calibration_photos(per_source):
    from training.gan import data
    return [p for files in data.held_out_slices(shared_data(), "calib", per_source).values() for p in files]


def save_samples(path, scores, errors, groups, runs, per_run=2000, seed=0, pixels=None, photos=None, shares=None):
    """Each run's pixels subsampled (per_run, seeded) with its group, source folder and whether it was aged.
    pixels: {name: per-run arrays like the scores}, sampled at the same pixels; photos: {name: one row per run};
    shares: {source: share} the calibration weighted the sources by (training.calibration.loso --shares)."""
    rng = np.random.default_rng(seed)
    picks = [rng.choice(s.size, min(per_run, s.size), replace=False) for s in scores]
    sampled = {name: np.stack([a.ravel()[k] for a, k in zip(arrays, picks)]) for name, arrays in
               dict(score=scores, error=errors, **(pixels or {})).items()}
    np.savez_compressed(path, **sampled, **{name: np.asarray(rows) for name, rows in (photos or {}).items()},
                        group=np.array(groups), source=np.array([r[0] for r in runs]),
                        aged=np.array([r[1] for r in runs]),
                        **({"share_sources": np.array(list(shares)), "share_values": np.array(list(shares.values()))}
                           if shares else {}))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", help="prior weights (default: the shipped ones)")
    parser.add_argument("--per-source", type=int, default=30, help="calibration photos per training source")
    parser.add_argument("--seed", type=int, default=CALIBRATION_SEED)
    parser.add_argument("--aged", action="store_true",
                        help="calibrate on every photo twice: as it is and aged like an old print (training.aging, "
                             "seeded per photo), so the promise holds on what users bring")
    parser.add_argument("--out", help="where to write calibration.json (default: beside the weights)")
    parser.add_argument("--samples-out", metavar="NPZ",
                        help="also save every run's pixel sample (score, error), group, source and whether aged, for "
                             "leave-one-source-out checks (training/calibration/loso.py)")
    args = parser.parse_args(argv)
    backend = PriorBackend(args.weights)
    if backend.unavailable_reason():
        sys.exit(backend.unavailable_reason())
    paths = calibration_photos(args.per_source)
    from training.gan import data
    source_of = {str(p): src for src, files in data.held_out_slices(shared_data(), "calib", args.per_source).items()
                 for p in files}
    if len(paths) < 20:
        sys.exit(f"need at least 20 calibration photos; found {len(paths)} under {shared_data()}")
    rng = np.random.default_rng(args.seed)
    scores, errors, groups, rgb_errors, features, runs = [], [], [], [], [], []
    for i, path in enumerate(paths):
        rgb = load_rgb(path, 256)
        for aged in ((False, True) if args.aged else (False,)):
            # aged: the input aged, the truth the photo's colour at the aged lightness
            gray, truth = as_old_print(rgb, photo_rng(args.seed, i)) if aged else (gray_of(rgb), rgb)
            L = color.lightness(gray)
            for k, n in enumerate(hint_counts_per_group(rng)):   # every photo calibrates every group
                scribbles = hint_scribbles(rgb, hint_positions(rgb.shape[:2], n, rng))
                req = ColorizeRequest(image=gray, mode="scribble", scribbles=scribbles)
                # the raw score, before any calibration, of the backend's copy as the engine makes it
                out = backend.run(backend_view(validate_request(req, backend))[0])
                pred = color.with_lightness(L, out.ab)
                rgb_errors.append(channel_errors(pred, truth, L, out.ab))
                scores.append(out.score)
                if k == 0 and not aged:   # the novelty check keeps describing the clean calibration photos
                    features.append(novelty.photo_features(rgb, out.score))
                errors.append(chroma_error(pred, truth))
                groups.append(out.info["calibration_group"])
                runs.append((source_of.get(str(path), "?"), aged))
        print(f"\r{i + 1}/{len(paths)} photos", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    conditions = ["aged" if aged else "clean" for _, aged in runs] if args.aged else None
    constant = fit_calibration([np.ones_like(e) for e in errors], errors, groups=groups, conditions=conditions)
    source = (f"calibration slices of {len(paths)} photos{', each also aged (training.aging)' if args.aged else ''}, "
              f"one hint set per group from the counts {POINT_COUNTS}, seed {args.seed}")
    cal = fit_calibration(scores, errors, groups=groups, conditions=conditions, source=source,
                          constant_radius=constant.describe(),
                          score_floor=SCORE_FLOOR,   # the score's floor these lambdas scale (tests check it)
                          **{KEY: fit_intervals(scores, rgb_errors, groups=groups, conditions=conditions),
                             novelty.KEY: novelty.fit_novelty(features)})
    if args.samples_out:
        save_samples(args.samples_out, scores, errors, groups, runs)
    path = Path(args.out) if args.out else backend.weights_path.parent / "calibration.json"
    cal.save(path)
    print(f"wrote {path}: lambdas {cal.lambdas}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
