"""Conformal calibration of the `gan` raw uncertainty score on the held-out calibration split.

    python -m training.calibration.gan --weights backends/gan/weights/gan.pt \
        --splits runs/gan/gan_v1/gan.splits.json [--size 256] [--samples 8]

Runs the backend exactly as the engine does (full-resolution image, chroma predicted at
--size, guided upsampling) on each calibration image, takes the chroma error
|ab_pred - ab_true| per pixel, and fits lambda(alpha) by conformal risk control
(colorcore.calibration.fit_calibration). A constant radius (score = 1) is calibrated on the
same images and stored too, as the baseline the per-pixel radius has to beat; so are the per-channel
RGB intervals (colorcore.intervals). Writes calibration.json beside the weights.

Weights trained with --group-weights are calibrated for the mixture they were trained on: the
risk is weighted by each group's (top-level folder's) share of the training samples
(colorcore.calibration.crc_lambda with shares), not by the calibration split's proportions.

With --score-chroma C1,C2,..., the raw score's share of the predicted chroma (infer.chroma_weighted) is chosen
first, on the same photos: the candidate whose radius at alpha = 0.1 is narrowest on average (each candidate's
lambda gives the same coverage, so the narrowest is the most efficient). It is stored as the postprocess's
"score_chroma" beside the weights; the calibration that follows is of that score. Like tune's gain, it is one
number chosen on the calibration photos.

With --aged every photo also runs aged like an old print (training.aging, seeded per photo, the truth its colours
at the aged lightness), and each lambda is the larger of the clean runs' and the aged runs' (fit_calibration's
conditions), as training.calibration.prior --aged calibrates: the promise then holds on clean photos and on old
prints each, not only on their mixture.

Weights with a mask input (partial-gan) are calibrated on random selections of the training
mask families, one per image (seeded), counting only the pixels inside the selection: outside it
the radius is zero by construction.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from training.gan import data
from training.evaluation import load_rgb
from training.gan.data import group_of, group_shares, parse_group_weights


def training_shares(train_rels, group_weights, calib_groups):
    """Each calibration group's share of the training samples under --group-weights (None if uniform)."""
    if not group_weights:
        return None
    share = group_shares(train_rels, parse_group_weights(group_weights))
    return {g: share.get(g, 0.0) for g in sorted(set(calib_groups))}


def mixture_mean(values, groups, shares):
    """Mean over images, each group weighted by its share (plain mean without shares)."""
    values = np.asarray(values, np.float64)
    if not shares:
        return float(values.mean())
    groups = np.asarray(groups)
    total = sum(shares.values())
    return float(sum(v / total * values[groups == g].mean() for g, v in shares.items() if (groups == g).any()))


def narrowest_weight(bases, chromas, errors, candidates, alpha=0.1, groups=None, shares=None):
    """The candidate c whose radius lambda(alpha) * (base + c * chroma) is narrowest on average over these
    photos (per-image arrays), and {c: that mean radius}."""
    from colorcore.calibration import crc_lambda
    widths = {}
    for c in candidates:
        scores = [b + c * ch for b, ch in zip(bases, chromas)]
        lam = crc_lambda(scores, errors, alpha, groups, shares)
        widths[c] = float(lam * mixture_mean([s.mean() for s in scores], groups, shares))
    return min(widths, key=widths.get), widths


def store_score_chroma(weights, weight: float, widths: dict, n: int):
    from backends.gan.infer import SCORE_CHROMA
    meta_path = Path(weights).with_suffix(".json")
    meta = json.loads(meta_path.read_text())
    meta.setdefault("postprocess", {})[SCORE_CHROMA] = weight
    meta["postprocess"][f"{SCORE_CHROMA}_chosen_on"] = (
        f"{n} calib images: mean radius at alpha 0.1 " + ", ".join(f"c={c:g}: {w:.2f}" for c, w in widths.items()))
    meta_path.write_text(json.dumps(meta, indent=1) + "\n")


