"""Animations as data: read and write animated GIF, APNG, multi-page TIFF and folders of frames.

A `Clip` holds every frame fully composited (a GIF's or APNG's delta frames and disposal already applied
by Pillow), so the colorizer sees whole pictures; writing keeps the frame count, the durations and the loop.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import InvalidRequest
from .imageio import (atomic_write, check_folder_writable, frame_count, open_image, read_scribbles,
                      refuse_above_limit)

FRAME_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")
DEFAULT_DURATION_MS = 100   # what browsers show for a frame without timing
FORMATS = {".gif": "gif", ".png": "apng", ".apng": "apng", ".tif": "tiff", ".tiff": "tiff"}


@dataclass
class Clip:
    """An animation: frames (N, H, W, 3) float32 sRGB in [0, 1], per-frame durations in ms, and the number
    of plays (`loop`: 0 = forever, 1 = once, n = n times). `alpha` (N, H, W) when any frame is transparent;
    `disposal` the GIF/APNG per-frame disposal codes when the source had them; `format` one of gif, apng,
    tiff, folder (or "frames" for a clip built in memory); `source` the path it was read from."""

    frames: np.ndarray
    durations: list = field(default_factory=list)
    loop: int = 0
    alpha: np.ndarray | None = None
    disposal: list | None = None
    format: str = "frames"
    source: Path | None = None

    def __post_init__(self):
        frames = np.asarray(self.frames)
        if frames.ndim != 4 or frames.shape[-1] != 3 or frames.shape[0] < 1:
            raise InvalidRequest(f"a clip's frames must be an array (N, H, W, 3); got shape {frames.shape}")
        self.frames = np.ascontiguousarray(frames, np.float32)
        n = len(self.frames)
        self.durations = [int(d) for d in self.durations] if len(self.durations) else [DEFAULT_DURATION_MS] * n
        if len(self.durations) != n:
            raise InvalidRequest(f"a clip of {n} frames needs {n} durations; got {len(self.durations)}")
        if self.alpha is not None and np.shape(self.alpha) != self.frames.shape[:3]:
            raise InvalidRequest(f"clip alpha must have shape {self.frames.shape[:3]}; got {np.shape(self.alpha)}")
        if self.disposal is not None and len(self.disposal) != n:
            self.disposal = None   # only meaningful frame for frame

    def __len__(self):
        return len(self.frames)

    @property
    def size(self):
        """(width, height) of every frame."""
        return self.frames.shape[2], self.frames.shape[1]

    def like(self, frames, alpha="same"):
        """A clip with other frames (same count and size) and this one's timing, loop and disposal."""
        return Clip(frames=frames, durations=list(self.durations), loop=self.loop,
                    alpha=self.alpha if alpha == "same" else alpha, disposal=self.disposal, format=self.format)


def clip_from_frames(frames, durations=None, loop=0, alpha=None):
    """A Clip from a list of (H, W, 3) float arrays (e.g. GIMP layers): refuses frames of different sizes."""
    frames = [np.asarray(f) for f in frames]
    if len(frames) < 2:
        raise InvalidRequest(f"an animation needs at least 2 frames; got {len(frames)}")
    _same_size([f.shape[1::-1] for f in frames], [f"frame {i + 1}" for i in range(len(frames))])
    return Clip(frames=np.stack(frames), durations=list(durations or []), loop=loop,
                alpha=None if alpha is None else np.stack(alpha))


def composite_layers(layers, combine):
    """Full frames from animation layers as GIMP holds an optimised GIF: layers (N, H, W, 4) RGBA in play order;
    combine[i] true when layer i is drawn over frame i-1 ("(combine)"), false when it replaces it. Returns rgb
    (N, H, W, 3) and alpha (N, H, W), "over" compositing with straight alpha."""
    layers = np.asarray(layers, np.float32)
    rgb, alpha = np.empty(layers.shape[:3] + (3,), np.float32), np.empty(layers.shape[:3], np.float32)
    for i, layer in enumerate(layers):
        c, a = layer[..., :3], layer[..., 3]
        if i and combine[i]:
            below = alpha[i - 1] * (1 - a)
            alpha[i] = a + below
            rgb[i] = (c * a[..., None] + rgb[i - 1] * below[..., None]) / np.maximum(alpha[i], 1e-8)[..., None]
        else:
            rgb[i], alpha[i] = c, a
    return rgb, alpha


