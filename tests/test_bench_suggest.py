"""bench/suggest.py: the places it measures (the product's, an experiment's) and the region-size rule."""
from types import SimpleNamespace

import numpy as np

from bench import suggest as B
from colorcore import color


def two_tone(h=96, w=96):
    """A gray photo of two flat halves, and a result colouring them blue (top) and green (bottom)."""
    L = np.where(np.arange(h)[:, None] < h // 2, 70.0, 40.0) * np.ones((1, w))
    ab = np.zeros((h, w, 2), np.float32)
    ab[: h // 2] = (-5, -30)
    ab[h // 2:] = (-30, 25)
    return color.with_lightness(L.astype(np.float32), ab), L


def test_disagreement_places_go_where_the_two_colorizers_differ(monkeypatch):
    rgb, L = two_tone()
    guess_ab = color.rgb_to_lab(rgb)[..., 1:].copy()
    guess_ab[60:90, 10:40] = (40, 40)   # the second colorizer says red in one patch of the bottom half
    guess = color.with_lightness(L.astype(np.float32), guess_ab)
    from training.calibration import suggest_reach
    monkeypatch.setattr(suggest_reach, "strokeless_prior", lambda prior, gray: (guess, None))
    auto = SimpleNamespace(rgb=rgb, uncertainty=np.full(L.shape, 10.0, np.float32))
    first = B.suggested(auto, rgb, None, "disagreement", {}, truth=None)[0]
    assert 60 <= first["y"] < 90 and 10 <= first["x"] < 40
    shipped = B.suggested(auto, rgb, None, "auto", {}, truth=None)
    assert len(shipped) == max(B.KS)


def test_the_oracles_rank_by_the_true_error_of_the_result_they_are_given(monkeypatch):
    """oracle-auto: Auto's true error in place of its radius (a flat radius says nothing); oracle-prior: the true
    error of the prior's strokeless guess, which the strokes correct, whatever Auto got wrong."""
    rgb, L = two_tone()
    truth_ab = color.rgb_to_lab(rgb)[..., 1:].copy()
    truth_ab[48:] = (40, 40)   # the bottom half is truly red
    truth = color.with_lightness(L.astype(np.float32), truth_ab)
    auto = SimpleNamespace(rgb=rgb, uncertainty=np.full(L.shape, 10.0, np.float32))
    first = B.suggested(auto, rgb, None, "oracle-auto", {}, truth=truth)[0]
    assert first["y"] >= 48   # Auto is wrong (green) only in the bottom half
    guess_ab = truth_ab.copy()
    guess_ab[:48] = (40, -40)   # the prior is right below and wrong above
    guess = color.with_lightness(L.astype(np.float32), guess_ab)
    from training.calibration import suggest_reach
    monkeypatch.setattr(suggest_reach, "strokeless_prior", lambda prior, gray: (guess, None))
    first = B.suggested(auto, rgb, None, "oracle-prior", {}, truth=truth)[0]
    assert first["y"] < 48


def test_the_region_rule_strokes_the_largest_regions_first():
    rgb, _ = two_tone()
    rgb[:, 80:] = color.with_lightness(np.full((96, 16), 20.0, np.float32), np.full((96, 16, 2), 30, np.float32))
    places = B.region_rule(rgb, 3)
    assert len(places) == 3 and len(set(places)) == 3
    assert places[0][1] < 80   # the thin strip on the right is not the largest region


def test_fix_places_go_where_a_stroke_of_autos_colour_would_correct_the_guess_most():
    """The experiment --places-from fix: the guess is right on the top half and wrong on the bottom half, so the
    first place is in the bottom half (Auto's colour there corrects the most), and the places are distinct."""
    rgb, L = two_tone()
    guess_ab = color.rgb_to_lab(rgb)[..., 1:].copy()
    guess_ab[48:] = 0   # the second colorizer left the bottom half gray
    guess = color.with_lightness(L.astype(np.float32), guess_ab)
    auto = SimpleNamespace(rgb=rgb, uncertainty=np.full(L.shape, 10.0, np.float32))
    places = B.fix_places(auto, guess, 3)
    assert places[0]["y"] >= 48
    assert len({(p["y"], p["x"]) for p in places}) == 3


def test_the_region_rule_ranked_by_a_weight_strokes_the_heaviest_region_first():
    rgb, _ = two_tone()
    rgb[:, 80:] = color.with_lightness(np.full((96, 16), 20.0, np.float32), np.full((96, 16, 2), 30, np.float32))
    weight = np.zeros(rgb.shape[:2])
    weight[:, 80:] = 1.0   # everything wrong is in the thin strip
    y, x = B.region_rule(rgb, 1, weight=weight)[0]
    assert x >= 80
    assert B.region_rule(rgb, 3, weight=np.ones(rgb.shape[:2])) == B.region_rule(rgb, 3)
