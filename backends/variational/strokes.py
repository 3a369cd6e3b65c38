"""Scribble layer -> hint weights and chroma, at any working resolution; how many strokes, for calibration."""
import cv2
import numpy as np

from colorcore import color


def scribble_hints(scribbles):
    """(H, W, 4) RGBA -> weight (H, W) = alpha, and chroma (H, W, 2) of each painted colour (its L is ignored)."""
    alpha = np.ascontiguousarray(scribbles[..., 3], np.float32)
    ab = np.zeros(alpha.shape + (2,), np.float32)
    painted = alpha > 0
    if painted.any():   # only painted pixels: cheap at 12 MP
        ab[painted] = color.rgb_to_lab(scribbles[painted, :3])[..., 1:]
    return alpha, ab


def resize_hints(weight, ab, size):
    """Area-resize hints keeping thin strokes: weights average, chroma is weight-averaged."""
    w_small = cv2.resize(weight, size, interpolation=cv2.INTER_AREA)
    wab_small = cv2.resize(ab * weight[..., None], size, interpolation=cv2.INTER_AREA)
    ab_small = wab_small / np.maximum(w_small, 1e-8)[..., None]
    return w_small, np.where(w_small[..., None] > 0, ab_small, 0).astype(np.float32)


# A single scribble says little about the rest of the photo, many say a lot: the calibration is made
# per group (Mondrian conformal), so the promised coverage holds for few and for many scribbles alike.
SCRIBBLE_GROUPS = ((2, "1-2 scribbles"), (30, "3-30 scribbles"), (None, "31+ scribbles"))


def scribble_group(strokes):
    return next(name for top, name in SCRIBBLE_GROUPS if top is None or strokes <= top)
