"""Training data for the `gan` backend: a deterministic split and a uint8 in-memory cache.

Images are decoded once, resized (short side) and centre-cropped to `cache_size` px and kept
as one uint8 (N, S, S, 3) array (a .npy under the run folder, memory-mapped by every
process). Augmentation is random crops and horizontal flips only: colours are never changed.
"""
from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

import numpy as np

EXTS = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}


def list_images(root) -> list[str]:
    root = Path(root)
    out = []
    for dirpath, _dirs, files in os.walk(root):
        for f in files:
            if Path(f).suffix.lower() in EXTS:
                out.append(str(Path(dirpath, f).relative_to(root)))
    return sorted(out)


def _key(rel: str) -> str:
    return hashlib.sha1(rel.encode()).hexdigest()


def split(rels: list[str], n_calib: int, n_val: int):
    """Deterministic disjoint split by the SHA-1 of the relative path: (train, val, calib)."""
    order = sorted(rels, key=_key)
    calib = sorted(order[:n_calib])
    val = sorted(order[n_calib:n_calib + n_val])
    train = sorted(order[n_calib + n_val:])
    return train, val, calib


def load_square(path, size: int) -> np.ndarray:
    from PIL import Image
    with Image.open(path) as im:
        im = im.convert("RGB")
        w, h = im.size
        s = size / min(w, h)
        nw, nh = max(size, round(w * s)), max(size, round(h * s))
        im.draft("RGB", (nw, nh))
        im = im.convert("RGB").resize((nw, nh), Image.BILINEAR if s > 1 else Image.BOX, reducing_gap=None)
        left, top = (nw - size) // 2, (nh - size) // 2
        return np.asarray(im.crop((left, top, left + size, top + size)), dtype=np.uint8)


def build_cache(root, rels, size: int, path, log=print) -> np.ndarray:
    path = Path(path)
    meta = path.with_suffix(".json")
    if path.exists() and meta.exists():
        m = json.loads(meta.read_text())
        if m.get("rels") == rels and m.get("size") == size:
            return np.load(path, mmap_mode="r")
    path.parent.mkdir(parents=True, exist_ok=True)
    arr = np.empty((len(rels), size, size, 3), np.uint8)
    t0 = time.time()
    for i, rel in enumerate(rels):
        arr[i] = load_square(Path(root, rel), size)
        if i % 2000 == 0:
            log(f"cache {i}/{len(rels)} images ({time.time() - t0:.0f}s)")
    tmp = path.with_name(path.name + ".tmp.npy")
    np.save(tmp, arr)
    os.replace(tmp, path)
    meta.write_text(json.dumps({"size": size, "root": str(root), "rels": rels}))
    log(f"cache of {len(rels)} images at {size}px built in {time.time() - t0:.0f}s -> {path}")
    return np.load(path, mmap_mode="r")


def parse_group_weights(text: str) -> dict[str, float]:
    """'bsds=0.3,scenes=0.7' -> {'bsds': 0.3, 'scenes': 0.7}; groups are top-level folders of --data."""
    out = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, value = part.partition("=")
        try:
            w = float(value)
        except ValueError:
            w = -1.0
        if not sep or not name or w < 0:
            raise ValueError(f"group weight {part!r}: expected FOLDER=WEIGHT with WEIGHT >= 0, "
                             f"e.g. 'bsds=0.3,scenes=0.7'")
        out[name.strip()] = w
    return out


def group_of(rel: str) -> str:
    """An image's group: the top-level folder of its path under --data."""
    return rel.split("/")[0] if "/" in rel else ""


def group_shares(rels: list[str], weights: dict[str, float]) -> dict[str, float]:
    """Each top-level folder's share of the samples: its weight, or for folders not named, the weight they
    have under uniform sampling (their share of the images), so a single 'bsds=0.2' only moves
    probability from the other folders to bsds."""
    names, counts = np.unique([group_of(r) for r in rels], return_counts=True)
    unknown = set(weights) - set(names)
    if unknown:
        raise ValueError(f"group weights name folders that have no training images: {sorted(unknown)}; "
                         f"folders are {sorted(names)}")
    named = sum(weights.values())
    rest = counts[[n not in weights for n in names]].sum()
    if named > 1 + 1e-9 or (rest == 0 and named <= 0):
        raise ValueError(f"group weights must sum to at most 1 (and be > 0 when they name every folder); "
                         f"got {named:g}")
    return {str(n): weights[n] if n in weights else (1 - named) * c / rest for n, c in zip(names, counts)}


def group_probabilities(rels: list[str], weights: dict[str, float]) -> np.ndarray:
    """Per-image sampling probability: each folder's share (group_shares), split evenly among its images."""
    groups = [group_of(r) for r in rels]
    share = group_shares(rels, weights)
    size = {g: groups.count(g) for g in share}
    p = np.array([share[g] / size[g] for g in groups])
    return p / p.sum()


def sample_batch(cache: np.ndarray, rng: np.random.Generator, batch: int, crop: int,
                 p: np.ndarray | None = None) -> np.ndarray:
    """Random images (uniform, or by probability p), random crop, random flip (geometry only)."""
    n, s = cache.shape[0], cache.shape[1]
    idx = rng.integers(0, n, batch) if p is None else rng.choice(n, batch, p=p)
    ys = rng.integers(0, s - crop + 1, batch)
    xs = rng.integers(0, s - crop + 1, batch)
    flip = rng.random(batch) < 0.5
    out = np.empty((batch, crop, crop, 3), np.uint8)
    for k in range(batch):
        tile = cache[idx[k], ys[k]:ys[k] + crop, xs[k]:xs[k] + crop]
        out[k] = tile[:, ::-1] if flip[k] else tile
    return out


def centre_crops(cache: np.ndarray, crop: int) -> np.ndarray:
    s = cache.shape[1]
    o = (s - crop) // 2
    return np.ascontiguousarray(cache[:, o:o + crop, o:o + crop])
