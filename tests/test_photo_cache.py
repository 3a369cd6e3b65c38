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
