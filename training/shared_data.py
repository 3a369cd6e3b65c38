"""Where the project's photo collections live: `../shared/data`, beside the checkout, never inside it (see its
README for what may be used and under which licence). Benchmarks, tests and training tools find it here.

A clone made elsewhere (`git clone /work/main /tmp/x`) has no `../shared` beside it; it finds the data beside
the repository it was cloned from, or where $COLORCORE_SHARED_DATA points.
"""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

ENV = "COLORCORE_SHARED_DATA"
REPO = Path(__file__).resolve().parents[1]


def _origin_checkout(repo):
    """The local folder this checkout was cloned from, if it was cloned from a local folder."""
    try:
        url = subprocess.run(["git", "-C", str(repo), "config", "--get", "remote.origin.url"], capture_output=True,
                             text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    if not url or "://" in url and not url.startswith("file://") or url.startswith("git@"):
        return None
    path = Path(url.removeprefix("file://"))
    path = path if path.is_absolute() else (repo / path)
    return path.parent if path.name == ".git" else path


def shared_data(repo=REPO) -> Path:
    """The data folder: $COLORCORE_SHARED_DATA, else ../shared/data beside the checkout, else beside the checkout
    it was cloned from; the first of the last two when none exists (callers then say it is missing)."""
    if os.environ.get(ENV):
        return Path(os.environ[ENV])
    beside = Path(repo).parent / "shared" / "data"
    if beside.is_dir():
        return beside
    origin = _origin_checkout(repo)
    if origin is not None and (origin.parent / "shared" / "data").is_dir():
        return origin.parent / "shared" / "data"
    return beside
