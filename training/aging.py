"""Photos aged like old prints, seeded: what users bring is not like the calibration photos.

Each transform works on a gray sRGB photo (H, W, 3) float32 in [0, 1] (the black-and-white input a colorizer
sees; the true colours stay the original's) and takes a numpy Generator, so a photo's ageing is fixed by its
seed. The strengths are drawn in ranges seen on scanned prints (at the benchmarks' 256 px):

  fade        contrast squeezed into [black, white]: black lifted to 0.04-0.16, white lowered to 0.82-0.96
  sepia_gray  a sepia-toned print converted to gray by the scanner: the toning's colours (R 1.0, G 0.84, B 0.62
              of the gray) through sRGB luminance, a darker, flatter tone curve
  soft        soft focus: Gaussian blur, sigma 0.6-1.8 px
  grain       film grain: Gaussian noise, sigma 0.015-0.045, slightly clumped (blurred 0.5 px), on the lightness
  vignette    corners darkened: x * (1 - v r^2), v 0.15-0.45, r the distance from the centre over the half-diagonal
  halftone    a printed dot screen (45 degrees, period 3.5-5 px) scanned back: the dots thresholded against the
              photo, then the scan's blur (sigma 0.4 period: the screen half shows)
  jpeg        saved as JPEG at quality 12-35

age(photo, rng) applies a print's worth of them in a fixed order: always fade; each of sepia_gray, soft, grain,
vignette and jpeg with probability 0.5; halftone with probability 0.25 (a printed reproduction rather than a
photograph). The recipe (names, parameters) comes back with the photo, so reports can say what was done.
"""
from __future__ import annotations

import io

import numpy as np

AGEING = ("fade", "sepia_gray", "soft", "grain", "vignette", "halftone", "jpeg")
CHANCE = {"fade": 1.0, "sepia_gray": 0.5, "soft": 0.5, "grain": 0.5, "vignette": 0.5, "halftone": 0.25, "jpeg": 0.5}


def _gray(x):
    return np.repeat(np.asarray(x, np.float32).mean(axis=-1, keepdims=True), 3, axis=-1)


def fade(x, rng):
    black, white = rng.uniform(0.04, 0.16), rng.uniform(0.82, 0.96)
    return black + (white - black) * x, {"black": round(black, 3), "white": round(white, 3)}


def sepia_gray(x, rng):
    from colorcore import color
    tone = np.clip(x * np.array([1.0, 0.84, 0.62], np.float32), 0, 1)
    lin = color.srgb_to_linear(tone) @ np.array([0.2126, 0.7152, 0.0722], np.float32)
    return _gray(color.linear_to_srgb(lin)[..., None].repeat(3, -1)), {}


def soft(x, rng):
    import cv2
    s = rng.uniform(0.6, 1.8)
    return cv2.GaussianBlur(x, (0, 0), s), {"sigma": round(s, 2)}


def grain(x, rng):
    import cv2
    s = rng.uniform(0.015, 0.045)
    noise = cv2.GaussianBlur(rng.normal(0, 1, x.shape[:2]).astype(np.float32), (0, 0), 0.5)
    noise *= s / max(float(noise.std()), 1e-6)
    return x + noise[..., None], {"sigma": round(s, 3)}


def vignette(x, rng):
    H, W = x.shape[:2]
    v = rng.uniform(0.15, 0.45)
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    r2 = ((yy - (H - 1) / 2) ** 2 + (xx - (W - 1) / 2) ** 2) / (((H - 1) / 2) ** 2 + ((W - 1) / 2) ** 2)
    return x * (1 - v * r2)[..., None], {"strength": round(v, 3)}


def halftone(x, rng):
    import cv2
    H, W = x.shape[:2]
    period = rng.uniform(3.5, 5.0)
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    u, v = (xx + yy) / np.sqrt(2), (xx - yy) / np.sqrt(2)
    screen = 0.5 + 0.25 * (np.cos(2 * np.pi * u / period) + np.cos(2 * np.pi * v / period))   # in [0, 1]
    ink = (x[..., 0] > screen).astype(np.float32)
    return _gray(cv2.GaussianBlur(ink, (0, 0), 0.4 * period)[..., None].repeat(3, -1)), {"period": round(period, 2)}


def jpeg(x, rng):
    from PIL import Image
    q = int(rng.integers(12, 36))
    buf = io.BytesIO()
    Image.fromarray(np.round(np.clip(x, 0, 1) * 255).astype(np.uint8)).save(buf, "JPEG", quality=q)
    buf.seek(0)
    with Image.open(buf) as im:
        return _gray(np.asarray(im.convert("RGB"), np.float32) / 255.0), {"quality": q}


TRANSFORMS = {"fade": fade, "sepia_gray": sepia_gray, "soft": soft, "grain": grain, "vignette": vignette,
              "halftone": halftone, "jpeg": jpeg}


def age(gray, rng, only=None):
    """A gray photo aged like an old print -> (aged gray photo, recipe [(name, params), ...]). only: one transform
    name (the others skipped), for measuring each on its own."""
    x = _gray(gray)
    recipe = []
    for name in AGEING:
        if only is not None and name != only:
            continue
        if only is None and rng.random() >= CHANCE[name]:
            continue
        x, params = TRANSFORMS[name](np.clip(x, 0, 1).astype(np.float32), rng)
        recipe.append((name, params))
    return np.ascontiguousarray(np.clip(x, 0, 1), np.float32), recipe
