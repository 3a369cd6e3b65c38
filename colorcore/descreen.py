"""Halftone screens in scanned prints: found in the photo's spectrum, taken out of the copy a backend sees.

A photo reproduced in a newspaper, book or postcard was printed as a screen of dots; scanned back, the screen
is a fine regular pattern over the picture. Brought down to a network's size it aliases into moiré, and the
networks, which never saw one, read it as texture: on the calibration photos aged like old prints, the runs
with a screen are where Auto is both most wrong and most sure of itself (docs/uncertainty.md, "Halftone
screens").

Found: a screen is a pair of sharp peaks in the 2-D spectrum at right angles to each other (the two directions
of the dot grid), far above the spectrum's level at that frequency. The photo's own content rarely makes such a
pair; the peaks JPEG's 8-pixel blocks and resampling leave lie on the axes, so peaks within AXIS_DEGREES of
them are not counted (black-and-white screens are set at 45 degrees, where the eye sees them least).
Taken out: the backend's copy is blurred by a Gaussian of DESCREEN_SIGMA times the screen's period, which leaves
the fundamental at a few percent. Only the backend's copy: the result keeps the input's lightness, dots and all
(the pipeline composes it), so nothing of the scan is lost.
"""
from __future__ import annotations

import numpy as np

MIN_PERIOD = 2.5        # pixels: screens finer than this are averaged away by any reduction to a network's size
MAX_PERIOD = 16.0       # pixels: coarser screens are resolved dots, not a texture to confuse
CROP = 512              # the centre square whose spectrum is read (a screen covers the whole print)
AXIS_DEGREES = 10.0     # peaks this near the horizontal or vertical are JPEG's and resampling's, not a screen's
PEAK_RATIO = 8.0        # a peak and its partner this many times the level of their frequency ring (calibration
                        # photos: at most 4.5 without a screen, at least 14.3 with one)
DESCREEN_SIGMA = 0.4    # the blur, in screen periods (chosen on the calibration photos: docs/uncertainty.md)


def _centre(image):
    """The centre square of image (at most CROP pixels a side) as gray float32 (the channels' mean)."""
    img = np.asarray(image)
    H, W = img.shape[:2]
    n = min(H, W, CROP)
    y0, x0 = (H - n) // 2, (W - n) // 2
    c = img[y0:y0 + n, x0:x0 + n].astype(np.float32)
    return c.mean(axis=-1) if c.ndim == 3 else c


def _magnitude(gray):
    """The Hann-windowed magnitude spectrum of a square gray image (n, n), its rows centred (fftshift): (F, n)."""
    n = gray.shape[0]
    c = gray - gray.mean()
    win = np.hanning(n).astype(np.float32)
    return np.abs(np.fft.fftshift(np.fft.rfft2(c * win[:, None] * win[None, :]), axes=0)), n


def screen_period(image):
    """The period in pixels of a halftone screen over image ((H, W) or (H, W, C) in [0, 1]), or None when there
    is none (see the module's docstring)."""
    period, strength = strongest_grid(image)
    return period if strength >= PEAK_RATIO else None


def strongest_grid(image):
    """(period in pixels, strength) of the strongest off-axis pair of spectral peaks at right angles: strength is
    the weaker peak over its ring's level (screen_period's test); (None, 0.0) for an image too small to tell."""
    if min(np.shape(image)[:2]) < 4 * MAX_PERIOD:
        return None, 0.0
    F, n = _magnitude(_centre(image))
    fy = (np.arange(n) - n // 2)[:, None].astype(np.float32)
    fx = np.arange(F.shape[1], dtype=np.float32)[None, :]
    ring = np.rint(np.hypot(fy, fx)).astype(np.int32)            # the frequency ring, in cycles per n pixels
    lo, hi = int(np.ceil(n / MAX_PERIOD)), int(np.floor(n / MIN_PERIOD))
    # each ring's level: the geometric mean of its magnitudes (a peak is a few of a ring's hundreds of values)
    log = np.log(np.maximum(F, 1e-12))
    level = np.exp(np.bincount(ring.ravel(), log.ravel()) / np.maximum(np.bincount(ring.ravel()), 1))
    angle = np.degrees(np.arctan2(fy, fx)) % 90.0
    off_axis = (angle > AXIS_DEGREES) & (angle < 90.0 - AXIS_DEGREES)
    rel = np.where((ring >= lo) & (ring <= hi) & off_axis, F / level[ring], 0.0)
    py, px = np.unravel_index(int(np.argmax(rel)), rel.shape)
    # the partner at right angles: (fy, fx) -> (-fx, fy), reflected into the half plane rfft2 keeps
    qy, qx = -int(px), int(py - n // 2)
    if qx < 0:
        qy, qx = -qy, -qx
    qy += n // 2
    window = rel[max(qy - 1, 0):qy + 2, max(qx - 1, 0):qx + 2]
    strength = min(rel[py, px], window.max() if window.size else 0.0)
    return float(n / np.hypot(py - n // 2, px)), float(strength)


def descreened(image, period):
    """image blurred by a Gaussian of DESCREEN_SIGMA * period pixels (each channel), float32."""
    import cv2
    return cv2.GaussianBlur(np.asarray(image, np.float32), (0, 0), DESCREEN_SIGMA * float(period))
