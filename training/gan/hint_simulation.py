"""Training hints for the hint-conditioned generator (the Scribble prior): what a user gives Scribble.

Two kinds, drawn from the photo's own colours:
* points, as Zhang et al. 2017 simulate them: how many is geometric with p = 1/8, zero included (mean 7);
  each a square patch of 1-9 px carrying the patch's mean ab, centred where a Gaussian around the image
  centre (sigma = a quarter of the size) puts it;
* strokes, as people paint them (with probability STROKE_P): short thin lines and curves of one colour, kept
  inside the region where they start (pixels whose ab is within STROKE_TOLERANCE of the start's), carrying
  that region's mean ab, with soft brush edges (the mask is the brush's opacity).

Output per image: (3, H, W) float32 = hint a, hint b (in the network's ab units, 0 where none) and the hint
mask in [0, 1]: the generator's condition channels after L (nets.generator_input).
"""
from __future__ import annotations

import cv2
import numpy as np

from backends.gan.conditions import HINT_CHANNELS as CHANNELS   # the network's condition: a, b, mask
POINT_P = 1 / 8            # geometric parameter of the number of points (Zhang et al. 2017)
MAX_PATCH = 9              # px: patch side drawn from 1..MAX_PATCH
STROKE_P = 0.5             # chance that an image also gets strokes
STROKE_TOLERANCE = 0.1     # network ab units (x AB_SCALE = about 11 ab): how far a stroke's colour may wander


def _points(rng, ab, hints):
    _, h, w = ab.shape
    n = int(rng.geometric(POINT_P)) - 1
    for _ in range(n):
        s = int(rng.integers(1, MAX_PATCH + 1))
        cy = int(np.clip(rng.normal(h / 2, h / 4), 0, h - 1))
        cx = int(np.clip(rng.normal(w / 2, w / 4), 0, w - 1))
        y0, x0 = max(0, cy - s // 2), max(0, cx - s // 2)
        y1, x1 = min(h, y0 + s), min(w, x0 + s)
        hints[:2, y0:y1, x0:x1] = ab[:, y0:y1, x0:x1].mean(axis=(1, 2))[:, None, None]
        hints[2, y0:y1, x0:x1] = 1.0


def _strokes(rng, ab, hints):
    _, h, w = ab.shape
    size = min(h, w)
    for _ in range(int(rng.geometric(1 / 3))):
        line = np.zeros((h, w), np.uint8)
        p = np.array([rng.uniform(0, w), rng.uniform(0, h)])
        start = (int(p[1]), int(p[0]))
        angle, thick = rng.uniform(0, 2 * np.pi), int(rng.integers(1, 6))
        for _ in range(int(rng.integers(1, 4))):
            angle += rng.normal(0, 0.6)
            q = p + rng.uniform(0.05, 0.15) * size * np.array([np.cos(angle), np.sin(angle)])
            cv2.line(line, tuple(int(v) for v in p), tuple(int(v) for v in q), 1, thick, cv2.LINE_AA)
            p = np.clip(q, 0, (w - 1, h - 1))
        near = np.abs(ab - ab[:, start[0], start[1]][:, None, None]).max(axis=0) < STROKE_TOLERANCE
        keep = (line > 0) & near
        n, labels = cv2.connectedComponents(keep.astype(np.uint8), connectivity=8)
        if n < 2 or labels[start] == 0:
            continue
        stroke = labels == labels[start]   # the part of the stroke in the region where it starts
        alpha = np.clip(cv2.GaussianBlur(stroke.astype(np.float32), (0, 0), 0.7) * 1.5, 0, 1) * near
        colour = ab[:, stroke].mean(axis=1)
        paint = alpha > hints[2]
        hints[:2, paint] = colour[:, None]
        hints[2, paint] = alpha[paint]


def sample_hints(rng: np.random.Generator, ab: np.ndarray, stroke_p: float = STROKE_P) -> np.ndarray:
    """ab (2, H, W) in network units -> hints (3, H, W): points always drawn (possibly none), strokes
    with probability stroke_p."""
    hints = np.zeros((CHANNELS,) + ab.shape[1:], np.float32)
    _points(rng, ab, hints)
    if rng.random() < stroke_p:
        _strokes(rng, ab, hints)
    return hints


def batch_hints(rng: np.random.Generator, ab: np.ndarray) -> np.ndarray:
    """(N, 2, H, W) -> (N, 3, H, W)."""
    return np.stack([sample_hints(rng, a) for a in np.asarray(ab, np.float32)])


def recolour(rng: np.random.Generator, ab, cond, p: float):
    """ab (N, 2, H, W) and hints cond (N, 3, H, W), torch -> new ab, new cond, which photos were turned.

    With probability p per image that has hints, turn its true colours and its hints' colours by one random
    hue angle and scale their chroma by one factor in [0.7, 1.3]. The lightness stays, so such a photo's
    colours cannot be told from it: only the hints can, which teaches a network that starts from Auto (and
    leans on the lightness) to read them. The map is linear, so a hint, the mean true ab of its patch, stays
    the mean of the recoloured patch. Photos without hints are left alone: their guess must stay the photo's
    likely colours."""
    import torch
    n = ab.shape[0]
    has = (cond[:, 2].flatten(1).amax(1) > 0).cpu().numpy()
    pick = (rng.random(n) < p) & has
    theta = np.where(pick, rng.uniform(0, 2 * np.pi, n), 0.0)
    scale = np.where(pick, rng.uniform(0.7, 1.3, n), 1.0)
    c, s = scale * np.cos(theta), scale * np.sin(theta)
    R = torch.from_numpy(np.stack([np.stack([c, -s], 1), np.stack([s, c], 1)], 1)).to(ab)   # (N, 2, 2)
    turn = lambda x: torch.einsum("nij,njhw->nihw", R, x)  # noqa: E731
    return turn(ab), torch.cat([turn(cond[:, :2]), cond[:, 2:]], 1), pick


def fixed_points(ab: np.ndarray, count: int, seed: int = 0) -> np.ndarray:
    """Validation hints: exactly `count` 3x3 points per image at fixed places, (N, 3, H, W)."""
    rng = np.random.default_rng(seed)
    out = np.zeros((len(ab), CHANNELS) + ab.shape[2:], np.float32)
    _, _, h, w = ab.shape
    for i, a in enumerate(np.asarray(ab, np.float32)):
        for _ in range(count):
            y, x = int(rng.integers(1, h - 1)), int(rng.integers(1, w - 1))
            out[i, :2, y - 1:y + 2, x - 1:x + 2] = a[:, y - 1:y + 2, x - 1:x + 2].mean(axis=(1, 2))[:, None, None]
            out[i, 2, y - 1:y + 2, x - 1:x + 2] = 1.0
    return out
