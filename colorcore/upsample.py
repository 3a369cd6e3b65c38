"""Edge-aware upsampling: chroma computed at a low resolution brought to full size along the lightness."""
import numpy as np


def joint_bilateral_upsample(low, guide_low, guide_full, sigma=4.0):
    """Upsample `low` (h, w[, C]) to the size of `guide_full` (H, W), weighting each of the four
    surrounding low-resolution samples by bilinear position times lightness similarity
    exp(-(L_full - L_low)^2 / 2 sigma^2) (Kopf et al. 2007, 2x2 footprint). A sample on the other
    side of an edge, or one whose area straddles the edge, gets almost no say, so nothing bleeds."""
    H, W = guide_full.shape
    h, w = guide_low.shape
    low3 = low.reshape(h, w, -1)
    cy = np.clip((np.arange(H, dtype=np.float32) + 0.5) * (h / H) - 0.5, 0, h - 1)
    cx = np.clip((np.arange(W, dtype=np.float32) + 0.5) * (w / W) - 0.5, 0, w - 1)
    y0, x0 = np.floor(cy).astype(np.intp), np.floor(cx).astype(np.intp)
    y1, x1 = np.minimum(y0 + 1, h - 1), np.minimum(x0 + 1, w - 1)
    fy, fx = (cy - y0)[:, None], (cx - x0)[None, :]
    inv = np.float32(-0.5 / (sigma * sigma))
    total = np.zeros((H, W, low3.shape[2]), np.float32)
    norm = np.full((H, W), 1e-12, np.float32)
    for ys, wy in ((y0, 1 - fy), (y1, fy)):
        guide_rows, low_rows = np.take(guide_low, ys, axis=0), np.take(low3, ys, axis=0)  # two 1-D gathers
        for xs, wx in ((x0, 1 - fx), (x1, fx)):
            diff = guide_full - np.take(guide_rows, xs, axis=1)
            weight = np.exp(inv * diff * diff)
            weight += np.float32(1e-6)
            weight *= wy * wx
            total += weight[..., None] * np.take(low_rows, xs, axis=1)
            norm += weight
    total /= norm[..., None]
    return total.reshape((H, W) + low.shape[2:])
