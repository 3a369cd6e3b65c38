"""The print-like experiment (training/calibration/print_like.py): its check tells inputs aged like old prints
from clean photos, its factor is the calibrated ratio of lambdas, and it widens the flagged runs only."""
import numpy as np
import pytest

from test_novelty import clean_photo, score_of
from training.aging import age
from training.calibration import print_like as P


def runs(seed, n):
    """n clean photos and the same aged like prints (training.aging): their features, whether aged, and a score
    and an error per pixel where the aged photos' errors run 1.5x larger for the same score."""
    rng = np.random.default_rng(seed)
    feats, aged, scores, errors = [], [], [], []
    for i in range(n):
        photo = clean_photo(rng)
        for is_aged in (False, True):
            image = age(photo, np.random.default_rng(1000 * seed + i))[0] if is_aged else photo
            score = score_of(rng)
            feats.append(P.features(image))
            aged.append(is_aged)
            scores.append(score)
            errors.append(score * rng.uniform(0, 1, score.shape) * (1.5 if is_aged else 1.0))
    return np.array(feats), np.array(aged), scores, errors


@pytest.fixture(scope="module")
def fitted():
    return P.fit_print_like(*runs(0, 60))


def test_it_tells_aged_inputs_from_clean_ones_on_new_photos_and_its_factor_is_the_calibrated_ratio(fitted):
    assert fitted["fires_on_aged"] >= 0.8 and fitted["fires_on_clean"] <= 0.2
    feats, aged, _, _ = runs(1, 30)   # photos it was not fitted on
    flagged = P.is_printlike(fitted["model"], feats)
    assert flagged[aged].mean() >= 0.75 and flagged[~aged].mean() <= 0.35   # a cheap check: it errs, but far less
    # errors 1.5x larger for the same score on the aged runs: the flagged runs (mostly aged) need ~1.5x lambda
    assert 1.25 <= fitted["factors"][0.1] <= 1.6
    assert all(f >= 1.0 for f in fitted["factors"].values())
    with pytest.raises(ValueError, match="both labels"):
        P.fit_model(np.zeros((4, len(P.FEATURES))), [0, 0, 0, 0])


def test_it_widens_the_flagged_runs_by_the_factor_and_leaves_the_others(fitted):
    feats, aged, scores, _ = runs(2, 10)
    flagged = P.is_printlike(fitted["model"], feats)
    assert flagged.any() and not flagged.all()
    for s, w, f in zip(scores, P.widened(fitted, feats, scores), flagged):
        np.testing.assert_allclose(w, s * (fitted["factors"][0.1] if f else 1.0))
