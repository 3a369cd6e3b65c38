"""The GIMP side's door into the engine: a JSON manifest plus raw little-endian float32 buffers.

`python -m colorcore gimp-run MANIFEST` reads the job, prints `PROGRESS <fraction> <message>` lines and a
final `RESULT <json>` line on stdout, writes result.f32 (H*W*3 sRGB) and uncertainty.f32 (H*W, radius
divided by the scale in RESULT). Errors: exit 2 bad input, 3 backend unavailable, 1 other; `ERROR <msg>` on stderr.
No pickle anywhere: only JSON and raw float buffers.
"""
from __future__ import annotations

import json
import os
import sys
import threading
from pathlib import Path

import numpy as np

from .errors import ColorcoreError, InvalidRequest

PROTOCOL_VERSION = 1


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
        job = json.loads(manifest_path.read_text())
    except (OSError, ValueError) as exc:
        raise InvalidRequest(f"cannot read the job manifest {manifest_path}: {exc}") from None
    if job.get("version") != PROTOCOL_VERSION:
        raise InvalidRequest(f"manifest version {job.get('version')!r} is not {PROTOCOL_VERSION}; "
                             "reinstall the plug-in and the engine together (python install.py)")
    folder = manifest_path.parent
    w, h = int(job["width"]), int(job["height"])
    rgba = _read_f32(folder, job["image"], (h, w, 4), "image")
    scribbles = _read_f32(folder, job["scribbles"], (h, w, 4), "scribbles") if job.get("scribbles") else None
    mask = _read_f32(folder, job["mask"], (h, w), "mask") if job.get("mask") else None
    request = ColorizeRequest(image=np.ascontiguousarray(rgba[..., :3]), mode=job.get("mode", "auto"),
                              scribbles=scribbles, mask=mask, options=job.get("options") or {},
                              seed=job.get("seed"), alpha=float(job.get("alpha", 0.1)))
    outputs = (folder / job.get("output", "result.f32"), folder / job.get("uncertainty_output", "uncertainty.f32"))
    return request, job.get("backend"), outputs, bool(job.get("uncertainty", True))


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
        os._exit(0 if _finished.is_set() else 130)
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
        request.progress = StreamProgress(out, interval=0.2, fmt=lambda f, m: f"PROGRESS {f:.4f} {m}")
        request.progress(0.0, "starting")
        result = colorize(request, backend)
        _write_f32(rgb_path, result.rgb)
        scale = uncertainty_scale(result.uncertainty)
        if want_unc:
            _write_f32(unc_path, np.clip(result.uncertainty / scale, 0, 1))
        request.progress(1.0, "done")
        info = {k: v for k, v in result.info.items() if isinstance(v, (int, float, str, bool, type(None)))}
        _finished.set()
        print("RESULT " + json.dumps({"backend": result.info.get("backend"), "uncertainty_scale": scale,
                                      "alpha": request.alpha, "info": info}), file=out, flush=True)
        if exit_with_stdin:
            os._exit(0)   # the plug-in has what it needs: skip the interpreter's teardown (~1 s with torch)
        return 0
    except ColorcoreError as exc:
        print(f"ERROR {exc}", file=sys.stderr, flush=True)
        return exc.exit_code
    except Exception as exc:  # the plug-in shows this line to the user; never a bare traceback
        print(f"ERROR internal error in the engine: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
        return 1