def backend_for(weights, in_ch: int):
    """The registered GAN backend (found through the plugin registry, as the engine finds it) whose generator
    takes in_ch input channels (1: gan, 2: partial-gan's mask), pointed at these weights."""
    from colorcore import load_registry
    from backends.gan.plugin import GanBackend
    for b in load_registry().backends.values():
        if isinstance(b, GanBackend) and 1 + b.condition_channels == in_ch:
            return type(b)(weights)
    raise SystemExit(f"no registered GAN backend takes {in_ch} input channel(s)")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--weights", required=True)
    p.add_argument("--splits", required=True, help="<run>.splits.json written by the trainer, or 'shipped': the "
                   "shipped models' held-out split (training.gan.data.load_splits)")
    p.add_argument("--size", type=int, default=None, help="default: the backend's default size")
    p.add_argument("--samples", type=int, default=8)
    p.add_argument("--limit", type=int, default=0)
    p.add_argument("--score-chroma", default="",
                   help="comma-separated weights of the predicted chroma in the raw score to choose from (e.g. "
                        "0,0.1,0.2,0.3,0.5): the narrowest at alpha 0.1 is stored with the weights; default: keep "
                        "the weights' own")
    p.add_argument("--samples-out", help="also save every run's pixel sample (score, error), source, whether aged and "
                   "the sources' shares, for the left-out test as calibrated (training.calibration.loso --shares)")
    p.add_argument("--no-write", action="store_true", help="fit and print, but leave calibration.json and the "
                   "weights' JSON as they are (e.g. only to save --samples-out beside a calibration that has its "
                   "vividness table)")
    p.add_argument("--aged", action="store_true",
                   help="calibrate on every photo twice, as it is and aged like an old print, each lambda the larger "
                        "of the two conditions' (Auto only)")
    args = p.parse_args(argv)
    try:
        candidates = [float(v) for v in args.score_chroma.split(",") if v.strip()]
    except ValueError:
        sys.exit(f"--score-chroma: expected comma-separated numbers such as 0,0.2,0.4; got {args.score_chroma!r}")
    if any(c < 0 for c in candidates):
        sys.exit(f"--score-chroma: the weights must be >= 0; got {args.score_chroma!r}")

    from colorcore import ColorizeRequest, color, novelty
    from colorcore.calibration import coverage, fit_calibration
    from colorcore.intervals import KEY, channel_errors, fit_intervals
    from colorcore.pipeline import backend_view
    from training.aging import CALIBRATION_SEED, photo_rng
    from training.evaluation import as_old_print
    from training.gan.masks import random_mask

    from backends.gan.infer import SCORE_CHROMA, load_postprocess, native_size
    args.size = args.size or native_size(args.weights)
    try:
        splits = data.load_splits(args.splits)
    except ValueError as e:
        sys.exit(f"--splits: {e}")
    rels = splits["calib"][:args.limit or None]
    meta = json.loads(Path(args.weights).with_suffix(".json").read_text())
    in_ch = meta["generator"]["in_ch"]
    groups = [group_of(r) for r in rels]
    shares = training_shares(splits["train"], meta.get("train_args", {}).get("group_weights"), groups)
    backend = backend_for(args.weights, in_ch)
    rng = np.random.default_rng(1234)
    if backend.unavailable_reason():
        sys.exit(backend.unavailable_reason())
    if args.aged and backend.takes_mask:
        sys.exit("--aged calibrates Auto's backend; a mask backend is calibrated on clean photos")
    current = (load_postprocess(args.weights) or {}).get(SCORE_CHROMA, 0.0)
    bases, chromas, errors, rgb_errors, inputs, conditions, run_groups = [], [], [], [], [], [], []
    t0 = time.time()
    for i, rel in enumerate(rels):
        photo = load_rgb(data.resolve(splits["data"], rel), size=None)
        # the backend sees only the lightness of its input, so the colour photo itself can be passed
        mask = random_mask(rng, (photo * 255 + 0.5).astype(np.uint8)) if backend.takes_mask else None
        for aged in ((False, True) if args.aged else (False,)):
            image, rgb = as_old_print(photo, photo_rng(CALIBRATION_SEED, i)) if aged else (photo, photo)
            out = backend.run(backend_view(ColorizeRequest(
                image=image, seed=0, mode="partial" if backend.takes_mask else "auto", mask=mask,
                options={"size": args.size, "samples": args.samples}))[0])
            ab_true = color.rgb_to_lab(rgb)[..., 1:]
            inside = mask > 0.5 if mask is not None else np.ones(rgb.shape[:2], bool)
            errors.append(np.linalg.norm(out.ab - ab_true, axis=-1)[inside].astype(np.float32))
            chroma = np.linalg.norm(out.ab, axis=-1)[inside].astype(np.float32)
            chromas.append(chroma)
            bases.append(out.score[inside] - current * chroma)   # the score without its chroma share
            if not aged:   # the novelty check keeps describing the clean calibration photos
                inputs.append(novelty.input_features(rgb))
            L = color.lightness(rgb)   # per-channel RGB intervals: the output as the pipeline makes it
            rgb_errors.append([e[inside] for e in channel_errors(color.with_lightness(L, out.ab), rgb, L, out.ab)])
            conditions.append("aged" if aged else "clean")
            run_groups.append(groups[i])
        if i % 50 == 0:
            print(f"{i}/{len(rels)} ({time.time() - t0:.0f}s)", flush=True)
    source = (f"{len(rels)} held-out images of {data.roots_name(splits['data'])} (never trained on), "
              f"size {args.size}, samples {args.samples}"
              + (", inside one random training-family selection each" if backend.takes_mask else "")
              + (", each also aged (training.aging), lambda the larger of the clean and the aged runs'" if args.aged
                 else ""))
    groups = run_groups   # one per run from here (a photo's clean and aged runs share its group)
    run_aged = [c == "aged" for c in conditions]
    conditions = conditions if args.aged else None
    if shares:
        source += ", weighted to the training mixture of groups"
        print("group shares: " + ", ".join(f"{g} {v:.3f}" for g, v in shares.items()))
    weight = current
    if candidates:
        weight, widths = narrowest_weight(bases, chromas, errors, candidates, groups=groups, shares=shares)
        print("mean radius at alpha 0.1 by chroma weight: " + ", ".join(f"{c:g}: {w:.2f}" for c, w in widths.items())
              + f"; chosen {weight:g}")
        if not args.no_write:
            store_score_chroma(args.weights, weight, widths, len(rels))
    scores = [b + weight * c for b, c in zip(bases, chromas)]
    clean_scores = [s for s, a in zip(scores, run_aged) if not a]
    features = [np.append(f, novelty.score_feature(s)) for f, s in zip(inputs, clean_scores)]
    fit = dict(groups=groups, shares=shares, conditions=conditions)
    const = fit_calibration([np.ones_like(s) for s in scores], errors, source=source, **fit)
    cal = fit_calibration(scores, errors, source=source, **fit, size=args.size,
                          samples=args.samples,
                          constant_radius={str(a): v for a, v in const.lambdas.items()},
                          mean_score=float(np.mean([s.mean() for s in scores])))
    cal.extra[KEY] = fit_intervals(scores, rgb_errors, **fit)
    cal.extra[novelty.KEY] = novelty.fit_novelty(features)
    if shares:   # kept for comparison: what the split's own proportions would give
        ones = [np.ones_like(s) for s in scores]
        cal.extra["split_proportions"] = {
            "lambdas": {str(a): v for a, v in fit_calibration(scores, errors, conditions=conditions).lambdas.items()},
            "constant_radius": {str(a): v for a, v in
                                fit_calibration(ones, errors, conditions=conditions).lambdas.items()}}
    if 0.1 in cal.lambdas:   # the default level, when there are enough images to calibrate it
        lam = cal.lambdas[0.1]
        cov = mixture_mean([coverage(lam * s, e) for s, e in zip(scores, errors)], groups, shares)
        rad = mixture_mean([(lam * s).mean() for s in scores], groups, shares)
        cal.extra.update(calib_coverage_at_0_1=round(cov, 4), calib_mean_radius_at_0_1=round(rad, 3),
                         calib_constant_radius_at_0_1=round(const.lambdas[0.1], 3))
    if args.samples_out:   # the runs as calibrated, for training.calibration.loso --shares
        from training.calibration.prior import save_samples
        save_samples(args.samples_out, scores, errors, [""] * len(scores), list(zip(groups, run_aged)), shares=shares)
    print(json.dumps(cal.describe(), indent=1))
    if args.no_write:
        print(f"left calibration.json as it was ({time.time() - t0:.0f}s)")
        return 0
    out_path = Path(args.weights).parent / "calibration.json"
    cal.save(out_path)
    print(f"wrote {out_path} in {time.time() - t0:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
