"""How wrong a colour can be at all: the sRGB gamut's bound on a chroma error.

At a pixel of lightness L the true colour is one that sRGB can show at that lightness, so the chroma error of a
guess ab is at most the distance from ab to the farthest in-gamut chroma at L (`gamut_reach`). Near black and
near white the gamut shrinks to a point and so does the possible error; at mid lightness it is widest, and
widest of all from a guess on the gamut's edge towards the opposite hue. A score that knows this ranks the
errors better (backends/prior: its score times gamut_reach to a small power, docs/uncertainty.md).
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from . import color

HUE_STEP = 1.0          # degrees between the hues at which the gamut's edge is found
LIGHTNESS_LEVELS = 201  # the edge found at L = 0, 0.5, ..., 100 (a pixel takes the two levels around it)
HULL_TOLERANCE = 0.5    # ab units: how far the simplified hull may cut inside the true one


@lru_cache(maxsize=1)
def edge_chroma():
    """(lightness levels (n,), hues in radians (m,), chroma (n, m)): the largest chroma sRGB shows at each lightness
    and hue, by bisection on Lab -> sRGB (24 halvings of 0-150: well below a hundredth of a unit)."""
    hues = np.deg2rad(np.arange(0.0, 360.0, HUE_STEP))
    levels = np.linspace(0.0, 100.0, LIGHTNESS_LEVELS)
    L = np.repeat(levels[:, None], hues.size, axis=1)
    lo, hi = np.zeros_like(L), np.full_like(L, 150.0)
    for _ in range(24):
        mid = (lo + hi) / 2
        rgb = color.lab_to_rgb(np.dstack([L, mid * np.cos(hues), mid * np.sin(hues)]).astype(np.float32),
                               clip=False)
        inside = np.all((rgb >= -1e-4) & (rgb <= 1 + 1e-4), axis=-1)
        lo, hi = np.where(inside, mid, lo), np.where(inside, hi, mid)
    return levels, hues, lo


@lru_cache(maxsize=1)
def _corners():
    """(a, b) each (LIGHTNESS_LEVELS, K): per lightness level the corners of the convex hull of the gamut's slice
    (the farthest point of a set from any point is a corner of its hull), padded to K by repeating one."""
    import cv2
    _, hues, chroma = edge_chroma()
    edge = np.stack([chroma * np.cos(hues), chroma * np.sin(hues)], axis=-1).astype(np.float32)
    # the hull's curved stretches simplified to within HULL_TOLERANCE (from ~200 corners to ~20: 5x faster)
    hulls = [cv2.approxPolyDP(cv2.convexHull(level), HULL_TOLERANCE, True).reshape(-1, 2) for level in edge]
    k = max(len(h) for h in hulls)
    corners = np.stack([np.concatenate([h, np.repeat(h[:1], k - len(h), axis=0)]) for h in hulls])
    return corners[..., 0].copy(), corners[..., 1].copy()


def gamut_reach(L, ab):
    """(...) the largest chroma distance (ab units) from ab (..., 2) to any colour sRGB shows at lightness L (...)
    in 0-100, to within about an ab unit: the largest error a guess of ab can have there."""
    corner_a, corner_b = _corners()
    L = np.asarray(L, np.float32)
    ab = np.asarray(ab, np.float32)
    level = np.clip(L * np.float32((LIGHTNESS_LEVELS - 1) / 100.0), 0, LIGHTNESS_LEVELS - 1)
    far = np.zeros(L.shape, np.float32)
    for idx in (np.floor(level).astype(np.intp), np.ceil(level).astype(np.intp)):   # the levels around L
        for k in range(corner_a.shape[1]):   # corner by corner: no (pixels x corners) array at large sizes
            d = np.square(corner_a[idx, k] - ab[..., 0])
            d += np.square(corner_b[idx, k] - ab[..., 1])
            np.maximum(far, d, out=far)
    return np.sqrt(far, out=far)
