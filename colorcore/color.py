"""sRGB <-> CIE Lab (D65, 2 degree observer), float32, channel-last.

All colour constants live here. RGB is sRGB-encoded in [0, 1]; L is in [0, 100].
"""
import numpy as np

# sRGB primaries with D65 white (IEC 61966-2-1), linear RGB -> XYZ.
RGB_TO_XYZ = np.array([[0.4124564, 0.3575761, 0.1804375],
                       [0.2126729, 0.7151522, 0.0721750],
                       [0.0193339, 0.1191920, 0.9503041]], dtype=np.float64)
XYZ_TO_RGB = np.linalg.inv(RGB_TO_XYZ)
D65_WHITE = RGB_TO_XYZ.sum(axis=1)  # XYZ of sRGB white: (0.95047, 1.0, 1.08883)

_EPS = 216.0 / 24389.0   # CIE epsilon (6/29)^3
_KAPPA = 24389.0 / 27.0  # CIE kappa


def srgb_to_linear(rgb):
    rgb = np.asarray(rgb, dtype=np.float32)
    return np.where(rgb <= 0.04045, rgb / 12.92,
                    ((np.maximum(rgb, 0.04045) + 0.055) / 1.055) ** 2.4).astype(np.float32)


def linear_to_srgb(lin):
    lin = np.asarray(lin, dtype=np.float32)
    return np.where(lin <= 0.0031308, lin * 12.92,
                    1.055 * np.maximum(lin, 0.0031308) ** (1 / 2.4) - 0.055).astype(np.float32)


def _f(t):
    return np.where(t > _EPS, np.cbrt(t), (_KAPPA * t + 16.0) / 116.0)


def _f_inv(f):
    f3 = f ** 3
    return np.where(f3 > _EPS, f3, (116.0 * f - 16.0) / _KAPPA)


def rgb_to_lab(rgb):
    """(..., 3) sRGB in [0, 1] -> (..., 3) Lab float32."""
    lin = srgb_to_linear(rgb)
    xyz = lin @ (RGB_TO_XYZ / D65_WHITE[:, None]).T.astype(np.float32)
    f = _f(xyz)
    lab = np.empty_like(f, dtype=np.float32)
    lab[..., 0] = 116.0 * f[..., 1] - 16.0
    lab[..., 1] = 500.0 * (f[..., 0] - f[..., 1])
    lab[..., 2] = 200.0 * (f[..., 1] - f[..., 2])
    return lab


def lab_to_rgb(lab, clip=True):
    """(..., 3) Lab -> (..., 3) sRGB float32, clipped to [0, 1] unless clip=False."""
    lab = np.asarray(lab, dtype=np.float32)
    fy = (lab[..., 0] + 16.0) / 116.0
    f = np.stack([fy + lab[..., 1] / 500.0, fy, fy - lab[..., 2] / 200.0], axis=-1)
    xyz = _f_inv(f).astype(np.float32)
    lin = xyz @ (XYZ_TO_RGB * D65_WHITE[None, :]).T.astype(np.float32)
    rgb = linear_to_srgb(lin)
    return np.clip(rgb, 0.0, 1.0) if clip else rgb


def lightness(rgb):
    """L channel of an sRGB image (H, W) float32, without computing a and b."""
    lin = srgb_to_linear(rgb)
    y = lin @ RGB_TO_XYZ[1].astype(np.float32)
    return (116.0 * _f(y) - 16.0).astype(np.float32)


def with_lightness(L, ab):
    """Combine a lightness channel (H, W) and chroma (H, W, 2) into sRGB."""
    lab = np.concatenate([np.asarray(L, np.float32)[..., None], np.asarray(ab, np.float32)], axis=-1)
    return lab_to_rgb(lab)


def delta_e(lab1, lab2):
    """CIE76 colour difference."""
    return np.sqrt(np.sum((np.asarray(lab1, np.float32) - np.asarray(lab2, np.float32)) ** 2, axis=-1))
