"""Image metrics shared by training validation and bench/auto.py (numpy, uint8 RGB)."""
from __future__ import annotations

import numpy as np


def psnr_uint8(pred_rgb: np.ndarray, true_rgb: np.ndarray) -> float:
    """PSNR on whole uint8 RGB images (inputs uint8 or float in [0,1])."""
    p = _u8(pred_rgb).astype(np.float64)
    t = _u8(true_rgb).astype(np.float64)
    mse = np.mean((p - t) ** 2)
    return float(10 * np.log10(255.0 ** 2 / max(mse, 1e-10)))


def colourfulness(rgb: np.ndarray) -> float:
    """Hasler & Suesstrunk (2003) colourfulness M3 on 0..255 RGB."""
    x = _u8(rgb).astype(np.float64)
    rg = x[..., 0] - x[..., 1]
    yb = 0.5 * (x[..., 0] + x[..., 1]) - x[..., 2]
    return float(np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean()))


def _u8(a: np.ndarray) -> np.ndarray:
    if a.dtype == np.uint8:
        return a
    return np.clip(np.round(np.asarray(a, np.float32) * 255.0), 0, 255).astype(np.uint8)
