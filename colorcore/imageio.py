"""Reading and writing image files for the CLI: any Pillow input, PNG output of the input's bit depth."""
from __future__ import annotations

import os
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import InvalidRequest
from .strips import row_strips

UNCERTAINTY_SCALE_KEY = "colorcore:uncertainty_scale"
UNCERTAINTY_ALPHA_KEY = "colorcore:alpha"


@dataclass
class LoadedImage:
    rgb: np.ndarray            # (H, W, 3) float32 sRGB in [0, 1]
    alpha: np.ndarray | None   # (H, W) float32 or None
    bits: int                  # 8 or 16


# Above this the CLI refuses a photo unless --max-megapixels raises the limit: peak memory grows by about
# 50 bytes per pixel with scribbles, less without (bench/speed.py --memory), so 120 MP stays near 6 GB.
DEFAULT_MAX_MEGAPIXELS = 120.0


def open_image(path):
    """Pillow's Image.open without Pillow's own pixel limit: the limit is ours (max_megapixels), with a message
    that says how to raise it."""
    from PIL import Image
    Image.MAX_IMAGE_PIXELS = None
    return Image.open(path)


def _damaged(what, path, exc):
    return InvalidRequest(f"{what} {path} is damaged or incomplete ({exc}); open it in an image editor "
                          "and save it again, or use the original file")


def refuse_above_limit(megapixels, max_megapixels, what, advice):
    """The one size limit of photos and animations: `what` (with {mp} for the size) is refused above
    max_megapixels, saying how to raise the limit, and `advice` (what else to do)."""
    if max_megapixels is not None and megapixels > max_megapixels:
        raise InvalidRequest(what.replace("{mp}", f"{megapixels:.3g}") + f", above the limit of {max_megapixels:g} "
                             f"megapixels; pass --max-megapixels {int(np.ceil(megapixels))} to colorize it anyway"
                             + advice)


def _open(path, what, max_megapixels=None, shape=None, load=True):
    """Open an image file; its size is checked from the header (against `shape`, or the megapixel limit) before
    any pixel is decoded, so a huge or mismatched file is refused at once."""
    from PIL import UnidentifiedImageError
    path = Path(path)
    if not path.is_file():
        raise InvalidRequest(f"{what} file not found: {path}")
    try:
        img = open_image(path)
    except UnidentifiedImageError as exc:
        raise InvalidRequest(f"{what} {path} is not an image Pillow can read ({exc})") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:   # known format, broken header
        raise _damaged(what, path, exc) from None
    w, h = img.size
    if shape is not None and (h, w) != tuple(shape):
        raise InvalidRequest(f"{what} is {w}x{h} but the input is {shape[1]}x{shape[0]}; it must have the input's size")
    refuse_above_limit(w * h / 1e6, max_megapixels, f"{what} {path} is {w}x{h} = {{mp}} megapixels",
                       f" (it needs about {50 * w * h / 2**30:.1f} GB of memory), or scale it down first")
    try:
        frames = frame_count(img)
        if load:
            img.load()
    except (OSError, SyntaxError, ValueError, EOFError) as exc:   # broken pixel data
        raise _damaged(what, path, exc) from None
    if frames > 1:   # an animated input goes to colorcore.animation before this; its scribbles come as a folder
        raise InvalidRequest(f"{what} {path} has {frames} frames; {what.split()[0]}s for a photo are one image "
                             "(for an animation, give scribbles as one image for its first frame or a folder of "
                             "one per frame)")
    return img


def _sixteen_bit_rgb(img):
    """A 16-bit RGB(A) file, told from its header (Pillow would reduce it to 8 bits on loading)."""
    if img.mode not in ("RGB", "RGBA") or not img.tile:
        return False
    args = img.tile[0][3]
    rawmode = args[0] if isinstance(args, tuple) else args
    return isinstance(rawmode, str) and ";16" in rawmode


def frame_count(img):
    """Frames of an animated GIF/APNG/WebP or a multi-page TIFF; 1 for a still image. An MPO (a camera JPEG
    with a preview or a second view embedded) is a single photo: its first picture is the image."""
    if img.format == "MPO":
        return 1
    return int(getattr(img, "n_frames", 1) or 1)


