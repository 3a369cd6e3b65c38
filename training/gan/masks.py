"""Training masks for `partial-gan`: the kinds of selection a user makes in GIMP.

Families: free-form brush strokes, blobs, rectangles, half-planes, object-like regions (unions of
colour/position superpixels of the photo itself), each optionally feathered. All return float32
(H, W) in [0, 1], never empty. The benchmark uses other families (bench/partial.py), so it measures
generalisation, not memory of these shapes.
"""
from __future__ import annotations

import cv2
import numpy as np

FAMILIES = ("strokes", "blob", "rectangle", "half_plane", "object")


def strokes(rng: np.random.Generator, h: int, w: int, rgb=None) -> np.ndarray:
    """1-4 random-walk brush strokes, 4-25% of the image size wide."""
    m = np.zeros((h, w), np.uint8)
    s = min(h, w)
    for _ in range(rng.integers(1, 5)):
        p = rng.random(2) * (w, h)
        angle = rng.random() * 2 * np.pi
        width = int(max(2, rng.uniform(0.04, 0.25) * s))
        for _ in range(rng.integers(2, 8)):
            angle += rng.normal(0, 0.8)
            q = p + rng.uniform(0.1, 0.4) * s * np.array([np.cos(angle), np.sin(angle)])
            cv2.line(m, tuple(int(v) for v in p), tuple(int(v) for v in q), 1, width, cv2.LINE_AA)
            p = np.clip(q, 0, (w - 1, h - 1))
    return m.astype(np.float32)


def blob(rng, h, w, rgb=None):
    """Smooth random blobs: low-pass noise thresholded at a random quantile."""
    noise = cv2.GaussianBlur(rng.standard_normal((h, w)).astype(np.float32), (0, 0), rng.uniform(0.05, 0.2) * min(h, w))
    return (noise > np.quantile(noise, rng.uniform(0.3, 0.9))).astype(np.float32)


def rectangle(rng, h, w, rgb=None):
    y0, y1 = np.sort(rng.integers(0, h + 1, 2))
    x0, x1 = np.sort(rng.integers(0, w + 1, 2))
    m = np.zeros((h, w), np.float32)
    m[y0:max(y1, y0 + 2), x0:max(x1, x0 + 2)] = 1.0
    return m


def half_plane(rng, h, w, rgb=None):
    """Everything on one side of a random line through the image."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    t = rng.random() * 2 * np.pi
    c = rng.random(2) * (w, h)
    return ((xx - c[0]) * np.cos(t) + (yy - c[1]) * np.sin(t) > 0).astype(np.float32)


def object_region(rng, h, w, rgb):
    """A union of 1-3 superpixels (k-means on colour + position) of the photo: an object-like selection."""
    lab = cv2.cvtColor(np.ascontiguousarray(rgb, np.uint8), cv2.COLOR_RGB2LAB).astype(np.float32)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    pos_w = rng.uniform(0.3, 1.0) * 255.0 / max(h, w)
    feats = np.concatenate([lab.reshape(-1, 3), (np.stack([yy, xx], -1) * pos_w).reshape(-1, 2)], 1)
    k = int(rng.integers(4, 13))
    crit = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 8, 1.0)
    cv2.setRNGSeed(int(rng.integers(1 << 30)))
    _, labels, _ = cv2.kmeans(feats, k, None, crit, 1, cv2.KMEANS_PP_CENTERS)
    labels = labels.reshape(h, w)
    m = np.isin(labels, rng.choice(k, rng.integers(1, 4), replace=False)).astype(np.uint8)
    n, comp = cv2.connectedComponents(m)
    if n > 2:   # keep the largest piece or two, like a real selection of one object
        sizes = np.bincount(comp.ravel())[1:]
        keep = 1 + np.argsort(sizes)[::-1][:rng.integers(1, 3)]
        m = np.isin(comp, keep).astype(np.uint8)
    return cv2.morphologyEx(m, cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8)).astype(np.float32)


_MAKERS = {"strokes": strokes, "blob": blob, "rectangle": rectangle, "half_plane": half_plane,
           "object": object_region}


def feather(rng, m: np.ndarray) -> np.ndarray:
    return np.clip(cv2.GaussianBlur(m, (0, 0), rng.uniform(1.0, 6.0)), 0.0, 1.0)


def random_mask(rng: np.random.Generator, rgb: np.ndarray, p_feather: float = 0.3, p_full: float = 0.05,
                family: str | None = None) -> np.ndarray:
    """One training mask for the (H, W, 3) uint8 photo `rgb`: a random family, sometimes feathered,
    sometimes the whole image (so the model still colorizes a full selection like Auto)."""
    h, w = rgb.shape[:2]
    if family is None and rng.random() < p_full:
        return np.ones((h, w), np.float32)
    fam = family or FAMILIES[rng.integers(len(FAMILIES))]
    for _ in range(5):
        m = _MAKERS[fam](rng, h, w, rgb)
        if 0.02 < m.mean() < 0.98:
            break
    if not (m > 0).any():
        m = rectangle(rng, h, w)
    return feather(rng, m) if rng.random() < p_feather else m


def batch_masks(rng, rgb_batch: np.ndarray, **kw) -> np.ndarray:
    """(N, H, W, 3) uint8 -> (N, 1, H, W) float32 masks."""
    return np.stack([random_mask(rng, im, **kw) for im in rgb_batch])[:, None]