def _same_size(sizes, names):
    first = tuple(sizes[0])
    for size, name in zip(sizes, names):
        if tuple(size) != first:
            raise InvalidRequest(f"all frames must have the same size: {names[0]} is {first[0]}x{first[1]} but "
                                 f"{name} is {size[0]}x{size[1]}; resize or crop the frames to one size")


def _natural_key(path):
    """frame2 before frame10: numbers in names compare as numbers."""
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", path.name)]


def _as_float(img):
    """A Pillow frame -> (rgb (H, W, 3), alpha (H, W) or None), float32 in [0, 1]."""
    has_alpha = img.mode in ("RGBA", "LA", "PA") or "transparency" in img.info
    arr = np.asarray(img.convert("RGBA" if has_alpha else "RGB"), np.float32) / 255.0
    return np.ascontiguousarray(arr[..., :3]), (arr[..., 3] if has_alpha else None)


def _plays(img):
    """Number of plays (0 = forever) from a GIF's NETSCAPE loop count or an APNG's num_plays."""
    loop = img.info.get("loop")
    if img.format == "GIF":   # no NETSCAPE block: once; loop n: the first play and n repeats
        return 1 if loop is None else (0 if loop == 0 else int(loop) + 1)
    return int(loop or 0)


def is_animation(path) -> bool:
    """A folder (of frames), or a file with several frames (an animated GIF/APNG/WebP, a multi-page TIFF; a
    camera's MPO JPEG, whose second picture is a preview, is one photo). An unreadable file is not: reading it
    as a photo then says what is wrong with it."""
    from PIL import UnidentifiedImageError
    path = Path(path)
    if path.is_dir():
        return True
    try:
        with open_image(path) as img:
            return frame_count(img) > 1
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        return False


def _check_size(path, count, size, max_megapixels):
    refuse_above_limit(count * size[0] * size[1] / 1e6, max_megapixels,
                       f"animation {path} is {count} frames of {size[0]}x{size[1]} = {{mp}} megapixels in all",
                       ", or use fewer or smaller frames")


def _read_file(path, max_megapixels=None):
    from PIL import UnidentifiedImageError
    try:
        img = open_image(path)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise InvalidRequest(f"{path} is not an animation Pillow can read ({exc})") from None
    kind = {"GIF": "gif", "PNG": "apng", "TIFF": "tiff"}.get(img.format)
    if kind is None:
        raise InvalidRequest(f"{path} is a {img.format} file; animations must be GIF, APNG (.png), multi-page "
                             "TIFF or a folder of frames")
    count = frame_count(img)
    if count < 2:
        raise InvalidRequest(f"{path} has a single frame, not an animation; colorize it as a photo, or give an "
                             "animated GIF/APNG, a multi-page TIFF or a folder of frames")
    _check_size(path, count, img.size, max_megapixels)
    rgbs, alphas, durations, disposal, sizes = [], [], [], [], []
    try:
        for i in range(count):
            img.seek(i)
            rgb, alpha = _as_float(img)
            rgbs.append(rgb)
            alphas.append(alpha)
            sizes.append(img.size)
            duration = img.info.get("duration") if kind != "tiff" else None
            durations.append(DEFAULT_DURATION_MS if duration is None else round(duration))
            disposal.append(getattr(img, "disposal_method", None) if kind == "gif" else None)
    except (OSError, EOFError, ValueError) as exc:
        raise InvalidRequest(f"{path} is damaged at frame {len(rgbs) + 1} ({exc}); save it again from the "
                             "program that made it") from None
    _same_size(sizes, [f"page {i + 1}" for i in range(count)])
    return _clip(rgbs, alphas, durations, 0 if kind == "tiff" else _plays(img),
                 None if any(d is None for d in disposal) else [int(d) for d in disposal], kind, path)


def frame_files(folder):
    """The frame images of a folder, in natural name order (frame2 before frame10)."""
    return sorted((p for p in Path(folder).iterdir() if p.suffix.lower() in FRAME_EXTENSIONS and p.is_file()),
                  key=_natural_key)


