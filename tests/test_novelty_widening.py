"""training/calibration/novelty_widening.py: the widening a flagged photo's radius needs."""
import numpy as np

from training.calibration import novelty_widening as W


def runs(scale, n=40, seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        radius = rng.uniform(5, 20, (16, 16)).astype(np.float32)
        err = radius * rng.uniform(0, 1, radius.shape) * scale   # uniform up to scale x the radius
        out.append((True, 1.5, float(np.mean(err <= radius)), err, radius))
    return out


def test_radii_that_already_cover_need_no_widening_and_short_ones_need_it():
    assert W.widening(runs(1.0)) <= 1.0
    assert 1.6 < W.widening(runs(2.0)) <= 2.0          # 90 % of errors below 1.8 x the radius
    assert W.widening(runs(2.0, n=5)) is None            # too few flagged runs to promise 0.9


def test_every_corruption_keeps_the_photo_in_range_and_shape():
    gray = np.random.default_rng(1).uniform(0, 1, (32, 48)).astype(np.float32)
    for name, corrupt in W.corruptions(np.random.default_rng(2)).items():
        out = np.asarray(corrupt(gray.copy()))
        assert out.shape == gray.shape and out.min() >= 0 and out.max() <= 1, name
    assert np.allclose(W.corruptions(np.random.default_rng(2))["negative"](gray), 1 - gray)
