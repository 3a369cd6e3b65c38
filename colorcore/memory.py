"""How the engine's process keeps and gives back freed memory (glibc's malloc; other C libraries: nothing done).

A large array is, by glibc's default, a fresh mmap that is unmapped when freed, so the next run's array of the same
size is faulted in and zeroed anew. On this project's virtual machines that first touch is costly: reading a 12 MP
job's inputs (about 340 MB of floats) took 1.2-1.9 s the first time and 0.36 s once the pages had been used
before. The warm engine runs the same sizes again and again (paint, run, look), so it keeps what it freed for the
next run (keep_freed_memory) and gives it back once idle (give_back_memory). A 12 MP Scribble run in the engine,
alternated with and without: 3.2-4.4 s and ~10,000 page faults a run without, 2.7-3.1 s and ~14 with, peak RSS
+60 MB.

The engine runs each job on a thread of its own (colorcore.serve), and glibc gives other threads arenas of
their own, whose heaps are at most 64 MB: a larger array there is mmapped whatever M_MMAP_MAX says, and unmapped
when freed. So the engine also keeps one arena for all threads (M_ARENA_MAX 1): the first measure alone left a 12
MP job on a thread faulting ~20,000 pages a run (2.2-3.1 s), and with one arena ~25 (1.9-2.5 s, peak RSS 1550 ->
1210 MB).
"""
from __future__ import annotations

# glibc's <malloc.h>
M_TRIM_THRESHOLD = -1
M_MMAP_MAX = -4
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8
# glibc's own ceiling for its sliding mmap threshold on 64-bit (DEFAULT_MMAP_THRESHOLD_MAX), and the trim
# threshold it pairs with it (twice the mmap threshold)
MMAP_THRESHOLD = 32 << 20
TRIM_THRESHOLD = 2 * MMAP_THRESHOLD
NEVER_TRIM = (1 << 31) - 1   # bytes (mallopt takes an int): above any free block at the heap's top


def _libc():
    import ctypes
    try:
        libc = ctypes.CDLL(None)
        return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None
    except OSError:
        return None


def mallopt(param: int, value: int) -> bool:
    """glibc's mallopt; False where there is none or it refused."""
    libc = _libc()
    return bool(libc is not None and libc.mallopt(param, value))


def keep_freed_memory() -> bool:
    """Large arrays from the heap, one heap for every thread, and freed memory kept in the process: the next run,
    on whichever thread, reuses pages already touched. True if glibc took all three settings."""
    return mallopt(M_ARENA_MAX, 1) and mallopt(M_MMAP_MAX, 0) and mallopt(M_TRIM_THRESHOLD, NEVER_TRIM)


def give_back_memory() -> bool:
    """Return the freed memory kept to the system (malloc_trim); True if some was returned."""
    libc = _libc()
    return bool(libc is not None and libc.malloc_trim(0))
