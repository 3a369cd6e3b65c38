"""The GIMP side's door into the engine: a JSON manifest plus raw little-endian float32 buffers.

`python -m colorcore gimp-run MANIFEST` reads the job, prints progress lines and a final result line on stdout,
writes the result and uncertainty buffers (the radius divided by the scale in the result line), and on failure
prints one error line on stderr and exits with the error's code. The grammar, the buffer names and the exit codes
are `colorcore.protocol`'s, shared with the plug-in. No pickle anywhere: only JSON and raw float buffers.
"""
from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

import numpy as np

from . import protocol
from .errors import ColorcoreError, InvalidRequest


def _read_f32(folder, name, shape, what):
    path = folder / name
    if not path.is_file():
        raise InvalidRequest(f"{what} buffer not found: {path}")
    data = np.fromfile(path, dtype="<f4")
    if data.size != int(np.prod(shape)):
        raise InvalidRequest(f"{what} buffer {path} holds {data.size} floats; expected {int(np.prod(shape))} "
                             f"for shape {shape}")
    return np.ascontiguousarray(np.clip(np.nan_to_num(data.reshape(shape)), 0.0, 1.0), np.float32)


def _write_f32(path, arr):
    tmp = path.with_suffix(path.suffix + ".part")
    np.ascontiguousarray(arr, dtype="<f4").tofile(tmp)
    tmp.replace(path)


def load_job(manifest_path):
    """Manifest -> (ColorizeRequest, backend name, output paths, wants uncertainty)."""
    from .contract import ColorizeRequest
    manifest_path = Path(manifest_path)
    try:
        job = protocol.read_manifest(manifest_path)
    except protocol.ProtocolError as exc:
        raise InvalidRequest(str(exc)) from None
    folder = manifest_path.parent
    w, h = job["width"], job["height"]

    def buffer(field):
        if job[field] is None:
            return None
        shape = (h, w) if protocol.CHANNELS[field] == 1 else (h, w, protocol.CHANNELS[field])
        return _read_f32(folder, job[field], shape, field)
    rgba = buffer("image")
    request = ColorizeRequest(image=np.ascontiguousarray(rgba[..., :3]), mode=job["mode"],
                              scribbles=buffer("scribbles"), mask=buffer("mask"),
                              options=job["options"], seed=job["seed"], alpha=job["alpha"])
    outputs = (folder / job["output"], folder / job["uncertainty_output"])
    return request, job["backend"], outputs, job["uncertainty"]


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


def run_manifest(manifest_path, out=None, exit_with_stdin=False):
    from .imageio import uncertainty_scale
    from .pipeline import colorize
    from .progress import StreamProgress
    out = out or sys.stdout
    if exit_with_stdin:
        exit_when_stdin_closes()
    try:
        request, backend, (rgb_path, unc_path), want_unc = load_job(manifest_path)
        request.progress = StreamProgress(out, interval=0.2, fmt=protocol.format_progress)
        request.progress(0.0, "starting")
        result = colorize(request, backend)
        _write_f32(rgb_path, result.rgb)
        scale = uncertainty_scale(result.uncertainty)
        if want_unc:
            _write_f32(unc_path, np.clip(result.uncertainty / scale, 0, 1))
        request.progress(1.0, "done")
        info = {k: v for k, v in result.info.items() if isinstance(v, (int, float, str, bool, type(None)))}
        _finished.set()
        print(protocol.format_result(result.info.get("backend"), scale, request.alpha, info), file=out, flush=True)
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
