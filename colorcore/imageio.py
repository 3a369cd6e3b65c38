"""Reading and writing image files for the CLI: any Pillow input, PNG or TIFF output of the input's bit depth,
with the scan's resolution, ICC profile and EXIF/XMP carried over and text saying what made the result."""
from __future__ import annotations

import os
import stat
import struct
import tempfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import InvalidRequest
from .strips import for_each_strip

UNCERTAINTY_SCALE_KEY = "colorcore:uncertainty_scale"
UNCERTAINTY_ALPHA_KEY = "colorcore:alpha"


@dataclass
class LoadedImage:
    rgb: np.ndarray            # (H, W, 3) float32 sRGB in [0, 1]
    alpha: np.ndarray | None   # (H, W) float32 or None
    bits: int                  # 8 or 16
    meta: dict = field(default_factory=dict)   # what travels to the result (travelling_meta): dpi, icc_profile,
                                               # exif, xmp


PHOTO_SUFFIXES = (".png", ".tif", ".tiff")   # what a still photo's result may be written as
TIFF_SUFFIXES = (".tif", ".tiff")
# EXIF IFD0 tags that describe the scan and travel to a TIFF result as its own tags (a PNG result gets the whole
# EXIF block): Make, Model, Orientation, DateTime, Artist, Copyright. Software and ImageDescription are the
# result's own (what made it).
DESCRIPTIVE_TAGS = {271: "s", 272: "s", 274: "H", 306: "s", 315: "s", 33432: "s"}
IMAGE_DESCRIPTION, SOFTWARE, XMP_TAG, ICC_TAG = 270, 305, 700, 34675
EXIF_PREFIX = b"Exif\x00\x00"


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
    meta = travelling_meta(img)
    img.close()
    rgb, alpha = _split(arr)
    return LoadedImage(rgb, alpha, bits, meta)


def _as_bytes(value):
    return value.encode("utf-8") if isinstance(value, str) else bytes(value)


def travelling_meta(img) -> dict:
    """What of an opened image travels to its colorized result: "dpi" (x, y), "icc_profile" (bytes), "exif" (the
    EXIF block, "Exif\\0\\0" + TIFF structure; a TIFF scan's descriptive IFD0 tags made into one), "xmp" (bytes).
    Absent keys: the scan had none."""
    from PIL import Image
    info, meta = img.info, {}
    dpi = info.get("dpi")
    try:
        if dpi and len(dpi) == 2 and all(float(v) > 0 for v in dpi):
            meta["dpi"] = (float(dpi[0]), float(dpi[1]))
    except (TypeError, ValueError):
        pass
    if info.get("icc_profile"):
        meta["icc_profile"] = bytes(info["icc_profile"])
    tags = getattr(img, "tag_v2", None) if img.format == "TIFF" else None
    xmp = info.get("xmp") or info.get("XML:com.adobe.xmp") or (tags.get(XMP_TAG) if tags is not None else None)
    if xmp:
        meta["xmp"] = _as_bytes(xmp)
    if tags is not None:
        found = {t: tags[t] for t in DESCRIPTIVE_TAGS if t in tags}
        if found:
            exif = Image.Exif()
            exif.update(found)
            meta["exif"] = exif.tobytes()
    elif info.get("exif"):
        raw = bytes(info["exif"])
        meta["exif"] = raw if raw.startswith(EXIF_PREFIX) else EXIF_PREFIX + raw
    return meta


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


def check_writable(path, suffixes=(".png",)):
    """Refuse, before the work, a photo's output that could not be written (so no run is lost at its end): a
    file with one of `suffixes` (a photo's result: PHOTO_SUFFIXES) in a folder we can write to. (An
    animation's: frames.check_writable.)"""
    path = Path(path)
    if path.suffix.lower() not in suffixes:
        tiff = any(s in TIFF_SUFFIXES for s in suffixes)
        raise InvalidRequest(f"output must be a .png file{' (or .tif: a TIFF result)' if tiff else ''}; got {path.name}"
                             + (" (an animation's output may be .gif, .png, .tif or a folder)" if
                                path.suffix.lower() in (".gif", ".tif", ".tiff") and not tiff else ""))
    if path.is_dir():
        raise InvalidRequest(f"output {path} is a folder; give a file name ending in {suffixes[0]}")
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


