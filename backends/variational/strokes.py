"""Scribble layer -> hint weights and chroma, at any working resolution; how many strokes, for calibration."""
import cv2
import numpy as np

from colorcore import color

# Above this share of painted pixels the whole-image resize is the faster one (a sparse resize costs per pixel).
SPARSE_SHARE = 0.1


def scribble_hints(scribbles):
    """(H, W, 4) RGBA -> weight (H, W) = alpha, and chroma (H, W, 2) of each painted colour (its L is ignored)."""
    alpha = np.ascontiguousarray(scribbles[..., 3], np.float32)
    ab = np.zeros(alpha.shape + (2,), np.float32)
    painted = _painted(alpha)   # only painted pixels: cheap at 12 MP
    if painted.size:
        ab.reshape(-1, 2)[painted] = color.rgb_to_lab(scribbles.reshape(-1, 4)[painted, :3])[..., 1:]
    return alpha, ab


def resize_hints(weight, ab, size):
    """Area-resize hints keeping thin strokes: weights average, chroma is weight-averaged."""
    painted = _painted(weight)
    if _sparse_is_faster(weight.shape, size, painted.size):
        w_small, wab_small = _area_resize_sparse(painted, weight, ab, size)
    else:
        w_small = cv2.resize(weight, size, interpolation=cv2.INTER_AREA)
        wab_small = cv2.resize(ab * weight[..., None], size, interpolation=cv2.INTER_AREA)
    ab_small = wab_small / np.maximum(w_small, 1e-8)[..., None]
    return w_small, np.where(w_small[..., None] > 0, ab_small, 0).astype(np.float32)


def _painted(weight):
    """Flat indices of the pixels with a weight, row by row (a row test first: nonzero on 12 MP floats is slow)."""
    rows = np.flatnonzero((weight > 0).any(axis=1))
    r, c = np.nonzero(weight[rows] > 0)
    return rows[r] * weight.shape[1] + c


def _sparse_is_faster(shape, size, painted):
    H, W = shape
    return size[0] <= W and size[1] <= H and painted <= SPARSE_SHARE * H * W


def _area_resize_sparse(painted, weight, ab, size):
    """INTER_AREA's downscale of weight and ab * weight, from the painted pixels alone (strokes cover a few per
    cent of a photo; the whole-image resize reads and writes all of it: 12 MP, ~0.15 s a call)."""
    H, W = weight.shape
    w, h = size
    ys, xs = np.divmod(painted, W)
    (ry0, ry1), (wy0, wy1) = _area_taps(H, h)
    (rx0, rx1), (wx0, wx1) = _area_taps(W, w)
    v = weight.reshape(-1)[painted].astype(np.float64)
    values = np.stack([v, v * ab.reshape(-1, 2)[painted, 0], v * ab.reshape(-1, 2)[painted, 1]])
    cells, shares, which = [], [], []
    for ry, wy in ((ry0[ys], wy0[ys]), (ry1[ys], wy1[ys])):   # each painted pixel reaches at most 2 x 2 cells
        for rx, wx in ((rx0[xs], wx0[xs]), (rx1[xs], wx1[xs])):
            share = wy * wx
            some = np.flatnonzero(share)   # most pixels lie inside one cell
            cells.append(ry[some] * w + rx[some])
            shares.append(share[some])
            which.append(some)
    cell, share, which = (np.concatenate(a) for a in (cells, shares, which))
    out = np.stack([np.bincount(cell, values[k][which] * share, minlength=h * w) for k in range(3)])
    out = out.reshape(3, h, w).astype(np.float32)
    return out[0], np.ascontiguousarray(np.moveaxis(out[1:], 0, 2))


def _area_taps(n_src, n_dst):
    """Each source pixel's two output cells and its weight in each, for an area downscale of n_src pixels to
    n_dst: the length of the pixel inside the cell over the cell's length, as OpenCV's INTER_AREA weighs (which
    also drops overlaps of 0.001 pixel or less)."""
    s = n_src / n_dst
    x = np.arange(n_src, dtype=np.float64)
    first = np.minimum(np.floor(x / s), n_dst - 1).astype(np.intp)
    end = (first + 1) * s                            # where the first cell ends
    inside = np.minimum(end, x + 1) - x
    past = np.where(first + 1 < n_dst, np.maximum(x + 1 - end, 0), 0)
    inside, past = (np.where(a > 1e-3, a, 0) / s for a in (inside, past))
    return (first, np.minimum(first + 1, n_dst - 1)), (inside, past)


# A single scribble says little about the rest of the photo, many say a lot: the calibration is made
# per group (Mondrian conformal), so the promised coverage holds for few and for many scribbles alike.
SCRIBBLE_GROUPS = ((2, "1-2 scribbles"), (30, "3-30 scribbles"), (None, "31+ scribbles"))


def scribble_group(strokes):
    return next(name for top, name in SCRIBBLE_GROUPS if top is None or strokes <= top)
