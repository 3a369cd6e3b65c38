"""training/calibration/prior_ause.py: score variants ranked by AUSE on samples."""
import numpy as np

from colorcore import color
from colorcore.gamut import gamut_reach
from training.calibration import prior_ause


def rows_whose_error_follows_the_gamut(n=80, px=400, seed=0):
    """Runs whose error grows with the gamut's bound, which the score does not know."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        lab = color.rgb_to_lab(rng.uniform(0, 1, (px, 1, 3)).astype(np.float32))[:, 0]
        score = rng.uniform(5, 15, px).astype(np.float32)
        err = score * np.sqrt(gamut_reach(lab[:, 0], lab[:, 1:]) / 100) * rng.uniform(0, 1.5, px)
        rows.append(("ab"[i % 2], bool(i % 4 >= 2), 10, err.astype(np.float32), score, lab, i // 4))
    return rows


def test_a_gamut_power_ranks_errors_that_follow_the_gamut_better(capsys):
    rows = rows_whose_error_follows_the_gamut()
    prior_ause.report(rows)
    out = capsys.readouterr().out
    clean = dict(kv.split(": ") for kv in out.splitlines()[0].split("  ")[1:])
    assert float(clean["p 0.5"]) < float(clean["p 0.25"]) < float(clean["p 0"]) == float(clean["w 0"])
    assert "coverage by quartile of the radius" in out


def test_held_out_halves_cover_about_as_promised_in_each_quartile():
    rows = rows_whose_error_follows_the_gamut()
    q = prior_ause.halves_by_quartile(rows, lambda r: prior_ause.gamut_scaled(r[4], r[5], 0.5))
    for aged in (False, True):
        assert np.all(q[aged] > 0.75) and abs(np.mean(q[aged]) - 0.9) < 0.08
