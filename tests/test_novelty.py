"""The "unlike the calibration photos" check (colorcore.novelty) and where its verdict reaches the user."""
import sys
from pathlib import Path

import numpy as np
import pytest

from colorcore import BackendOutput, Calibration, ColorizeRequest, novelty, protocol, run_backend
from test_pipeline import Vivid


def clean_photo(rng, h=96, w=128):
    """A modern photo's lightness statistics: smooth shapes, full contrast, little grain."""
    yy, xx = np.mgrid[0:h, 0:w] / np.array([h, w])[:, None, None]
    base = 0.25 + 0.5 * (rng.uniform() * xx + (1 - rng.uniform()) * yy)
    for _ in range(4):
        y, x, r = rng.uniform(0, h), rng.uniform(0, w), rng.uniform(8, 30)
        base = np.where((np.mgrid[0:h, 0:w][0] - y) ** 2 + (np.mgrid[0:h, 0:w][1] - x) ** 2 < r * r,
                        rng.uniform(0.05, 0.95), base)
    rgb = np.repeat(base[..., None], 3, -1) + rng.normal(0, 0.005, (h, w, 1))
    return np.clip(rgb, 0, 1).astype(np.float32)


def old_scan(rng, h=96, w=128):
    """A faded, grainy print: low contrast around a mid-gray, heavy grain."""
    faded = 0.45 + 0.15 * (clean_photo(rng, h, w) - 0.5) + rng.normal(0, 0.08, (h, w, 1))
    return np.clip(faded, 0, 1).astype(np.float32)


def score_of(rng, h=96, w=128):
    return rng.uniform(8, 12, (h, w)).astype(np.float32)


@pytest.fixture(scope="module")
def fitted():
    rng = np.random.default_rng(0)
    return novelty.fit_novelty([novelty.photo_features(clean_photo(rng), score_of(rng)) for _ in range(60)])


def test_a_faded_grainy_scan_is_flagged_and_photos_like_the_calibration_ones_are_not(fitted):
    rng = np.random.default_rng(1)
    like = [novelty.assess(fitted, clean_photo(rng), score_of(rng)) for _ in range(20)]
    old = [novelty.assess(fitted, old_scan(rng), score_of(rng)) for _ in range(5)]
    assert sum(r["unlike_calibration"] for r in like) <= 2     # at most 1/(n+1) expected; a few by chance
    assert all(r["unlike_calibration"] for r in old)
    assert min(r["calibration_distance"] for r in old) > 2 * fitted["threshold"]


def test_no_calibration_photo_is_flagged_and_the_check_ignores_the_photos_size(fitted):
    rng = np.random.default_rng(0)
    photos = [(clean_photo(rng), score_of(rng)) for _ in range(60)]   # the fixture's very photos
    assert not any(novelty.assess(fitted, *p)["unlike_calibration"] for p in photos)
    # the same scan at 4x the size (statistics are taken at novelty.SIDE) gets nearly the same verdict
    small = old_scan(np.random.default_rng(5), 64, 96)
    big = np.repeat(np.repeat(small, 4, 0), 4, 1)
    d_small = novelty.assess(fitted, small, score_of(rng, 64, 96))["calibration_distance"]
    d_big = novelty.assess(fitted, big, score_of(rng, 256, 384))["calibration_distance"]
    assert d_big == pytest.approx(d_small, rel=0.5) and d_big > fitted["threshold"]
    for h, w in ((1, 7), (5, 1), (1, 1)):   # a one-pixel-wide photo has statistics too
        assert np.isfinite(novelty.photo_features(np.full((h, w, 3), 0.5, np.float32), np.ones((h, w)))).all()
    with pytest.raises(ValueError, match="more than 5 rows"):
        novelty.fit_novelty([novelty.photo_features(*p) for p in photos[:3]])


def test_the_result_info_the_cli_note_and_the_plugin_message_say_it(fitted):
    class Calibrated(Vivid):
        def calibration(self):
            return Calibration({0.1: 3.0}, extra={novelty.KEY: fitted})

        def run(self, request):
            h, w = request.shape
            return BackendOutput(ab=np.zeros((h, w, 2), np.float32), score=score_of(np.random.default_rng(2), h, w))
    rng = np.random.default_rng(3)
    res = run_backend(Calibrated(), ColorizeRequest(image=old_scan(rng)))
    assert res.info["unlike_calibration"] is True and res.info["calibration_distance"] > fitted["threshold"]
    note = protocol.unlike_calibration_note(res.info)
    assert "unlike every photo the uncertainty was calibrated on" in note
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "gimp_plugin" / "colorize"))
    import colorize_layers as H   # the plug-in's modules import each other by name, as inside GIMP
    msg = H.uncertainty_message({"uncertainty_scale": 40.0, "alpha": 0.1, "info": res.info}, 0.1, "gan")
    assert msg.endswith(note) and "40.0" in msg
    ok = run_backend(Calibrated(), ColorizeRequest(image=clean_photo(rng)))
    assert ok.info["unlike_calibration"] is False and protocol.unlike_calibration_note(ok.info) is None
    assert "unlike" not in H.uncertainty_message({"uncertainty_scale": 40.0, "info": ok.info}, 0.1, "gan")


def test_the_score_feature_is_the_log_mean_score_where_it_is_positive():
    rng = np.random.default_rng(4)
    score = rng.uniform(0, 30, (61, 77)).astype(np.float32)
    score[:20] = 0   # Partial: zero outside the selection, whatever its size
    assert novelty.score_feature(score) == pytest.approx(np.log(score[score > 0].mean() + 1e-3), rel=1e-6)
    assert novelty.score_feature(score[20:]) == pytest.approx(novelty.score_feature(score), rel=1e-6)
    assert novelty.score_feature(np.zeros((5, 5), np.float32)) == pytest.approx(np.log(1e-3))
