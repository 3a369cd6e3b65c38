"""Helpers shared by the benchmarks: output folder, table printing, plots."""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

from training.shared_data import shared_data

SHARED_DATA = shared_data()


def out_dir(path):
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    return path


def print_table(header, rows):
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) for i, h in enumerate(header)]
    line = " | ".join(str(h).ljust(w) for h, w in zip(header, widths))
    print(line)
    print("-|-".join("-" * w for w in widths))
    for row in rows:
        print(" | ".join(str(c).ljust(w) for c, w in zip(row, widths)))


def mean_sem(values):
    """Mean over photos and its standard error (sample standard deviation / sqrt(n); 0 for a single photo)."""
    import numpy as np
    v = np.asarray(values, float)
    return float(v.mean()), (float(v.std(ddof=1) / np.sqrt(len(v))) if len(v) > 1 else 0.0)


def macro_mean(per_source):
    """The macro mean: every source weighted equally, whatever its number of photos. per_source is
    [(mean, standard error), ...], one pair per source (mean_sem's); returns (mean of the means, its standard
    error sqrt(sum of the squared errors) / K for K sources: the sources' photos are independent draws). Beside
    it the pooled mean weighs every photo equally, so a source with many photos, or a large gain, carries it."""
    import numpy as np
    pairs = np.asarray(list(per_source), float).reshape(-1, 2)
    if not len(pairs):
        raise ValueError("macro mean of no sources")
    return float(pairs[:, 0].mean()), float(np.sqrt((pairs[:, 1] ** 2).sum()) / len(pairs))


def first_n(files, n, root):
    """The first n files (0 = all) in the one fixed order of every subset: by the SHA-1 of each file's path
    relative to root (training.gan.data.hash_order), not alphabetical."""
    from training.gan.data import first_n as _first_n
    return _first_n(files, n, root)


def save_json(path, data):
    data = dict(data, machine={"cpus": os.cpu_count(), "load_avg": os.getloadavg(), "time": time.ctime()})
    Path(path).write_text(json.dumps(data, indent=2) + "\n")


def grouped_bars(ax, labels, series, ylabel, fontsize=None):
    """One group of bars per label, one bar per series ({name: [value per label]}), with a legend."""
    width = 0.8 / max(len(series), 1)
    for i, (name, values) in enumerate(series.items()):
        ax.bar([j + width * i for j in range(len(labels))], values, width=width, label=name)
    ax.set_xticks([j + width * (len(series) - 1) / 2 for j in range(len(labels))], labels, fontsize=fontsize)
    ax.set_ylabel(ylabel)
    ax.legend()


def pyplot():
    """matplotlib's pyplot on the file-only backend (benchmarks run on machines without a display)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt
