"""The files one CLI run reads and writes must be distinct: an output never replaces an input or the other output.

Checked before any work. "The same file" is decided on the file system, not on the strings the user typed:
`photo.png`, `./photo.png`, `../here/photo.png`, a symlink to it, a hard link to it, or `PHOTO.PNG` on a
case-insensitive disk all name the same photo.
"""
from __future__ import annotations

import os
from pathlib import Path

from .errors import InvalidRequest


def same_file(a, b) -> bool:
    a, b = Path(a), Path(b)
    if a.exists() and b.exists():
        try:
            return os.path.samefile(a, b)   # hard links and case-insensitive names too
        except OSError:
            pass
    return os.path.normcase(a.resolve()) == os.path.normcase(b.resolve())


def check_distinct(outputs, inputs):
    """outputs, inputs: [(what, path or None)]. InvalidRequest when an output is an input or another output."""
    outputs = [(what, path) for what, path in outputs if path]
    inputs = [(what, path) for what, path in inputs if path]
    for i, (what, path) in enumerate(outputs):
        for other, source in inputs:
            if same_file(path, source):
                raise InvalidRequest(f"the {what} {path} is the {other} {source}; writing it would destroy the "
                                     f"{other}: choose another file name for the {what}")
        for other, earlier in outputs[:i]:
            if same_file(path, earlier):
                raise InvalidRequest(f"the {other} {earlier} and the {what} {path} are the same file; one would "
                                     "overwrite the other: give them different names")