def _sixteen_bit_colour(path):
    """16-bit RGB(A) PNG/TIFF read with OpenCV, which keeps the 16 bits; None if it cannot."""
    import cv2
    arr = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if arr is None or arr.dtype != np.uint16 or arr.ndim != 3:
        return None
    arr = cv2.cvtColor(arr, cv2.COLOR_BGRA2RGBA if arr.shape[2] == 4 else cv2.COLOR_BGR2RGB)
    out = arr.astype(np.float32)
    out *= np.float32(1 / 65535.0)
    return out


def _scaled(img, peak):
    """Pillow image -> float32 array divided by `peak` in place (no second full-size float copy)."""
    arr = np.asarray(img, dtype=np.float32)
    arr *= np.float32(1 / peak)
    return arr


def _to_float(img):
    """A Pillow image -> (H, W, C) float32 in [0, 1] and its bit depth."""
    mode = img.mode
    if mode in ("I;16", "I;16L", "I;16B", "I;16N"):
        return _scaled(img, 65535.0)[..., None], 16
    if mode == "I":
        arr = np.asarray(img).astype(np.float32)
        peak = 65535.0 if arr.max(initial=0) > 255 else 255.0
        return np.clip(arr / peak, 0, 1)[..., None], 16 if peak > 255 else 8
    if mode == "F":
        arr = np.asarray(img).astype(np.float32)
        return np.clip(arr / (255.0 if arr.max(initial=0) > 1 else 1.0), 0, 1)[..., None], 16
    if mode in ("1", "L"):
        return _scaled(img.convert("L"), 255.0)[..., None], 8
    if mode == "LA" or mode == "La":
        return _scaled(img.convert("LA"), 255.0), 8
    if mode in ("RGBA", "PA", "RGBa") or (mode == "P" and "transparency" in img.info):
        return _scaled(img.convert("RGBA"), 255.0), 8
    return _scaled(img.convert("RGB"), 255.0), 8


def _split(arr):
    """(H, W, C) with C in 1..4 -> (rgb, alpha or None)."""
    c = arr.shape[2]
    alpha = arr[..., -1] if c in (2, 4) else None
    rgb = arr[..., :3] if c >= 3 else np.repeat(arr[..., :1], 3, axis=2)
    return np.ascontiguousarray(rgb, np.float32), alpha


def read_image(path, max_megapixels=DEFAULT_MAX_MEGAPIXELS) -> LoadedImage:
    img = _open(path, "input image", max_megapixels=max_megapixels, load=False)
    arr = _sixteen_bit_colour(path) if _sixteen_bit_rgb(img) else None
    bits = 16
    if arr is None:
        try:
            img.load()
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            raise _damaged("input image", path, exc) from None
        arr, bits = _to_float(img)
    img.close()
    rgb, alpha = _split(arr)
    return LoadedImage(rgb, alpha, bits)


def read_scribbles(path, shape):
    """RGBA scribbles; an image without alpha marks its coloured (non-gray) pixels as hints."""
    arr, _ = _to_float(_open(path, "scribble image", shape=shape))
    if arr.shape[2] == 4:
        return arr   # already (H, W, 4) float32, contiguous
    rgb, alpha = _split(arr)
    if alpha is None:
        alpha = ((rgb.max(axis=2) - rgb.min(axis=2)) > 0.04).astype(np.float32)
    return np.ascontiguousarray(np.dstack([rgb, alpha]), np.float32)


def read_mask(path, shape):
    img = _open(path, "mask image", shape=shape)
    if img.mode not in ("1", "L", "I", "I;16", "I;16L", "I;16B", "I;16N", "F"):
        raise InvalidRequest(f"mask must be a single-channel gray image; {path} is {img.mode} "
                             "(save the mask as grayscale: white = colorize, black = keep)")
    arr, _ = _to_float(img)
    return np.ascontiguousarray(arr[..., 0], np.float32)


