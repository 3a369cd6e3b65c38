"""Colorize one file into its result files: the one path that `colorcore colorize` and every `colorcore batch`
item take. A photo or an animation; everything that can be refused is refused before the backend runs and
before any file is touched; the scan's resolution, ICC profile and EXIF/XMP travel to a photo's result, and
every photo's result says what made it (provenance)."""
from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import protocol
from .errors import InvalidRequest
from .imageio import DEFAULT_MAX_MEGAPIXELS, PHOTO_SUFFIXES
from .progress import no_progress

PROVENANCE_NOTE = "colorized: the colours are a guess"
_WEIGHTS_HASHES: dict = {}   # (path, mtime_ns, size) -> short sha256: a weights file is hashed once per process


@dataclass
class FileJob:
    """One input file and where its results go (paths), with the run's settings."""

    input: Path
    output: Path
    scribbles: Path | None = None
    mask: Path | None = None
    reference: Path | None = None         # a colour photo to take the colours from (reference mode)
    uncertainty: Path | None = None
    intervals: tuple | None = None        # (lo, hi) paths, photos only
    suggest: tuple | None = None          # (n, path.json): where to paint next (colorcore.suggest), photos only
    backend: str | None = None            # a name, or None: colorcore.selection decides
    options: dict = field(default_factory=dict)
    seed: int | None = None
    alpha: float = protocol.DEFAULT_ALPHA
    frame_by_frame: bool = False
    max_megapixels: float | None = DEFAULT_MAX_MEGAPIXELS


@dataclass
class FileResult:
    message: str                          # the line `colorcore colorize` prints
    backend: str
    mode: str
    seconds: float
    animated: bool
    outputs: list                         # the paths written
    note: str | None = None               # the input looks unlike the calibration photos (or None)


def weights_version(backend) -> str:
    """Which weights a backend runs with: file name and the start of its SHA-256, or "none"."""
    path = getattr(backend, "weights_path", None)
    if path is None or not Path(path).is_file():
        return "none"
    st = Path(path).stat()
    key = (str(path), st.st_mtime_ns, st.st_size)
    if key not in _WEIGHTS_HASHES:
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        _WEIGHTS_HASHES[key] = f"{Path(path).name} sha256:{h.hexdigest()[:16]}"
    return _WEIGHTS_HASHES[key]


def provenance(backend, mode, alpha) -> dict:
    """The text a result carries (PNG text chunks, TIFF Software and ImageDescription), so a colorized copy can
    never pass for an original."""
    from . import __version__
    return {"Software": f"colorcore {__version__}", "Description": PROVENANCE_NOTE,
            "colorcore:backend": backend.name, "colorcore:mode": mode,
            "colorcore:weights": weights_version(backend), "colorcore:alpha": f"{alpha:g}"}


def check(job: FileJob) -> bool:
    """Refuse, before any work, what could not be done; True when the input is an animation."""
    from . import frames, imageio
    from .paths import check_distinct
    lo_hi = job.intervals or (None, None)
    check_distinct(outputs=[("output (-o)", job.output), ("uncertainty output (--uncertainty)", job.uncertainty),
                            ("lower interval (--intervals LO)", lo_hi[0]), ("upper interval (--intervals HI)", lo_hi[1]),
                            ("suggestions (--suggest)", job.suggest[1] if job.suggest else None)],
                   inputs=[("input image", job.input), ("scribble image (--scribbles)", job.scribbles),
                           ("mask (--mask)", job.mask), ("reference photo (--reference)", job.reference)])
    animated = frames.is_animation(job.input)
    if animated:
        for target in filter(None, (job.output, job.uncertainty)):
            frames.check_writable(target)
        if job.intervals:
            raise InvalidRequest("--intervals is for single photos; leave it out for an animation")
        if job.suggest:
            raise InvalidRequest("--suggest is for single photos; leave it out for an animation")
        return True
    imageio.check_writable(job.output, PHOTO_SUFFIXES)
    for target in filter(None, (job.uncertainty, *lo_hi)):
        imageio.check_writable(target)
    return False


def colorize_file(job: FileJob, registry, progress=no_progress, animated: bool | None = None) -> FileResult:
    """Colorize job.input into job.output (and the uncertainty / intervals asked for). `registry`: the loaded
    backends (colorcore.load_registry()); `animated`: what check() said, or None to check here."""
    if animated is None:
        animated = check(job)
    if animated:
        return _animation(job, registry, progress)
    return _photo(job, registry, progress)


def _choose(registry, job, scribbles, mask):
    from .selection import choose
    return choose(registry, job.backend or None, scribbles is not None, mask is not None, job.reference is not None)


def _reference(job):
    """The reference photo as RGBA (its own size; alpha kept: transparent pixels are not used), or None."""
    if not job.reference:
        return None
    import numpy as np
    from . import imageio
    ref = imageio.read_image(job.reference, max_megapixels=job.max_megapixels)
    return ref.rgb if ref.alpha is None else np.dstack([ref.rgb, ref.alpha]).astype(np.float32)


def _photo(job, registry, progress):
    from . import imageio
    from .contract import ColorizeRequest
    from .pipeline import run_backend
    loaded = imageio.read_image(job.input, max_megapixels=job.max_megapixels)
    shape = loaded.rgb.shape[:2]
    scribbles = imageio.read_scribbles(job.scribbles, shape) if job.scribbles else None
    mask = imageio.read_mask(job.mask, shape) if job.mask else None
    backend, mode = _choose(registry, job, scribbles, mask)
    request = ColorizeRequest(image=loaded.rgb, mode=mode, scribbles=scribbles, mask=mask, options=job.options,
                              seed=job.seed, alpha=job.alpha, progress=progress, intervals=bool(job.intervals),
                              reference=_reference(job))
    t0 = time.perf_counter()
    result = run_backend(backend, request)
    places = None
    if job.suggest:   # from the result and its radius, before the inputs are freed (painted places are skipped)
        from .suggest import suggest
        places = suggest(result.rgb, result.uncertainty, job.suggest[0], scribbles=scribbles)
    del request, scribbles, mask   # the inputs are done with: free them before the output is encoded (100 MP)
    loaded.rgb = None
    text = provenance(backend, mode, job.alpha)
    imageio.write_image(job.output, result.rgb, bits=loaded.bits, alpha=loaded.alpha, meta=loaded.meta, text=text)
    outputs = [Path(job.output)]
    msg = f"wrote {job.output} ({backend.name}, {mode}, {time.perf_counter() - t0:.2f} s)"
    if job.uncertainty:
        scale = imageio.write_uncertainty(job.uncertainty, result.uncertainty, job.alpha)
        outputs.append(Path(job.uncertainty))
        msg += f"; uncertainty {job.uncertainty}: white = {scale:.1f} Delta E at alpha={job.alpha:g}"
    if job.intervals:
        for path, bound in zip(job.intervals, result.intervals):
            imageio.write_image(path, bound, bits=loaded.bits, alpha=loaded.alpha, meta=loaded.meta, text=text)
            outputs.append(Path(path))
        msg += (f"; RGB intervals {job.intervals[0]} .. {job.intervals[1]} hold each true channel value with "
                f"probability {1 - job.alpha:g}")
    if places is not None:
        from .suggest import write_suggestions
        write_suggestions(job.suggest[1], places)
        outputs.append(Path(job.suggest[1]))
        msg += f"; {len(places)} places to paint next, best first, in {job.suggest[1]}"
    return FileResult(msg, backend.name, mode, time.perf_counter() - t0, False, outputs,
                      protocol.result_note(result.info))


def _animation(job, registry, progress):
    """An animated GIF/APNG, a multi-page TIFF or a folder of frames -> the same kind of animation, colour
    following the motion (colorcore.animation); the uncertainty too becomes an animation."""
    from . import frames, imageio
    from .animation import colorize_clip
    clip = frames.read_frames(job.input, max_megapixels=job.max_megapixels)
    shape = clip.frames.shape[1:3]
    scribbles = frames.read_scribble_frames(job.scribbles, shape, len(clip)) if job.scribbles else None
    mask = imageio.read_mask(job.mask, shape) if job.mask else None
    backend, mode = _choose(registry, job, scribbles, mask)
    rgb, unc, info = colorize_clip(clip, backend, mode, scribbles=scribbles, mask=mask, options=job.options,
                                   seed=job.seed or 0, consistent=not job.frame_by_frame, alpha=job.alpha,
                                   progress=progress, reference=_reference(job))
    frames.write_frames(rgb, job.output)
    outputs = [Path(job.output)]
    msg = (f"wrote {job.output} ({len(clip)} frames, {backend.name}, {mode}, "
           f"{'frame by frame' if job.frame_by_frame else 'colour following the motion'}, {info['seconds']:.2f} s, "
           f"{info['frames_per_second']:.1f} frames/s, backend on {len(info['key_frames'])} frames, "
           f"{len(info['cuts'])} scene cut(s))")
    if job.uncertainty:
        frames.write_frames(unc, job.uncertainty)
        outputs.append(Path(job.uncertainty))
        msg += (f"; uncertainty {job.uncertainty}: white = {info['uncertainty_scale']:.1f} Delta E at "
                f"alpha={job.alpha:g}")
    return FileResult(msg, backend.name, mode, float(info["seconds"]), True, outputs)
