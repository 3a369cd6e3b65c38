"""The GIMP side's door into the engine: a JSON manifest plus raw little-endian buffers.

`python -m colorcore gimp-run MANIFEST` reads the job (each buffer in the format the manifest names), prints
progress lines and a final result line on stdout, writes the result and uncertainty buffers (the radius divided by
the scale in the result line), and on failure prints one error line on stderr and exits with the error's code. The
grammar, the buffer names and formats and the exit codes are `colorcore.protocol`'s, shared with the plug-in. No
pickle anywhere: only JSON and raw buffers.
"""
from __future__ import annotations

import os
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import protocol
from .errors import ColorcoreError, InvalidRequest
from .strips import for_each_strip


_DTYPES = {4: "<f4", 2: "<u2", 1: "u1"}


def read_input(folder, name, shape, fmt, what):
    """An input buffer in babl format `fmt` (protocol.FORMATS) as float32 in [0, 1] of `shape` (..., channels;
    3 or 4 for a colour buffer, 1 for a mask): gray copied to R, G and B, a missing alpha opaque (an alpha not
    asked for dropped), the values exactly as GEGL's own conversion to float gives them."""
    path = folder / name
    if not path.is_file():
        raise InvalidRequest(f"{what} buffer not found: {path}")
    values, size, gray = protocol.FORMATS[fmt]
    data = np.fromfile(path, dtype=_DTYPES[size])
    stored = tuple(shape[:-1]) + (values,)
    if data.size != int(np.prod(stored)):
        raise InvalidRequest(f"{what} buffer {path} holds {data.size} values; expected {int(np.prod(stored))} "
                             f"for {fmt} of shape {stored}")
    data = data.reshape(stored)
    if size == 4:   # NaN -> 0 and into [0, 1], in place (a 12 MP photo is 192 MB of floats): fmax drops a NaN
        np.fmin(np.fmax(data, 0.0, out=data), 1.0, out=data)
        if values == shape[-1]:
            return data
    scale = np.float32(1) if size == 4 else np.float32(255 if size == 1 else 65535)
    out = np.empty(shape, np.float32)
    rows_in, rows_out = data.reshape((-1,) + data.shape[-2:]), out.reshape((-1,) + out.shape[-2:])

    def band(y0, y1):   # element by element, on the engine's threads (a 12 MP gray photo and strokes: 0.25 s)
        src, dst = rows_in[y0:y1], rows_out[y0:y1]
        if shape[-1] == 1:   # a mask
            np.divide(src, scale, out=dst, dtype=np.float32)
            return
        np.divide(src[..., :1] if gray else src[..., :3], scale, out=dst[..., :3], dtype=np.float32)
        if shape[-1] == 4:   # the buffer's own alpha, or opaque
            if values in (2, 4):
                np.divide(src[..., -1], scale, out=dst[..., 3], dtype=np.float32)
            else:
                dst[..., 3] = 1.0
    for_each_strip(rows_in.shape[0], rows_in.shape[1], band)
    return out


def write_output(path, arr, fmt, frames=False):
    """An output (float in [0, 1]; with `frames`, one after the other) in babl format `fmt` (protocol.FORMATS):
    float as it is, or rounded to 8 or 16 bits as the CLI writes its files (imageio.quantized), gray copied to
    R, G and B where the format has them. Written under another name first, then renamed."""
    from .imageio import quantized
    values, size, _ = protocol.FORMATS[fmt]
    tmp = path.with_suffix(path.suffix + ".part")
    with open(tmp, "wb") as f:
        for frame in (arr if frames else [arr]):
            if size == 4:
                np.ascontiguousarray(frame, dtype="<f4").tofile(f)
                continue
            q = quantized([frame], 8 * size).astype(_DTYPES[size], copy=False)
            if q.shape[-1] == 1 and values == 3:   # gray to R, G and B after rounding: a third of the work
                q = np.broadcast_to(q, q.shape[:-1] + (3,))
            np.ascontiguousarray(q).tofile(f)
    tmp.replace(path)


def _know_digest(image, path, fmt):
    """In the warm engine, the photo's digest (photo_cache) from the file it was read from: its bytes and format
    say what the floats are, and a gray 8-bit photo's bytes are a twelfth of its float RGB."""
    from .photo_cache import CACHE, digest, know_digest
    if CACHE.enabled:
        know_digest(image, f"{digest(np.fromfile(path, np.uint8))} as {fmt} {image.shape}")


