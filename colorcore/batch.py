"""`colorcore batch IN OUT`: an archive in one command (docs/batch.md).

Every file of IN (a folder, its tree with recursive=True, or a text file listing paths) is one item, colorized
by warm workers (processes that load the backend once) or on a Dask cluster, into OUT at the same relative
path. A manifest in OUT (colorcore.batch_manifest) records each item, so the same command run again skips what
is done with unchanged inputs and settings; outputs are written atomically; an item that fails is recorded with
its one-line reason and the batch goes on. The CLI's `batch` is a thin layer over run().
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

from . import protocol
from .errors import InvalidRequest
from .imageio import DEFAULT_MAX_MEGAPIXELS

EXIT_SOME_FAILED = 4          # the batch ran to its end but some items failed (their reasons: the manifest)
MODES = ("auto", "scribble", "partial")
LOCK_FILE = "colorcore-batch.lock"
TEMP_PREFIX = ".colorcore-"   # imageio.atomic_write's temporary files: a killed run may leave some behind
# Memory a worker needs: the engine with a learned backend loaded (bench/batch.py measured 414-450 MB peak per
# worker on 1 MP photos with gan, so 450 is kept for the engine), plus about 50 bytes per pixel of the largest
# photo (imageio.DEFAULT_MAX_MEGAPIXELS's figure)
WORKER_BASE_MB = 450.0
WORKER_MB_PER_MEGAPIXEL = 50.0


@dataclass
class Summary:
    done: int
    skipped: int
    failed: int
    total: int
    manifest: Path
    failures_file: Path | None
    seconds: float
    workers: int | str

    @property
    def exit_code(self) -> int:
        return protocol.EXIT_OK if self.failed == 0 else EXIT_SOME_FAILED

    @property
    def line(self) -> str:
        where = f"details: {self.manifest}" + (f"; failures: {self.failures_file}" if self.failures_file else "")
        return f"{self.done} done, {self.skipped} skipped (already done), {self.failed} failed; {where}"


def available_memory_mb() -> float | None:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (ValueError, OSError, AttributeError):
        return None


def _largest_megapixels(items) -> float:
    """The largest photo's size, from the headers (an unreadable file counts as nothing: it fails alone)."""
    from .imageio import open_image
    largest = 0.0
    for item in items:
        try:
            with open_image(item.input) as img:
                largest = max(largest, img.size[0] * img.size[1] / 1e6)
        except Exception:
            continue
    return largest


