"""training/calibration/suggest_reach.py: rankings of the measured places, against the oracle."""
import numpy as np

from training.calibration import suggest_reach


def test_a_ranking_that_knows_each_places_psnr_scores_as_the_oracle_and_a_reversed_one_below_the_mean(capsys):
    rng = np.random.default_rng(0)
    photos = []
    for source in ("a", "b"):
        for _ in range(5):
            psnr = rng.normal(30, 1, 64)
            photos.append((source, psnr.tolist(), {"knows": psnr, "reversed": -psnr}))
    suggest_reach.report(photos)
    lines = {l.split()[0]: l.split() for l in capsys.readouterr().out.splitlines()[2:]}
    assert lines["knows"][1:] == lines["oracle"][1:]            # per source and the macro mean alike
    assert float(lines["reversed"][-2]) < 0 < float(lines["oracle"][-2])


def test_places_not_measured_yet_say_how_to_measure_them(tmp_path):
    import pytest
    with pytest.raises(SystemExit, match="suggest_places"):
        suggest_reach.main(["--places", str(tmp_path)])


def test_a_stroke_fixes_the_pixels_whose_truth_is_its_colour_and_no_others():
    truth = np.zeros((4, 6, 2), np.float32)
    truth[:, :3] = (40, 10)      # left half red-ish, right half neutral
    before = np.zeros_like(truth)   # the result: gray everywhere
    sens = np.full((4, 6), 2.0, np.float32)
    fix = suggest_reach.colour_fix(before, truth, [(40, 10), (0, 0)], sens).reshape(2, 4, 6)
    np.testing.assert_allclose(fix[0, :, :3], (40 ** 2 + 10 ** 2) * 4)   # all of the left half's error, in RGB
    assert np.all(fix[0, :, 3:] == 0)       # a red stroke cannot fix what is truly gray (nothing to fix there)
    assert np.all(fix[1] == 0)              # a gray stroke on a gray result fixes nothing
