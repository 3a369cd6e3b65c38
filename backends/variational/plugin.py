"""Built-in backend `variational`: propagates scribble colours along the photo's lightness structure."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from colorcore import Backend, BackendOutput, Calibration, Option, hookimpl

HERE = Path(__file__).parent
CALIBRATION_FILE = HERE / "calibration.json"
# Score mixing weights are fitted together with the calibration (bench/calibrate_variational.py).
DEFAULT_SCORE = {"distance_gain": 40.0, "floor": 1.0}


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
                                   score_params=(p["distance_gain"], p["floor"]))
        request.progress(1.0, "done")
        return BackendOutput(ab=prop.ab, score=prop.score, info={"work_scale": round(prop.scale, 4),
                                                                 "scribbles": prop.strokes,
                                                                 "calibration_group": scribble_group(prop.strokes)})


@dataclass
class Propagation:
    ab: np.ndarray          # (H, W, 2) propagated chroma
    distance: np.ndarray    # edge-aware distance to the nearest scribble, in image diagonals (working size)
    variance: np.ndarray    # spread of the scribble colours reaching each pixel (working size)
    score: np.ndarray       # (H, W) raw uncertainty score, when score_params were given
    scale: float            # working resolution / full resolution
    strokes: int            # separate scribbles (connected painted areas)


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


def propagate_hints(L, hints, opts, progress=_no_progress, score_params=(40.0, 1.0), prior=None,
                    prior_distance=0.0, guide_with_prior=False, guide_sigma=10.0):
    """The whole method on one image's lightness L (H, W) and hints (weight (H, W), ab (H, W, 2); see
    hints.scribble_hints): hints -> working size -> solve -> full size.

    prior: optional function of the working-size lightness giving a chroma guess (h, w, 2) everywhere (the
    `prior` backend's hint-conditioned network). The solve then also spreads the guess's own values at the
    hint pixels, which the solve is linear in, so one solve gives both the hints' spread colours P and the
    guess's spread G: the result is P + w (guess - G - (1 - s) (P - G)) with s = far_residual_share(strokes),
    the hints' colours plus the guess's detail, where
    w = 1 - exp(-d / prior_distance) grows with the edge-aware distance d to the nearest hint (image
    diagonals). Far from the strokes the network's guess holds, shifted by a share of the strokes' correction
    (far_residual_share); next to them, and wherever strokes are dense, propagation's precision does.
    prior_distance 0: w = 1 everywhere.
    guide_with_prior: the guess also shapes the graph (solver.propagate's guide, at scale guide_sigma ab)."""
    from colorcore.upsample import joint_bilateral_upsample
    from .hints import resize_hints
    from .solver import SolverSettings, propagate
    from .uncertainty import geodesic_distance, raw_score

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
    distance = geodesic_distance(L_work, weight > 0)
    score = raw_score(distance, variance, *score_params)
    ab = u[..., :2]
    strokes = cv2.connectedComponents((weight > 0).astype(np.uint8), connectivity=8)[0] - 1
    if guess is not None:
        w = 1.0 - np.exp(-distance / prior_distance) if prior_distance > 0 else np.ones_like(distance)
        P, G = ab, u[..., 3:5]   # the strokes' spread colours, the guess's own colours spread from them
        # far from the strokes: the guess plus the share far_residual_share(n) of the strokes' correction P - G
        ab = P + w[..., None] * (guess - G - (1.0 - far_residual_share(strokes)) * (P - G))
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
        score = cv2.resize(score, (W, H), interpolation=cv2.INTER_LINEAR)
    return Propagation(ab=np.ascontiguousarray(ab), distance=distance, variance=variance, score=score, scale=scale,
                       strokes=int(strokes))


@hookimpl
def register_backends(register):
    register(VariationalBackend())
