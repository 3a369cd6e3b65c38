"""Scribbles -> hints, and the hints' area resize: the sparse one (painted pixels only) is OpenCV's INTER_AREA."""
import cv2
import numpy as np
import pytest

from backends.variational import strokes
from backends.variational.strokes import resize_hints, scribble_hints
from colorcore import color


def painted_layer(shape, rng, strokes_n=5, dots=40):
    H, W = shape
    s = np.zeros((H, W, 4), np.float32)
    for _ in range(strokes_n):
        y0, x0 = rng.integers(0, H - 2), rng.integers(0, W - 2)
        s[y0:y0 + rng.integers(1, H // 12 + 2), x0:x0 + rng.integers(1, W // 5 + 2)] = \
            list(rng.random(3)) + [rng.choice([1.0, 0.4])]
    s[rng.integers(0, H, dots), rng.integers(0, W, dots)] = [0.3, 0.6, 0.2, 1.0]   # one-pixel dots
    return s


def whole_image_resize(weight, ab, size):
    """The reference: OpenCV on the whole image, as resize_hints did before it went sparse."""
    w_small = cv2.resize(weight, size, interpolation=cv2.INTER_AREA)
    wab = cv2.resize(ab * weight[..., None], size, interpolation=cv2.INTER_AREA)
    ab_small = wab / np.maximum(w_small, 1e-8)[..., None]
    return w_small, np.where(w_small[..., None] > 0, ab_small, 0)


@pytest.mark.parametrize("shape, size", [((600, 800), (163, 122)), ((600, 800), (200, 150)),
                                          ((301, 403), (157, 113)), ((123, 457), (122, 456)), ((97, 97), (33, 33))])
def test_the_sparse_area_resize_is_opencvs_inter_area(shape, size):
    rng = np.random.default_rng(sum(shape) + sum(size))
    weight, ab = scribble_hints(painted_layer(shape, rng))
    assert (weight > 0).mean() <= strokes.SPARSE_SHARE   # so resize_hints takes the sparse path
    w_new, ab_new = resize_hints(weight, ab, size)
    w_ref, ab_ref = whole_image_resize(weight, ab, size)
    assert w_new.shape == w_ref.shape and ab_new.shape == ab_ref.shape and ab_new.dtype == np.float32
    assert np.array_equal(w_new > 0, w_ref > 0)   # the same hint pixels
    assert np.abs(w_new - w_ref).max() < 1e-6
    assert np.abs(ab_new - ab_ref).max() < 1e-3 * max(1.0, np.abs(ab_ref).max())


def test_a_layer_painted_all_over_and_an_upscale_take_the_whole_image_resize(monkeypatch):
    rng = np.random.default_rng(3)
    s = painted_layer((90, 120), rng)
    s[..., 3] = np.where(rng.random((90, 120)) < 0.5, 1.0, 0.0)   # half the pixels painted
    s[..., :3] = rng.random((90, 120, 3))
    calls = []
    monkeypatch.setattr(strokes, "_area_resize_sparse", lambda *a: calls.append(a))
    for size in ((40, 30), (240, 180)):
        w_new, ab_new = resize_hints(*scribble_hints(s), size)
        w_ref, ab_ref = whole_image_resize(*scribble_hints(s), size)
        assert np.array_equal(w_new, w_ref) and np.allclose(ab_new, ab_ref, atol=1e-4)
    s[..., 3] = 0
    s[10, 10, 3] = 1.0
    resize_hints(*scribble_hints(s), (240, 180))   # few painted pixels but an upscale
    assert calls == []


def test_hints_hold_each_painted_colours_chroma_and_alpha_as_weight():
    s = np.zeros((20, 30, 4), np.float32)
    s[2:4, 5:9] = [0.8, 0.2, 0.1, 1.0]
    s[10, 20] = [0.1, 0.3, 0.9, 0.5]
    weight, ab = scribble_hints(s)
    assert np.array_equal(weight, s[..., 3])
    assert np.allclose(ab[3, 6], color.rgb_to_lab(np.float32([[0.8, 0.2, 0.1]]))[0, 1:])
    assert np.allclose(ab[10, 20], color.rgb_to_lab(np.float32([[0.1, 0.3, 0.9]]))[0, 1:])
    assert not ab[weight == 0].any()