def quantized(channels, bits):
    """Float channels in [0, 1] ((H, W) or (H, W, C) each) -> one (H, W, C) uint8/uint16 array, band by band
    (on the engine's threads), so a 100 MP photo needs no full-size float temporaries on the way out."""
    dtype, peak = (np.uint16, 65535.0) if bits == 16 else (np.uint8, 255.0)
    planes = [c[..., None] if c.ndim == 2 else c for c in channels]
    h, w = planes[0].shape[:2]
    out = np.empty((h, w, sum(p.shape[2] for p in planes)), dtype)

    def band(y0, y1):   # element by element: the same numbers in any bands, on any threads
        values = np.concatenate([p[y0:y1] for p in planes], axis=2)
        np.clip(values, 0, 1, out=values)
        values *= np.float32(peak)
        out[y0:y1] = np.rint(values)
    for_each_strip(h, w, band)
    return out


def write_png(path, rgb, bits=8, alpha=None, meta=None, text=None):
    """PNG of `bits` bits per channel. meta (travelling_meta) and text ({keyword: value}, e.g. provenance) become
    PNG chunks placed before the pixels; without them the file is exactly what it always was."""
    import cv2
    from PIL import Image
    check_writable(path)
    data = quantized([rgb] if alpha is None else [rgb, alpha], bits)
    chunks = _png_chunks(meta or {}, text or {})
    if bits == 16:
        cv2.cvtColor(data, cv2.COLOR_RGBA2BGRA if data.shape[2] == 4 else cv2.COLOR_RGB2BGR, dst=data)

        def encode(tmp):
            if not cv2.imwrite(tmp, data):
                raise OSError(f"could not write {path}")
    else:
        def encode(tmp):
            Image.fromarray(data).save(tmp, format="PNG")

    def write(tmp):
        encode(tmp)
        if chunks:
            _insert_png_chunks(tmp, chunks)
    atomic_write(path, write)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def _png_chunks(meta, text):
    """[(type, chunk bytes)] for the travelling metadata and the text (tEXt when Latin-1, else iTXt)."""
    chunks = []
    if meta.get("icc_profile"):
        chunks.append((b"iCCP", _png_chunk(b"iCCP", b"ICC profile\0\0" + zlib.compress(meta["icc_profile"]))))
    if meta.get("dpi"):
        ppm = [max(1, round(d / 0.0254)) for d in meta["dpi"]]   # pixels per metre, unit 1 = metre
        chunks.append((b"pHYs", _png_chunk(b"pHYs", struct.pack(">IIB", ppm[0], ppm[1], 1))))
    if meta.get("exif"):
        raw = meta["exif"][len(EXIF_PREFIX):] if meta["exif"].startswith(EXIF_PREFIX) else meta["exif"]
        chunks.append((b"eXIf", _png_chunk(b"eXIf", raw)))
    if meta.get("xmp"):
        chunks.append((b"iTXt", _png_chunk(b"iTXt", b"XML:com.adobe.xmp\0\0\0\0\0" + meta["xmp"])))
    for key, value in text.items():
        try:
            chunks.append((b"tEXt", _png_chunk(b"tEXt", key.encode("latin-1") + b"\0" + str(value).encode("latin-1"))))
        except UnicodeEncodeError:
            chunks.append((b"iTXt", _png_chunk(b"iTXt", key.encode("latin-1", "replace") + b"\0\0\0\0\0"
                                                + str(value).encode("utf-8"))))
    return chunks


