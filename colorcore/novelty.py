"""Is this photo unlike the ones the uncertainty was calibrated on?

The conformal radius promises its coverage for photos drawn like the calibration photos. A scan of a
150-year-old print (grain, faded contrast) or a drawing is not, and there the promise is weaker: the result's
info says so instead of staying silent. The check is deliberately simple and cheap: a few statistics of the
gray input and of the backend's own raw score, their Mahalanobis distance to the calibration photos' mean,
and as the threshold the largest distance any calibration photo has from the others (a photo like them lies
beyond it with probability about 1/(n+1)). It flags; it changes no radius.
"""
from __future__ import annotations

import cv2
import numpy as np

SIDE = 256        # statistics are taken at this longer side, so a 12 MP scan and a 256 px crop compare
FEATURES = ("mean lightness", "lightness contrast", "fine grain", "edge density", "log mean score")
EDGE = 4.0        # an edge: lightness gradient above this many L units per pixel at SIDE
KEY = "novelty"   # where a calibration stores the fitted check (Calibration.extra)


def photo_features(rgb: np.ndarray, score: np.ndarray) -> np.ndarray:
    """FEATURES of one photo: the input RGB (H, W, 3) in 0..1 (only its lightness counts) and the backend's raw
    score (H, W). The input's part depends on the photo alone: the warm engine keeps it (photo_cache)."""
    from .photo_cache import kept
    return np.append(kept("novelty", lambda: input_features(rgb), rgb), score_feature(score))


def input_features(rgb: np.ndarray) -> np.ndarray:
    """The FEATURES of the input alone (all but the last), for a caller that has the photo before its score."""
    return lightness_features(side_lightness(rgb))


def side_lightness(rgb: np.ndarray) -> np.ndarray:
    """The lightness (float32, 0..100) of the input RGB (H, W, 3) in 0..1 at a longer side of at most SIDE."""
    from .color import lightness
    rgb = np.asarray(rgb, np.float32)
    h, w = rgb.shape[:2]
    s = SIDE / max(h, w)
    if s < 1:
        rgb = cv2.resize(rgb, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
    return lightness(rgb).astype(np.float32)


def lightness_features(L: np.ndarray) -> np.ndarray:
    """The FEATURES but the last of a side_lightness."""
    grain = np.abs(L - cv2.GaussianBlur(L, (0, 0), 1.0)).mean()
    gy, gx = np.gradient(np.pad(L, ((0, max(0, 2 - L.shape[0])), (0, max(0, 2 - L.shape[1]))), mode="edge"))
    edges = (np.hypot(gx, gy) > EDGE).mean()
    return np.array([L.mean() / 100, L.std() / 100, grain, edges], np.float64)


def score_feature(score: np.ndarray) -> float:
    """The last of FEATURES: the log mean of the backend's raw score where it is positive (Partial's score is zero
    outside the selection, whatever its size)."""
    score = np.asarray(score, np.float32)
    live = np.count_nonzero(score)   # a score is never negative: the zeros add nothing to the sum (12 MP: 0.08 ->
    mean = float(np.sum(score, dtype=np.float64)) / live if live else 0.0   # 0.02 s against selecting the rest)
    return float(np.log(mean + 1e-3))


def fit_novelty(rows) -> dict:
    """The check, fitted on the calibration photos' feature rows (n, len(FEATURES))."""
    X = np.asarray(rows, np.float64)
    if X.ndim != 2 or X.shape[1] != len(FEATURES) or len(X) <= len(FEATURES):
        raise ValueError(f"fit_novelty needs more than {len(FEATURES)} rows of {len(FEATURES)} features; "
                         f"got shape {X.shape}")
    mean, inv = _fit(X)
    # each calibration photo measured against the others (leave one out), as a new photo is measured against
    # all of them: measured against a fit that includes it, every photo would look closer than a new one
    loo = [_distance(X[i], *_fit(np.delete(X, i, 0)))[0] for i in range(len(X))]
    return {"features": list(FEATURES), "mean": mean.tolist(), "inv_cov": inv.tolist(),
            "threshold": float(max(loo)), "n_photos": int(len(X))}


def _fit(X):
    cov = np.cov(X, rowvar=False) + 1e-9 * np.eye(X.shape[1])
    return X.mean(0), np.linalg.inv(cov)


def _distance(X, mean, inv):
    Z = np.atleast_2d(X) - mean
    return np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", Z, inv, Z), 0.0))


def assess(fitted: dict, rgb: np.ndarray, score: np.ndarray) -> dict:
    """The result's info keys for one photo: `unlike_calibration` when it lies beyond every calibration photo,
    with its distance and that limit (flat scalars, so they travel through the GIMP bridge's result line)."""
    d = float(_distance(photo_features(rgb, score), np.asarray(fitted["mean"]), np.asarray(fitted["inv_cov"]))[0])
    return {"unlike_calibration": d > fitted["threshold"], "calibration_distance": round(d, 2),
            "calibration_distance_limit": round(float(fitted["threshold"]), 2)}
