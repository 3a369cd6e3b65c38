"""Training data for the `gan` backend: a deterministic split and a uint8 in-memory cache.

Images are decoded once, resized (short side) and centre-cropped to `cache_size` px and kept
as one uint8 (N, S, S, 3) array (a .npy under the run folder, memory-mapped by every
process). Augmentation is random crops and horizontal flips only: colours are never changed.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import time
from pathlib import Path

import numpy as np

def list_images(root) -> list[str]:
    """The photos under root as paths relative to it (the form splits files record), sorted."""
    from training.evaluation import list_images as photos
    root = Path(root)
    return sorted(str(p.relative_to(root)) for p in photos(root))


def list_sources(roots) -> tuple[list[str], dict[str, Path]]:
    """Images under one or several data roots, as 'source/…' paths (a source is a top-level folder of a
    root), and where each source lives. Two roots may not have a source of the same name."""
    roots = [roots] if isinstance(roots, (str, os.PathLike)) else list(roots)
    rels, where = [], {}
    for root in roots:
        for rel in list_images(root):
            g = group_of(rel)
            if where.setdefault(g, Path(root)) != Path(root):
                raise ValueError(f"source folder {g!r} is in both {where[g]} and {root}; rename one")
            rels.append(rel)
    return sorted(rels), where


def _key(rel: str) -> str:
    return hashlib.sha1(str(rel).encode()).hexdigest()


def hash_order(items, root=None) -> list:
    """items in the one fixed order every "first N" takes (benchmark subsets, held-out slices, splits): by the
    SHA-1 of each item's relative path ('/'-separated; relative to root when given, else the item as a string).
    Not alphabetical, so the first N of a folder are not all one class (the first 10 pets by name are all cats),
    and stable: adding or removing other files does not change the order of the rest."""
    def rel(it):
        return Path(it).relative_to(root).as_posix() if root is not None else str(it)
    return sorted(items, key=lambda it: (_key(rel(it)), rel(it)))


def first_n(items, n: int, root=None) -> list:
    """The first n of items in hash_order (all of them for n = 0)."""
    return hash_order(items, root)[:n or None]


# A tile of photo_tiles224 is named <photo>_s<scale>_<x>_<y>.jpg: the tiles of one photograph (at every scale)
# share <photo> and are correlated, so they go to one side of a split together.
_TILE = re.compile(r"_s\d+_\d+_\d+(?=\.[^./]+$)")


def photo_of(rel: str) -> str:
    """The photograph a file comes from: a tile's <photo> name (above), else the file's own path (so a file that is
    its own photo keeps its place in the SHA-1 order of paths)."""
    m = _TILE.search(str(rel))
    return str(rel)[:m.start()] if m else str(rel)


SPLIT_SCHEMES = ("photo", "path")
# the scheme every shipped model trained with (gan, partial-gan, prior, the MSE baseline: --val-per-source 40
# --calib-per-source 60 over TRAIN_ROOTS, before photo_of existed): its training side is fixed for good
SHIPPED_SCHEME = "path"


def _clusters(rels, ties=None) -> dict:
    """{rel: cluster key}: files of one photograph (photo_of) and files tied by `ties` ({rel: key}, e.g. the same
    content hash) in one cluster, keyed by the smallest photo_of of its members."""
    parent = {}

    def find(x):
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(a, b):
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)

    for r in rels:
        union(("f", r), ("p", photo_of(r)))
        if ties and r in ties:
            union(("f", r), ("t", ties[r]))
    key = {}
    for r in rels:
        root = find(("f", r))
        key[root] = min(key.get(root, photo_of(r)), photo_of(r))
    return {r: key[find(("f", r))] for r in rels}


def split(rels: list[str], n_calib: int, n_val: int, scheme: str = "photo", ties=None):
    """Deterministic disjoint split: (train, val, calib), each sorted.
    scheme 'photo': files of one photograph (photo_of) or tied by `ties` ({rel: key}: exact duplicates, see
    content_ties) stay on one side; photographs in SHA-1 order of their key, whole ones to calib until it holds
    n_calib files, then to val until n_val, the rest train (a file that is its own photograph is placed as
    under 'path'). scheme 'path': every file on its own, by the SHA-1 of its path (SHIPPED_SCHEME)."""
    if scheme not in SPLIT_SCHEMES:
        raise ValueError(f"split scheme: expected one of {SPLIT_SCHEMES}, got {scheme!r}")
    if scheme == "path":
        order = hash_order(rels)
        return sorted(order[n_calib + n_val:]), sorted(order[n_calib:n_calib + n_val]), sorted(order[:n_calib])
    cluster = _clusters(rels, ties)
    members = {}
    for r in rels:
        members.setdefault(cluster[r], []).append(r)
    train, val, calib = [], [], []
    for key in hash_order(members):
        side = calib if len(calib) < n_calib else val if len(val) < n_val else train   # as 'path': calib first
        side += members[key]
    return sorted(train), sorted(val), sorted(calib)


# The fixed held-out slices of every training source (training and bench/auto.py use the same ones):
# the data roots under ../shared/data, and per source how many photos validate and how many calibrate.
TRAIN_ROOTS = ("train_mix_v1", "train_extra_v1")
HELD_OUT_VAL = 40
HELD_OUT_CALIB = 60


def split_per_source(rels: list[str], n_calib: int, n_val: int, scheme: str = "photo", ties=None):
    """Fixed held-out slices of every source: split() per top-level folder (n_val files validate, n_calib
    calibrate, the rest train). (train, val, calib), each sorted."""
    train, val, calib = [], [], []
    for g in sorted({group_of(r) for r in rels}):
        t, v, c = split([r for r in rels if group_of(r) == g], n_calib, n_val, scheme, ties)
        train += t
        val += v
        calib += c
    return sorted(train), sorted(val), sorted(calib)


# ---- duplicates: the same photo under two names, or near-identical thumbnails

THUMB = 16             # thumbnail side (px) compared for near-duplicates
NEAR_DUP_RMS = 4.0     # RMS difference (8-bit levels) of two 16x16 RGB thumbnails below which they are one photo;
                       # on the training sources the closest distinct photos are about 10 apart, copies 0-2.4


def content_ties(files: dict) -> dict:
    """{rel: SHA-1 of the file's bytes} for {rel: path}: equal values are exact duplicates."""
    return {r: hashlib.sha1(Path(p).read_bytes()).hexdigest() for r, p in files.items()}


def thumbnails(files: list) -> np.ndarray:
    """(N, THUMB*THUMB*3) float32 thumbnails of the whole image (squashed to a square), for near-duplicates."""
    from PIL import Image
    out = np.empty((len(files), THUMB * THUMB * 3), np.float32)
    for i, f in enumerate(files):
        with Image.open(f) as im:
            im.draft("RGB", (2 * THUMB, 2 * THUMB))
            out[i] = np.asarray(im.convert("RGB").resize((THUMB, THUMB), Image.BOX), np.float32).ravel()
    return out


def near_pairs(a: np.ndarray, b: np.ndarray, threshold: float = NEAR_DUP_RMS, chunk: int = 512):
    """[(i, j)] with RMS(a[i] - b[j]) < threshold."""
    out = []
    bb = (b ** 2).sum(1)
    for s in range(0, len(a), chunk):
        x = a[s:s + chunk]
        d2 = (x ** 2).sum(1)[:, None] + bb[None] - 2 * x @ b.T
        i, j = np.nonzero(d2 < threshold ** 2 * a.shape[1])
        out += list(zip((i + s).tolist(), j.tolist()))
    return out


def hygiene(train: list[str], calib: list[str], val: list[str], where, near: bool = True):
    """Cleans the evaluation side of a split: (calib, val, removed), every calibration or validation file dropped
    whose photograph (photo_of), exact copy (same bytes) or near-identical thumbnail (near_pairs; near=False skips
    it) is already on a side that comes first: training, then calibration, then validation, and on one side
    earlier in hash_order. `removed` is {rel: (reason, the file it repeats)}; the training side never changes."""
    evals = hash_order(calib) + hash_order(val)
    rels = list(train) + evals
    rank = {r: k for k, r in enumerate(rels)}
    files = {r: resolve(where, r) for r in rels}
    content = content_ties(files)
    close = {}
    if near and evals:   # every evaluation file's thumbnail against every file's
        th = thumbnails([files[r] for r in rels])
        for i, j in near_pairs(th[len(train):], th):
            close.setdefault(evals[i], []).append(rels[j])
    seen_photo, seen_content, removed = {}, {}, {}
    for r in rels:
        reason = None
        if photo_of(r) in seen_photo:
            reason = ("same photograph", seen_photo[photo_of(r)])
        elif content[r] in seen_content:
            reason = ("exact duplicate", seen_content[content[r]])
        else:
            earlier = [o for o in close.get(r, []) if rank[o] < rank[r] and o not in removed]
            if earlier:
                reason = ("near duplicate", min(earlier, key=rank.get))
        if reason and rank[r] >= len(train):
            removed[r] = reason
            continue
        seen_photo.setdefault(photo_of(r), r)
        seen_content.setdefault(content[r], r)
    return sorted(r for r in calib if r not in removed), sorted(r for r in val if r not in removed), removed


def chroma_stats(cache: np.ndarray, chunk: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """Per image, on a 4x subsampled copy: mean chroma |ab|, and how concentrated the hue is
    (|sum of ab| / sum of |ab|: 1 when every pixel has the same hue, as in a sepia or cyanotype print)."""
    from .labtorch import uint8_batch_to_lab
    mean_c, conc = [], []
    for s in range(0, cache.shape[0], chunk):
        ab = uint8_batch_to_lab(np.asarray(cache[s:s + chunk, ::4, ::4]))[:, 1:].flatten(2)   # (n, 2, hw)
        norm = ab.norm(dim=1)
        mean_c.append(norm.mean(1).numpy())
        conc.append((ab.sum(2).norm(dim=1) / norm.sum(1).clamp(min=1e-6)).numpy())
    return np.concatenate(mean_c), np.concatenate(conc)


# The audit's defaults, chosen by looking at what they drop on 150 photos of each training source: near-gray
# photos, and toned prints (sepia portrait, brown-toned dog). Not dark skin: a hue-only rule dropped faces.
# Strongly toned prints (chroma 15-30) are not caught: by hue concentration alone they look like faces and grass.
MIN_CHROMA = 4.0
TINT_CONCENTRATION = 0.98
TINT_MAX_CHROMA = 12.0


def colourless(mean_chroma: np.ndarray, concentration: np.ndarray, min_chroma: float = MIN_CHROMA,
               tint_concentration: float = TINT_CONCENTRATION, tint_max_chroma: float = TINT_MAX_CHROMA):
    """Which photos are near-gray or one uniform tint (they teach a model to stay muted)."""
    return (mean_chroma < min_chroma) | ((concentration > tint_concentration) & (mean_chroma < tint_max_chroma))


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


def resolve(root, rel: str) -> Path:
    """The file of a relative path: root is one folder, or the {source: folder} map of list_sources."""
    return Path(root[group_of(rel)] if isinstance(root, dict) else root, rel)


def roots_name(root) -> str:
    """A short name for a data root or a {source: folder} map: the root folders' names joined by '+'."""
    folders = root.values() if isinstance(root, dict) else [root]
    return "+".join(sorted({Path(f).name for f in folders}))


def cache_path(cache_dir, name: str, rels, size: int) -> Path:
    """Where the cache of these photos at this size lives: named by their list, so a tool that needs the same
    photos (the trainer, training.gan.refit_head) finds the cache another built."""
    h = hashlib.sha1(json.dumps(rels).encode()).hexdigest()[:10]
    return Path(cache_dir) / f"{name}_{h}_{size}.npy"


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
        arr[i] = load_square(resolve(root, rel), size)
        if i % 2000 == 0:
            log(f"cache {i}/{len(rels)} images ({time.time() - t0:.0f}s)")
    tmp = path.with_name(path.name + ".tmp.npy")
    np.save(tmp, arr)
    os.replace(tmp, path)
    roots = {g: str(r) for g, r in root.items()} if isinstance(root, dict) else str(root)
    meta.write_text(json.dumps({"size": size, "root": roots, "rels": rels}))
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


def slices_by_source(rels, where, limit=0):
    """{source: [file, ...]} of relative 'source/…' paths, each source's files in hash_order, at most `limit` per
    source (0 = all; the first in hash_order, never the alphabetically first); `where` is list_sources' {source:
    root}."""
    out = {}
    for rel in hash_order(rels):
        out.setdefault(group_of(rel), []).append(resolve(where, rel))
    return {g: files[:limit or None] for g, files in sorted(out.items())}


_HELD_OUT = {}


def held_out_split(base, near: bool = True) -> dict:
    """The split of the training sources under base that every shipped model trained with (SHIPPED_SCHEME,
    HELD_OUT_CALIB / HELD_OUT_VAL per source: its training side stays as it was), with the evaluation side
    cleaned by hygiene(): {"train", "val", "calib": [rel, ...], "removed": {rel: (reason, repeats)}, "where":
    {source: root}}. Computed once per process (hashing and thumbnails take about 15 s on 24k photos)."""
    roots = tuple(Path(base) / r for r in TRAIN_ROOTS if (Path(base) / r).is_dir())
    if (roots, near) not in _HELD_OUT:
        rels, where = list_sources(roots) if roots else ([], {})
        train, val, calib = split_per_source(rels, HELD_OUT_CALIB, HELD_OUT_VAL, SHIPPED_SCHEME)
        calib, val, removed = hygiene(train, calib, val, where, near)
        _HELD_OUT[roots, near] = dict(train=train, val=val, calib=calib, removed=removed, where=where)
    return _HELD_OUT[roots, near]


def removed_per_source(removed: dict, val_or_calib: list[str] | None = None) -> dict:
    """{source: {reason: count}} of hygiene()'s removed files (only those of one slice when given its
    uncleaned list)."""
    out = {}
    for rel, (reason, _) in sorted(removed.items()):
        if val_or_calib is None or rel in val_or_calib:
            d = out.setdefault(group_of(rel), {})
            d[reason] = d.get(reason, 0) + 1
    return out


def held_out_slices(base, which: str, limit=0) -> dict:
    """{source: [file, ...]}: the fixed 'val' (benchmarks) or 'calib' (conformal calibration) slice of every
    training source under base (held_out_split: never trained on, nor a tile of a photograph or a copy of a
    photo that was), each in hash_order, at most `limit` per source (0 = all). Training roots missing under base
    are skipped."""
    kinds = ("val", "calib")
    if which not in kinds:
        raise ValueError(f"held-out slice: expected one of {kinds}, got {which!r}")
    s = held_out_split(base)
    return slices_by_source(s[which], s["where"], limit)


SHIPPED_SPLITS = "shipped"


def load_splits(spec: str) -> dict:
    """The splits a tool calibrates or tunes on: a <run>.splits.json the trainer wrote, or SHIPPED_SPLITS for the
    shipped models' held-out split of the shared training data (held_out_split: the calibration photos that
    training.calibration.auto_samples and loso measure, the validation photos the benchmarks report; a trainer's
    own split, e.g. --split-by photo, holds out other photos and leaves some sources almost no calibration photo).
    Same keys as the file: "data" and "val_root" ({source: root}), "train", "val", "calib"."""
    if spec != SHIPPED_SPLITS:
        if not Path(spec).is_file():
            raise ValueError(f"{spec} is not a file: expected a <run>.splits.json the trainer wrote, or "
                             f"{SHIPPED_SPLITS!r} for the shipped models' held-out split")
        return json.loads(Path(spec).read_text())
    from training.shared_data import shared_data
    s = held_out_split(shared_data())
    return {"data": s["where"], "val_root": s["where"], "scheme": SHIPPED_SCHEME,
            "train": s["train"], "val": s["val"], "calib": s["calib"]}


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
