"""Conformal calibration of the `reference` backend's uncertainty, per group ("aligned" / "semantic").

    OMP_NUM_THREADS=1 python -m training.calibration.reference [--per-source 8] [--camvid runs/camvid/CamVid/train]

Pairs (training.reference_pairs) from photos no benchmark reports: framing pairs from the calibration slice of
every training source, same-kind pairs from the calibration slices of flowers128 and pets256, and same-scene
pairs (2 s and 5 s apart) from CamVid's *train* frames (the benchmark uses val and test). The backend runs as the
engine runs it; lambda(alpha) by conformal risk control on the chroma error, overall (each group weighted equally)
and per group; a constant radius calibrated alike is stored as the baseline to beat.
Writes backends/reference/calibration.json.
"""
from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from colorcore import ColorizeRequest, color, novelty
from colorcore.calibration import coverage, fit_calibration
from colorcore.contract import validate_request
from colorcore.intervals import KEY, channel_errors, fit_intervals
from training.evaluation import chroma_error, gray_of
from training.reference_pairs import framing_pairs, kind_pairs, scene_pairs
from training.shared_data import shared_data

from backends.reference.plugin import CALIBRATION_FILE, ReferenceBackend


def calibration_pairs(per_source, camvid, scene_count, seed=3):
    from training.gan import data
    calib = data.held_out_slices(shared_data(), "calib")
    pairs = framing_pairs({s: f for s, f in calib.items()}, per_source, seed)
    pairs += kind_pairs(calib, per_source)
    if camvid:
        for gap in (2, 5):
            pairs += scene_pairs([camvid], gap, scene_count)
    return pairs


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-source", type=int, default=8, help="framing and same-kind pairs per source")
    parser.add_argument("--camvid", default="runs/camvid/CamVid/train",
                        help="CamVid frames for same-scene pairs ('' to skip)")
    parser.add_argument("--scene-pairs", type=int, default=10, help="same-scene pairs per gap (2 s, 5 s)")
    parser.add_argument("--out", default=str(CALIBRATION_FILE))
    args = parser.parse_args(argv)
    backend = ReferenceBackend()
    if backend.unavailable_reason():
        sys.exit(backend.unavailable_reason())
    pairs = calibration_pairs(args.per_source, args.camvid, args.scene_pairs)
    if len(pairs) < 20:
        sys.exit(f"need at least 20 calibration pairs; found {len(pairs)}")
    scores, errors, groups, rgb_errors, features = [], [], [], [], []
    t0 = time.time()
    for i, (name, source, target, ref) in enumerate(pairs):
        req = ColorizeRequest(image=gray_of(target), mode="reference", reference=ref)
        out = backend.run(validate_request(req, backend))
        L = color.lightness(target)
        pred = color.with_lightness(L, out.ab)
        scores.append(out.score)
        errors.append(chroma_error(pred, target))
        groups.append(out.info["calibration_group"])
        rgb_errors.append(channel_errors(pred, target, L, out.ab))
        features.append(novelty.photo_features(target, out.score))
        print(f"\r{i + 1}/{len(pairs)} pairs ({time.time() - t0:.0f} s)", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    counts = {g: groups.count(g) for g in sorted(set(groups))}
    shares = {g: 1.0 for g in counts} if len(counts) > 1 else None
    constant = fit_calibration([np.ones_like(e) for e in errors], errors, groups=groups, shares=shares)
    source = (f"{len(pairs)} calibration pairs ({', '.join(f'{n} {g}' for g, n in counts.items())}): framing and "
              f"same-kind pairs from the calibration slices, same-scene pairs from CamVid train frames; groups "
              f"weighted equally")
    cal = fit_calibration(scores, errors, groups=groups, shares=shares, source=source,
                          constant_radius=constant.describe(),
                          **{KEY: fit_intervals(scores, rgb_errors, groups=groups),
                             novelty.KEY: novelty.fit_novelty(features)})
    if 0.1 in cal.lambdas:
        cov = [coverage(cal.lam(0.1, g) * s, e) for s, e, g in zip(scores, errors, groups)]
        cal.extra.update(calib_coverage_at_0_1=round(float(np.mean(cov)), 4))
        print("coverage at alpha 0.1 on the calibration pairs: " + ", ".join(
            f"{g} {np.mean([c for c, h in zip(cov, groups) if h == g]):.3f} ({counts[g]} pairs, lambda "
            f"{cal.lam(0.1, g):.3f})" for g in counts) + f"; pooled {np.mean(cov):.3f}")
    cal.save(args.out)
    print(f"wrote {args.out}: lambdas {cal.lambdas}; groups {cal.groups}; {time.time() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
