"""The batch's record in OUT: one row per item (input path, size, modification time and content hash, backend,
weights version, options, status, seconds, error line, outputs), written only by the client.

SQLite (stdlib sqlite3) rather than JSON lines: every item's row is committed in its own transaction, so a
kill at any moment leaves the manifest as it was after the last finished item (no torn last line to repair);
rows are looked up by path without reading the whole file (40,000 items); and a rerun replaces a row instead
of appending ever more lines. `sqlite3 OUT/colorcore-batch.sqlite 'select rel, error from items where
status = "failed"'` reads it; the failures are also written as a plain text file for people.
"""
from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from pathlib import Path

FILE = "colorcore-batch.sqlite"
FAILURES_FILE = "colorcore-batch-failures.txt"
SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
    rel TEXT PRIMARY KEY,        -- path relative to IN
    input TEXT NOT NULL,
    size INTEGER, mtime_ns INTEGER, sha256 TEXT,   -- the input as it was read
    settings TEXT,               -- hash of what else decides the result (backend, weights, options, sidecars)
    backend TEXT, mode TEXT, weights TEXT, options TEXT,
    status TEXT NOT NULL,        -- done | failed
    seconds REAL, error TEXT, outputs TEXT, worker TEXT, finished REAL
);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY, started REAL, finished REAL, settings TEXT,
    done INTEGER, skipped INTEGER, failed INTEGER
);
"""


def file_hash(path, block=1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(block), b""):
            h.update(chunk)
    return h.hexdigest()


class Manifest:
    def __init__(self, out):
        self.path = Path(out) / FILE
        self.db = sqlite3.connect(self.path, timeout=60)
        self.db.executescript(SCHEMA)
        self.db.commit()

    def close(self):
        self.db.close()

    def row(self, rel) -> dict | None:
        cur = self.db.execute("SELECT * FROM items WHERE rel = ?", (rel,))
        values = cur.fetchone()
        return None if values is None else dict(zip([d[0] for d in cur.description], values))

    def is_done(self, item, settings: str) -> bool:
        """Done before with this input (same size and time, or else the same content) and these settings, and
        its results are all still there."""
        row = self.row(item.rel)
        if row is None or row["status"] != "done" or row["settings"] != settings or row["input"] != item.input:
            return False
        if not all(Path(p).is_file() for p in json.loads(row["outputs"] or "[]")):
            return False
        try:
            st = Path(item.input).stat()
        except OSError:
            return False
        if (st.st_size, st.st_mtime_ns) == (row["size"], row["mtime_ns"]):
            return True
        if st.st_size != row["size"] or file_hash(item.input) != row["sha256"]:
            return False
        self.db.execute("UPDATE items SET mtime_ns = ? WHERE rel = ?", (st.st_mtime_ns, item.rel))   # touched only
        self.db.commit()
        return True

    def record(self, item, settings: str, result: dict):
        """One finished item (done or failed), committed at once."""
        self.db.execute(
            "INSERT OR REPLACE INTO items (rel, input, size, mtime_ns, sha256, settings, backend, mode, weights, "
            "options, status, seconds, error, outputs, worker, finished) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (item.rel, item.input, result.get("size"), result.get("mtime_ns"), result.get("sha256"), settings,
             result.get("backend"), result.get("mode"), result.get("weights"), result.get("options"),
             result["status"], result.get("seconds"), result.get("error"), json.dumps(result.get("outputs") or []),
             result.get("worker"), time.time()))
        self.db.commit()

    def record_run(self, started, settings, done, skipped, failed):
        self.db.execute("INSERT INTO runs (started, finished, settings, done, skipped, failed) VALUES (?,?,?,?,?,?)",
                        (started, time.time(), settings, done, skipped, failed))
        self.db.commit()

    def failures(self, rels) -> list:
        """(rel, error) of the given items that stand failed."""
        rows = self.db.execute("SELECT rel, error FROM items WHERE status = 'failed' ORDER BY rel").fetchall()
        wanted = set(rels)
        return [(r, e) for r, e in rows if r in wanted]
