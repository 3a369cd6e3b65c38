"""Built-in plugin: the `reference` backend (colours taken from a colour photo the user chooses).

The method is in method.py (align.py warps a reference of the same scene, matching.py matches by meaning on the
`gan` encoder's features); this module adapts it to the contract. It ships no weights of its own: it uses the
`gan` generator's encoder (COLORCORE_GAN_WEIGHTS) and the `prior` network (COLORCORE_PRIOR_WEIGHTS).
Uncertainty: calibration.json beside this file (python -m training.calibration.reference), per group: "aligned"
(the reference showed the same scene) and "semantic".
"""
from __future__ import annotations

import time
from pathlib import Path

from colorcore import Backend, BackendOutput, Calibration, Option, WeightsFile, hookimpl
from backends.gan.conditions import HINT_CHANNELS
from backends.variational.plugin import VariationalBackend

from .method import GATE_HIGH, GATE_LOW, Settings

CALIBRATION_FILE = Path(__file__).resolve().parent / "calibration.json"
_BACKENDS = Path(__file__).resolve().parent.parent
_DEFAULTS = Settings()


class ReferenceBackend(Backend):
    name = "reference"
    label = "From a reference photo"
    modes = ("reference",)
    needs_scribbles = False          # strokes are optional: they override the reference where painted
    takes_mask = False               # the pipeline composites through a mask
    gives_uncertainty = True
    options = (Option("temperature", float, _DEFAULTS.temperature, minimum=0.005, maximum=0.5,
                      help="how sharply a place takes the colour of its best match in the reference rather than a "
                           "mix of its likely matches (smaller = sharper)"),
               Option("match_strength", float, _DEFAULTS.semantic_weight, minimum=0.0, maximum=1.0,
                      help="how firmly a confident match by meaning holds its place's colour (a place the "
                           "reference shows from the same viewpoint is held by how well it agrees)"),
               Option("palette", float, _DEFAULTS.palette, minimum=0.0, maximum=1.0,
                      help="where nothing matches, how far an unsure guess moves toward the reference's own "
                           "colours for that brightness"),
               Option("prior_distance", float, _DEFAULTS.prior_distance, minimum=0.0, maximum=2.0,
                      help="how far a matched colour reaches (fraction of the image diagonal) before the learned "
                           "guess takes over"),
               Option("align", bool, True,
                      help="when the reference shows the same scene, take colours pixel by pixel along the "
                           "matched geometry"),
               Option("lean_on_auto", bool, True,
                      help="when the reference neither shows the same scene nor matches much of the photo (another "
                           "photo of the same kind), lean on Auto's guess; off: take the reference's colours anyway "
                           "(to borrow its palette)"),
               ) + VariationalBackend.options

    def __init__(self, gan_weights=None, prior_weights=None):
        self.gan = WeightsFile(_BACKENDS / "gan" / "weights" / "gan.pt", "COLORCORE_GAN_WEIGHTS", gan_weights)
        self.prior = WeightsFile(_BACKENDS / "prior" / "weights" / "prior.pt", "COLORCORE_PRIOR_WEIGHTS",
                                 prior_weights)

    @property
    def weights_path(self) -> Path:
        return self.prior.path

    def unavailable_reason(self):
        return (self.gan.unavailable_reason(input_channels=1, inputs_text="lightness", backend="gan")
                or self.prior.unavailable_reason(input_channels=1 + HINT_CHANNELS,
                                                 inputs_text="lightness and the hints' a, b and mask",
                                                 backend=self.name))

    def describe(self):
        return dict(super().describe(), weights=f"{self.gan.path} (encoder), {self.prior.path} (guess)")

    def calibration(self):
        return Calibration.load(CALIBRATION_FILE) if CALIBRATION_FILE.is_file() else None

    def nets(self):
        from backends.gan import infer
        gan = infer.load_generator(self.gan.path)

        def auto(L):   # Auto's colours (the gan backend's mean prediction) and raw score, no dropout samples
            return infer.colorize_L(gan, L, size=infer.native_size(self.gan.path), samples=0,
                                    post=infer.load_postprocess(self.gan.path))
        return (gan.encoder, infer.load_generator(self.prior.path), infer.native_size(self.prior.path), auto)

    def run(self, request) -> BackendOutput:
        import numpy as np
        from backends.variational.strokes import scribble_hints
        from .method import colorize_with_reference
        t0 = time.perf_counter()
        o = request.options
        request.progress(0.0, "loading the networks")
        L = request.lightness()
        hints = scribble_hints(request.scribbles) if request.scribbles is not None else \
            (np.zeros(L.shape, np.float32), np.zeros(L.shape + (2,), np.float32))
        settings = Settings(temperature=float(o["temperature"]), semantic_weight=float(o["match_strength"]),
                            palette=float(o["palette"]), prior_distance=float(o["prior_distance"]),
                            use_alignment=bool(o["align"]),
                            gate=(GATE_LOW, GATE_HIGH) if o["lean_on_auto"] else None)
        ab, score, info = colorize_with_reference(L, request.reference, hints, self.nets(), o, settings,
                                                  request.progress)
        request.progress(1.0, "done")
        info.update(seconds_reference=round(time.perf_counter() - t0, 4),
                    reference_size=f"{request.reference.shape[1]}x{request.reference.shape[0]}")
        return BackendOutput(ab=ab, score=score, info=info)


@hookimpl
def register_backends(register):
    register(ReferenceBackend())
