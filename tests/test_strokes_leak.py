"""Real-looking strokes: two regions split by a weak edge (5 L units under 0.6 of grain), one wavy one-pixel stroke
in each. The Scribble prior issue asks that the colour stay on its side (within 3 Delta E of its own stroke's
colour beyond 8 px from the edge). `variational` does that once its edge_sensitivity is lowered to 1 L unit; at
its default (2, chosen on the hint benchmark) the colours drift towards the edge by up to 9 Delta E. `prior` at its
defaults fails it much more (99th percentile 45 / 29 Delta E on the left / right, measured 2026-12-02; 61 / 32 when
first measured): on this flat synthetic photo its network's guess fades the strokes' colours towards the edge and
the corners, and as a non-local feature of the solve it joins pixels across the edge (backends/prior/MODEL_CARD.md,
Limitations). The issue's test for a new default is this one at default settings."""
import numpy as np

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


def test_a_lower_edge_sensitivity_keeps_the_colour_on_its_side_of_a_weak_edge(registry):
    gray, strokes, left, right = two_regions()
    res = run_backend(registry.get("variational"), ColorizeRequest(image=gray, mode="scribble", scribbles=strokes,
                                                                   options={"edge_sensitivity": 1.0}))
    ab = color.rgb_to_lab(res.rgb)[..., 1:]
    far_left, far_right = ab[:, :SIZE // 2 - 8], ab[:, SIZE // 2 + 8:]
    assert np.percentile(np.linalg.norm(far_left - left, axis=2), 99) < 3.5
    assert np.percentile(np.linalg.norm(far_right - right, axis=2), 99) < 3.5
    # every far pixel is nearer its own side's colour than the other side's
    assert (np.linalg.norm(far_left - left, axis=2) < np.linalg.norm(far_left - right, axis=2)).all()
    assert (np.linalg.norm(far_right - right, axis=2) < np.linalg.norm(far_right - left, axis=2)).all()
