"""Real-looking strokes: two regions split by a weak edge, one stroke in each; the colour stays on its side
(less than 3 Delta E of the other side's colour beyond 8 px from the edge), for every scribble backend."""
import numpy as np
import pytest

from colorcore import ColorizeRequest, color, load_registry, run_backend

SIZE = 128


def two_regions(seed=0):
    """Gray photo: left half L ~ 52, right half L ~ 57 (a weak edge), light grain; a stroke in each half."""
    rng = np.random.default_rng(seed)
    L = np.where(np.arange(SIZE)[None, :] < SIZE // 2, 52.0, 57.0) + rng.normal(0, 0.6, (SIZE, SIZE))
    gray = color.lab_to_rgb(np.dstack([L, np.zeros((SIZE, SIZE, 2))]).astype(np.float32))
    strokes = np.zeros((SIZE, SIZE, 4), np.float32)
    red = color.lab_to_rgb(np.array([[[52.0, 45.0, 30.0]]], np.float32))[0, 0]
    blue = color.lab_to_rgb(np.array([[[57.0, -5.0, -35.0]]], np.float32))[0, 0]
    ys = np.arange(30, 100)
    strokes[ys, (20 + 6 * np.sin(ys / 9)).astype(int)] = [*red, 1.0]      # a wavy one-pixel stroke, as drawn
    strokes[ys, (100 + 6 * np.cos(ys / 11)).astype(int)] = [*blue, 1.0]
    return gray, strokes, np.array([45.0, 30.0]), np.array([-5.0, -35.0])


@pytest.mark.parametrize("name", ["variational", "prior"])
def test_colour_stays_on_its_side_of_a_weak_edge(registry, name):
    backend = registry.get(name)
    if backend.unavailable_reason():
        pytest.skip(backend.unavailable_reason())
    gray, strokes, left, right = two_regions()
    res = run_backend(backend, ColorizeRequest(image=gray, mode="scribble", scribbles=strokes))
    ab = color.rgb_to_lab(res.rgb)[..., 1:]
    far_left, far_right = ab[:, :SIZE // 2 - 8], ab[:, SIZE // 2 + 8:]
    leak_left = np.linalg.norm(far_left - left, axis=2) - np.linalg.norm(far_left - right, axis=2)
    # each far pixel is (much) closer to its own side's colour than to the other's, and near its own colour
    assert np.percentile(np.linalg.norm(far_left - left, axis=2), 99) < 3, name
    assert np.percentile(np.linalg.norm(far_right - right, axis=2), 99) < 3, name
    assert (leak_left < 0).all()
