"""Built-in plugin: the `prior` backend (Scribble with a learned prior: a few strokes are enough).

Two steps:
1. the `gan` generator with three more input channels, the hints' ab and their mask, trained on simulated hints
   (points as Zhang et al. 2017 draw them, and one-colour strokes: training/gan/hint_simulation.py):
       colorcore train prior --init training/weights/mse_baseline.pt --loss mse ...
   predicts every pixel's chroma from the photo and the hints at its working size (a few hundred px);
2. the `variational` edge-aware solve combines it with the strokes (fusion.py): the guess shapes the graph along
   with the lightness (a step in the guessed chroma cuts an edge, and pixels it guesses alike are non-local
   neighbours, so a stroke on one piece of sky reaches the others and stops at a weak lightness edge between sky
   and roof); the strokes' colours spread along it, plus the guess's own detail, which takes over where the
   strokes do not hold the pixel. With few strokes the learned prior fills the photo; with many, propagation
   keeps its precision; a stroke's colour always holds where it was painted.
Uncertainty (fusion.prior_score): the network's predicted error scale, weighted by how much of the result its
guess makes, combined with the spread of the colours the solve mixed, times how large an error the gamut allows
there (fusion.gamut_factor, at the network's size); calibrated per scribble-count group as `variational` is, on
clean and aged photos (python -m training.calibration.prior --aged).
Weights: backends/prior/weights/prior.pt (+ .json, calibration.json); COLORCORE_PRIOR_WEIGHTS=/path overrides.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

from colorcore import Backend, BackendOutput, Option, WeightsFile, hookimpl
from backends.gan.conditions import HINT_CHANNELS
from backends.variational.plugin import VariationalBackend
from backends.variational.strokes import scribble_group

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
# chosen on the calibration slices (never the benchmark's photos): PRIOR_DISTANCE on 168 photos at 1-200 points
# (ninth session), GUIDE_SIGMA on 14 photos at 1-100 points
PRIOR_DISTANCE = 0.1    # image diagonals: the strokes' reach, see fusion.fuse and stroke_hold
GUIDE_SIGMA = 5.0       # ab units: a step this size in the guess cuts the graph like a 2-L step in lightness


class PriorBackend(Backend):
    name = "prior"
    label = "Scribbles with a learned prior"
    modes = ("scribble", "partial")
    needs_scribbles = True
    takes_mask = False
    gives_uncertainty = True
    guesses_without_hints = True   # its run() gives the network's guess for an empty scribble layer (bench/hints.py)
    options = (Option("prior_distance", float, PRIOR_DISTANCE, minimum=0.0, maximum=2.0,
                      help="how far a stroke's colour reaches (fraction of the image diagonal) through a flat "
                           "area before the learned guess's own detail takes over; edges and busy texture shorten "
                           "it; 0: the guess everywhere"),
               Option("guide_sensitivity", float, GUIDE_SIGMA, minimum=0.5, maximum=100.0,
                      help="chroma step (ab units) of the learned guess that stops a stroke's colour, as lightness "
                           "edges do; larger = the guess shapes the spreading less"),
               ) + VariationalBackend.options   # the solve's own options

    def __init__(self, weights: str | os.PathLike | None = None):
        self.weights = WeightsFile(WEIGHTS_DIR / "prior.pt", "COLORCORE_PRIOR_WEIGHTS", weights)

    @property
    def weights_path(self) -> Path:
        return self.weights.path

    def unavailable_reason(self):
        return self.weights.unavailable_reason(
            how_to_make=(f"train your own with `colorcore train gan --task hints --data DIR --out CKPT` and "
                         f"export them with `python -m training.gan.export CKPT {self.weights_path}`"),
            input_channels=1 + HINT_CHANNELS, inputs_text="lightness and the hints' a, b and mask", backend=self.name)

    def describe(self):
        return dict(super().describe(), weights=str(self.weights_path))

    def calibration(self):
        return self.weights.calibration()

    def run(self, request) -> BackendOutput:
        import cv2
        import numpy as np
        from backends.gan import infer
        from backends.variational.strokes import scribble_hints
        from colorcore.photo_cache import kept
        from colorcore.strips import for_each_strip
        from .fusion import gamut_factor, prior_score, propagate_with_guess
        from .guess import hint_condition
        t0 = time.perf_counter()
        request.progress(0.0, "loading the prior")
        G = infer.load_generator(self.weights_path)
        L = request.lightness()
        H, W = L.shape
        h, w = infer.work_size(H, W, infer.native_size(self.weights_path), G.multiple)
        L_lo = kept("resized", lambda: infer.resized(L, (h, w)), L, size=(h, w))
        request.progress(0.05, "predicting colours from the hints")
        hints = scribble_hints(request.scribbles)   # read once: the network and the solve both take them
        ab_lo, s_lo = infer.predict_lowres(G, L_lo, mask_lo=hint_condition(*hints, (w, h)))
        prop = propagate_with_guess(L, hints, request.options,
                                    lambda L_work: infer.guided_upsample(L_lo, ab_lo, L_work),
                                    float(request.options["prior_distance"]), request.progress,
                                    guide_with_guess=True, guide_sigma=float(request.options["guide_sensitivity"]),
                                    score_params=None)   # scored below, by prior_score
        s_head = cv2.resize(s_lo, (W, H), interpolation=cv2.INTER_LINEAR)
        spread = cv2.resize(prop.variance, (W, H), interpolation=cv2.INTER_LINEAR)
        share = cv2.resize(prop.guess_share, (W, H), interpolation=cv2.INTER_LINEAR)
        reach = cv2.resize(gamut_factor(L_lo, infer.resized(prop.ab, (h, w))), (W, H), interpolation=cv2.INTER_LINEAR)
        score = np.empty((H, W), np.float32)

        def band(y0, y1):   # element by element, so bands on the engine's threads give the same score
            score[y0:y1] = prior_score(s_head[y0:y1], spread[y0:y1], share[y0:y1]) * reach[y0:y1]
        for_each_strip(H, W, band)
        request.progress(1.0, "done")
        return BackendOutput(ab=prop.ab, score=score,
                             info={"weights": self.weights_path.name, "scribbles": prop.strokes,
                                   "work_scale": round(prop.scale, 4), "calibration_group": scribble_group(prop.strokes),
                                   "seconds_prior": round(time.perf_counter() - t0, 4)})


@hookimpl
def register_backends(register):
    register(PriorBackend())
