"""Built-in plugin: the `prior` backend (Scribble with a learned prior: a few strokes are enough).

Two steps (issue "Scribble with a learned prior"):
1. the `gan` generator with three more input channels, the hints' ab and their mask, trained on simulated hints
   (points as Zhang et al. 2017 draw them, and one-colour strokes: backends/gan/hints.py) from the Auto weights:
       python -m backends.gan.train --task hints --init backends/gan/weights/mse_baseline.pt --loss mse ...
   predicts every pixel's chroma from the photo and the hints at its working size (a few hundred px);
2. the `variational` edge-aware solve combines it with the strokes (propagate_hints(prior=...)): the guess
   shapes the graph along with the lightness (a step in the guessed chroma cuts an edge, and pixels it guesses
   alike are non-local neighbours, so a stroke on one piece of sky reaches the others and stops at a weak
   lightness edge between sky and roof); the strokes' colours spread along it, plus the guess's own detail,
   which takes over where the strokes do not hold the pixel (stroke_hold: behind edges, in busy texture, far
   away). With few strokes the learned prior fills the photo; with many, propagation keeps its precision; a
   stroke's colour always holds where it was painted.
Uncertainty (prior_score): the network's predicted error scale, weighted by how much of the result its guess
makes, combined with the spread of the colours the solve mixed; calibrated per scribble-count group as
`variational` is (backends/prior/calibrate.py).
Weights: backends/prior/weights/prior.pt (+ .json, calibration.json); COLORCORE_PRIOR_WEIGHTS=/path overrides.
"""
from __future__ import annotations

import time
from pathlib import Path

from colorcore import BackendOutput, Option, hookimpl
from backends.gan.plugin import GanBackend
from backends.variational.plugin import VariationalBackend, scribble_group

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
# chosen on the calibration slices (never the benchmark's photos): PRIOR_DISTANCE on 168 photos at 1-200 points
# (ninth session), GUIDE_SIGMA on 14 photos at 1-100 points
PRIOR_DISTANCE = 0.1    # image diagonals: the strokes' reach, see propagate_hints and stroke_hold
# The score weighs the network's predicted error by how much of the result its guess makes; chosen on 84 photos of
# the calibration slices (not those it calibrates on) at 10 and 100 points: Spearman 0.37 -> 0.45 and 0.44 -> 0.54
SCORE_NEAR = 0.25       # share of the predicted error kept next to the strokes
SCORE_FLOOR = 2.0       # Delta E
GUIDE_SIGMA = 5.0       # ab units: a step this size in the guess cuts the graph like a 2-L step in lightness


class PriorBackend(GanBackend):
    name = "prior"
    label = "Scribbles with a learned prior"
    modes = ("scribble", "partial")
    needs_scribbles = True
    takes_mask = False
    condition_channels = 3
    condition_text = " and the hints' a, b and mask"
    train_hint = "hints"
    default_weights = WEIGHTS_DIR / "prior.pt"
    env_weights = "COLORCORE_PRIOR_WEIGHTS"
    guesses_without_hints = True   # its run() gives the network's guess for an empty scribble layer (bench/hints.py)
    options = (Option("prior_distance", float, PRIOR_DISTANCE, minimum=0.0, maximum=2.0,
                      help="how far a stroke's colour reaches (fraction of the image diagonal) through a flat "
                           "area before the learned guess's own detail takes over; edges and busy texture shorten "
                           "it; 0: the guess everywhere"),
               Option("guide_sensitivity", float, GUIDE_SIGMA, minimum=0.5, maximum=100.0,
                      help="chroma step (ab units) of the learned guess that stops a stroke's colour, as lightness "
                           "edges do; larger = the guess shapes the spreading less"),
               ) + VariationalBackend.options

    def run(self, request) -> BackendOutput:
        import cv2
        import numpy as np
        from backends.gan import infer
        from backends.variational.hints import scribble_hints
        from backends.variational.plugin import propagate_hints
        t0 = time.perf_counter()
        request.progress(0.0, "loading the prior")
        G = infer.load_generator(self.weights_path)
        L = request.lightness()
        H, W = L.shape
        h, w = infer.work_size(H, W, infer.native_size(self.weights_path), G.multiple)
        L_lo = infer.resized(L, (h, w))
        request.progress(0.05, "predicting colours from the hints")
        hints = scribble_hints(request.scribbles)   # read once: the network and the solve both take them
        ab_lo, s_lo = infer.predict_lowres(G, L_lo, mask_lo=hint_condition(*hints, (w, h)))
        prop = propagate_hints(L, hints, request.options, request.progress,
                               prior=lambda L_work: infer.guided_upsample(L_lo, ab_lo, L_work),
                               prior_distance=float(request.options["prior_distance"]), guide_with_prior=True,
                               guide_sigma=float(request.options["guide_sensitivity"]),
                               score_params=None)   # scored below, by prior_score
        s_head = cv2.resize(s_lo, (W, H), interpolation=cv2.INTER_LINEAR)
        spread = cv2.resize(prop.variance, (W, H), interpolation=cv2.INTER_LINEAR)
        share = cv2.resize(prop.guess_share, (W, H), interpolation=cv2.INTER_LINEAR)
        score = prior_score(s_head, spread, share)
        request.progress(1.0, "done")
        return BackendOutput(ab=prop.ab, score=score,
                             info={"weights": self.weights_path.name, "scribbles": prop.strokes,
                                   "work_scale": round(prop.scale, 4), "calibration_group": scribble_group(prop.strokes),
                                   "seconds_prior": round(time.perf_counter() - t0, 4)})


def prior_score(s_head, spread, guess_share):
    """Raw uncertainty: the network's predicted error where its guess makes the result (guess_share, the fusion's
    w), at least SCORE_NEAR of it next to the strokes, with the spread of the strokes' colours, plus a floor."""
    import numpy as np
    head = (SCORE_NEAR + (1.0 - SCORE_NEAR) * np.clip(guess_share, 0, 1)) * np.maximum(s_head, 0)
    return (np.sqrt(head ** 2 + np.maximum(spread, 0)) + SCORE_FLOOR).astype(np.float32)


def hint_condition(weight, ab, size):
    """Full-size hint weight (H, W) and chroma (H, W, 2) -> the network's condition channels (3, h, w): the hints'
    ab in network units where there are hints, and their weight (area-averaged, so a thin stroke stays a hint)."""
    import numpy as np
    from backends.gan.nets import AB_SCALE
    from backends.variational.hints import resize_hints
    w_lo, ab_lo = resize_hints(weight, ab, size) if weight.shape[::-1] != tuple(size) else (weight, ab)
    return np.concatenate([np.moveaxis(ab_lo, 2, 0) / AB_SCALE * (w_lo > 0), np.clip(w_lo, 0, 1)[None]]).astype(np.float32)


@hookimpl
def register_backends(register):
    register(PriorBackend())
