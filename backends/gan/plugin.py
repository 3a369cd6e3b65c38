"""Built-in plugin: the `gan` backend (automatic colorization, pix2pix-style conditional GAN in Lab).

Importing this module is cheap; torch is imported inside run().
Weights: backends/gan/weights/gan.pt (fp16 state_dict, loaded with weights_only=True) + gan.json
(network config, training record) + calibration.json (conformal calibration of the raw score).
COLORCORE_GAN_WEIGHTS=/path/to/other.pt points the backend at other weights (calibration.json
is looked up beside them).
"""
from __future__ import annotations

import os
import time
from pathlib import Path

from colorcore import Backend, BackendOutput, Calibration, InvalidRequest, Option, WeightsFile, hookimpl

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
DEFAULT_WEIGHTS = WEIGHTS_DIR / "gan.pt"
ENV_WEIGHTS = "COLORCORE_GAN_WEIGHTS"


class GanBackend(Backend):
    name = "gan"
    label = "Automatic (GAN)"
    modes = ("auto", "partial")   # Partial: the pipeline composites its colours through the mask
    needs_scribbles = False
    takes_mask = False
    gives_uncertainty = True
    default_weights = DEFAULT_WEIGHTS
    env_weights = ENV_WEIGHTS
    condition_channels = 0   # generator inputs after L: partial-gan's mask, the prior's hints
    condition_text = ""      # what they are, for the message when the weights do not fit
    train_hint = ""          # the --task of `colorcore train gan` that makes such weights
    options = (
        Option("size", int, 0, minimum=0, maximum=512,
               help="longer side (px) at which colours are predicted (16-512); chroma is then upsampled guided "
                    "by the full-resolution lightness. 0: the scale the model was trained at (recorded with its "
                    "weights); larger sizes give more saturated but less accurate colours"),
        Option("samples", int, 8, minimum=1, maximum=32,
               help="dropout samples for the uncertainty (more = smoother uncertainty, slower)"),
        Option("vividness", float, 1.0, minimum=0.5, maximum=1.5,
               help="chroma gain on the tuned colours: 1 = as tuned (the most accurate on average), below 1 "
                    "paler, above 1 more saturated; the uncertainty radius grows with the colour shown, and "
                    "stays calibrated at every setting (backends/gan/MODEL_CARD.md)"),
    )

    def __init__(self, weights: str | os.PathLike | None = None):
        self.weights = WeightsFile(self.default_weights, self.env_weights, weights)

    @property
    def weights_path(self) -> Path:
        return self.weights.path

    def unavailable_reason(self) -> str | None:
        task = f" --task {self.train_hint}" if self.train_hint else ""
        return self.weights.unavailable_reason(
            how_to_make=(f"train your own with `colorcore train gan{task} --data DIR --out CKPT` and export them "
                         f"with `python -m training.gan.export CKPT {self.weights_path}`"),
            input_channels=1 + self.condition_channels, inputs_text=f"lightness{self.condition_text}",
            backend=self.name)

    def describe(self):
        # which weights are in use: the shipped ones or those named by the environment variable
        return dict(super().describe(), weights=str(self.weights_path))

    def calibration(self) -> Calibration | None:
        return self.weights.calibration()

    def run(self, request) -> BackendOutput:
        from . import infer
        t0 = time.perf_counter()
        opts = request.options
        request.progress(0.0, "loading the GAN")
        G = infer.load_generator(self.weights_path)
        L = request.lightness()   # computed once: the pipeline's composite takes it too (1 MP: 0.04 s)
        size = int(opts["size"]) or infer.native_size(self.weights_path)
        if size < 16:
            raise InvalidRequest(f"option 'size' must be 0 (the model's own scale) or 16-512 px; got {size}")
        ab, score = infer.colorize_L(G, L, size=size, samples=int(opts["samples"]),
                                     seed=request.seed, progress=request.progress,
                                     post=infer.with_vividness(infer.load_postprocess(self.weights_path),
                                                               float(opts.get("vividness", 1.0))),
                                     mask=request.mask if self.takes_mask else None)
        vividness = float(opts.get("vividness", 1.0))
        factor = vividness_factor(self.calibration(), vividness)
        if factor != 1.0:
            score = score * factor
        request.progress(1.0, "done")
        return BackendOutput(ab=ab, score=score,
                             info={"weights": self.weights_path.name, "size": size,
                                   "samples": int(opts["samples"]), "vividness": vividness,
                                   "vividness_factor": round(factor, 4),
                                   "seconds_gan": round(time.perf_counter() - t0, 4)})


def vividness_factor(calibration, vividness: float) -> float:
    """The score's factor at this vividness, interpolated in the table the calibration stores (extra
    "vividness": {gains, score_factor}, written by training.calibration.vividness); 1 without a table."""
    import numpy as np
    table = (calibration.extra or {}).get("vividness") if calibration is not None else None
    if not table or vividness == 1.0:
        return 1.0
    return float(np.interp(vividness, table["gains"], table["score_factor"]))


@hookimpl
def register_backends(register):
    register(GanBackend())
