"""Target/reference pairs that truly share colours, for the `reference` backend's calibration and benchmark.

Three kinds (issue 31):
- framing: one photo, two overlapping crops of about 70 % of it each, offset by about a third of a crop, the
  reference at another scale;
- scene: two frames of one drive (CamVid, frames named <sequence>_<number> at 30 numbers per second), `gap`
  seconds apart;
- kind: two photos of one flower species or one kind of pet (the collections name them in the file name).
A pair is (name, source, target RGB, reference RGB); the target is what gets colorized and scored.
"""
from __future__ import annotations

import re
from pathlib import Path

import cv2
import numpy as np

from training.evaluation import load_rgb

CROP = 0.7
MAX_SIDE = 512     # pairs are made at most this large (longer side): the benchmark's photos are smaller anyway
FRAMES_PER_NUMBER = 1 / 30.0   # CamVid frame numbers count 30 per second (0016E5 keeps every 2nd: 15 frames/s)


def limited(rgb, side=MAX_SIDE):
    h, w = rgb.shape[:2]
    s = side / max(h, w)
    if s >= 1:
        return rgb
    return cv2.resize(rgb, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA)


def framing_pair(rgb, rng):
    """(target, reference): two CROP crops of rgb offset by a third of a crop along a random diagonal, the
    reference rescaled by 0.75 or 1.33."""
    h, w = rgb.shape[:2]
    ch, cw = round(CROP * h), round(CROP * w)
    oy, ox = round(ch / 3 * rng.uniform(0.8, 1.2)), round(cw / 3 * rng.uniform(0.8, 1.2))
    oy, ox = min(oy, h - ch), min(ox, w - cw)
    y0, x0 = int(rng.integers(0, h - ch - oy + 1)), int(rng.integers(0, w - cw - ox + 1))
    sy, sx = rng.choice([-1, 1], 2)   # which way the reference lies from the target
    a = (y0 if sy > 0 else y0 + oy, x0 if sx > 0 else x0 + ox)
    b = (y0 + oy if sy > 0 else y0, x0 + ox if sx > 0 else x0)
    target = rgb[a[0]:a[0] + ch, a[1]:a[1] + cw]
    ref = rgb[b[0]:b[0] + ch, b[1]:b[1] + cw]
    s = float(rng.choice([0.75, 1.33]))
    ref = cv2.resize(ref, (max(8, round(cw * s)), max(8, round(ch * s))),
                     interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_CUBIC)
    return np.ascontiguousarray(target), np.clip(ref, 0, 1).astype(np.float32)


def framing_pairs(files_by_source, per_source, seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for source, files in files_by_source.items():
        for path in files[:per_source]:
            t, r = framing_pair(limited(load_rgb(path, None)), rng)
            out.append((Path(path).stem, source, t, r))
    return out


def kind_of(path):
    """The kind a photo shows, from its collection's file name: flowers5_128__daisy__... -> 'daisy',
    catsdogs__training_set__cats__cat.1.jpg -> 'cats'; None when the name says nothing."""
    parts = Path(path).name.split("__")
    if parts[0].startswith("flowers") and len(parts) >= 3:
        return parts[1]
    if parts[0] == "catsdogs" and len(parts) >= 4:
        return parts[2]
    return None


def kind_pairs(files_by_source, per_source, sources=("flowers128", "pets256")):
    """Consecutive photos of one kind, in the order given (hash order): each photo is in at most one pair."""
    out = []
    for source in sources:
        waiting, made = {}, 0
        for path in files_by_source.get(source, []):
            k = kind_of(path)
            if k is None:
                continue
            if k in waiting:
                other = waiting.pop(k)
                out.append((f"{k}: {Path(path).stem} <- {Path(other).stem}", source,
                            limited(load_rgb(path, None)), limited(load_rgb(other, None))))
                made += 1
                if made >= per_source:
                    break
            else:
                waiting[k] = path
    return out


def frame_time(path):
    """Seconds of a CamVid frame from its number (0016E5_07959 -> 265.3)."""
    return int(re.findall(r"\d+", Path(path).stem.rsplit("_", 1)[1])[0]) * FRAMES_PER_NUMBER


def scene_pairs(folders, gap, count, tolerance=0.2):
    """`count` (target, reference) frame pairs `gap` s apart (within tolerance), spread evenly over every
    sequence of the folders; the reference is the later frame."""
    candidates = []
    for folder in folders:
        seqs = {}
        for f in sorted(Path(folder).glob("*.png")):
            seqs.setdefault(f.stem.rsplit("_", 1)[0], []).append(f)
        for name, files in sorted(seqs.items()):
            times = np.array([frame_time(f) for f in files])
            for i, t in enumerate(times):
                j = np.flatnonzero(np.abs(times - (t + gap)) <= tolerance)
                if len(j):
                    candidates.append((name, files[i], files[j[0]]))
    if not candidates:
        return []
    picks = np.unique(np.linspace(0, len(candidates) - 1, count).round().astype(int))
    out = []
    for k in picks:
        name, a, b = candidates[k]
        out.append((f"{a.stem} <- {b.stem}", f"camvid {name}", limited(load_rgb(a, None)), limited(load_rgb(b, None))))
    return out