@dataclass
class Job:
    """A job from the plug-in: the request (for an animation: its first frame with the scribbles, mask and
    settings), the backend asked for, where the results go, and an animation's composited frames."""

    request: object
    backend: str | None
    output: Path
    uncertainty_output: Path
    wants_uncertainty: bool
    clip: object = None              # colorcore.frames.Clip for an animation, else None
    output_alpha: Path | None = None
    intervals: tuple | None = None   # (lo path, hi path) when the plug-in asks for RGB intervals
    suggest: tuple | None = None     # (n, path): where to paint next (colorcore.suggest), single photos
    formats: dict | None = None      # each buffer's format (protocol.DEFAULT_FORMATS and the manifest's)


def load_job(manifest_path) -> Job:
    from .contract import ColorizeRequest
    from .frames import Clip, composite_layers
    manifest_path = Path(manifest_path)
    try:
        job = protocol.read_manifest(manifest_path)
    except protocol.ProtocolError as exc:
        raise InvalidRequest(str(exc)) from None
    folder = manifest_path.parent
    w, h, n = job["width"], job["height"], job["frames"]

    def buffer(field, channels=None):
        if job[field] is None:
            return None
        channels = channels or protocol.CHANNELS[field]
        shape = (n if field in protocol.PER_FRAME else 1, h, w, channels)
        arr = read_input(folder, job[field], shape, job["formats"][field], field)
        arr = arr if channels > 1 else arr[..., 0]
        return arr if n > 1 and field in protocol.PER_FRAME else arr[0]
    clip = None
    if n > 1:
        rgb, alpha = composite_layers(buffer("image"), job["combine"])
        clip = Clip(frames=rgb, alpha=alpha)
        first = rgb[0]
    else:   # a photo's alpha is the plug-in's business (it puts it back into the results)
        first = buffer("image", channels=3)
        _know_digest(first, folder / job["image"], job["formats"]["image"])
    wants_intervals = bool(job["intervals_lo"] and job["intervals_hi"])
    if wants_intervals and clip is not None:
        raise InvalidRequest("RGB intervals are for single photos; leave that option off for an animation")
    reference = None
    if job["reference"] is not None:   # RGBA at its own size; transparent pixels are not used (contract)
        reference = read_input(folder, job["reference"], (job["reference_height"], job["reference_width"], 4),
                                job["formats"]["reference"], "reference")
    request = ColorizeRequest(image=first, mode=job["mode"], scribbles=buffer("scribbles"), mask=buffer("mask"),
                              options=job["options"], seed=job["seed"], alpha=job["alpha"], intervals=wants_intervals,
                              reference=reference)
    return Job(request, job["backend"], folder / job["output"], folder / job["uncertainty_output"],
               job["uncertainty"], clip, folder / job["output_alpha"] if job["output_alpha"] else None,
               (folder / job["intervals_lo"], folder / job["intervals_hi"]) if wants_intervals else None,
               # an animation gets no suggestions (its strokes are painted on one frame of many)
               (job["suggest"], folder / job["suggest_output"]) if job["suggest"] and clip is None else None,
               job["formats"])


_finished = threading.Event()


def exit_when_stdin_closes():
    """The plug-in holds our stdin open and never writes; when it dies or cancels (closing the pipe),
    stop at once, on every platform (no reliance on Linux's parent-death signal)."""
    def watch():
        try:
            while sys.stdin.buffer.read(65536):
                pass
        except (OSError, ValueError):
            pass
        os._exit(protocol.EXIT_OK if _finished.is_set() else protocol.EXIT_CANCELLED)
    threading.Thread(target=watch, name="stdin-watch", daemon=True).start()


def _colorize_frames(job):
    """An animation: colour that follows the motion (colorcore.animation). Returns the frames' RGB, their
    uncertainty (divided by the clip-wide scale) or None, that scale and the info for the result line."""
    from .animation import colorize_clip
    from .plugins import load_registry
    from .selection import pick_backend
    r = job.request
    backend = pick_backend(load_registry(), job.backend, r.mode, r.scribbles is not None)
    rgb, unc, info = colorize_clip(job.clip, backend, r.mode, scribbles=r.scribbles, mask=r.mask, options=r.options,
                                   seed=r.seed or 0, alpha=r.alpha, progress=r.progress, reference=r.reference)
    info = dict(info, key_frames=len(info["key_frames"]), cuts=len(info["cuts"]))   # counts for the result line
    return rgb.frames, unc.frames[..., 0] if job.wants_uncertainty else None, info["uncertainty_scale"], info


def _suggest_beside(job, result, steps):
    """Where to paint next (colorcore.suggest), written to the job's file on a thread of its own; returns its
    future. Its time goes into steps["seconds_suggest"]."""
    from concurrent.futures import ThreadPoolExecutor
    from .suggest import suggest, write_suggestions

    def work():
        t = time.perf_counter()
        write_suggestions(job.suggest[1], suggest(result.rgb, result.uncertainty, job.suggest[0],
                                                  scribbles=job.request.scribbles))
        steps["seconds_suggest"] = time.perf_counter() - t
    pool = ThreadPoolExecutor(1)
    future = pool.submit(work)
    pool.shutdown(wait=False)   # takes no more work; the thread runs on until work() returns
    return future


def run_manifest(manifest_path, out=None, exit_with_stdin=False):
    from .imageio import uncertainty_scale
    from .pipeline import colorize
    from .progress import StreamProgress
    out = out or sys.stdout
    if exit_with_stdin:
        exit_when_stdin_closes()
    try:
        steps = {}   # the engine's own steps, in seconds: the result's info carries them (the plug-in logs them)
        t, cpu = time.perf_counter(), time.process_time()
        job = load_job(manifest_path)
        request = job.request
        request.progress = StreamProgress(out, interval=0.2, fmt=protocol.format_progress)
        request.progress(0.0, "starting")
        # the CPU time beside the wall time: a read that waits (on the disk, on another process) shows as less
        steps["seconds_read_cpu"] = time.process_time() - cpu
        steps["seconds_read"], t = time.perf_counter() - t, time.perf_counter()
        places = None
        if job.clip is None:
            result = colorize(request, job.backend)
            rgb, scale, info = result.rgb, uncertainty_scale(result.uncertainty), result.info
            unc = np.clip(result.uncertainty / scale, 0, 1) if job.wants_uncertainty else None
            steps["seconds_colorize"], t = time.perf_counter() - t, time.perf_counter()
            if job.suggest:   # beside the writing below (both let go of the interpreter): 12 MP, ~0.25 s less
                places = _suggest_beside(job, result, steps)
            write_output(job.output, rgb, job.formats["output"])
            print(protocol.format_progress(0.95, protocol.COLOURS_WRITTEN), file=out, flush=True)   # not throttled
            if unc is not None:
                write_output(job.uncertainty_output, unc, job.formats["uncertainty_output"])
                print(protocol.format_progress(0.96, protocol.UNCERTAINTY_WRITTEN), file=out, flush=True)
            for path, arr, field in zip(job.intervals or (), result.intervals or (), ("intervals_lo", "intervals_hi")):
                if arr is not None:
                    write_output(path, arr, job.formats[field])
        else:
            rgb, unc, scale, info = _colorize_frames(job)
            for path, arr, field in ((job.output_alpha, job.clip.alpha, "output_alpha"), (job.output, rgb, "output"),
                                     (job.uncertainty_output, unc, "uncertainty_output")):
                if arr is not None:
                    write_output(path, arr, job.formats[field], frames=True)
        steps["seconds_write"] = time.perf_counter() - t
        if places is not None:
            places.result()   # its error, if any, is this job's
        request.progress(1.0, "done")
        info = dict(info, **{k: round(v, 4) for k, v in steps.items()})
        info = {k: v for k, v in info.items() if isinstance(v, (int, float, str, bool, type(None)))}
        _finished.set()
        print(protocol.format_result(info.get("backend"), scale, request.alpha, info), file=out, flush=True)
        if exit_with_stdin:
            os._exit(protocol.EXIT_OK)   # the plug-in has what it needs: skip the interpreter's teardown (~1 s with torch)
        return protocol.EXIT_OK
    except ColorcoreError as exc:
        print(protocol.format_error(exc), file=sys.stderr, flush=True)
        return exc.exit_code
    except Exception as exc:  # the plug-in shows this line to the user; never a bare traceback
        print(protocol.format_error(f"internal error in the engine: {type(exc).__name__}: {exc}"), file=sys.stderr,
              flush=True)
        return protocol.EXIT_FAILED
