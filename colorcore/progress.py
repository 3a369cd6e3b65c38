"""Progress reporting for long runs: throttled lines on a stream, or nothing; and where a job is cancelled.

Backends report progress often (every pyramid level, every frame), so a progress report is where a running job
learns that it was cancelled: the warm engine hands each job an event (cancel_with) and every progress callback
raises Cancelled once it is set.
"""
import sys
import time

_cancel_event = None   # the running job's cancel event (colorcore.serve), or None


def cancel_with(event):
    """Make `event` (a threading.Event, or None) the one that cancels the job now running."""
    global _cancel_event
    _cancel_event = event


def check_cancel():
    if _cancel_event is not None and _cancel_event.is_set():
        from .errors import Cancelled
        raise Cancelled("cancelled")


class StreamProgress:
    """Callable(fraction, message) that prints at most every `interval` seconds (and always at 100%)."""

    def __init__(self, stream=None, prefix="colorcore", interval=0.5, fmt=None):
        self.stream = stream or sys.stderr
        self.prefix, self.interval = prefix, interval
        self.fmt = fmt or (lambda f, m: f"[{self.prefix}] {100 * f:5.1f}% {m}")
        self._last = -1e9

    def __call__(self, fraction, message=""):
        check_cancel()
        now = time.monotonic()
        if fraction >= 1.0 or now - self._last >= self.interval:
            self._last = now
            print(self.fmt(max(0.0, min(1.0, float(fraction))), message), file=self.stream, flush=True)


def no_progress(fraction, message=""):
    """The progress callback of a caller that shows none (a cancel still stops the job)."""
    check_cancel()