def _read_folder(path, max_megapixels=None):
    files = frame_files(path)
    if len(files) < 2:
        raise InvalidRequest(f"folder {path} holds {len(files)} frame image(s); an animation needs at least 2 "
                             f"({', '.join(FRAME_EXTENSIONS)}, taken in name order)")
    rgbs, alphas, sizes = [], [], []
    for i, f in enumerate(files):
        try:
            with open_image(f) as img:
                if i == 0:
                    _check_size(path, len(files), img.size, max_megapixels)
                rgb, alpha = _as_float(img)
        except (OSError, SyntaxError, ValueError) as exc:
            raise InvalidRequest(f"frame {f} is not an image Pillow can read ({exc})") from None
        rgbs.append(rgb)
        alphas.append(alpha)
        sizes.append(rgb.shape[1::-1])
    _same_size(sizes, [f.name for f in files])
    return _clip(rgbs, alphas, [DEFAULT_DURATION_MS] * len(files), 0, None, "folder", path)


def _clip(rgbs, alphas, durations, loop, disposal, kind, path):
    alpha = None
    if any(a is not None for a in alphas):
        alpha = np.stack([np.ones(r.shape[:2], np.float32) if a is None else a for r, a in zip(rgbs, alphas)])
    return Clip(np.stack(rgbs), durations, loop, alpha, disposal, kind, Path(path))


def read_scribble_frames(path, shape, count):
    """Scribbles for an animation: one image (painted on the first frame; carried along the motion) -> (H, W, 4),
    or a folder of one image per frame (natural name order) -> (N, H, W, 4)."""
    if not Path(path).is_dir():
        return read_scribbles(path, shape)
    files = frame_files(path)
    if len(files) != count:
        raise InvalidRequest(f"scribble folder {path} holds {len(files)} images but the animation has {count} "
                             "frames; give one scribble image per frame (transparent where there are none)")
    return np.stack([read_scribbles(f, shape) for f in files])


def read_frames(path, max_megapixels=None) -> Clip:
    """Read an animated GIF, an APNG, a multi-page TIFF, or a folder of frames (taken in natural name order:
    frame2 before frame10) into a Clip. Refuses a missing path, a single-frame file, an empty folder, frames
    of different sizes and (from the header) more than max_megapixels in all with InvalidRequest."""
    path = Path(path)
    if path.is_dir():
        return _read_folder(path, max_megapixels)
    if not path.is_file():
        raise InvalidRequest(f"animation not found: {path} (give an animated GIF/APNG, a multi-page TIFF or a "
                             "folder of frames)")
    return _read_file(path, max_megapixels)


def check_writable(path):
    """Refuse, before the work, an animation's output that could not be written: a .gif, .png (APNG), .tif
    or a folder of frames, in a folder we can write to."""
    path = Path(path)
    check_folder_writable(path if output_format(path) == "folder" and path.is_dir() else path.parent)


def output_format(path) -> str:
    """gif, apng, tiff or folder, from the output path (a folder: an existing directory or no suffix)."""
    path = Path(path)
    if path.is_dir() or not path.suffix:
        return "folder"
    kind = FORMATS.get(path.suffix.lower())
    if kind is None:
        raise InvalidRequest(f"cannot write an animation as {path.suffix}; use .gif, .png (APNG), .tif or a "
                             "folder name without a suffix")
    return kind


def _same_file(a, b):
    try:
        return a is not None and os.path.samefile(a, b)
    except OSError:
        return False


def _to_u8(x):
    return np.round(np.clip(x, 0, 1) * 255).astype(np.uint8)


def _pil_frames(clip):
    from PIL import Image
    rgb = _to_u8(clip.frames)
    if clip.alpha is None:
        return [Image.fromarray(f, "RGB") for f in rgb]
    a = _to_u8(clip.alpha)[..., None]
    return [Image.fromarray(np.concatenate([f, m], axis=2), "RGBA") for f, m in zip(rgb, a)]


