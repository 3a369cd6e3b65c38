"""How a batch shows its progress: a tqdm bar (photos/min, time left) on a terminal, plain lines when the output
is not one, JSON lines for other programs (`--progress json`), or nothing."""
from __future__ import annotations

import json
import sys
import time

KINDS = ("auto", "bar", "lines", "json", "none")


class Progress:
    def __init__(self, kind="auto", total=0, skipped=0, stream=None):
        self.stream = stream or sys.stderr
        if kind == "auto":
            kind = "bar" if self.stream.isatty() else "lines"
        self.kind, self.total, self.skipped = kind, total, skipped
        self.finished = self.failed = 0
        self.t0 = time.monotonic()
        self.bar = None
        if kind == "bar":
            from tqdm import tqdm
            self.bar = tqdm(total=total, initial=skipped, unit="photo", file=self.stream, dynamic_ncols=True,
                            smoothing=0.1, bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} [{elapsed}<{remaining}{postfix}"
                                                      "]")
            self.bar.set_postfix_str("photos/min -")

    def rate(self) -> float:
        """Photos per minute this run (skipped ones do not count)."""
        elapsed = time.monotonic() - self.t0
        return 60.0 * self.finished / elapsed if elapsed > 0 else 0.0

    def left_s(self) -> float | None:
        rate = self.rate()
        remaining = self.total - self.skipped - self.finished
        return 60.0 * remaining / rate if rate > 0 else None

    def item(self, rel, result):
        self.finished += 1
        self.failed += result["status"] == "failed"
        position = self.skipped + self.finished
        if self.kind == "bar":
            self.bar.set_postfix_str(f"{self.rate():.1f} photos/min" + (f", {self.failed} failed" if self.failed else ""))
            self.bar.update(1)
        elif self.kind == "lines":
            left = self.left_s()
            what = "done" if result["status"] == "done" else f"FAILED: {result.get('error')}"
            print(f"[colorcore batch] {position}/{self.total} {rel}: {what} ({result.get('seconds', 0):.1f} s); "
                  f"{self.rate():.1f} photos/min" + (f", {left / 60:.1f} min left" if left is not None else ""),
                  file=self.stream, flush=True)
        elif self.kind == "json":
            left = self.left_s()
            print(json.dumps({"event": "item", "rel": rel, "status": result["status"], "error": result.get("error"),
                              "seconds": result.get("seconds"), "worker": result.get("worker"),
                              "peak_mb": result.get("peak_mb"), "position": position, "total": self.total,
                              "photos_per_min": round(self.rate(), 2),
                              "seconds_left": None if left is None else round(left, 1)}), flush=True)

    def close(self, summary: dict):
        if self.bar is not None:
            self.bar.close()
        if self.kind == "json":
            print(json.dumps({"event": "summary", **summary}), flush=True)
