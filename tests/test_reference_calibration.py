"""The reference backend's calibration (issue 31): the per-group fit the fold check uses is the one the calibration
ships, the set-weighted rule weights what it says, and the fold check's halves, benchmark-like pooling and samples
behave as documented."""
import numpy as np
import pytest

from colorcore.calibration import coverage, fit_calibration
from training.calibration.reference import group_lambdas, save_samples
from training.calibration.reference_folds import coverages, halves, load, mixed


def pairs(n, scale, rng, size=(12, 12)):
    """n synthetic pairs whose chroma error is |N(0, 1)| * score * scale: a calibrated radius must cover them."""
    scores = [rng.uniform(0.5, 4.0, size) for _ in range(n)]
    return scores, [np.abs(rng.normal(0, 1, s.shape)) * s * scale for s in scores]


def test_group_lambdas_without_a_mix_are_the_groups_the_calibration_ships():
    rng = np.random.default_rng(0)
    s1, e1 = pairs(40, 2.0, rng)
    s2, e2 = pairs(60, 5.0, rng)
    groups = ["aligned"] * 40 + ["semantic"] * 60
    shipped = fit_calibration(s1 + s2, e1 + e2, groups=groups, shares={"aligned": 1, "semantic": 1}).groups
    assert group_lambdas(s1 + s2, e1 + e2, groups) == shipped
    assert shipped["semantic"][0.1] == pytest.approx(2.5 * shipped["aligned"][0.1], rel=0.15)


def test_a_set_mix_weights_the_sets_within_each_group():
    """A hard set that is 1/5 of a group's pairs but half of the mix: the mixed lambda is larger, and it covers
    fresh pairs drawn half and half, where the plain one under-covers; the per-set finite-sample terms make it
    more conservative than the plain rule for the same risk."""
    rng = np.random.default_rng(1)
    se, ee = pairs(160, 1.0, rng)
    sh, eh = pairs(40, 3.0, rng)
    sets = ["easy"] * 160 + ["hard"] * 40
    groups = ["g"] * 200
    plain = group_lambdas(se + sh, ee + eh, groups, alphas=(0.1,))["g"][0.1]
    mix = group_lambdas(se + sh, ee + eh, groups, sets, {"easy": 1.0, "hard": 1.0}, alphas=(0.1,))["g"][0.1]
    assert mix > 1.3 * plain
    te, tee = pairs(150, 1.0, rng)
    th, teh = pairs(150, 3.0, rng)
    miss = lambda lam: 1 - np.mean([coverage(lam * s, e) for s, e in zip(te + th, tee + teh)])  # noqa: E731
    assert miss(plain) > 0.12
    assert 0.06 <= miss(mix) <= 0.1


def test_halves_are_disjoint_stratified_and_cover_every_pair():
    rng = np.random.default_rng(2)
    strata = ["framing/aligned"] * 11 + ["kind/semantic"] * 6 + ["scene 5 s/aligned"] * 1
    a, b = halves(strata, rng)
    assert sorted(a + b) == list(range(len(strata))) and not set(a) & set(b)
    for key, n in (("framing/aligned", 11), ("kind/semantic", 6)):
        assert {sum(strata[i] == key for i in half) for half in (a, b)} <= {n // 2, n - n // 2}


def test_mixed_weights_every_set_alike_whatever_its_count():
    cov = np.array([1.0] * 30 + [0.8] * 10)
    sets = ["framing"] * 30 + ["kind"] * 10
    assert mixed(cov, sets) == pytest.approx(0.9)
    assert cov.mean() == pytest.approx(0.95)


def test_fold_check_of_exchangeable_pairs_lands_at_the_promise(tmp_path):
    """Samples saved as the calibration saves them (pairs of different sizes, padded), loaded back, fitted on one
    half and measured on the other: about 1 - alpha, as conformal risk control promises for exchangeable pairs."""
    rng = np.random.default_rng(3)
    sa, ea = pairs(120, 2.0, rng, (30, 30))
    ss, es = pairs(120, 4.0, rng, (20, 25))
    groups = ["aligned"] * 120 + ["semantic"] * 120
    sets = (["framing", "scene 2 s"] * 60) + (["kind", "scene 5 s"] * 60)
    save_samples(tmp_path / "s.npz", sa + ss, ea + es, groups, sets, ["src"] * 240, [str(i) for i in range(240)],
                 per_run=800)
    scores, errors, g, k, src = load(tmp_path / "s.npz")
    assert [s.size for s in scores[:1] + scores[-1:]] == [800, 500] and g == groups and k == sets
    covs = []
    for _ in range(10):
        a, b = halves([f"{x}/{y}" for x, y in zip(k, g)], rng)
        table = group_lambdas([scores[i] for i in a], [errors[i] for i in a], [g[i] for i in a], alphas=(0.1,))
        covs.append(mixed(coverages(table, 0.1, [scores[i] for i in b], [errors[i] for i in b], [g[i] for i in b]),
                          [k[i] for i in b]))
    assert 0.88 <= np.mean(covs) <= 0.92
