"""The prior network's condition: the hints, as its three input channels after L."""
from __future__ import annotations

import numpy as np

from backends.gan.nets import AB_SCALE
from backends.variational.strokes import resize_hints


def hint_condition(weight, ab, size):
    """Full-size hint weight (H, W) and chroma (H, W, 2) -> the network's condition channels (3, h, w): the hints'
    ab in network units where there are hints, and their weight (area-averaged, so a thin stroke stays a hint)."""
    w_lo, ab_lo = resize_hints(weight, ab, size) if weight.shape[::-1] != tuple(size) else (weight, ab)
    return np.concatenate([np.moveaxis(ab_lo, 2, 0) / AB_SCALE * (w_lo > 0), np.clip(w_lo, 0, 1)[None]]).astype(np.float32)
