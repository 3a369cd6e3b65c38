"""How many threads the engine's numeric libraries use: the cores it may use that are not busy.

The engine shares the machine with GIMP (and with whatever else runs). Left alone, torch and OpenMP start one
spinning thread per core: on a busy 2-core machine a 0.3 MP Auto run then took 13 s instead of 0.8 s, threads
fighting each other and the other job. So the engine takes the cores its CPU affinity allows, less the load
already on them (the 1-minute load average, less what this process itself adds), at least one; and OpenMP
waits passively (no spin-wait against GIMP). COLORCORE_THREADS=N overrides the choice; an OMP_NUM_THREADS the
user set is respected too.
"""
from __future__ import annotations

import math
import os
import time
from collections import deque

ENV = "COLORCORE_THREADS"
_user_omp = None        # OMP_NUM_THREADS as the user set it (None: not set), read by prepare_environment
_prepared = False      # prepare_environment ran in this process
_cpu_samples = deque()  # (monotonic, process CPU seconds): this process's own share of the load average


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity), or all of them where the OS has no affinity."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def choose_threads(environ=None, cores=None, load=None, own_threads=0) -> int:
    """Threads for the next job: COLORCORE_THREADS if set; else the usable cores minus the load other processes
    put on them (load: the 1-minute load average; own_threads: how much of it is this process's own work),
    rounded to the nearest whole core, at least 1."""
    environ = os.environ if environ is None else environ
    if environ.get(ENV, "").strip():
        try:
            return max(1, int(environ[ENV]))
        except ValueError:
            pass   # a bad value is ignored, not fatal: the automatic choice follows
    cores = usable_cores() if cores is None else cores
    if load is None:
        try:
            load = os.getloadavg()[0]
        except (AttributeError, OSError):
            load = 0.0
    others = max(0.0, load - own_threads)
    return max(1, min(cores, math.floor(cores - others + 0.5)))


def prepare_environment(environ=None) -> int:
    """Before torch or OpenMP load (the CLI and the warm engine call it first): OpenMP waits passively and
    starts with the chosen thread count, unless the user set OMP_NUM_THREADS. Returns the count."""
    global _user_omp, _prepared
    environ = os.environ if environ is None else environ
    if _prepared and environ is os.environ:   # once per process: later calls would take our own setting for
        return int(environ["OMP_NUM_THREADS"])  # the user's
    _prepared = environ is os.environ
    _user_omp = environ.get("OMP_NUM_THREADS") or None
    n = choose_threads(environ)
    environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    if not environ.get("OMP_NUM_THREADS"):
        environ["OMP_NUM_THREADS"] = str(n)
        environ.setdefault("MKL_NUM_THREADS", str(n))
    return int(environ["OMP_NUM_THREADS"]) if environ["OMP_NUM_THREADS"].isdigit() else n


def own_load(window=60.0) -> float:
    """This process's average CPU use (in cores) over about the last `window` seconds: the part of the load
    average that is our own work, which must not make the engine think the machine is busy."""
    now, cpu = time.monotonic(), time.process_time()
    _cpu_samples.append((now, cpu))
    while len(_cpu_samples) > 2 and now - _cpu_samples[1][0] >= window:
        _cpu_samples.popleft()
    t0, c0 = _cpu_samples[0]
    return (cpu - c0) / (now - t0) if now - t0 > 1.0 else 0.0


def threads_for_job() -> int:
    """The count for the warm engine's next job: the user's OMP_NUM_THREADS if they set one, else the choice
    made now, from the current load less this engine's own."""
    if _user_omp and _user_omp.isdigit() and not os.environ.get(ENV):
        return max(1, int(_user_omp))
    return choose_threads(own_threads=own_load())


def apply(n: int) -> None:
    """Set torch's and OpenCV's thread counts for the next job (the warm engine calls it per job, as load
    changes). torch is only touched if something already imported it."""
    import sys
    import cv2
    cv2.setNumThreads(n)
    torch = sys.modules.get("torch")
    if torch is not None and torch.get_num_threads() != n:
        torch.set_num_threads(n)
