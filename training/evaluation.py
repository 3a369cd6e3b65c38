"""The hint-evaluation protocol (Zhang et al. 2017) and image metrics shared by benchmarks and calibration.

Images resized to 256x256; each hint is a 6x6 patch carrying the ground truth's mean ab; hint positions
are Gaussian around the centre (mean (H-P+1)/2, std (H-P+1)/4, clipped); PSNR on the whole uint8 RGB image.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from colorcore import color

POINT_COUNTS = (1, 2, 5, 10, 20, 50, 100, 200)
PATCH = 6
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff")   # what the lab reads as photos


def list_images(folder, limit=None):
    """The photos under folder (recursively), sorted by path; the first `limit` of them (benchmarks take subsets
    in hash order instead: training.gan.data.first_n)."""
    paths = sorted(p for p in Path(folder).rglob("*") if p.suffix.lower() in IMAGE_EXTENSIONS)
    return paths[:limit] if limit else paths


def load_rgb(path, size=256):
    """A photo as float32 sRGB in [0, 1], squashed to size x size (the hint protocol's 256) unless size is None."""
    from PIL import Image
    with Image.open(path) as img:
        img = img.convert("RGB")
        if size:
            img = img.resize((size, size), Image.BICUBIC)
        return np.asarray(img, np.float32) / 255.0


def hint_positions(shape, n, rng, patch=PATCH):
    """n top-left corners of patch x patch hints, Gaussian around the centre and clipped to the image."""
    H, W = shape
    ys = np.clip(np.round(rng.normal((H - patch + 1) / 2, (H - patch + 1) / 4, n)), 0, H - patch).astype(int)
    xs = np.clip(np.round(rng.normal((W - patch + 1) / 2, (W - patch + 1) / 4, n)), 0, W - patch).astype(int)
    return list(zip(ys, xs))


def hint_colour(lab, y, x, patch=PATCH):
    """The colour (a, b) a hint at the patch with top-left corner (y, x) carries: the ground truth's mean ab there
    (lab: the photo in Lab)."""
    return lab[y:y + patch, x:x + patch, 1:].reshape(-1, 2).mean(axis=0)


def hint_scribbles(rgb, positions, patch=PATCH):
    """An RGBA scribble layer: each patch painted with the ground truth's mean ab (at its own lightness)."""
    lab = color.rgb_to_lab(rgb)
    hint_lab = lab.copy()
    alpha = np.zeros(rgb.shape[:2], np.float32)
    for y, x in positions:
        window = (slice(y, y + patch), slice(x, x + patch))
        hint_lab[window + (slice(1, 3),)] = hint_colour(lab, y, x, patch)
        alpha[window] = 1.0
    rgba = np.dstack([color.lab_to_rgb(hint_lab), alpha])
    rgba[alpha == 0, :3] = 0.0
    return np.ascontiguousarray(rgba, np.float32)


def gray_of(rgb):
    """The black-and-white version of a colour photo (its L, as gray sRGB)."""
    L = color.lightness(rgb)
    return color.with_lightness(L, np.zeros(L.shape + (2,), np.float32))


def as_old_print(rgb, rng):
    """(the photo's lightness aged like an old print by training.aging with rng, as gray sRGB; the truth for a run
    on it: the photo's colours at that lightness, colours_at). Every tool that ages its inputs uses this."""
    from training.aging import age
    gray = age(gray_of(rgb), rng)[0]
    return gray, colours_at(rgb, gray)


def colours_at(rgb, gray):
    """The photo rgb's colours at gray's lightness: the truth for a run whose input lightness was changed (aged,
    corrupted, screened), since the result keeps the input's lightness and only its colours are the backend's."""
    return color.with_lightness(color.lightness(gray), color.rgb_to_lab(rgb)[..., 1:])


def to_uint8(rgb):
    """sRGB as uint8 values: uint8 input as it is, float input in [0, 1] rounded."""
    rgb = np.asarray(rgb)
    if rgb.dtype == np.uint8:
        return rgb
    return np.round(np.clip(rgb.astype(np.float32), 0, 1) * 255).astype(np.uint8)


def psnr(a, b):
    """PSNR of two sRGB images (uint8, or float in [0, 1]) on their uint8 values, whole image."""
    mse = np.mean((to_uint8(a).astype(np.float64) - to_uint8(b).astype(np.float64)) ** 2)
    return float(10 * np.log10(255.0 ** 2 / max(mse, 1e-10)))


def colourfulness(rgb):
    """Hasler & Suesstrunk (2003) colourfulness M3 on 0..255 RGB."""
    x = to_uint8(rgb).astype(np.float64)
    rg = x[..., 0] - x[..., 1]
    yb = 0.5 * (x[..., 0] + x[..., 1]) - x[..., 2]
    return float(np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean()))


def chroma_error(pred_rgb, true_rgb):
    """Per-pixel distance in the ab plane between two sRGB images."""
    return np.linalg.norm(color.rgb_to_lab(pred_rgb)[..., 1:] - color.rgb_to_lab(true_rgb)[..., 1:], axis=-1)