def write_frames(clip: Clip, path) -> Path:
    """Write a clip as the format its path names (.gif, .png = APNG, .tif, or a folder of PNGs), keeping the
    frame count, the durations and the loop. Never overwrites the clip's source (file, folder or a frame in it)."""
    path = Path(path)
    kind = output_format(path)
    if _same_file(clip.source, path) or (path.is_file() and clip.source is not None and clip.source.is_dir()
                                         and _same_file(clip.source, path.parent)):
        raise InvalidRequest(f"output {path} is the input animation; choose another output path")
    folder = path if kind == "folder" else path.parent
    if kind != "folder" and not folder.is_dir():
        raise InvalidRequest(f"output folder does not exist: {folder} (create it, or choose another path)")
    if kind == "folder":
        return _write_folder(clip, path)
    if kind == "gif":
        atomic_write(path, lambda tmp: _write_gif(clip, tmp))
    elif kind == "apng":
        images = _pil_frames(clip)
        # Pillow merges identical consecutive APNG frames unless their disposal differs; full frames drawn with
        # OP_SOURCE replace the canvas, so alternating NONE/BACKGROUND changes nothing on screen and keeps the count
        disposal = [i % 2 for i in range(len(images))]
        atomic_write(path, lambda tmp: images[0].save(
            tmp, format="PNG", save_all=True, append_images=images[1:], duration=clip.durations,
            loop=clip.loop, disposal=disposal, blend=0))
    else:
        images = _pil_frames(clip)
        atomic_write(path, lambda tmp: images[0].save(tmp, format="TIFF", save_all=True,
                                                       append_images=images[1:], compression="tiff_lzw"))
    return path


def _write_folder(clip, path):
    if _same_file(clip.source, path):
        raise InvalidRequest(f"output folder {path} is the input folder; choose another one")
    path.mkdir(parents=True, exist_ok=True)
    digits = max(4, len(str(len(clip))))
    for i, image in enumerate(_pil_frames(clip)):
        target = path / f"frame_{i + 1:0{digits}d}.png"
        if _same_file(clip.source, target):
            raise InvalidRequest(f"{target} is the input; choose another output folder")
        atomic_write(target, lambda tmp: image.save(tmp, format="PNG"))
    return path


GIF_SAMPLE_PIXELS = 1 << 20   # pixels (spread over all frames) from which the shared palette is chosen


def _shared_palette(rgb_u8, colors):
    """One adaptive palette for the whole clip, so a flat area keeps one index in every frame (per-frame
    palettes make flat colours shimmer from frame to frame, which is the flicker we remove)."""
    from PIL import Image
    pixels = rgb_u8.reshape(-1, 3)
    step = max(1, len(pixels) // GIF_SAMPLE_PIXELS)
    sample = pixels[::step]
    side = int(np.ceil(np.sqrt(len(sample))))
    sample = np.concatenate([sample, np.repeat(sample[-1:], side * side - len(sample), axis=0)])
    pal = Image.fromarray(sample.reshape(side, side, 3)).quantize(colors=colors, dither=Image.Dither.NONE)
    return pal


def _full_table(image, palette):
    """A P image on the whole 256-entry table: a clip with few colours would otherwise get a short table
    and the transparent index 255 would point past its end."""
    from PIL import Image
    table = palette.getpalette()[:765]
    out = Image.frombytes("P", image.size, image.tobytes())
    out.putpalette(table + [0] * (768 - len(table)))
    return out


def _write_gif(clip, tmp):
    """GIF assembled with Pillow's frame encoder: Pillow's own save_all drops a frame identical to the one
    before it (adding its duration), which would change the frame count of a clip with still passages."""
    from PIL import GifImagePlugin, Image
    rgb = _to_u8(clip.frames)
    transparent = clip.alpha is not None and bool((clip.alpha < 0.5).any())
    palette = _shared_palette(rgb, 255 if transparent else 256)   # index 255 stays free for transparency
    info = {"loop": None if clip.loop == 1 else (0 if clip.loop == 0 else clip.loop - 1), "background": 0}
    if transparent:
        info.update(transparency=255, background=255)
    frames = []
    for i, frame in enumerate(rgb):
        p = Image.fromarray(frame).quantize(palette=palette, dither=Image.Dither.NONE)
        params = {"duration": clip.durations[i], "disposal": clip.disposal[i] if clip.disposal else 1}
        if transparent:   # whole frames with holes: clear the canvas between frames
            idx = np.asarray(p).copy()
            idx[clip.alpha[i] < 0.5] = 255
            p = Image.frombytes("P", p.size, idx.tobytes())
            params.update(transparency=255, disposal=2)
        p = _full_table(p, palette)
        frames.append((p, params))
    header, _ = GifImagePlugin.getheader(frames[0][0].copy(), info=info)   # the canvas size is the frame's
    with open(tmp, "wb") as fp:
        for part in header:
            fp.write(part)
        for p, params in frames:
            for part in GifImagePlugin.getdata(p, **params):
                fp.write(part)
        fp.write(b";")
