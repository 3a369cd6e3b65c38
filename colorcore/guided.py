"""Guided filtering (He et al. 2013) with OpenCV box filters: edge-aware upsampling of chroma.

Backends that predict chroma at low resolution use `guided_upsample` to bring it to full size
along the full-resolution lightness, so colours stop at the photo's edges instead of blurring over them.
"""
import cv2
import numpy as np


def _box(x, r):
    return cv2.boxFilter(x, -1, (2 * r + 1, 2 * r + 1), borderType=cv2.BORDER_REFLECT)


def _expand(x, like):
    return x[..., None] if like.ndim == 3 and x.ndim == 2 else x


def _coefficients(guide, src, radius, eps):
    """Per-pixel linear model src ~ a * guide + b, averaged over the windows covering each pixel."""
    mean_i = _box(guide, radius)
    var_i = _box(guide * guide, radius) - mean_i * mean_i
    mean_i, var_i, g = _expand(mean_i, src), _expand(var_i, src), _expand(guide, src)
    mean_p = _box(src, radius)
    a = (_box(src * g, radius) - mean_i * mean_p) / (var_i + eps)
    b = mean_p - a * mean_i
    return _box(a, radius), _box(b, radius)


def guided_filter(guide, src, radius, eps):
    """Filter `src` (H, W) or (H, W, C) guided by the gray `guide` (H, W); eps in guide units squared."""
    guide = np.ascontiguousarray(guide, np.float32)
    src = np.ascontiguousarray(src, np.float32)
    a, b = _coefficients(guide, src, radius, eps)
    return a * _expand(guide, src) + b


def guided_upsample(low, guide_full, eps=4.0, radius=None):
    """Resize low-resolution values to the guide's size, sharpened along the guide's edges.

    The guide is the full-resolution lightness (L in [0, 100]; eps in L units squared). The box filters
    run on the guide reduced to about twice the low resolution and the linear coefficients are resized
    to full size (the fast guided filter of He & Sun 2015), so the cost at 12 MP is a few resizes.
    """
    guide_full = np.ascontiguousarray(guide_full, np.float32)
    H, W = guide_full.shape
    h, w = low.shape[:2]
    if (h, w) == (H, W):
        return np.ascontiguousarray(low, np.float32)
    sub = max(1.0, max(H / h, W / w) / 2.0)
    hs, ws = max(1, round(H / sub)), max(1, round(W / sub))
    guide_s = cv2.resize(guide_full, (ws, hs), interpolation=cv2.INTER_AREA)
    src_s = cv2.resize(np.ascontiguousarray(low, np.float32), (ws, hs), interpolation=cv2.INTER_LINEAR)
    a, b = _coefficients(guide_s, _expand(src_s, low), radius or 2, eps)
    a = _expand(cv2.resize(a, (W, H), interpolation=cv2.INTER_LINEAR), low)
    b = _expand(cv2.resize(b, (W, H), interpolation=cv2.INTER_LINEAR), low)
    return (a * _expand(guide_full, low) + b).astype(np.float32)


def joint_bilateral_upsample(low, guide_low, guide_full, sigma=4.0):
    """Upsample `low` (h, w[, C]) to the size of `guide_full` (H, W), weighting each of the four
    surrounding low-resolution samples by bilinear position times lightness similarity
    exp(-(L_full - L_low)^2 / 2 sigma^2) (Kopf et al. 2007, 2x2 footprint). A sample on the other
    side of an edge, or one whose area straddles the edge, gets almost no say, so nothing bleeds."""
    H, W = guide_full.shape
    h, w = guide_low.shape
    low3 = low.reshape(h, w, -1)
    cy = np.clip((np.arange(H, dtype=np.float32) + 0.5) * (h / H) - 0.5, 0, h - 1)
    cx = np.clip((np.arange(W, dtype=np.float32) + 0.5) * (w / W) - 0.5, 0, w - 1)
    y0, x0 = np.floor(cy).astype(np.intp), np.floor(cx).astype(np.intp)
    y1, x1 = np.minimum(y0 + 1, h - 1), np.minimum(x0 + 1, w - 1)
    fy, fx = (cy - y0)[:, None], (cx - x0)[None, :]
    inv = np.float32(-0.5 / (sigma * sigma))
    total = np.zeros((H, W, low3.shape[2]), np.float32)
    norm = np.full((H, W), 1e-12, np.float32)
    for ys, wy in ((y0, 1 - fy), (y1, fy)):
        guide_rows, low_rows = np.take(guide_low, ys, axis=0), np.take(low3, ys, axis=0)  # two 1-D gathers
        for xs, wx in ((x0, 1 - fx), (x1, fx)):
            diff = guide_full - np.take(guide_rows, xs, axis=1)
            weight = np.exp(inv * diff * diff)
            weight += np.float32(1e-6)
            weight *= wy * wx
            total += weight[..., None] * np.take(low_rows, xs, axis=1)
            norm += weight
    total /= norm[..., None]
    return total.reshape((H, W) + low.shape[2:])
