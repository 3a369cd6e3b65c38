"""colorcore/memory.py: the warm engine keeps the pages of freed arrays for the next run, and gives them back."""
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc")

PROBE = r"""
import resource, sys
import numpy as np
from colorcore import memory
if sys.argv[1] == "keep":
    assert memory.keep_freed_memory()
a = np.ones(64 << 20, np.uint8); del a   # a run's array, freed
n0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
a = np.ones(64 << 20, np.uint8)          # the next run's array of the same size
faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - n0
del a
print(faults, int(memory.give_back_memory()))
"""


def probe(mode):
    out = subprocess.run([sys.executable, "-c", PROBE, mode], capture_output=True, text=True, check=True)
    faults, gave_back = map(int, out.stdout.split())
    return faults, gave_back


def test_freed_arrays_are_reused_without_faulting_their_pages_in_again_and_given_back_on_request():
    fresh, _ = probe("default")
    kept, gave_back = probe("keep")
    assert fresh >= 16            # 64 MB faulted in again: 2 MB pages at the very least
    assert kept * 8 < fresh       # the same pages, already there
    assert gave_back == 1         # malloc_trim returned the kept memory
