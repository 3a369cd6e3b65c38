"""How the engine's numeric libraries use threads: one per core it may use, waiting passively.

The engine shares the machine with GIMP and whatever else runs. OpenMP (under torch) by default keeps its idle
threads spinning: on the 2-core machine, with other jobs running, a 0.3 MP Auto run took 23 s and 6 s with
2 spinning threads, 1.0 and 1.2 s with 2 passive ones and 1.3 and 1.4 s with one thread (measured alternately in
the same minute, load average 8.5; bench/engine.py measures it side by side). So the engine lets OpenMP wait
passively and uses the cores its CPU affinity allows.

The count does not follow the load on purpose: torch's results differ in the last bits between thread counts
(up to 5e-7 in the network's output here), and a photo must come out the same however busy the machine was.
COLORCORE_THREADS=N, or an OMP_NUM_THREADS the user set, overrides the count.
"""
from __future__ import annotations

import os

ENV = "COLORCORE_THREADS"


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity), or all of them where the OS has no affinity."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def choose_threads(environ=None, cores=None) -> int:
    """COLORCORE_THREADS if set (a bad value is ignored), else the user's OMP_NUM_THREADS, else the usable
    cores."""
    environ = os.environ if environ is None else environ
    for name in (ENV, "OMP_NUM_THREADS"):
        value = environ.get(name, "").strip()
        if value.isdigit() and int(value) > 0:
            return int(value)
    return usable_cores() if cores is None else cores


def prepare_environment(environ=None) -> int:
    """Before torch or OpenMP load (the CLI and the warm engine call it first): OpenMP waits passively and
    starts with the chosen count. Returns the count."""
    environ = os.environ if environ is None else environ
    n = choose_threads(environ)
    environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    environ["OMP_NUM_THREADS"] = str(n)
    environ.setdefault("MKL_NUM_THREADS", str(n))
    limit_blas_threads(environ)
    return n


def limit_blas_threads(environ=None) -> int:
    """BLAS (the OpenBLAS inside numpy, SciPy and OpenCV) on one thread, or on the OPENBLAS_NUM_THREADS the
    user set: in the libraries loaded already (threadpoolctl) and those loaded later (the variable). OpenBLAS's
    threads spin while they wait, and with another job on the machine a spinning thread that has lost its core
    stalls every call: the suggestions' sparse solve (BLAS inside SuperLU, 1 MP photo) took 1.2-5.9 s with two
    BLAS threads and one core busy, 0.16-0.18 s with one; on an idle machine two gained nothing. The engine's
    parallel work is torch's (OpenMP, waiting passively) and its own bands and planes. Returns the count."""
    environ = os.environ if environ is None else environ
    value = environ.get("OPENBLAS_NUM_THREADS", "").strip()
    n = int(value) if value.isdigit() and int(value) > 0 else 1
    environ["OPENBLAS_NUM_THREADS"] = str(n)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:   # an engine installed before the dependency: the variable still covers later loads
        return n
    threadpool_limits(limits=n, user_api="blas")
    return n


def map_on_threads(work, items, threads=None) -> list:
    """[work(item) for item in items], shared out among `threads` threads (default the engine's count,
    choose_threads): numpy, OpenCV and SuperLU let go of the interpreter on large arrays, so the items run side by
    side. On one thread, or for one item, in this thread. The caller fixes the items, not the thread count, so
    the numbers are the same for any number of threads."""
    items = list(items)
    threads = min(choose_threads() if threads is None else threads, len(items))
    if threads < 2:
        return [work(item) for item in items]
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(work, items))
