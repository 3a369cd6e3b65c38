"""colorcore.photo_cache: what the warm engine keeps between runs on one photo changes no result, is bounded, and
costs a one-shot engine nothing."""
import numpy as np

from colorcore import ColorizeRequest, run_backend
from colorcore.photo_cache import CACHE, PhotoCache


def test_off_it_neither_keeps_nor_computes_a_key():
    cache = PhotoCache(1 << 20)
    calls = []
    assert cache.get(lambda: calls.append("key"), lambda: 7) == 7
    assert calls == [] and cache.size_bytes == 0


def test_it_keeps_at_most_its_size_least_recently_used_out_first():
    cache = PhotoCache(3 * 4000, enabled=True)
    for i in range(4):
        cache.get(lambda i=i: ("a", i), lambda: np.zeros(1000, np.float32))   # 4000 bytes each
    assert cache.size_bytes == 3 * 4000
    computed = []
    cache.get(lambda: ("a", 0), lambda: computed.append(0) or np.zeros(1000, np.float32))   # evicted: recomputed
    cache.get(lambda: ("a", 3), lambda: computed.append(3) or np.zeros(1000, np.float32))   # kept
    assert computed == [0]


def test_new_strokes_on_the_same_photo_give_the_results_of_a_run_without_it(registry, photo, monkeypatch):
    gray = np.repeat(photo.mean(axis=2, keepdims=True), 3, axis=2)
    strokes = []
    for y0 in (10, 30):   # a second stroke added for the second run
        s = np.zeros(photo.shape[:2] + (4,), np.float32) if not strokes else strokes[-1].copy()
        s[y0:y0 + 3, 10:30] = [0.8, 0.2, 0.1, 1.0] if y0 == 10 else [0.1, 0.5, 0.2, 1.0]
        strokes.append(s)
    backend = registry.get("variational")

    def runs():
        return [run_backend(backend, ColorizeRequest(image=gray, mode="scribble", scribbles=s, seed=0)) for s in strokes]
    monkeypatch.setattr(CACHE, "enabled", False)
    plain = runs()
    monkeypatch.setattr(CACHE, "enabled", True)
    CACHE.clear()
    hits = CACHE.hits
    cached = runs()
    CACHE.clear()
    assert CACHE.hits > hits   # the second run reused the photo's lightness and graph
    for a, b in zip(plain, cached):
        assert np.array_equal(a.rgb, b.rgb) and np.array_equal(a.uncertainty, b.uncertainty)


def test_a_photo_read_from_a_job_is_keyed_by_its_file_and_a_changed_file_by_another_key(tmp_path, monkeypatch):
    """The warm engine hashes the job's 8-bit file, not the 12x larger floats made from it (bridge.load_job)."""
    from colorcore import bridge, protocol as P
    from colorcore.photo_cache import digest
    monkeypatch.setattr(CACHE, "enabled", True)
    gray = (np.arange(48 * 64) % 251).astype(np.uint8).reshape(48, 64)

    def load(pixels, folder):
        folder.mkdir()
        pixels.tofile(folder / P.IMAGE_FILE)
        return bridge.load_job(P.write_manifest(folder, "auto", None, 64, 48, formats={"image": "Y' u8"})).request.image
    first, again = load(gray, tmp_path / "a"), load(gray, tmp_path / "b")
    changed = gray.copy()
    changed[5, 7] += 1
    other = load(changed, tmp_path / "c")
    assert first is not again and np.array_equal(first, again)
    assert digest(first) == digest(again) != digest(other)      # the same file, the same key: the next run hits
    assert digest(first) != digest(first.copy())                 # a copy is hashed by its bytes (no key known)
    assert digest(first.copy()) == digest(again.copy())
    monkeypatch.setattr(CACHE, "enabled", False)
    assert digest(load(gray, tmp_path / "d")) == digest(first.copy())   # a one-shot engine hashes nothing at read


def test_a_known_digest_goes_with_its_array():
    from colorcore import photo_cache
    a = np.zeros(10, np.float32)
    photo_cache.know_digest(a, "made of 10 zero bytes")
    assert photo_cache.digest(a) != photo_cache.digest(np.zeros(10, np.float32))
    assert id(a) in photo_cache._known
    key = id(a)
    del a
    assert key not in photo_cache._known   # forgotten with its array: a new array at that address is hashed
