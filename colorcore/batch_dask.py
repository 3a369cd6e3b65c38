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
    """Set up every worker process of the cluster once: threads as colorize uses them, the registry, the weights."""

    name = "colorcore-batch"

    def __init__(self, warm: str | None):
        self.warm = warm

    def setup(self, worker):
        import os
        from .batch_worker import init
        from .threads import choose_threads
        # colorize's thread count on this machine, for the same pixels: Dask's nanny sets OMP_NUM_THREADS=1 in
        # its workers, which is not the user's choice
        environ = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
        init(threads=choose_threads(environ), warm=self.warm)


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
