"""sRGB <-> Lab in torch (same D65 constants as colorcore.color), for batches (N, 3, H, W)."""
from __future__ import annotations

import numpy as np
import torch

from colorcore import color as _c

_M = torch.tensor((_c.RGB_TO_XYZ / _c.D65_WHITE[:, None]), dtype=torch.float32)
_MI = torch.tensor((_c.XYZ_TO_RGB * _c.D65_WHITE[None, :]), dtype=torch.float32)


def rgb_to_lab(rgb: torch.Tensor) -> torch.Tensor:
    lin = torch.where(rgb <= 0.04045, rgb / 12.92, ((rgb.clamp(min=0.04045) + 0.055) / 1.055) ** 2.4)
    xyz = torch.einsum("ij,njhw->nihw", _M.to(rgb), lin)
    f = torch.where(xyz > _c.CIE_EPSILON, xyz.clamp(min=1e-12) ** (1 / 3), (_c.CIE_KAPPA * xyz + 16.0) / 116.0)
    L = 116.0 * f[:, 1] - 16.0
    a = 500.0 * (f[:, 0] - f[:, 1])
    b = 200.0 * (f[:, 1] - f[:, 2])
    return torch.stack([L, a, b], 1)


def lab_to_rgb(lab: torch.Tensor) -> torch.Tensor:
    fy = (lab[:, 0] + 16.0) / 116.0
    f = torch.stack([fy + lab[:, 1] / 500.0, fy, fy - lab[:, 2] / 200.0], 1)
    f3 = f ** 3
    xyz = torch.where(f3 > _c.CIE_EPSILON, f3, (116.0 * f - 16.0) / _c.CIE_KAPPA)
    lin = torch.einsum("ij,njhw->nihw", _MI.to(lab), xyz)
    rgb = torch.where(lin <= 0.0031308, lin * 12.92, 1.055 * lin.clamp(min=0.0031308) ** (1 / 2.4) - 0.055)
    return rgb.clamp(0.0, 1.0)


def uint8_batch_to_lab(batch: np.ndarray, device="cpu") -> torch.Tensor:
    x = torch.from_numpy(np.ascontiguousarray(batch)).to(device).permute(0, 3, 1, 2).float() / 255.0
    return rgb_to_lab(x)
