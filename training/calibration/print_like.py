"""An experiment, not shipped: can a check on the gray input tell an old print, so its radius can be widened?

    python -m training.calibration.print_like runs/unc30/gan_samples40p.npz [--real DIR ...]

On the calibration photos aged like prints (training.aging), Auto's errors grow by 15-40 % while its raw score does
not, so one lambda under-covers the aged photos. The check tried here: a logistic model on cheap statistics of the
gray input (FEATURES: colorcore.novelty's four and the black and white levels) fitted to tell the aged inputs
from the clean ones; a photo it calls print-like would get its score multiplied by the conformal lambda of the
print-like calibration runs over that of the clean runs (never below 1). SAMPLES: training.calibration.auto_samples's
file (each run's FEATURES row with it). Prints how often the check fires on clean and aged calibration inputs, the
factor, the coverage at alpha 0.1 before and after, and with --real how often it fires on folders of real photos
(old scans against modern ones). `python -m training.calibration.loso SAMPLES --print-like` measures it on
left-out sources. Why it is not shipped: docs/uncertainty.md ("Old prints").
"""
from __future__ import annotations

import argparse
import sys

import numpy as np

from colorcore import novelty
from colorcore.calibration import DEFAULT_ALPHAS, coverage, fit_calibration

FEATURES = novelty.FEATURES[:4] + ("black level", "white level")
LEVELS = (1.0, 99.0)   # percentiles of the lightness: a faded print has no true black and no true white
THRESHOLD = 0.5        # the model's probability above which a photo is called print-like


def features(rgb: np.ndarray) -> np.ndarray:
    """FEATURES of one input (H, W, 3) sRGB in [0, 1] (only its lightness counts), at novelty.SIDE."""
    L = novelty.side_lightness(rgb)
    return np.append(novelty.lightness_features(L), np.percentile(L, LEVELS) / 100.0)


def fit_model(rows, printlike, ridge: float = 1.0, steps: int = 50) -> dict:
    """Logistic regression (L2 `ridge` on the standardised features, Newton steps) of `printlike` (0/1 per row)
    on the FEATURES rows (n, len(FEATURES))."""
    X = np.asarray(rows, np.float64)
    y = np.asarray(printlike, np.float64)
    if X.ndim != 2 or X.shape[1] != len(FEATURES) or len(X) != len(y) or len(set(y)) != 2:
        raise ValueError(f"fit_model needs rows of {len(FEATURES)} features and both labels; got {X.shape}, "
                         f"labels {sorted(set(y))}")
    mean, sd = X.mean(0), X.std(0) + 1e-9
    Z = np.c_[np.ones(len(X)), (X - mean) / sd]
    penalty = ridge * np.diag(np.r_[0.0, np.ones(X.shape[1])])
    w = np.zeros(Z.shape[1])
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-Z @ w))
        w -= np.linalg.solve(Z.T @ (Z * (p * (1 - p))[:, None]) + penalty, Z.T @ (p - y) + penalty @ w)
    return {"mean": mean, "sd": sd, "weights": w}


def is_printlike(model: dict, rows) -> np.ndarray:
    X = np.atleast_2d(np.asarray(rows, np.float64))
    Z = np.c_[np.ones(len(X)), (X - model["mean"]) / model["sd"]]
    return 1.0 / (1.0 + np.exp(-Z @ model["weights"])) > THRESHOLD


def fit_print_like(features_, aged, scores, errors, alphas=DEFAULT_ALPHAS) -> dict:
    """The check (fit_model on the runs' features, aged = print) and its factor per alpha: lambda of the flagged
    runs over lambda of the clean runs (at least 1), for the alphas the runs' number allows."""
    aged = np.asarray(aged, bool)
    model = fit_model(features_, aged)
    flagged = is_printlike(model, features_)
    pick = lambda mask: ([s for s, m in zip(scores, mask) if m], [e for e, m in zip(errors, mask) if m])  # noqa: E731
    factors = {}
    for alpha in alphas:
        if alpha * (min(flagged.sum(), (~aged).sum()) + 1) <= 1:
            continue
        lam_flagged = fit_calibration(*pick(flagged), alphas=(alpha,)).lambdas[alpha]
        lam_clean = fit_calibration(*pick(~aged), alphas=(alpha,)).lambdas[alpha]
        factors[alpha] = max(1.0, lam_flagged / lam_clean)
    return {"model": model, "factors": factors, "fires_on_clean": float(flagged[~aged].mean()),
            "fires_on_aged": float(flagged[aged].mean())}


def widened(fitted: dict, features_, scores, alpha: float = 0.1):
    """The scores as a pipeline with the check would widen them."""
    flagged = is_printlike(fitted["model"], features_)
    factor = fitted["factors"].get(alpha, max(fitted["factors"].values()))
    return [s * (factor if f else 1.0) for s, f in zip(scores, flagged)]


def fires_on(fitted: dict, folder) -> tuple[int, int]:
    """(photos the check calls print-like, photos) in a folder of real photos, each taken as gray."""
    from training.evaluation import gray_of, list_images, load_rgb
    files = list_images(folder)
    rows = [features(gray_of(load_rgb(f, size=None))) for f in files]
    return int(is_printlike(fitted["model"], rows).sum()) if rows else 0, len(files)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("samples")
    p.add_argument("--real", nargs="*", default=[], help="folders of real photos to count the check's verdicts on")
    args = p.parse_args(argv)
    d = np.load(args.samples)
    if "features" not in d.files or d["features"].shape[1] != len(FEATURES):
        sys.exit(f"{args.samples} has no FEATURES row per run; make it with training.calibration.auto_samples")
    score, error, aged, feats = d["score"], d["error"], d["aged"].astype(bool), d["features"]
    fitted = fit_print_like(feats, aged, list(score), list(error))
    lam = fit_calibration(list(score[~aged]), list(error[~aged]), alphas=(0.1,)).lambdas[0.1]
    after = widened(fitted, feats, list(score))
    print(f"{len(aged)} runs; the check fires on {fitted['fires_on_clean']:.1%} of the clean inputs and "
          f"{fitted['fires_on_aged']:.1%} of the aged; factor at alpha 0.1: {fitted['factors'][0.1]:.3f}")
    for name, sel in (("clean", ~aged), ("aged", aged)):
        before = np.mean([coverage(lam * s, e) for s, e in zip(score[sel], error[sel])])
        now = np.mean([coverage(lam * s, e) for s, e, m in zip(after, error, sel) if m])
        mean_ratio = np.mean([a.mean() / s.mean() for a, s, m in zip(after, score, sel) if m])
        print(f"{name:6s} coverage at 0.1 (lambda of the clean runs): {before:.3f} -> {now:.3f}, "
              f"mean radius x{mean_ratio:.3f}")
    for folder in args.real:
        n, total = fires_on(fitted, folder)
        print(f"fires on {n} of {total} real photos in {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
