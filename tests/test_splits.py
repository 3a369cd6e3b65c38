"""Benchmarks you can trust (issue 28, item 7): the one subset order (hash order), the macro mean and its error,
splits by photograph, the held-out side cleaned of repeats of training photos, and the trainer's explicit split.
Synthetic folders; the real shared data too when it is present (skipped otherwise)."""
import hashlib
import random
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.common import macro_mean, mean_sem  # noqa: E402
from training.gan import data  # noqa: E402
from training.shared_data import shared_data  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


# ---- the summary functions

def test_macro_mean_weighs_every_source_the_same_and_adds_their_errors():
    assert macro_mean([(20.0, 0.3), (30.0, 0.4)]) == pytest.approx((25.0, 0.5 / 2))   # sqrt(0.09 + 0.16) / 2
    assert macro_mean([(7.0, 0.2)]) == pytest.approx((7.0, 0.2))
    # against the pooled mean: 9 photos of a source at +6 and 1 of another at 0
    big, small = [6.0, 5.0, 7.0] * 3, [0.0]
    pooled = mean_sem(big + small)[0]
    macro = macro_mean([mean_sem(big), mean_sem(small)])
    assert pooled == pytest.approx(5.4) and macro[0] == pytest.approx(3.0)
    assert macro[1] == pytest.approx(mean_sem(big)[1] / 2)     # the one-photo source has no error to add
    with pytest.raises(ValueError):
        macro_mean([])


def test_macro_error_matches_the_spread_of_macro_means_over_draws():
    """The formula's error is the standard deviation of the macro mean over repeated draws of the photos."""
    rng = np.random.default_rng(0)
    sizes, sds = (5, 40, 12), (3.0, 1.0, 2.0)
    draws = [[rng.normal(m, s, n) for m, s, n in zip((1.0, 2.0, 3.0), sds, sizes)] for _ in range(4000)]
    macros = [np.mean([v.mean() for v in d]) for d in draws]
    predicted = np.sqrt(sum(s ** 2 / n for s, n in zip(sds, sizes))) / 3
    assert np.std(macros) == pytest.approx(predicted, rel=0.05)
    est = [macro_mean([mean_sem(v) for v in d])[1] for d in draws[:400]]
    assert np.mean(est) == pytest.approx(predicted, rel=0.1)


def test_hash_order_is_fixed_stable_and_not_alphabetical(tmp_path):
    names = [f"pets256/catsdogs__cats__cat.{i}.jpg" for i in range(1, 31)] + \
            [f"pets256/catsdogs__dogs__dog.{i}.jpg" for i in range(1, 31)]
    order = data.hash_order(names)
    assert order == sorted(names, key=lambda r: hashlib.sha1(r.encode()).hexdigest())
    shuffled = names[:]
    random.Random(3).shuffle(shuffled)
    assert data.hash_order(shuffled) == order                      # the input's order does not matter
    assert data.hash_order(names[5:]) == [r for r in order if r in names[5:]]   # nor other files
    first10 = data.first_n(names, 10)
    assert first10 == order[:10] and first10 != sorted(names)[:10]
    assert any("dog" in r for r in first10) and any("cat" in r for r in first10)
    assert data.first_n(names, 0) == order
    # files: by the path relative to the root, wherever the root is
    files = [tmp_path / "root" / r for r in names]
    assert data.hash_order(files, tmp_path / "root") == [tmp_path / "root" / r for r in order]
    assert data.hash_order(["a/1.jpg", "a/2.jpg", "a/3.jpg"]) == ["a/3.jpg", "a/1.jpg", "a/2.jpg"]


def test_photo_of_tiles_and_plain_files():
    t = "photo_tiles224/kde-wallpapers/kde-wallpapers_0000_Alps__2560x1600_s1024_1280_512.jpg"
    assert data.photo_of(t) == "photo_tiles224/kde-wallpapers/kde-wallpapers_0000_Alps__2560x1600"
    assert data.photo_of(t.replace("_s1024_1280_512", "_s512_0_0")) == data.photo_of(t)   # every scale
    assert data.photo_of("pets256/catsdogs__cats__cat.1.jpg") == "pets256/catsdogs__cats__cat.1.jpg"
    assert data.photo_of("faces/UTK_35_0_0_2017.jpg.chip.jpg") == "faces/UTK_35_0_0_2017.jpg.chip.jpg"


# ---- splits on a synthetic folder

def _photo(seed, size=32):
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (4, 4, 3)).astype(np.uint8)
    return np.asarray(Image.fromarray(small).resize((size, size), Image.BILINEAR))


