"""Progress reporting for long runs: throttled lines on a stream, or nothing."""
import sys
import time


class StreamProgress:
    """Callable(fraction, message) that prints at most every `interval` seconds (and always at 100%)."""

    def __init__(self, stream=None, prefix="colorcore", interval=0.5, fmt=None):
        self.stream = stream or sys.stderr
        self.prefix, self.interval = prefix, interval
        self.fmt = fmt or (lambda f, m: f"[{self.prefix}] {100 * f:5.1f}% {m}")
        self._last = -1e9

    def __call__(self, fraction, message=""):
        now = time.monotonic()
        if fraction >= 1.0 or now - self._last >= self.interval:
            self._last = now
            print(self.fmt(max(0.0, min(1.0, float(fraction))), message), file=self.stream, flush=True)


def no_progress(fraction, message=""):
    """The progress callback of a caller that shows none."""
