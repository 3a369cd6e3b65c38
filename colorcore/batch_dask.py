"""`colorcore batch --scheduler ADDRESS`: the batch's items on an existing Dask distributed cluster.

Dask does the placement, the retries and the recovery from lost workers (a task whose worker dies runs on
another one); we give it one task per item. A worker plugin loads the backend once in every worker process
(including workers that join later); the manifest stays the single record, written here by the client as
results come back. IN and OUT must be on a filesystem every worker sees. Outputs are written atomically, so a
worker lost mid-item leaves no partial result (its temporary file is removed by the client at the end).
"""
from __future__ import annotations

import uuid

from distributed import Client, as_completed
from distributed.diagnostics.plugin import WorkerPlugin

from .errors import InvalidRequest


class WarmBackend(WorkerPlugin):
    """Set up every worker process of the cluster once: the nanny's environment undone where it costs us, threads
    as colorize uses them, the registry, the weights."""

    name = "colorcore-batch"

    def __init__(self, warm: str | None):
        self.warm = warm

    def setup(self, worker):
        import os
        from .batch_worker import init
        from .threads import choose_threads
        # Dask's nanny starts its workers with its own distributed.nanny.pre-spawn-environ (Dask's defaults, not
        # the user's choice); two of its settings cost us. MALLOC_TRIM_THRESHOLD_ first, so that loading the
        # model below gains too.
        undo_malloc_trim()
        # OMP_NUM_THREADS=1: colorize's thread count on this machine instead, for the same pixels
        environ = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
        init(threads=choose_threads(environ), warm=self.warm)


def undo_malloc_trim() -> bool:
    """Give a worker the nanny started glibc's large-block reuse back; True if it was changed.

    The nanny's MALLOC_TRIM_THRESHOLD_=65536 also freezes glibc's mmap threshold at 128 KB, so every array over
    128 KB an item makes is a fresh mmap whose pages the kernel faults in and zeroes, then unmaps. Measured with
    gan on 1202x802 photos (runs/probe32): about 290,000 page faults and 1 s of system time per item against
    5,000 and 0.05 s in a `--workers` worker, twice the CPU per item, which made two Dask workers as slow as one
    local worker (docs/batch.md, Speed). glibc reads the variable only at start, so mallopt sets the most its
    sliding thresholds reach in a local worker. Other C libraries do not read the variable: nothing to
    undo."""
    import os
    from . import memory
    if "MALLOC_TRIM_THRESHOLD_" not in os.environ:   # glibc's sliding thresholds are on: keep them
        return False
    return (memory.mallopt(memory.M_MMAP_THRESHOLD, memory.MMAP_THRESHOLD)
            and memory.mallopt(memory.M_TRIM_THRESHOLD, memory.TRIM_THRESHOLD))


def run(items, scheduler, settings, on_result, warm=None, connect_timeout=30):
    """Run `items` (batch_items.Item) on the cluster at `scheduler`; on_result(item, result) for each, here in
    the client, as they finish. A task that fails even after Dask's retries (its workers kept dying) is
    reported as a failed item."""
    from .batch_worker import run_item
    try:
        client = Client(scheduler, timeout=connect_timeout)
    except (OSError, TimeoutError) as exc:
        raise InvalidRequest(f"cannot reach the Dask scheduler at {scheduler} ({exc}); start one (`dask scheduler`) "
                             "or check the address") from None
    try:
        client.register_plugin(WarmBackend(warm))
        token = uuid.uuid4().hex[:8]
        futures = {client.submit(run_item, item, settings, key=f"colorcore-batch-{token}-{i}", pure=False): item
                   for i, item in enumerate(items)}
        for future in as_completed(futures):
            item = futures.pop(future)
            try:
                result = future.result()
            except Exception as exc:   # KilledWorker (its workers kept dying), or the task could not run
                result = {"status": "failed", "error": f"the Dask task failed: {type(exc).__name__}: "
                                                       f"{' '.join(str(exc).split())}"}
            on_result(item, result)
    finally:
        client.close()