def choose_workers(requested, items, cores=None, memory_mb=None) -> int:
    """--workers: as many as the cores and the memory allow by default; a larger count that would not fit in
    memory is refused with the figures."""
    from .threads import usable_cores
    cores = cores or usable_cores()
    memory_mb = available_memory_mb() if memory_mb is None else memory_mb
    need = WORKER_BASE_MB + WORKER_MB_PER_MEGAPIXEL * _largest_megapixels(items)
    fit = max(1, int(memory_mb // need)) if memory_mb else cores
    if requested is None:
        return max(1, min(cores, fit, len(items) or 1))
    if requested < 1:
        raise InvalidRequest(f"--workers must be at least 1; got {requested}")
    if memory_mb and requested * need > memory_mb:
        raise InvalidRequest(f"--workers {requested} needs about {requested * need / 1024:.1f} GB ({need:.0f} MB per "
                             f"worker for the largest photo) but {memory_mb / 1024:.1f} GB is available; use "
                             f"--workers {fit} or fewer")
    return requested


def _settings_key(choice, weights, options, seed, alpha, uncertainty, intervals, frame_by_frame, item) -> str:
    """What, besides the input itself, decides an item's results: a change redoes exactly the items it touches."""
    from .batch_manifest import file_hash
    sidecars = {k: file_hash(p) if p else None for k, p in (("scribbles", item.scribbles), ("mask", item.mask))}
    text = json.dumps({"backend": choice[0], "mode": choice[1], "weights": weights, "options": options, "seed": seed,
                       "alpha": alpha, "uncertainty": uncertainty, "intervals": intervals,
                       "frame_by_frame": frame_by_frame, "sidecars": sidecars}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _choices(registry, backend, items, options, alpha):
    """(backend name, mode) for each kind of item (scribbles given?, mask given?), decided by colorcore.selection
    and checked (available, options, alpha) before any work."""
    import numpy as np
    from .contract import ColorizeRequest, validate_request
    from .errors import BackendUnavailable
    from .selection import choose
    found = {}
    for item in items:
        kind = (item.scribbles is not None, item.mask is not None)
        if kind in found or item.problem:
            continue
        chosen, mode = choose(registry, backend, *kind)
        reason = chosen.unavailable_reason()
        if reason:
            raise BackendUnavailable(f"backend {chosen.name!r} is not available: {reason}")
        tiny = np.full((8, 8, 3), 0.5, np.float32)
        validate_request(ColorizeRequest(image=tiny, mode=mode, options=dict(options), alpha=alpha,
                                         scribbles=np.zeros((8, 8, 4), np.float32) if kind[0] else None,
                                         mask=np.ones((8, 8), np.float32) if kind[1] else None), chosen)
        if chosen.calibration() is not None:
            chosen.calibration().check_alpha(alpha)
        found[kind] = (chosen.name, mode)
    return found


def _lock(out: Path):
    fd = os.open(out / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise InvalidRequest(f"another colorcore batch is writing into {out}; wait for it to finish") from None
    return fd


def remove_temporaries(out: Path) -> int:
    """Temporary files a killed run left in OUT (never a result: results are renamed into place whole)."""
    count = 0
    for path in out.rglob(TEMP_PREFIX + "*"):
        if path.is_file():
            path.unlink(missing_ok=True)
            count += 1
    return count


def _run_local(items, workers, settings, on_result, warm):
    """Warm worker processes (spawned: torch is never forked) taking items from a queue; a worker that dies
    (out of memory, a crash in a native library) is replaced and its items retried once, then failed."""
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool
    from .batch_worker import init, run_item
    queue, crashes = list(reversed(items)), {}
    # every worker uses the thread count a lone `colorcore colorize` would (colorcore.threads: the usable cores,
    # passive waiting), not 1 each: torch's last bits depend on it, and a batch must write the same pixels as
    # colorize does for the same photo
    threads = None
    while queue:
        pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"), initializer=init,
                                   initargs=(threads, os.getpid(), warm))
        running, broken = {}, False
        try:
            while (queue or running) and not broken:
                while queue and len(running) < 2 * workers:
                    item = queue.pop()
                    running[pool.submit(run_item, item, settings)] = item
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    item = running.pop(future)
                    try:
                        on_result(item, future.result())
                    except BrokenProcessPool:
                        broken = True
                        running[future] = item
        finally:
            pool.shutdown(wait=not broken, cancel_futures=True)
        for item in running.values():   # the pool broke: every unfinished item is retried once, then failed
            crashes[item.rel] = crashes.get(item.rel, 0) + 1
            if crashes[item.rel] >= 2:
                on_result(item, {"status": "failed", "error": "the worker process died while colorizing it (out "
                                                              "of memory, or a crash); try it alone with colorize"})
            else:
                queue.append(item)


def run(source, out, *, recursive=False, pattern=None, mode="auto", backend=None, options=None, seed=None,
        alpha=protocol.DEFAULT_ALPHA, uncertainty=False, intervals=False, frame_by_frame=False,
        max_megapixels=DEFAULT_MAX_MEGAPIXELS, scribbles_dir=None, mask_dir=None, workers=None, scheduler=None,
        progress="auto", stream=None, registry=None) -> Summary:
    """Colorize every file of `source` into `out` (see the module's text); returns the Summary (its .line is the
    CLI's last line, its .exit_code the CLI's status). Refuses, before any work, what cannot be done: OUT in or
    around IN, an unknown or unavailable backend, bad options, too many workers for the memory."""
    from .batch_items import plan
    from .batch_manifest import FAILURES_FILE, Manifest
    from .batch_progress import Progress
    from .imageio import atomic_write
    from .plugins import load_registry
    if mode not in MODES:
        raise InvalidRequest(f"--mode must be one of {', '.join(MODES)}; got {mode!r}")
    if scheduler and workers is not None:
        raise InvalidRequest("--workers is for this machine; with --scheduler the cluster's workers run the items "
                             "(start more `dask worker` processes instead)")
    options = {k: str(v) for k, v in (options or {}).items()}
    t0 = time.time()
    root, out, items = plan(source, out, recursive=recursive, pattern=pattern, mode=mode,
                            scribbles_dir=scribbles_dir, mask_dir=mask_dir)
    registry = registry or load_registry()
    choices = _choices(registry, backend or None, items, options, alpha)
    n_workers = "dask" if scheduler else choose_workers(workers, items)
    out.mkdir(parents=True, exist_ok=True)
    lock = _lock(out)
    try:
        remove_temporaries(out)
        manifest = Manifest(out)
        from .batch_file import weights_version
        keys, todo, skipped = {}, [], 0
        for item in items:
            choice = choices.get((item.scribbles is not None, item.mask is not None), (backend, mode))
            weights = weights_version(registry.get(choice[0])) if choice[0] in registry.backends else "none"
            keys[item.rel] = _settings_key(choice, weights, options, seed, alpha, uncertainty, intervals,
                                           frame_by_frame, item)
            if not item.problem and manifest.is_done(item, keys[item.rel]):
                skipped += 1
            else:
                todo.append(item)
        shown = Progress(progress, total=len(items), skipped=skipped, stream=stream)
        counts = {"done": 0, "failed": 0}

        def on_result(item, result):
            result.setdefault("options", settings["options_text"])
            manifest.record(item, keys[item.rel], result)
            counts["done" if result["status"] == "done" else "failed"] += 1
            shown.item(item.rel, result)

        settings = {"backend": backend or None, "options": options, "options_text": json.dumps(options, sort_keys=True),
                    "seed": seed, "alpha": alpha, "frame_by_frame": frame_by_frame, "max_megapixels": max_megapixels,
                    "uncertainty": uncertainty, "intervals": intervals}
        runnable = []
        for item in todo:
            if item.problem:
                on_result(item, {"status": "failed", "error": item.problem, "seconds": 0.0})
            else:
                runnable.append(item)
        warm = next(iter(choices.values()))[0] if choices else None
        if runnable and scheduler:
            from .batch_dask import run as run_dask
            run_dask(runnable, scheduler, settings, on_result, warm=warm)
        elif runnable:
            _run_local(runnable, n_workers, settings, on_result, warm)
        remove_temporaries(out)
        failures = manifest.failures([i.rel for i in items])
        failures_file = out / FAILURES_FILE
        if failures:
            text = "".join(f"{rel}\t{error}\n" for rel, error in failures)
            atomic_write(failures_file, lambda tmp: Path(tmp).write_text(text))
        elif failures_file.exists():
            failures_file.unlink()
        summary = Summary(counts["done"], skipped, counts["failed"], len(items), manifest.path,
                          failures_file if failures else None, time.time() - t0, n_workers)
        manifest.record_run(t0, settings["options_text"], summary.done, summary.skipped, summary.failed)
        manifest.close()
        shown.close({"done": summary.done, "skipped": summary.skipped, "failed": summary.failed,
                     "total": summary.total, "manifest": str(summary.manifest), "seconds": round(summary.seconds, 2)})
        return summary
    finally:
        os.close(lock)