def check_writable(path):
    """Refuse, before the work, a photo's output that could not be written (so no run is lost at its end): a
    .png file in a folder we can write to. (An animation's: frames.check_writable.)"""
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise InvalidRequest(f"output must be a .png file; got {path.name}"
                             + (" (an animation's output may be .gif, .png, .tif or a folder)" if
                                path.suffix.lower() in (".gif", ".tif", ".tiff") else ""))
    if path.is_dir():
        raise InvalidRequest(f"output {path} is a folder; give a file name ending in .png")
    check_folder_writable(path.parent)


def check_folder_writable(folder):
    """Refuse a folder that does not exist or that we cannot write into, before any work."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InvalidRequest(f"output folder does not exist: {folder} (create it, or choose another -o path)")
    try:   # try it for real: os.access says yes to root even on a read-only disk or in /sys
        fd, probe = tempfile.mkstemp(suffix=".png", dir=folder, prefix=".colorcore-")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise InvalidRequest(f"cannot write into the folder {folder} ({exc.strerror or exc}); choose an output "
                             "in a folder you can write to") from None


def _new_file_mode(path):
    """The mode a plain open(path, "w") would give: an existing file keeps its own, a new one 0o666 less the
    umask (mkstemp's temporary file is 0o600, which the output must not inherit)."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        umask = os.umask(0)   # the only portable way to read it: set and restore at once
        os.umask(umask)
        return 0o666 & ~umask


def atomic_write(path, write):
    """write(tmp) to a temporary file beside the target (same suffix: encoders choose the format by it), then
    rename it over the target: a failure or a kill never leaves a partial file."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(suffix=path.suffix or ".png", dir=path.parent, prefix=".colorcore-")
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, _new_file_mode(path))
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _quantized(channels, bits):
    """Float channels in [0, 1] ((H, W) or (H, W, C) each) -> one (H, W, C) uint8/uint16 array, band by band,
    so a 100 MP photo needs no full-size float temporaries on the way out."""
    dtype, peak = (np.uint16, 65535.0) if bits == 16 else (np.uint8, 255.0)
    planes = [c[..., None] if c.ndim == 2 else c for c in channels]
    h, w = planes[0].shape[:2]
    out = np.empty((h, w, sum(p.shape[2] for p in planes)), dtype)
    for y0, y1 in row_strips(h, w):
        band = np.concatenate([p[y0:y1] for p in planes], axis=2)
        np.clip(band, 0, 1, out=band)
        band *= np.float32(peak)
        out[y0:y1] = np.rint(band)
    return out


def write_png(path, rgb, bits=8, alpha=None):
    import cv2
    from PIL import Image
    check_writable(path)
    data = _quantized([rgb] if alpha is None else [rgb, alpha], bits)
    if bits == 16:
        cv2.cvtColor(data, cv2.COLOR_RGBA2BGRA if data.shape[2] == 4 else cv2.COLOR_RGB2BGR, dst=data)

        def write(tmp):
            if not cv2.imwrite(tmp, data):
                raise OSError(f"could not write {path}")
        atomic_write(path, write)
    else:
        atomic_write(path, lambda tmp: Image.fromarray(data).save(tmp, format="PNG"))


def uncertainty_scale(radius):
    """A round Delta E value that maps to white: the maximum, rounded up to 0.1."""
    peak = float(np.max(radius, initial=0.0))
    return max(np.ceil(peak * 10) / 10, 0.1)


def write_uncertainty(path, radius, alpha):
    """16-bit gray PNG, white = `scale` Delta E; the scale and alpha go into PNG text chunks."""
    from PIL import Image, PngImagePlugin
    check_writable(path)
    scale = uncertainty_scale(radius)
    data = _quantized([radius / np.float32(scale)], 16)[..., 0]
    meta = PngImagePlugin.PngInfo()
    meta.add_text(UNCERTAINTY_SCALE_KEY, f"{scale:.4f}")
    meta.add_text(UNCERTAINTY_ALPHA_KEY, f"{alpha:g}")
    atomic_write(path, lambda tmp: Image.fromarray(data).save(tmp, format="PNG", pnginfo=meta))
    return scale
