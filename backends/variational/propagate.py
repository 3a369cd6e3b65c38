"""Edge-aware propagation of hint colours: the `variational` method, and the solve the `prior` fuses its guess in.

Hints (a weight and a chroma per pixel, read off the scribble layer by strokes.scribble_hints) are brought to a
working size of at most `work_megapixels`, spread along the photo's lightness by solver.propagate (a weighted
least-squares solve on a local plus non-local graph), scored (uncertainty.raw_score), and brought back to full
size along the full-resolution edges.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from colorcore import no_progress
from colorcore.photo_cache import kept
from colorcore.upsample import joint_bilateral_upsample

from .solver import SolverSettings, graph_for, propagate
from .strokes import resize_hints, scribble_hints
from .uncertainty import DEFAULT_SCORE, raw_score

SCORE_REACH = 0.1        # image diagonals: the reach of the walk in the score's unreached()
SCORE_PIXELS = 16384     # unreached() works at most at this size: it is smooth, and one more solve at full size costs


@dataclass
class GuessSolve:
    """What a fusion of a guess with the hints gets from the solve (all at the working size)."""
    L: np.ndarray            # lightness
    weight: np.ndarray       # hint weight (0 = no hint)
    settings: SolverSettings
    strokes: int             # separate scribbles
    spread: np.ndarray       # the hints' colours spread by the solve (P)
    guess: np.ndarray        # the guess everywhere
    guess_spread: np.ndarray # the guess's own values at the hints, spread by the same solve
    graph: tuple             # solver.graph_for(L, settings, guide): the solve's graph (shaped by the guess when it
                             # guides), for a second solve on it (stroke_hold)


@dataclass
class Propagation:
    ab: np.ndarray          # (H, W, 2) propagated chroma
    unreached: np.ndarray | None   # 1 - stroke_hold at SCORE_REACH: how little the scribbles hold each pixel
                                   # (working size), when score_params were given
    variance: np.ndarray    # spread of the scribble colours reaching each pixel (working size)
    score: np.ndarray | None       # (H, W) raw uncertainty score, when score_params were given
    scale: float            # working resolution / full resolution
    strokes: int            # separate scribbles (connected painted areas)
    guess_share: np.ndarray | None = None   # with a prior: its share w of the result (working size; 0 at strokes)


def propagate_scribbles(L, scribbles, opts, progress=no_progress, **kw):
    """propagate_hints with the hints read off an RGBA scribble layer (H, W, 4)."""
    return propagate_hints(L, scribble_hints(scribbles), opts, progress, **kw)


def stroke_hold(L, weight, reach, settings, graph=None):
    """How firmly the strokes hold each pixel, in [0, 1]: the chance that a random walk on the solve's graph
    reaches a stroke before it fades, at a rate that gives a walk through a flat area a reach of `reach`
    image diagonals. (L + C + mu) h = C 1 is the solve's own system with a small leak mu everywhere. Unlike a
    distance, it stays higher in the region a stroke lies in (edges wall the walk in, so one stroke on a wall
    holds more of the wall) and falls behind edges and in busy texture, where a walk wanders off.
    Chosen over the edge-aware distance on the calibration slices (backends/prior/MODEL_CARD.md).
    graph: the solve's graph, solver.graph_for(L, settings[, guide]), when the caller has it (a guided one)."""
    leak = 1.0 / (reach * np.hypot(*L.shape)) ** 2 / settings.hint_weight   # per pixel, in hint-weight units
    hold = propagate(L, weight + leak, (weight / (weight + leak))[..., None], settings, graph=graph)[..., 0]
    return np.clip(hold, 0.0, 1.0)


def unreached(L, weight, settings):
    """1 - stroke_hold(..., SCORE_REACH) without a guide, computed at most at SCORE_PIXELS: the score's term for
    pixels the scribbles do not hold. On 84 photos of the calibration slices it ranks the error better than the
    edge-aware distance to the nearest scribble it replaced (Spearman 0.40 -> 0.44 at 10 points; bench/uncertainty:
    0.34 -> 0.37)."""
    H, W = L.shape
    sub = max(1.0, np.sqrt(H * W / SCORE_PIXELS))
    if sub == 1.0:
        return 1.0 - stroke_hold(L, weight, SCORE_REACH, settings)
    size = (max(1, round(W / sub)), max(1, round(H / sub)))
    small = [cv2.resize(a, size, interpolation=cv2.INTER_AREA) for a in (L, weight)]   # a thin stroke stays
    return cv2.resize(1.0 - stroke_hold(*small, SCORE_REACH, settings), (W, H), interpolation=cv2.INTER_LINEAR)