def _insert_png_chunks(path, chunks):
    """Put chunks right after IHDR (before any palette or pixels, where iCCP/pHYs/eXIf must be); a singular
    chunk type the encoder already wrote is left as the encoder wrote it."""
    data = Path(path).read_bytes()
    present, pos = set(), 8
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        present.add(kind)
        pos += 12 + length
    singular = {b"iCCP", b"pHYs", b"eXIf"}
    extra = b"".join(c for kind, c in chunks if kind not in singular or kind not in present)
    ihdr_end = 8 + 12 + struct.unpack(">I", data[8:12])[0]
    Path(path).write_bytes(data[:ihdr_end] + extra + data[ihdr_end:])


def _tiff_tags(meta):
    """(tag, dtype, count, value, writeonce) for tifffile: the scan's XMP and descriptive EXIF tags."""
    from PIL import Image
    tags = []
    if meta.get("xmp"):
        tags.append((XMP_TAG, "B", len(meta["xmp"]), meta["xmp"], True))
    if meta.get("exif"):
        exif = Image.Exif()
        try:
            exif.load(meta["exif"])
        except Exception:   # a damaged EXIF block is left behind, not the photo
            return tags
        for tag, dtype in DESCRIPTIVE_TAGS.items():
            value = exif.get(tag)
            if value in (None, ""):
                continue
            if dtype == "s":
                tags.append((tag, "s", 0, str(value).strip("\0"), True))
            else:
                tags.append((tag, dtype, 1, int(value), True))
    return tags


def write_tiff(path, rgb, bits=8, alpha=None, meta=None, text=None):
    """TIFF (Deflate, `bits` bits per channel, straight alpha) carrying the scan's resolution, ICC profile, XMP
    and descriptive EXIF tags; text's "Software" becomes the Software tag and the rest ImageDescription lines."""
    import tifffile
    check_writable(path, TIFF_SUFFIXES)
    meta, text = meta or {}, dict(text or {})
    data = quantized([rgb] if alpha is None else [rgb, alpha], bits)
    software = text.pop("Software", None)
    description = "\n".join(f"{k}: {v}" for k, v in text.items()) or None
    kwargs = dict(photometric="rgb", compression="zlib", metadata=None, software=software or False,
                  description=description, iccprofile=meta.get("icc_profile"), extratags=_tiff_tags(meta))
    if alpha is not None:
        kwargs["extrasamples"] = ("unassalpha",)
    if meta.get("dpi"):
        kwargs.update(resolution=tuple(meta["dpi"]), resolutionunit="INCH")
    atomic_write(path, lambda tmp: tifffile.imwrite(tmp, data, **kwargs))


def write_image(path, rgb, bits=8, alpha=None, meta=None, text=None):
    """A photo's result as its suffix says: .png (write_png) or .tif/.tiff (write_tiff)."""
    check_writable(path, PHOTO_SUFFIXES)
    writer = write_tiff if Path(path).suffix.lower() in TIFF_SUFFIXES else write_png
    writer(path, rgb, bits=bits, alpha=alpha, meta=meta, text=text)


def uncertainty_scale(radius):
    """A round Delta E value that maps to white: the maximum, rounded up to 0.1."""
    peak = float(np.max(radius, initial=0.0))
    return max(np.ceil(peak * 10) / 10, 0.1)


def write_uncertainty(path, radius, alpha):
    """16-bit gray PNG, white = `scale` Delta E; the scale and alpha go into PNG text chunks."""
    from PIL import Image, PngImagePlugin
    check_writable(path)
    scale = uncertainty_scale(radius)
    data = quantized([radius / np.float32(scale)], 16)[..., 0]
    meta = PngImagePlugin.PngInfo()
    meta.add_text(UNCERTAINTY_SCALE_KEY, f"{scale:.4f}")
    meta.add_text(UNCERTAINTY_ALPHA_KEY, f"{alpha:g}")
    atomic_write(path, lambda tmp: Image.fromarray(data).save(tmp, format="PNG", pnginfo=meta))
    return scale
