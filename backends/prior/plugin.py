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
   which takes over with the distance to the nearest stroke. With few strokes the learned prior fills the
   photo; with many, propagation keeps its precision; a stroke's colour always holds where it was painted.
Uncertainty: the network's predicted error scale combined with the spread of the colours the solve mixed,
calibrated per scribble-count group as `variational` is (backends/prior/calibrate.py).
Weights: backends/prior/weights/prior.pt (+ .json, calibration.json); COLORCORE_PRIOR_WEIGHTS=/path overrides.
"""
from __future__ import annotations

import time
from pathlib import Path

from colorcore import BackendOutput, Option, hookimpl
from backends.gan.plugin import GanBackend
from backends.variational.plugin import VariationalBackend, scribble_group

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
# chosen on the calibration slices (14 photos, 1-100 points; never the benchmark's photos)
PRIOR_DISTANCE = 0.3    # image diagonals: see propagate_hints
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
                      help="how far from a stroke (fraction of the image diagonal, along the photo) the learned "
                           "guess's own detail takes over from the strokes' spread colours; 0: everywhere"),
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
                               guide_sigma=float(request.options["guide_sensitivity"]))
        s_head = cv2.resize(s_lo, (W, H), interpolation=cv2.INTER_LINEAR)
        spread = cv2.resize(prop.variance, (W, H), interpolation=cv2.INTER_LINEAR)
        score = np.sqrt(np.maximum(s_head, 0) ** 2 + np.maximum(spread, 0)).astype(np.float32)
        request.progress(1.0, "done")
        return BackendOutput(ab=prop.ab, score=score,
                             info={"weights": self.weights_path.name, "scribbles": prop.strokes,
                                   "work_scale": round(prop.scale, 4), "calibration_group": scribble_group(prop.strokes),
                                   "seconds_prior": round(time.perf_counter() - t0, 4)})


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