def _folder(root):
    """tiles: 6 photographs cut into 4 tiles each; plain: 20 photos, 2 of them exact copies of others and
    1 a near copy (one level brighter). Returns (rels, where, copies, near)."""
    for p in range(6):
        for k, (x, y) in enumerate(((0, 0), (0, 256), (256, 0), (256, 256))):
            f = root / "tiles" / "set" / f"set_{p:04d}_pic{p}_s512_{x}_{y}.png"
            f.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(_photo(100 * p + k)).save(f)
    (root / "plain").mkdir(parents=True)
    for i in range(20):
        Image.fromarray(_photo(1000 + i)).save(root / "plain" / f"p{i:02d}.png")
    copies = {"plain/copy_of_03.png": "plain/p03.png", "plain/copy_of_11.png": "plain/p11.png"}
    for dst, src in copies.items():
        (root / dst).write_bytes((root / src).read_bytes())
    near = {"plain/near_07.png": "plain/p07.png"}
    Image.fromarray((np.asarray(Image.open(root / "plain/p07.png")).astype(int) + 1).clip(0, 255).astype(np.uint8)
                    ).save(root / "plain/near_07.png")
    rels, where = data.list_sources([root])
    return rels, where, copies, near


def _sides(train, val, calib):
    return {**{r: "train" for r in train}, **{r: "val" for r in val}, **{r: "calib" for r in calib}}


def test_photo_split_keeps_tiles_and_copies_together(tmp_path):
    rels, where, copies, _ = _folder(tmp_path)
    ties = data.content_ties({r: data.resolve(where, r) for r in rels})
    train, val, calib = data.split_per_source(rels, 5, 5, "photo", ties)
    assert sorted(train + val + calib) == rels and len(set(train) | set(val) | set(calib)) == len(rels)
    side = _sides(train, val, calib)
    for r in rels:   # every tile of a photograph, and both files of a copy, on one side
        assert side[r] == side[next(o for o in rels if data.photo_of(o) == data.photo_of(r))]
    for dst, src in copies.items():
        assert side[dst] == side[src]
    tiles_val = [r for r in val if r.startswith("tiles/")]
    assert len(tiles_val) == 8   # whole photographs until at least 5 tiles: 2 photographs
    # a plain photo is placed as the path scheme places it (its own photograph, in the same SHA-1 order)
    plain = [r for r in rels if r.startswith("plain/") and r not in copies and r not in copies.values()]
    pt, pv, pc = data.split(plain, 5, 5, "photo")
    assert (pt, pv, pc) == data.split(plain, 5, 5, "path")


def test_path_split_is_the_shipped_models_split():
    rels = [f"src/{i}.jpg" for i in range(30)]
    order = sorted(rels, key=lambda r: hashlib.sha1(r.encode()).hexdigest())
    train, val, calib = data.split(rels, 6, 4, "path")
    assert calib == sorted(order[:6]) and val == sorted(order[6:10]) and train == sorted(order[10:])
    assert data.SHIPPED_SCHEME == "path"
    with pytest.raises(ValueError, match="split scheme"):
        data.split(rels, 1, 1, "random")


def test_hygiene_removes_repeats_of_training_photos_from_the_held_out_side_only(tmp_path):
    rels, where, copies, near = _folder(tmp_path)
    # a path split, as the shipped models': tiles of one photograph fall on both sides
    train, val, calib = data.split_per_source(rels, 4, 6, "path")
    calib2, val2, removed = data.hygiene(train, calib, val, where)
    kept = set(calib2) | set(val2)
    assert set(calib2) <= set(calib) and set(val2) <= set(val)
    photos_train = {data.photo_of(r) for r in train}
    hashes = data.content_ties({r: data.resolve(where, r) for r in rels})
    assert not {data.photo_of(r) for r in kept} & photos_train               # no tile of a training photograph
    assert not {hashes[r] for r in kept} & {hashes[r] for r in train}       # no copy of a training file
    assert not set(calib2) & {r for r in val2}
    assert not {hashes[r] for r in val2} & {hashes[r] for r in calib2}
    for r, (why, other) in removed.items():
        assert r in set(val) | set(calib) and why in ("same photograph", "exact duplicate", "near duplicate")
        assert data.photo_of(r) == data.photo_of(other) or hashes[r] == hashes[other] or why == "near duplicate"
    # every pair of copies and the near copy: at most one of each left on the held-out side, none if one trains
    for a, b in list(copies.items()) + list(near.items()):
        left = {a, b} & kept
        assert len(left) <= 1 and not (left and ({a, b} & set(train)))
    # what is removed is exactly what repeats an earlier side (nothing else)
    assert len(kept) + len(removed) == len(val) + len(calib)
    assert data.removed_per_source(removed) and sum(sum(d.values()) for d in data.removed_per_source(removed).values()) \
        == len(removed)


