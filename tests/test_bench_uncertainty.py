"""bench/uncertainty.py's summary of per-photo records (hand-made; no shared data, no network weights)."""
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench import uncertainty  # noqa: E402


def record(err, radius):
    err, radius = np.asarray(err, float), np.asarray(radius, float)
    return {"err": err, "radius": radius, "coverage": float(np.mean(err <= radius)),
            "mean_radius": float(radius.mean()), "spearman": uncertainty.spearman(err, radius), "group": None,
            "ause": uncertainty.ause(err, radius), "flagged": False}


def test_coverage_is_the_mean_over_photos_with_its_standard_error():
    recs = [record([1, 2, 3, 9], [4, 4, 4, 4]), record([1, 1, 1, 1], [2, 2, 2, 2])]   # 0.75 and 1.0 covered
    s = uncertainty.summarise(recs, None)
    assert s["photos"] == 2 and s["coverage"] == pytest.approx(0.875)
    assert s["coverage_sem"] == pytest.approx(np.std([0.75, 1.0], ddof=1) / np.sqrt(2))
    assert s["mean_radius"] == pytest.approx(3.0)


def test_a_radius_that_follows_the_error_is_more_efficient_than_a_constant_one():
    rng = np.random.default_rng(0)
    scale = np.exp(rng.uniform(0, 4, 4000))   # errors of very different sizes
    err = scale * rng.exponential(1.0, 4000)
    follows = uncertainty.summarise([record(err, 2.3 * scale)], None)
    constant = uncertainty.summarise([record(err, np.full(4000, np.quantile(err, 0.9)))], None)
    assert constant["efficiency"] == pytest.approx(1.0, abs=0.01)
    assert follows["efficiency"] > 1.1 and follows["spearman"] > 0.5 > constant["spearman"]


def test_ause_is_zero_for_the_oracle_order_and_near_a_random_order_for_a_radius_that_knows_nothing():
    rng = np.random.default_rng(1)
    err = rng.exponential(1.0, 20000)
    assert uncertainty.ause(err, err)[0] == pytest.approx(0.0, abs=1e-12)
    blind, random_order = uncertainty.ause(err, rng.random(20000))
    assert random_order > 0.2 and blind == pytest.approx(random_order, abs=0.02)
    assert len(uncertainty.SPARSIFICATION) == 10


def test_coverage_by_radius_quartile():
    rng = np.random.default_rng(2)
    radius = np.repeat([1.0, 2.0, 3.0, 4.0], 1000)
    err = np.where(radius < 2.5, 0.0, 10.0) + rng.random(4000) * 0.01   # the small radii cover, the large do not
    s = uncertainty.summarise([record(err, radius)], None)
    assert s["by_size"] == [1.0, 1.0, 0.0, 0.0]


def test_coverage_by_radius_quartile_has_a_standard_error_over_photos():
    rng = np.random.default_rng(3)
    radius = np.repeat([1.0, 2.0, 3.0, 4.0], 250)
    alike = [record(np.where(rng.random(1000) < 0.9, 0.0, 9.0), radius) for _ in range(20)]
    s = uncertainty.summarise(alike, None)
    assert all(0.002 < e < 0.008 for e in s["by_size_sem"])          # ~ sqrt(0.09 / 5000): pixels independent
    # photos that cover all or nothing: the same share, a far larger error (the photo is the unit)
    split = [record(np.full(1000, 0.0 if i % 10 else 9.0), radius) for i in range(20)]
    t = uncertainty.summarise(split, None)
    assert t["by_size"][0] == pytest.approx(0.9) and all(e > 0.05 for e in t["by_size_sem"])
    assert uncertainty.quartile_sem(np.ones(5, bool), np.zeros(5, int), 1) == 0.0