def propagate_hints(L, hints, opts, progress=no_progress,
                    score_params=(DEFAULT_SCORE["unreached_gain"], DEFAULT_SCORE["floor"]), predict_guess=None,
                    fuse=None,
                    guide_with_guess=False, guide_sigma=10.0):
    """The whole method on one image's lightness L (H, W) and hints (weight (H, W), ab (H, W, 2); see
    strokes.scribble_hints): hints -> working size -> solve -> full size.

    predict_guess: optional function of the working-size lightness giving a chroma guess (h, w, 2) everywhere (the
    `prior` backend's hint-conditioned network). The solve then also spreads the guess's own values at the
    hint pixels, which the solve is linear in, so one solve gives both the hints' spread colours and the guess's
    spread; fuse(GuessSolve) -> (ab, guess_share) then combines them (backends/prior/fusion.py) before the
    result is brought to full size. guide_with_guess: the guess also shapes the graph (solver.propagate's guide,
    at scale guide_sigma ab).
    score_params: (unreached gain, floor) of the raw score (uncertainty.raw_score); None: no score (a caller
    that scores the result its own way)."""
    H, W = L.shape
    weight, ab = hints
    progress(0.05, "reading scribbles")
    scale = min(1.0, np.sqrt(opts["work_megapixels"] * 1e6 / (H * W)))
    if scale < 1.0:
        size = (max(1, round(W * scale)), max(1, round(H * scale)))
        L_work = kept("area-resized", lambda: cv2.resize(L, size, interpolation=cv2.INTER_AREA), L, size=size)
        weight, ab = resize_hints(weight, ab, size)
    else:
        L_work = L
    values = np.dstack([ab, np.sum(ab * ab, axis=2)])  # a, b and |ab|^2 for the spread of hints
    guess = predict_guess(L_work) if predict_guess is not None else None
    guide = guess if guide_with_guess else None
    if guess is not None:   # the guess where the hints are: its spread G comes out of the same solve
        values = np.dstack([values, np.where(weight[..., None] > 0, guess, 0)])
    settings = SolverSettings(sigma=opts["edge_sensitivity"], nonlocal_k=8 if opts["nonlocal"] else 0,
                              guide_sigma=guide_sigma)
    graph = graph_for(L_work, settings, guide)   # a fusion's stroke_hold solves on the same graph
    u = propagate(L_work, weight, values, settings, progress=lambda f, m: progress(0.1 + 0.7 * f, m), graph=graph)
    progress(0.85, "estimating uncertainty")
    variance = np.maximum(u[..., 2] - np.sum(u[..., :2] ** 2, axis=2), 0)
    far = score = None
    if score_params is not None:
        far = unreached(L_work, weight, settings)
        score = raw_score(far, variance, *score_params)
    ab = u[..., :2]
    strokes = cv2.connectedComponents((weight > 0).astype(np.uint8), connectivity=8)[0] - 1
    share = None
    if guess is not None:
        ab, share = fuse(GuessSolve(L_work, weight, settings, strokes, spread=ab, guess=guess,
                                    guess_spread=u[..., 3:5], graph=graph))
    if scale < 1.0:
        progress(0.9, "upsampling along edges")
        # Edge-aware up to twice the working size per side, then plain resize: chroma needs less
        # resolution than lightness (as in 4:2:0 video), and the last step is cheap at 12 MP.
        chroma_scale = min(1.0, 2 * scale)
        chroma_size = (max(1, round(W * chroma_scale)), max(1, round(H * chroma_scale)))
        L_chroma = L if chroma_scale == 1.0 else cv2.resize(L, chroma_size, interpolation=cv2.INTER_AREA)
        ab = joint_bilateral_upsample(ab, L_work, L_chroma)
        if chroma_scale < 1.0:
            ab = cv2.resize(ab, (W, H), interpolation=cv2.INTER_LINEAR)
        if score is not None:
            score = cv2.resize(score, (W, H), interpolation=cv2.INTER_LINEAR)
    return Propagation(ab=np.ascontiguousarray(ab), unreached=far, variance=variance, score=score, scale=scale,
                       strokes=int(strokes), guess_share=None if share is None else share.astype(np.float32))
