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

Two recipes (RECIPES): "print", the one above, which every calibration and benchmark so far used; and "scan", an
experiment (issue 30) with its chances and ranges moved towards what real old scans look like to the novelty
check's statistics at 256 px. Medians on 74 real old scans (DeOldify's test images, BOPBtL's old photos, RNI6;
`python -m training.calibration.aged_stats`) against 60 calibration photos clean and "print"-aged: contrast
0.222 / 0.210 / 0.152, white level 0.91 / 0.92 / 0.74, mean lightness 0.51 / 0.52 / 0.42, fine grain 2.6 / 1.2 /
1.1, edge density 0.35 / 0.22 / 0.23. Real scans are not faded much (their levels are the clean photos'), and are
grainier and crisper: "scan" fades 40 % of the photos and less, grays a sepia toning in 30 %, adds grain to 80 %,
softens and vignettes fewer; aged by it, the same 60 photos read 0.194 contrast, 0.88 white level, 0.47 mean
lightness, 2.0 fine grain, 0.36 edge density. (Auto's coverage on them: docs/uncertainty.md, "Old prints".)
"""
from __future__ import annotations

import io

import numpy as np

AGEING = ("fade", "sepia_gray", "soft", "grain", "vignette", "halftone", "jpeg")
# recipe -> transform -> (chance, its parameters' ranges)
RECIPES = {
    "print": {"fade": (1.0, {"black": (0.04, 0.16), "white": (0.82, 0.96)}), "sepia_gray": (0.5, {}),
              "soft": (0.5, {"sigma": (0.6, 1.8)}), "grain": (0.5, {"sigma": (0.015, 0.045)}),
              "vignette": (0.5, {"strength": (0.15, 0.45)}), "halftone": (0.25, {"period": (3.5, 5.0)}),
              "jpeg": (0.5, {"quality": (12, 36)})},
    "scan": {"fade": (0.4, {"black": (0.02, 0.10), "white": (0.92, 1.0)}), "sepia_gray": (0.3, {}),
             "soft": (0.3, {"sigma": (0.5, 1.2)}), "grain": (0.8, {"sigma": (0.02, 0.06)}),
             "vignette": (0.2, {"strength": (0.1, 0.25)}), "halftone": (0.25, {"period": (3.5, 5.0)}),
             "jpeg": (0.5, {"quality": (20, 50)})},
}
DEFAULT_RECIPE = "print"
CALIBRATION_SEED = 11   # the calibration tools' default --seed (training.calibration.prior, auto_samples, aged_stats)


def photo_rng(seed, index):
    """The generator that ages photo `index` of a run seeded `seed`: a photo gets the same print in every tool."""
    return np.random.default_rng(seed * 100003 + index)


def _gray(x):
    return np.repeat(np.asarray(x, np.float32).mean(axis=-1, keepdims=True), 3, axis=-1)


def fade(x, rng, p):
    black, white = rng.uniform(*p["black"]), rng.uniform(*p["white"])
    return black + (white - black) * x, {"black": round(black, 3), "white": round(white, 3)}


def sepia_gray(x, rng, p):
    from colorcore import color
    tone = np.clip(x * np.array([1.0, 0.84, 0.62], np.float32), 0, 1)
    lin = color.srgb_to_linear(tone) @ np.array([0.2126, 0.7152, 0.0722], np.float32)
    return _gray(color.linear_to_srgb(lin)[..., None].repeat(3, -1)), {}


def soft(x, rng, p):
    import cv2
    s = rng.uniform(*p["sigma"])
    return cv2.GaussianBlur(x, (0, 0), s), {"sigma": round(s, 2)}


def grain(x, rng, p):
    import cv2
    s = rng.uniform(*p["sigma"])
    noise = cv2.GaussianBlur(rng.normal(0, 1, x.shape[:2]).astype(np.float32), (0, 0), 0.5)
    noise *= s / max(float(noise.std()), 1e-6)
    return x + noise[..., None], {"sigma": round(s, 3)}


def vignette(x, rng, p):
    H, W = x.shape[:2]
    v = rng.uniform(*p["strength"])
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    r2 = ((yy - (H - 1) / 2) ** 2 + (xx - (W - 1) / 2) ** 2) / (((H - 1) / 2) ** 2 + ((W - 1) / 2) ** 2)
    return x * (1 - v * r2)[..., None], {"strength": round(v, 3)}


def halftone(x, rng, p):
    import cv2
    H, W = x.shape[:2]
    period = rng.uniform(*p["period"])
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    u, v = (xx + yy) / np.sqrt(2), (xx - yy) / np.sqrt(2)
    screen = 0.5 + 0.25 * (np.cos(2 * np.pi * u / period) + np.cos(2 * np.pi * v / period))   # in [0, 1]
    ink = (x[..., 0] > screen).astype(np.float32)
    return _gray(cv2.GaussianBlur(ink, (0, 0), 0.4 * period)[..., None].repeat(3, -1)), {"period": round(period, 2)}


def jpeg(x, rng, p):
    from PIL import Image
    q = int(rng.integers(*p["quality"]))
    buf = io.BytesIO()
    Image.fromarray(np.round(np.clip(x, 0, 1) * 255).astype(np.uint8)).save(buf, "JPEG", quality=q)
    buf.seek(0)
    with Image.open(buf) as im:
        return _gray(np.asarray(im.convert("RGB"), np.float32) / 255.0), {"quality": q}


TRANSFORMS = {"fade": fade, "sepia_gray": sepia_gray, "soft": soft, "grain": grain, "vignette": vignette,
              "halftone": halftone, "jpeg": jpeg}


def age(gray, rng, only=None, recipe_name=DEFAULT_RECIPE):
    """A gray photo aged like an old print -> (aged gray photo, recipe [(name, params), ...]). only: one transform
    name (the others skipped), for measuring each on its own; recipe_name: one of RECIPES."""
    if recipe_name not in RECIPES:
        raise ValueError(f"unknown ageing recipe {recipe_name!r}: expected one of {', '.join(RECIPES)}")
    x = _gray(gray)
    recipe = []
    for name in AGEING:
        chance, ranges = RECIPES[recipe_name][name]
        if only is not None and name != only:
            continue
        if only is None and rng.random() >= chance:
            continue
        x, params = TRANSFORMS[name](np.clip(x, 0, 1).astype(np.float32), rng, ranges)
        recipe.append((name, params))
    return np.ascontiguousarray(np.clip(x, 0, 1), np.float32), recipe
