"""training/calibration/auto_score_variants.py: the gamut's chroma by lightness, and the table on samples."""
import numpy as np

from colorcore import color
from training.calibration import auto_score_variants as V


def test_the_gamut_holds_no_colour_at_black_or_white_and_most_at_mid_lightness():
    c = V.mean_gamut_chroma(np.array([0.0, 5.0, 25.0, 50.0, 75.0, 100.0]))
    assert c[0] < 1 and c[-1] < 1 and 40 < c[3] < 90 and c[1] < c[2] < c[3]
    # at chroma C(L) some hues fit and some do not (it is a mean over hues); at half of it most hues fit
    hues = np.deg2rad(np.arange(0, 360, 10))
    ab = np.stack([np.cos(hues), np.sin(hues)], -1).astype(np.float32)

    def share_inside(L, chroma):
        lin = color._lab_to_linear(np.full(len(hues), L, np.float32), ab * chroma)
        return np.all((lin >= -1e-4) & (lin <= 1 + 1e-4), -1).mean()
    for L, cm in zip((25.0, 50.0, 75.0), c[2:5]):
        assert 0 < share_inside(L, cm) < 1 and share_inside(L, cm / 2) > 0.5

N_RUNS, PIXELS = 24, 400


def table_rows(tmp_path, capsys, seed, **pixels):
    """auto_score_variants' table rows for synthetic samples (score, error, chroma, lightness and `pixels`)."""
    rng = np.random.default_rng(seed)
    score = rng.uniform(5, 30, (N_RUNS, PIXELS)).astype(np.float32)
    columns = dict(chroma=rng.uniform(0, 40, score.shape), lightness=rng.uniform(0, 100, score.shape), **pixels)
    np.savez(tmp_path / "s.npz", score=score, error=score * rng.uniform(0, 1.2, score.shape), **columns,
             aged=np.tile([False, True], N_RUNS // 2), source=np.repeat(["a", "b", "c"], N_RUNS // 3),
             group=np.full(N_RUNS, ""))
    assert V.main([str(tmp_path / "s.npz")]) == 0
    return [r for r in capsys.readouterr().out.splitlines() if r.startswith("| ") and "AUSE" not in r]


def test_it_prints_one_row_per_variant_from_a_samples_file(tmp_path, capsys):
    rows = table_rows(tmp_path, capsys, 0)
    # a file without its share was made with v6's 0.2
    assert len(rows) == 7 and rows[0].startswith("| as sampled (chroma share 0.2)")


def test_the_share_the_samples_were_made_with_is_taken_out_before_another_is_tried(tmp_path, capsys):
    rng = np.random.default_rng(3)
    base = rng.uniform(5, 30, (N_RUNS, PIXELS)).astype(np.float32)
    chroma = rng.uniform(0, 40, base.shape).astype(np.float32)
    error = base * rng.uniform(0, 1.2, base.shape)
    aged = np.tile([False, True], N_RUNS // 2)
    np.savez(tmp_path / "s.npz", score=base + 0.3 * chroma, error=error, chroma=chroma,
             lightness=rng.uniform(0, 100, base.shape), aged=aged, source=np.repeat(["a", "b", "c"], N_RUNS // 3),
             group=np.full(N_RUNS, ""), score_chroma=np.full(N_RUNS, 0.3))
    assert V.main([str(tmp_path / "s.npz")]) == 0
    rows = {r.split(" | ")[0]: r.split(" | ")[1:] for r in capsys.readouterr().out.splitlines()
            if r.startswith("| ") and "AUSE" not in r}
    assert "| as sampled (chroma share 0.3)" in rows
    expected = np.mean([V.ause(e, b)[0] for e, b in zip(error[~aged], base[~aged])])
    assert rows["| chroma share 0.0"][0] == f"{expected:.4f}"


def test_samples_with_the_results_a_and_b_also_try_the_gamuts_bound(tmp_path, capsys):
    a, b = np.random.default_rng(1).normal(0, 20, (2, N_RUNS, PIXELS)).astype(np.float32)
    rows = table_rows(tmp_path, capsys, 1, a=a, b=b)
    assert len(rows) == 11 and any(r.startswith("| score * (G / 100)^0.25") for r in rows)
    assert any(r.startswith("| min(score, 0.5 G)") for r in rows)


def test_samples_with_a_second_colorizers_disagreement_try_it_added(tmp_path, capsys):
    disagreement = np.random.default_rng(2).uniform(0, 30, (N_RUNS, PIXELS))
    rows = [r for r in table_rows(tmp_path, capsys, 2, disagreement=disagreement) if r.startswith("| score + ")]
    assert [r.split(" | ")[0] for r in rows] == [f"| score + {w} disagreement" for w in (0.2, 0.5, 1.0)]


def test_auto_samples_records_the_share_of_the_weights_it_ran(tmp_path):
    import json
    from types import SimpleNamespace
    from training.calibration.auto_samples import score_chroma_of
    (tmp_path / "g.json").write_text(json.dumps({"postprocess": {"gain": 1.0, "score_chroma": 0.3}}))
    assert score_chroma_of(SimpleNamespace(weights_path=tmp_path / "g.pt")) == 0.3
    (tmp_path / "g.json").write_text(json.dumps({"postprocess": {"gain": 1.0}}))
    assert score_chroma_of(SimpleNamespace(weights_path=tmp_path / "g.pt")) == 0.0
    assert score_chroma_of(SimpleNamespace()) == 0.0    # a backend with no such weights
