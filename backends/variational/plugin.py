"""Built-in backend `variational`: propagates scribble colours along the photo's lightness structure."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from colorcore import Backend, BackendOutput, Calibration, Option, hookimpl

HERE = Path(__file__).parent
CALIBRATION_FILE = HERE / "calibration.json"
# Score mixing weights are fitted together with the calibration (python -m backends.variational.calibrate).
DEFAULT_SCORE = {"unreached_gain": 10.0, "floor": 3.0}
SCORE_REACH = 0.1        # image diagonals: the reach of the walk in the score's unreached()
SCORE_PIXELS = 16384     # unreached() works at most at this size: it is smooth, and one more solve at full size costs


class VariationalBackend(Backend):
    name = "variational"
    label = "Scribbles (edge-aware propagation)"
    modes = ("scribble", "partial")
    needs_scribbles = True
    takes_mask = False
    gives_uncertainty = True
    options = (
        Option("edge_sensitivity", float, 2.0, minimum=0.25, maximum=50.0,
               help="lightness step (L units) that stops colour; smaller = colours stop at fainter edges"),
        Option("nonlocal", bool, True, help="let a colour jump to similar-looking regions, not only neighbours"),
        Option("work_megapixels", float, 0.3, minimum=0.05, maximum=16.0,
               help="solve at most this many megapixels, then upsample along the full-size edges"),
    )

    def calibration(self):
        return Calibration.load(CALIBRATION_FILE) if CALIBRATION_FILE.is_file() else None

    def score_params(self):
        cal = self.calibration()
        return dict(DEFAULT_SCORE, **(cal.extra.get("score", {}) if cal else {}))

    def run(self, request):
        p = self.score_params()
        prop = propagate_scribbles(request.lightness(), request.scribbles, request.options, request.progress,
                                   score_params=(p["unreached_gain"], p["floor"]))
        request.progress(1.0, "done")
        return BackendOutput(ab=prop.ab, score=prop.score, info={"work_scale": round(prop.scale, 4),
                                                                 "scribbles": prop.strokes,
                                                                 "calibration_group": scribble_group(prop.strokes)})


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


# A single scribble says little about the rest of the photo, many say a lot: the calibration is made
# per group (Mondrian conformal), so the promised coverage holds for few and for many scribbles alike.
SCRIBBLE_GROUPS = ((2, "1-2 scribbles"), (30, "3-30 scribbles"), (None, "31+ scribbles"))


def scribble_group(strokes):
    return next(name for top, name in SCRIBBLE_GROUPS if top is None or strokes <= top)


def _no_progress(fraction, message=""):
    pass


def propagate_scribbles(L, scribbles, opts, progress=_no_progress, **kw):
    """propagate_hints with the hints read off an RGBA scribble layer (H, W, 4)."""
    from .hints import scribble_hints
    return propagate_hints(L, scribble_hints(scribbles), opts, progress, **kw)


def far_residual_share(strokes: int) -> float:
    """The share of the strokes' correction of the guess (P - G: what they say minus what the guess said where
    they are) that reaches pixels far from every stroke: 1 - 1/(2n) for n strokes. One stroke tells its own
    region's colour more than the whole photo's, so half its correction travels; many strokes all over the
    photo make the spread correction local, and nearly all of it travels. Chosen on the calibration slices
    (8 photos of each training source at 1-5 points; never the benchmark's photos): at one point +0.55 dB over
    the whole correction, at 2-5 points within 0.05 dB of it (backends/prior/MODEL_CARD.md)."""
    return 1.0 - 0.5 / max(int(strokes), 1)


def guess_gain(strokes: int) -> float:
    """The chroma gain 1 - 0.2/n of the learned guess where it makes the result, for n strokes (0.8 for none or
    one). A network that has seen one stroke still guesses most colours, and a guess that is often wrong is
    better a little paler (its expected error is smaller); many strokes inform it, and it keeps its colour.
    Chosen on 112 photos of the calibration slices: at one point +0.26 dB over no gain and better on every
    source, at two +0.06; from five points on any lower gain costs (backends/prior/MODEL_CARD.md)."""
    return 1.0 - 0.2 / max(int(strokes), 1)


def stroke_hold(L, weight, reach, settings, guide=None):
    """How firmly the strokes hold each pixel, in [0, 1]: the chance that a random walk on the solve's graph
    reaches a stroke before it fades, at a rate that gives a walk through a flat area a reach of `reach`
    image diagonals. (L + C + mu) h = C 1 is the solve's own system with a small leak mu everywhere. Unlike a
    distance, it stays higher in the region a stroke lies in (edges wall the walk in, so one stroke on a wall
    holds more of the wall) and falls behind edges and in busy texture, where a walk wanders off.
    Chosen over the edge-aware distance on the calibration slices (backends/prior/MODEL_CARD.md)."""
    from .solver import propagate
    leak = 1.0 / (reach * np.hypot(*L.shape)) ** 2 / settings.hint_weight   # per pixel, in hint-weight units
    hold = propagate(L, weight + leak, (weight / (weight + leak))[..., None], settings, guide=guide)[..., 0]
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


def propagate_hints(L, hints, opts, progress=_no_progress,
                    score_params=(DEFAULT_SCORE["unreached_gain"], DEFAULT_SCORE["floor"]), prior=None,
                    prior_distance=0.0, guide_with_prior=False, guide_sigma=10.0):
    """The whole method on one image's lightness L (H, W) and hints (weight (H, W), ab (H, W, 2); see
    hints.scribble_hints): hints -> working size -> solve -> full size.

    prior: optional function of the working-size lightness giving a chroma guess (h, w, 2) everywhere (the
    `prior` backend's hint-conditioned network). The solve then also spreads the guess's own values at the
    hint pixels, which the solve is linear in, so one solve gives both the hints' spread colours P and the
    guess's spread G: the result is P + w (k guess - k G - (1 - s) (P - k G)) with s = far_residual_share(strokes)
    and k = guess_gain(strokes),
    the hints' colours plus the guess's detail, where w = 1 - stroke_hold(...) is how little the strokes hold
    the pixel (stroke_hold: a walk along the photo that fades over prior_distance image diagonals). Where
    the strokes do not reach, the network's guess holds, shifted by a share of the strokes' correction
    (far_residual_share); in a stroke's own region, and wherever strokes are dense, propagation's precision
    does. Painted pixels keep their colour. prior_distance 0: w = 1 everywhere.
    guide_with_prior: the guess also shapes the graph (solver.propagate's guide, at scale guide_sigma ab).
    score_params: (unreached gain, floor) of the raw score (uncertainty.raw_score); None: no score (a caller
    that scores the result its own way)."""
    from colorcore.upsample import joint_bilateral_upsample
    from .hints import resize_hints
    from .solver import SolverSettings, propagate
    from .uncertainty import raw_score

    H, W = L.shape
    weight, ab = hints
    progress(0.05, "reading scribbles")
    scale = min(1.0, np.sqrt(opts["work_megapixels"] * 1e6 / (H * W)))
    if scale < 1.0:
        size = (max(1, round(W * scale)), max(1, round(H * scale)))
        L_work = cv2.resize(L, size, interpolation=cv2.INTER_AREA)
        weight, ab = resize_hints(weight, ab, size)
    else:
        L_work = L
    values = np.dstack([ab, np.sum(ab * ab, axis=2)])  # a, b and |ab|^2 for the spread of hints
    guess = prior(L_work) if prior is not None else None
    if guess is not None:   # the guess where the hints are: its spread G comes out of the same solve
        values = np.dstack([values, np.where(weight[..., None] > 0, guess, 0)])
    settings = SolverSettings(sigma=opts["edge_sensitivity"], nonlocal_k=8 if opts["nonlocal"] else 0,
                              guide_sigma=guide_sigma)
    u = propagate(L_work, weight, values, settings, progress=lambda f, m: progress(0.1 + 0.7 * f, m),
                  guide=guess if guide_with_prior else None)
    progress(0.85, "estimating uncertainty")
    variance = np.maximum(u[..., 2] - np.sum(u[..., :2] ** 2, axis=2), 0)
    far = score = None
    if score_params is not None:
        far = unreached(L_work, weight, settings)
        score = raw_score(far, variance, *score_params)
    ab = u[..., :2]
    strokes = cv2.connectedComponents((weight > 0).astype(np.uint8), connectivity=8)[0] - 1
    if guess is not None:
        if prior_distance > 0:
            hold = stroke_hold(L_work, weight, prior_distance, settings, guess if guide_with_prior else None)
            w = np.where(weight > 0, 0.0, 1.0 - hold)
        else:
            w = np.ones(weight.shape, np.float32)
        k = guess_gain(strokes)  # the guess (and so its spread G) at a lower chroma when few strokes inform it
        P, G = ab, k * u[..., 3:5]   # the strokes' spread colours, the guess's own colours spread from them
        # far from the strokes: the guess plus the share far_residual_share(n) of the strokes' correction P - G
        ab = P + w[..., None] * (k * guess - G - (1.0 - far_residual_share(strokes)) * (P - G))
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
                       strokes=int(strokes), guess_share=None if guess is None else w.astype(np.float32))


@hookimpl
def register_backends(register):
    register(VariationalBackend())
