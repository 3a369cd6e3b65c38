"""Edge-aware upsampling: chroma computed at a low resolution brought to full size along the lightness.

Both functions can produce a band of rows of the full-size result (`height`, `row0`), so a very large photo
is upsampled strip by strip without ever holding a full-size temporary.
"""
import numpy as np

from .photo_cache import CACHE, digest


def _taps(n_full, n_low, start, stop):
    """For output positions start..stop-1 of n_full: the two low-resolution neighbours and the weight of the
    second (pixel centres aligned, as cv2.resize's INTER_LINEAR)."""
    c = np.clip((np.arange(start, stop, dtype=np.float32) + 0.5) * (n_low / n_full) - 0.5, 0, n_low - 1)
    i0 = np.floor(c).astype(np.intp)
    return i0, np.minimum(i0 + 1, n_low - 1), c - i0


def joint_bilateral_upsample(low, guide_low, guide_full, sigma=4.0, height=None, row0=0):
    """Upsample `low` (h, w[, C]) to the size of `guide_full` (H, W), weighting each of the four
    surrounding low-resolution samples by bilinear position times lightness similarity
    exp(-(L_full - L_low)^2 / 2 sigma^2) (Kopf et al. 2007, 2x2 footprint). A sample on the other
    side of an edge, or one whose area straddles the edge, gets almost no say, so nothing bleeds.

    `guide_full` may be the band of rows row0.. of a full-size guide `height` rows high; the result is then
    that band of the full-size result. sigma=None: plain bilinear (the guides only give the sizes)."""
    rows, W = guide_full.shape
    H = rows if height is None else height
    h, w = low.shape[:2]
    low3 = low.reshape(h, w, -1)
    if sigma is None:
        taps, norm = _weights(None, guide_full, (h, w), None, H, row0)
    else:   # the weights depend on the photo alone: the warm engine keeps them between runs (photo_cache)
        taps, norm = CACHE.get(lambda: ("upsample", digest(guide_low), digest(guide_full), sigma, H, row0),
                               lambda: _weights(guide_low, guide_full, (h, w), sigma, H, row0))
    total = np.zeros((rows, W, low3.shape[2]), np.float32)
    for ys, xs, weight in taps:
        total += weight[..., None] * np.take(np.take(low3, ys, axis=0), xs, axis=1)
    total /= norm[..., None]
    return total.reshape((rows, W) + low.shape[2:])


def _weights(guide_low, guide_full, low_shape, sigma, H, row0):
    """The four taps' (rows, columns, weight) and their sum (see joint_bilateral_upsample)."""
    rows, W = guide_full.shape
    h, w = low_shape
    y0, y1, fy = _taps(H, h, row0, row0 + rows)
    x0, x1, fx = _taps(W, w, 0, W)
    fy, fx = fy[:, None], fx[None, :]
    inv = None if sigma is None else np.float32(-0.5 / (sigma * sigma))
    norm = np.full((rows, W), 1e-12, np.float32)
    taps = []
    for ys, wy in ((y0, 1 - fy), (y1, fy)):
        guide_rows = np.take(guide_low, ys, axis=0) if inv is not None else None
        for xs, wx in ((x0, 1 - fx), (x1, fx)):
            if inv is None:
                weight = np.broadcast_to(wy * wx, (rows, W)).astype(np.float32)
            else:
                diff = guide_full - np.take(guide_rows, xs, axis=1)
                weight = np.exp(inv * diff * diff)
                weight += np.float32(1e-6)
                weight *= wy * wx
            taps.append((ys, xs, weight))
            norm += weight
    return taps, norm


def bilinear_rows(low, height, width, row0=0, rows=None):
    """Rows row0..row0+rows of `low` (h, w[, C]) resized bilinearly to (height, width)."""
    rows = height - row0 if rows is None else rows
    return joint_bilateral_upsample(low, None, np.empty((rows, width), np.float32), sigma=None, height=height,
                                    row0=row0)
