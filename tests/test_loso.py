"""training/calibration/loso.py (leave-one-source-out coverage) and the samples it reads
(training.calibration.prior.save_samples)."""
import numpy as np
import pytest

from training.calibration import loso
from training.calibration.print_like import FEATURES
from training.calibration.prior import save_samples


def write_samples(path, seed=0, n=10, px=300):
    """Three sources, each photo clean and aged; source c's aged photos err twice as much for the same score."""
    rng = np.random.default_rng(seed)
    scores, errors, runs, features = [], [], [], []
    for src in "abc":
        for _ in range(n):
            for aged in (False, True):
                s = rng.uniform(5, 30, (20, px // 20)).astype(np.float32)
                scores.append(s)
                errors.append(s * rng.uniform(0, 1, s.shape) * (2.0 if (src == "c" and aged) else 1.0))
                runs.append((src, aged))
                features.append(rng.normal(1.0 if aged else 0.0, 0.3, len(FEATURES)))
    save_samples(path, scores, errors, [""] * len(runs), runs, per_run=200,
                 pixels={"twice": [2 * s for s in scores]}, photos={"features": features})


def half_normal_runs(seed, n, factor):
    """Sources a, b, c of n photos each, clean and aged: errors |N(0, 1)| x score x factor(source, aged)."""
    rng = np.random.default_rng(seed)
    scores, errors, runs = [], [], []
    for src in "abc":
        for _ in range(n):
            for aged in (False, True):
                s = rng.uniform(5, 30, (10, 10)).astype(np.float32)
                scores.append(s)
                errors.append(s * np.abs(rng.normal(0, 1, s.shape)) * factor(src, aged))
                runs.append((src, aged))
    return scores, errors, runs


def test_samples_keep_extra_pixels_at_the_same_places_and_one_row_per_run(tmp_path):
    write_samples(tmp_path / "s.npz")
    d = np.load(tmp_path / "s.npz")
    assert d["score"].shape == (60, 200) and d["features"].shape == (60, len(FEATURES))
    np.testing.assert_array_equal(d["twice"], 2 * d["score"])   # sampled at the same pixels
    assert list(d["source"][:2]) == ["a", "a"] and list(d["aged"][:2]) == [False, True]


def test_the_left_out_source_that_errs_more_is_the_worst_and_the_target_is_missed(tmp_path, capsys):
    write_samples(tmp_path / "s.npz")
    assert loso.main([str(tmp_path / "s.npz")]) == 0
    out = capsys.readouterr().out
    assert "MISSED >= 0.87" in out and "worst c aged" in out
    assert loso.main([str(tmp_path / "s.npz"), "--print-like"]) == 0   # the check fitted on the other sources
    assert "worst c aged" in capsys.readouterr().out


def test_each_condition_fits_lambda_on_the_clean_and_the_aged_runs_apart(tmp_path, capsys):
    """Aged runs that err more than clean ones (every source): lambda the larger of the two covers the aged runs
    at least as well as the pooled one."""
    scores, errors, runs = half_normal_runs(1, 12, lambda src, aged: 1.5 if aged else 1.0)
    save_samples(tmp_path / "s.npz", scores, errors, [""] * len(runs), runs, per_run=100)
    d = np.load(tmp_path / "s.npz")
    args = (d["score"], d["error"], [""] * len(runs), d["source"], d["aged"].astype(bool), 0.1)
    pooled, each = loso.left_out(*args), loso.left_out(*args, each_condition=True)
    for src in "abc":
        assert each[(src, True)][0] >= 0.88 > pooled[(src, True)][0]
        assert each[(src, False)][0] > pooled[(src, False)][0]
    with pytest.raises(SystemExit, match="cannot go with --clean-only"):
        loso.main([str(tmp_path / "s.npz"), "--each-condition", "--clean-only"])


def test_pseudo_sources_keep_each_source_size_and_a_photos_runs_together():
    source = np.repeat(np.array(["a"] * 3 + ["b"] * 5 + ["c"] * 2), 2)
    shuffled = [loso.pseudo_sources(source, 2, np.random.default_rng(k)) for k in range(20)]
    for s in shuffled:
        assert sorted(s) == sorted(source)
        assert (s[::2] == s[1::2]).all()   # a photo's clean and aged runs keep one label
    assert any((s != source).any() for s in shuffled)
    with pytest.raises(ValueError, match="different sources"):
        loso.pseudo_sources(source, 4, np.random.default_rng(0))
    with pytest.raises(ValueError, match="whole photos"):
        loso.pseudo_sources(source, 3, np.random.default_rng(0))


def test_a_shifted_source_falls_below_what_chance_gives_and_exchangeable_ones_do_not(tmp_path, capsys):
    """write_samples' source c errs twice as much aged: its real left-out cell is below every random relabelling's
    worst cell. With c's errors like the others', the real worst cell is an ordinary draw of the chance ones."""
    write_samples(tmp_path / "s.npz", n=20)
    d = np.load(tmp_path / "s.npz")
    score, error, source, aged = d["score"], d["error"], d["source"], d["aged"].astype(bool)
    groups = [""] * len(score)
    real = min(v[0] for v in loso.left_out(score, error, groups, source, aged, 0.1).values())
    chance = loso.chance_worst(score, error, groups, source, aged, 0.1, 20)
    assert real < chance.min()
    shifted = (source == "c") & aged
    fair = error.copy()
    fair[shifted] /= 2
    real_fair = min(v[0] for v in loso.left_out(score, fair, groups, source, aged, 0.1).values())
    chance_fair = loso.chance_worst(score, fair, groups, source, aged, 0.1, 20)
    assert chance_fair.min() <= real_fair + 0.01 and real_fair > np.percentile(chance_fair, 5) - 0.01
    assert loso.main([str(tmp_path / "s.npz"), "--chance", "5"]) == 0
    assert "by chance (5 random pseudo-sources" in capsys.readouterr().out


def test_lambda_is_fitted_at_exactly_the_alpha_asked():
    """--alpha 0.08 is not the calibration table's 0.05: coverage falls strictly between the two levels'."""
    rng = np.random.default_rng(2)
    score = rng.uniform(5, 30, (120, 200))
    error = score * np.abs(rng.normal(0, 1, score.shape))
    aged, everything = np.zeros(120, bool), np.ones(120, bool)
    cov = {a: loso.coverage_on(score, error, [""] * 120, aged, everything, everything, a)[False][0]
           for a in (0.05, 0.08, 0.1)}
    assert cov[0.05] > cov[0.08] > cov[0.1]


def test_shares_weight_the_fitted_sources_as_the_calibration_weighs_them(tmp_path, capsys):
    """Source a errs more and carries most of the training mixture: weighted to it, the lambda fitted without b is
    wider than the plain one, so b is covered more; a file without shares is refused."""
    scores, errors, runs = half_normal_runs(2, 15, lambda src, aged: 1.6 if src == "a" else 1.0)
    shares = {"a": 0.8, "b": 0.1, "c": 0.1}
    save_samples(tmp_path / "s.npz", scores, errors, [""] * len(runs), runs, per_run=100, shares=shares)
    d = np.load(tmp_path / "s.npz")
    args = (d["score"], d["error"], [""] * len(runs), d["source"], d["aged"].astype(bool), 0.1)
    plain, weighted = loso.left_out(*args), loso.left_out(*args, shares=shares)
    assert weighted[("b", False)][0] > plain[("b", False)][0] + 0.01
    assert loso.main([str(tmp_path / "s.npz"), "--shares", "--each-condition"]) == 0
    assert "worst" in capsys.readouterr().out
    save_samples(tmp_path / "bare.npz", scores, errors, [""] * len(runs), runs, per_run=100)
    with pytest.raises(SystemExit, match="carries no shares"):
        loso.main([str(tmp_path / "bare.npz"), "--shares"])
