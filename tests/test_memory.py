"""colorcore/memory.py: the warm engine keeps the pages of freed arrays for the next run, and gives them back."""
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc")

PROBE = r"""
import resource, sys, threading
import numpy as np
from colorcore import memory
if sys.argv[1] == "keep":
    assert memory.keep_freed_memory()


def job():   # a run's array of 96 MB (more than a thread's own 64 MB heap), freed when the run ends
    np.ones(96 << 20, np.uint8)


def on_a_thread(work):   # as the warm engine runs each job: on a thread of its own
    t = threading.Thread(target=work); t.start(); t.join()


run = on_a_thread if sys.argv[2] == "thread" else (lambda work: work())
run(job)
n0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
run(job)                                     # the next run's array of the same size
faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - n0
print(faults, int(memory.give_back_memory()))
"""


def probe(mode, where="main"):
    out = subprocess.run([sys.executable, "-c", PROBE, mode, where], capture_output=True, text=True, check=True)
    faults, gave_back = map(int, out.stdout.split())
    return faults, gave_back


@pytest.mark.parametrize("where", ["main", "thread"])
def test_freed_arrays_are_reused_without_faulting_their_pages_in_again_and_given_back_on_request(where):
    fresh, _ = probe("default", where)
    kept, gave_back = probe("keep", where)
    assert fresh >= 24            # 96 MB faulted in again: 2 MB pages at the very least
    assert kept * 8 < fresh       # the same pages, already there, on the engine's job threads too
    assert gave_back == 1         # malloc_trim returned the kept memory
