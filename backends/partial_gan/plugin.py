"""Built-in plugin: the `partial-gan` backend (colorize only the selection, mask-conditioned GAN).

The generator is the `gan` U-Net with a second input channel, the selection mask, fine-tuned from the `gan`
weights on random selections (training/gan/masks.py) with a discriminator that sees the mask:
    colorcore train partial-gan --init backends/gan/weights/gan.pt ...
It runs exactly as `gan` does, with the mask fed to the network; the pipeline keeps everything outside the mask
bit for bit and blends soft edges.
Weights: backends/partial_gan/weights/partial_gan.pt (+ .json, calibration.json beside them);
COLORCORE_PARTIAL_GAN_WEIGHTS=/path/to/other.pt points the backend at other weights.
"""
from __future__ import annotations

from pathlib import Path

from colorcore import hookimpl
from backends.gan.conditions import MASK_CHANNELS
from backends.gan.plugin import GanBackend

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"


class PartialGanBackend(GanBackend):
    """`gan` with the mask as one more input: the same options (but vividness, whose radius is calibrated for
    `gan` only), run and score."""
    name = "partial-gan"
    options = tuple(o for o in GanBackend.options if o.name != "vividness")
    label = "Selection (mask-conditioned GAN)"
    modes = ("partial",)
    takes_mask = True
    condition_channels = MASK_CHANNELS
    condition_text = " and the mask"
    train_hint = "partial"
    default_weights = WEIGHTS_DIR / "partial_gan.pt"
    env_weights = "COLORCORE_PARTIAL_GAN_WEIGHTS"


@hookimpl
def register_backends(register):
    register(PartialGanBackend())
