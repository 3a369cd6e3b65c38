"""Calibrate the `gan` radius as a function of the `vividness` option (its chroma gain).

    python -m training.calibration.vividness [--per-source 8] [--gains 0.5,0.7,1,1.3,1.5] [--write]

A gain g changes the colours (g times the tuned chroma) and so the error, and it changes the raw score (the
dropout spread and the score's chroma share scale with the colour shown), but not by the same amount. For each g,
on the calibration slices (training.gan.data.held_out_slices 'calib': never trained on, never benchmarked on; at
256x256 as the benchmarks), lambda_g(0.1) is fitted by conformal risk control (colorcore.calibration.crc_lambda)
on the same photos, and the factor lambda_g / lambda_1 is what the score is multiplied by at that gain. The table
{gains, score_factor} goes into the `gan` calibration (extra "vividness") with --write; the backend interpolates
it (backends/gan/plugin.py). lambda itself (gain 1) is unchanged. Every photo's per-gain coverage at the fitted
factor is printed, so the table's effect can be read before it is written.

With --aged every photo also runs aged like an old print (training.aging, seeded per photo, the truth its colours at
the aged lightness) and each lambda_g is the larger of the clean runs' and the aged runs' (fit_calibration's
conditions), as `training.calibration.gan --aged` fits lambda itself: the factors then keep the rule lambda was
fitted by.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from colorcore import ColorizeRequest, run_backend
from colorcore.calibration import coverage, fit_calibration
from training.aging import CALIBRATION_SEED, photo_rng
from training.evaluation import as_old_print, chroma_error, gray_of, load_rgb
from training.shared_data import shared_data

KEY = "vividness"


def gain_factors(scores, errors, conditions=None, alpha=0.1):
    """{gain: lambda_g / lambda_1} from {gain: [per-photo raw score]} and {gain: [per-photo error]}; with
    conditions (one per photo, e.g. "clean" / "aged"), each lambda_g the largest of the conditions' own."""
    lam = {g: fit_calibration(scores[g], errors[g], alphas=(alpha,), conditions=conditions).lam(alpha)
           for g in scores}
    return {g: lam[g] / lam[1.0] for g in scores}, lam


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--per-source", type=int, default=8)
    p.add_argument("--gains", default="0.5,0.7,1,1.3,1.5")
    p.add_argument("--out", default="runs/unc30/vividness", help="per-photo results (JSON lines) and the table")
    p.add_argument("--write", action="store_true", help="store the table in the gan calibration.json")
    p.add_argument("--aged", action="store_true", help="also run every photo aged like an old print, each lambda "
                                                       "the larger of the clean and the aged runs'")
    args = p.parse_args(argv)
    from training.gan import data
    from backends.gan.plugin import GanBackend
    gains = [float(g) for g in args.gains.split(",")]
    if 1.0 not in gains:
        sys.exit("--gains must include 1 (the tuned gain the factors are relative to)")
    backend = GanBackend()
    if backend.unavailable_reason():
        sys.exit(backend.unavailable_reason())
    cal = backend.calibration()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    paths = [p for files in data.held_out_slices(shared_data(), "calib", args.per_source).values() for p in files]
    scores = {g: [] for g in gains}
    errors = {g: [] for g in gains}
    conditions = []
    for i, path in enumerate(paths):
        rgb = load_rgb(path)
        for aged in ((False, True) if args.aged else (False,)):
            gray, truth = as_old_print(rgb, photo_rng(CALIBRATION_SEED, i)) if aged else (gray_of(rgb), rgb)
            for g in gains:   # the backend's own run; the raw score without any table already applied
                res = run_backend(backend, ColorizeRequest(image=gray, mode="auto", options={"vividness": g}))
                scores[g].append(res.uncertainty / (cal.lam(0.1) * res.info.get("vividness_factor", 1.0)))
                errors[g].append(chroma_error(res.rgb, truth))
            conditions.append("aged" if aged else "clean")
        print(f"\r{i + 1}/{len(paths)} photos", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    factor, lam = gain_factors(scores, errors, conditions if args.aged else None)
    shipped = cal.lam(0.1)
    report = {}
    by_condition = {c: [i for i, k in enumerate(conditions) if k == c] for c in sorted(set(conditions))}

    def covered(g, lam_g):   # mean coverage over the photos, per condition
        return {c: float(np.mean([coverage(lam_g * scores[g][i], errors[g][i]) for i in idx]))
                for c, idx in by_condition.items()}
    for g in gains:
        before, after = covered(g, shipped), covered(g, shipped * factor[g])
        report[g] = {"lambda_here": lam[g], "factor": factor[g], "coverage_shipped": before,
                     "coverage_with_factor": after}
        show = lambda d: " / ".join(f"{c} {v:.3f}" for c, v in d.items())  # noqa: E731
        print(f"gain {g:g}: lambda here {lam[g]:.3f}, factor {factor[g]:.3f}; coverage with the shipped lambda "
              f"{show(before)} -> with the factor {show(after)}")
    table = {"gains": gains, "score_factor": [round(factor[g], 4) for g in gains],
             "source": f"{len(paths)} photos of the calibration slices at 256x256"
                       f"{', each also aged, lambda the larger of the clean and the aged runs' if args.aged else ''}"
                       f", alpha 0.1 (training.calibration.vividness)"}
    (out / "vividness.json").write_text(json.dumps({"table": table, "report": {str(k): v for k, v in report.items()}},
                                                   indent=1))
    if args.write:
        path = backend.weights_path.parent / "calibration.json"
        saved = json.loads(path.read_text())
        saved.setdefault("extra", {})[KEY] = table
        path.write_text(json.dumps(saved, indent=2) + "\n")
        print(f"wrote the table into {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
