"""A batch worker: a process that loads the backends once and colorizes items, one at a time, each through
colorcore.batch_file (the path `colorcore colorize` takes). Used by the local pool (concurrent.futures, this
module's `init` as its initializer) and by Dask workers (colorcore.batch_dask's plugin calls `init`)."""
from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

_STATE: dict = {}   # per process: "registry", "threads"


def init(threads: int | None = None, parent_pid: int | None = None, warm: str | None = None):
    """Once per worker process: its thread count (None: colorize's, colorcore.threads), the registry, the
    named backend's weights loaded (`warm`, so the first item does not pay for it), and, in a local pool, an
    exit as soon as the batch's process is gone (a killed batch leaves no worker writing behind it)."""
    if threads:
        os.environ["OMP_NUM_THREADS"] = os.environ["MKL_NUM_THREADS"] = str(threads)
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    else:   # what `colorcore colorize` uses on this machine, so a batch writes the same pixels
        from .threads import prepare_environment
        threads = prepare_environment()
    _set_threads(threads)
    _STATE["threads"] = threads
    if parent_pid:
        threading.Thread(target=_exit_with_parent, args=(parent_pid,), daemon=True).start()
    registry()
    if warm:
        _warm(warm)


def _set_threads(n):
    """torch and OpenCV use n threads (torch reads OMP_NUM_THREADS when it loads; if it is loaded already, set),
    BLAS one (colorcore.threads.limit_blas_threads)."""
    import sys
    import cv2
    from .threads import limit_blas_threads
    limit_blas_threads()
    cv2.setNumThreads(n)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(n)


def _exit_with_parent(parent_pid):
    while os.getppid() == parent_pid:
        time.sleep(0.5)
    os._exit(1)


def registry():
    if "registry" not in _STATE:
        from .plugins import load_registry
        _STATE["registry"] = load_registry()
    return _STATE["registry"]


def _warm(name):
    """Load the backend's network now (a learned backend loads its weights on first use, cached per process)."""
    import numpy as np
    from .contract import ColorizeRequest
    from .pipeline import run_backend
    try:
        backend = registry().get(name)
        if backend.unavailable_reason() is None and "auto" in backend.modes:
            run_backend(backend, ColorizeRequest(image=np.full((32, 32, 3), 0.5, np.float32), mode="auto"))
    except Exception:   # warming is an optimisation: the item itself reports any real problem
        pass


def _one_line(exc) -> str:
    from .errors import ColorcoreError
    text = " ".join(str(exc).split())
    return text if isinstance(exc, ColorcoreError) else f"{type(exc).__name__}: {text}"


def run_item(item, settings: dict) -> dict:
    """Colorize one item; never raises for the item's own trouble: returns {"status": "done"|"failed", ...}
    with the input's size, time and hash as read, the outputs written, seconds and a one-line error."""
    from .batch_file import FileJob, colorize_file, weights_version
    from .batch_items import ANIMATION_SUFFIX
    t0 = time.perf_counter()
    res = {"status": "failed", "worker": f"{socket.gethostname()}:{os.getpid()}",
           "options": settings["options_text"]}
    try:
        if item.problem:
            raise ValueError(item.problem)
        st = Path(item.input).stat()
        res.update(size=st.st_size, mtime_ns=st.st_mtime_ns)
        from .batch_manifest import file_hash
        res["sha256"] = file_hash(item.input)
        job = FileJob(input=Path(item.input), output=Path(item.output), scribbles=item.scribbles, mask=item.mask,
                      backend=settings["backend"], options=dict(settings["options"]), seed=settings["seed"],
                      alpha=settings["alpha"], frame_by_frame=settings["frame_by_frame"],
                      max_megapixels=settings["max_megapixels"])
        from .batch_file import check
        Path(item.output).parent.mkdir(parents=True, exist_ok=True)
        animated = check(job)
        base, suffix = item.output[: -len(Path(item.output).suffix)], Path(item.output).suffix
        if settings["uncertainty"]:   # NAME.uncertainty.png; an animation's in the animation's own format
            job.uncertainty = Path(base + ".uncertainty" + (ANIMATION_SUFFIX.get(suffix.lower(), ".png") if animated
                                                            else ".png"))
        if settings["intervals"] and not animated:   # photos only, as in colorize: NAME.lo.png, NAME.hi.png
            job.intervals = (Path(base + ".lo" + suffix), Path(base + ".hi" + suffix))
        done = colorize_file(job, registry(), animated=animated)
        res.update(status="done", backend=done.backend, mode=done.mode, outputs=[str(p) for p in done.outputs],
                   weights=weights_version(registry().get(done.backend)))
    except Exception as exc:   # the item fails alone, with its reason; the batch goes on
        res["error"] = _one_line(exc)
    res["seconds"] = round(time.perf_counter() - t0, 3)
    res["peak_mb"] = round(peak_rss_mb(), 1)
    return res


def peak_rss_mb() -> float:
    """This process's peak resident memory so far, in MB (Linux and macOS)."""
    import resource
    import sys
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1 << 20) if sys.platform == "darwin" else peak / 1024