def test_hygiene_catches_the_near_copy_only_with_thumbnails(tmp_path):
    rels, where, _, near = _folder(tmp_path)
    (a, b), = near.items()
    train = [r for r in rels if r not in (a,)]
    _, val, removed = data.hygiene(train, [], [a], where)
    assert val == [] and removed[a] == ("near duplicate", b)
    _, val, removed = data.hygiene(train, [], [a], where, near=False)
    assert val == [a] and not removed


# ---- the trainer: no implicit split

def test_trainer_refuses_to_run_without_explicit_split_flags(tmp_path, capsys):
    from training.gan import train
    from training.gan.train_config import parse_args, split_problem
    for i in range(6):
        Image.fromarray(_photo(i)).save((tmp_path / f"p{i}.png"))
    out = tmp_path / "run" / "ck.pt"
    assert train.main(["--data", str(tmp_path), "--out", str(out), "--steps", "1"]) == 2
    said = capsys.readouterr().out.strip().splitlines()
    assert len(said) == 1 and "--val-per-source" in said[0] and "--calib-per-source" in said[0] and "e.g." in said[0]
    assert not out.exists()
    base = ["--data", "d", "--out", "o.pt"]
    assert split_problem(parse_args(base)) is not None
    assert split_problem(parse_args(base + ["--val-per-source", "8"])) is not None         # calibration missing
    assert split_problem(parse_args(base + ["--val-per-source", "8", "--calib-per-source", "0"])) is None
    assert split_problem(parse_args(base + ["--val-count", "5", "--calib-count", "5"])) is None
    assert split_problem(parse_args(base + ["--val", "v", "--calib-per-source", "3"])) is None
    assert "not both" in split_problem(parse_args(base + ["--val-per-source", "8", "--calib-per-source", "1",
                                                          "--calib-count", "3"]))
    assert parse_args(base + ["--val", "v", "--calib-count", "0"]).val_count == 100


def test_the_gpu_script_gives_the_split_explicitly():
    text = (REPO / "scripts" / "gpu_train.sh").read_text()
    assert "--val-per-source" in text and "--calib-per-source" in text


# ---- the real shared data

def test_held_out_slices_of_the_shared_data_repeat_no_training_photo():
    base = shared_data()
    if not all((base / r).is_dir() for r in data.TRAIN_ROOTS):
        pytest.skip(f"shared data not found under {base}")
    s = data.held_out_split(base)
    rels, where = data.list_sources([base / r for r in data.TRAIN_ROOTS])
    train0, val0, calib0 = data.split_per_source(rels, data.HELD_OUT_CALIB, data.HELD_OUT_VAL, "path")
    assert s["train"] == train0                       # the shipped models' training photos, unchanged
    assert set(s["val"]) <= set(val0) and set(s["calib"]) <= set(calib0)
    held = s["val"] + s["calib"]
    assert not {data.photo_of(r) for r in held} & {data.photo_of(r) for r in train0}
    hashes = data.content_ties({r: data.resolve(where, r) for r in rels})
    assert not {hashes[r] for r in held} & {hashes[r] for r in train0}
    assert not {hashes[r] for r in s["val"]} & {hashes[r] for r in s["calib"]}
    # every held-out tile of photo_tiles224 is cut from a photograph that trains: none is left
    assert not [r for r in held if r.startswith("photo_tiles224/")]
    assert data.removed_per_source(s["removed"], val0)["photo_tiles224"] == {"same photograph": 40}
    # the slices the benchmarks read: in hash order
    val = data.held_out_slices(base, "val", 5)
    for g, files in val.items():
        assert files == data.hash_order(files, where[g])[:5]


def test_tools_calibrate_on_the_trainers_file_or_on_the_shipped_split(tmp_path):
    import json
    f = tmp_path / "run.splits.json"
    f.write_text(json.dumps({"data": "/x", "train": ["a/1.jpg"], "val": [], "calib": ["a/2.jpg"]}))
    assert data.load_splits(str(f))["calib"] == ["a/2.jpg"]
    with pytest.raises(ValueError, match="is not a file: expected a <run>.splits.json .* or 'shipped'"):
        data.load_splits(str(tmp_path / "missing.json"))
    base = shared_data()
    if not all((base / r).is_dir() for r in data.TRAIN_ROOTS):
        pytest.skip(f"shared data not found under {base}")
    shipped, s = data.load_splits(data.SHIPPED_SPLITS), data.held_out_split(base)
    # the photos auto_samples and loso measure, so a calibration and its left-out test share them
    assert shipped["calib"] == s["calib"] and shipped["train"] == s["train"] and shipped["val"] == s["val"]
    assert all(data.resolve(shipped["data"], r).is_file() for r in shipped["calib"][::50])
