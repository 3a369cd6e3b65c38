"""The `prior` radius by size (issue 30: coverage >= 0.85 in every quartile of the radius)."""
import json
from pathlib import Path

import numpy as np

from backends.prior.fusion import REFERENCE_SCORE_FLOOR, SCORE_FLOOR, prior_score
from training.calibration.prior_folds import held_out, quartile_coverage

ROOT = Path(__file__).resolve().parents[1]


def test_the_prior_score_has_no_constant_so_one_lambda_scales_small_and_large_radii_alike():
    rng = np.random.default_rng(0)
    s_head, spread, share = rng.uniform(1, 30, (3, 8, 8)).astype(np.float32)
    share = share / 30
    one = prior_score(s_head, spread, share)
    np.testing.assert_allclose(prior_score(3 * s_head, 9 * spread, share), 3 * one, rtol=1e-5)
    # the reference backend keeps the floor its own calibration was fitted with
    np.testing.assert_allclose(prior_score(s_head, spread, share, REFERENCE_SCORE_FLOOR), one + 2.0, rtol=1e-5)


def test_the_shipped_prior_calibration_was_fitted_on_the_score_it_scales():
    cal = json.loads((ROOT / "backends/prior/weights/calibration.json").read_text())
    assert cal["extra"]["score_floor"] == SCORE_FLOOR


def synthetic_runs(floor, n_photos=40, per_photo=6, px=400, seed=1):
    """Runs whose error scales with the network part of the score (errors ~ |N(0, 1)| * b): the score b + floor."""
    rng = np.random.default_rng(seed)
    n = n_photos * per_photo
    b = rng.lognormal(1.5, 0.6, (n, px)) * rng.lognormal(0, 0.3, (n, 1))
    error = np.abs(rng.normal(0, 1, b.shape)) * b
    group = np.array(["3-30 scribbles"] * n)
    aged = np.tile([False] * 3 + [True] * 3, n_photos)
    source = np.repeat(np.array(["a", "b"] * (n_photos // 2)), per_photo)
    return b + floor, error, group, aged, source


def test_a_floor_in_the_score_leaves_the_largest_radii_short_and_no_floor_covers_every_quartile():
    for floor, ok in ((4.0, False), (0.0, True)):
        out = held_out(*synthetic_runs(floor), per_photo=6, splits=2)
        for v in out.values():
            assert 0.88 <= v[0] <= 0.92                     # overall: what the calibration promises
            assert (min(v[1:]) >= 0.85) == ok, (floor, v)   # by size: only when the score tracks the error
            if not ok:
                assert v[4] < 0.85 < v[1]                   # the largest radii short, the smallest over


def test_quartile_coverage_is_small_to_large():
    r = np.arange(1.0, 9.0)
    e = np.array([0, 0, 0, 0, 9, 9, 9, 0.0])
    assert quartile_coverage(r, e) == [1.0, 1.0, 0.0, 0.5]


def test_the_shipped_prior_calibration_holds_on_clean_and_aged_inputs_apart():
    """Calibrated with `training.calibration.prior --aged`: each lambda the larger of the clean and the aged runs'."""
    cal = json.loads((ROOT / "backends/prior/weights/calibration.json").read_text())
    assert cal["extra"]["conditions"] == ["aged", "clean"]
