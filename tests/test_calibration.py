import numpy as np
import pytest

from colorcore.calibration import Calibration, coverage, crc_lambda, fit_calibration
from colorcore.errors import ColorcoreError


def synthetic(n, rng):
    """Images whose error scales with a known score, plus noise: a calibrated radius must cover."""
    scores, errors = [], []
    for _ in range(n):
        s = rng.uniform(0.5, 5.0, (16, 16))
        scores.append(s)
        errors.append(np.abs(rng.normal(0, 1, s.shape)) * s * 3.0)
    return scores, errors


@pytest.mark.parametrize("alpha", [0.05, 0.1, 0.2])
def test_crc_radius_covers_held_out_images_at_the_promised_rate(alpha):
    rng = np.random.default_rng(0)
    scores, errors = synthetic(200, rng)
    lam = crc_lambda(scores, errors, alpha)
    test_s, test_e = synthetic(300, rng)
    miss = 1 - np.mean([coverage(lam * s, e) for s, e in zip(test_s, test_e)])
    assert miss <= alpha + 0.01          # guarantee (in expectation), with sampling slack
    assert miss >= alpha - 0.03          # and not wastefully conservative


def test_lambda_grows_as_alpha_shrinks_and_radius_uses_the_safe_side():
    rng = np.random.default_rng(1)
    cal = fit_calibration(*synthetic(100, rng), alphas=(0.05, 0.1, 0.2))
    assert cal.lambdas[0.05] > cal.lambdas[0.1] > cal.lambdas[0.2]
    assert cal.lam(0.15) == cal.lambdas[0.1]   # never less conservative than asked
    with pytest.raises(ColorcoreError, match="smallest one calibrated.*0.05, 0.1, 0.2"):
        cal.lam(0.01)                           # below the grid: no lambda can promise it
    np.testing.assert_allclose(cal.radius(np.ones((2, 2)), 0.1), cal.lambdas[0.1])


def test_save_and_load_round_trip(tmp_path):
    cal = Calibration({0.1: 2.5, 0.2: 1.5}, source="unit test", n_images=7, extra={"score": {"floor": 1.0}})
    cal.save(tmp_path / "c.json")
    back = Calibration.load(tmp_path / "c.json")
    assert back.lambdas == cal.lambdas and back.extra == cal.extra and back.n_images == 7


def test_too_few_images_for_alpha_is_a_clear_error():
    with pytest.raises(ColorcoreError, match="more than"):
        crc_lambda([np.ones(3)] * 5, [np.ones(3)] * 5, 0.1)


def test_groups_are_calibrated_apart_and_chosen_by_name():
    rng = np.random.default_rng(2)
    s1, e1 = synthetic(60, rng)
    s2, e2 = synthetic(60, rng)
    e2 = [e * 3 for e in e2]          # a harder group: three times the error for the same score
    cal = fit_calibration(s1 + s2, e1 + e2, alphas=(0.1,), groups=["easy"] * 60 + ["hard"] * 60)
    assert cal.lam(0.1, "hard") == pytest.approx(3 * cal.lam(0.1, "easy"), rel=0.2)
    assert cal.lam(0.1, "easy") < cal.lam(0.1) < cal.lam(0.1, "hard")
    assert cal.lam(0.1, "unknown group") == cal.lam(0.1)


def test_groups_survive_save_and_load(tmp_path):
    cal = Calibration({0.1: 2.0}, groups={"few": {0.1: 4.0}})
    cal.save(tmp_path / "c.json")
    assert Calibration.load(tmp_path / "c.json").lam(0.1, "few") == 4.0


def test_mixture_shares_calibrate_for_the_mixture_asked():
    """A hard group that is 1/5 of the calibration split but half of the target mixture: the mixture's
    lambda covers fresh images drawn from that mixture, where the split's own lambda under-covers."""
    rng = np.random.default_rng(3)

    def draw(n_easy, n_hard):
        s1, e1 = synthetic(n_easy, rng)
        s2, e2 = synthetic(n_hard, rng)
        return s1 + s2, e1 + [e * 3 for e in e2], ["easy"] * n_easy + ["hard"] * n_hard

    s, e, g = draw(160, 40)
    plain = crc_lambda(s, e, 0.1)
    as_split = crc_lambda(s, e, 0.1, g, {"easy": 0.8, "hard": 0.2})
    mixed = crc_lambda(s, e, 0.1, g, {"easy": 1, "hard": 1})      # shares are normalised
    assert as_split == pytest.approx(plain, rel=0.05)
    assert mixed > 1.2 * plain
    ts, te, _ = draw(150, 150)
    miss = lambda lam: 1 - np.mean([coverage(lam * a, b) for a, b in zip(ts, te)])  # noqa: E731
    assert miss(plain) > 0.12
    assert 0.07 <= miss(mixed) <= 0.11
    cal = fit_calibration(s, e, alphas=(0.1,), groups=g, shares={"easy": 1, "hard": 1})
    assert cal.lam(0.1) == mixed and cal.extra["shares"] == {"easy": 1.0, "hard": 1.0}


@pytest.mark.parametrize("shares", [{"easy": 1.0}, {"easy": 1.0, "hard": -1.0}, {"easy": 0, "hard": 0}])
def test_mixture_shares_must_name_every_group(shares):
    s = [np.ones((2, 2))] * 20
    with pytest.raises(ColorcoreError, match="share for each calibration group"):
        crc_lambda(s, s, 0.1, ["easy"] * 10 + ["hard"] * 10, shares)


def test_conditions_control_the_risk_under_each_condition():
    """Inputs made two ways (say clean and aged) that a run cannot tell apart: the lambda covers fresh images of
    each condition at the promised rate, where the pooled lambda under-covers the harder one; per group too."""
    rng = np.random.default_rng(4)

    def draw(n):
        s1, e1 = synthetic(n, rng)
        s2, e2 = synthetic(n, rng)
        return s1 + s2, e1 + [e * 1.5 for e in e2], ["clean"] * n + ["aged"] * n

    s, e, c = draw(150)
    groups = ["few", "many"] * 150
    pooled = fit_calibration(s, e, alphas=(0.1,), groups=groups)
    cal = fit_calibration(s, e, alphas=(0.1,), groups=groups, conditions=c)
    each = [crc_lambda([x for x, k in zip(s, c) if k == name], [x for x, k in zip(e, c) if k == name], 0.1)
            for name in ("clean", "aged")]
    assert cal.lam(0.1) == pytest.approx(max(each)) and cal.lam(0.1) > pooled.lam(0.1)
    assert cal.extra["conditions"] == ["aged", "clean"]
    fresh_s, fresh_e, fresh_c = draw(300)
    aged = [(x, y) for x, y, k in zip(fresh_s, fresh_e, fresh_c) if k == "aged"]
    miss = lambda lam: 1 - np.mean([coverage(lam * x, y) for x, y in aged])  # noqa: E731
    assert miss(cal.lam(0.1)) <= 0.1 + 0.01 < miss(pooled.lam(0.1))
    for g in ("few", "many"):   # each scribble-count group: the largest of its conditions' lambdas
        sub = [i for i, name in enumerate(groups) if name == g]
        want = max(crc_lambda([s[i] for i in sub if c[i] == k], [e[i] for i in sub if c[i] == k], 0.1)
                   for k in ("clean", "aged"))
        assert cal.lam(0.1, g) == pytest.approx(want)
    with pytest.raises(ColorcoreError, match="one condition per image"):
        fit_calibration(s, e, conditions=c[:-1])
