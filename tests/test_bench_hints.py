"""bench/hints.py's reporting: paired standard errors, the targets, and runs over disjoint point counts merged
into one (hand-made per-photo results; no shared data, no network weights)."""
import json
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench import hints  # noqa: E402

LEVIN = hints.REFERENCE


def run_results(points, offset=1.2, photos=4):
    """Per-photo results as measure() returns them: two sources; `prior` is Levin + offset on every photo of
    source a (so the photos' own spread must cancel) and + 0.5, + 1.5 alternately on source b."""
    def by_points(values):
        return {p: [float(v + p) for v in values] for p in points}
    base_a, base_b = np.linspace(20, 32, photos), np.linspace(24, 27, photos)
    alt = np.where(np.arange(photos) % 2, 1.5, 0.5)
    psnr = {"a": {"prior": by_points(base_a + offset), LEVIN: by_points(base_a)},
            "b": {"prior": by_points(base_b + alt), LEVIN: by_points(base_b)}}
    unc = {"prior": {p: {"covered": [0.9] * 2 * photos, "radius": [10.0] * 2 * photos, "const_covered": [],
                         "const_radius": []} for p in points}}
    return {"backends": ["prior"], "reference": True, "psnr": psnr, "uncertainty": unc,
            "seconds": {"prior": 1.0, LEVIN: 2.0}, "runs": 2 * photos * len(points)}


def test_the_gain_over_levin_is_paired_so_the_photos_spread_cancels():
    res = run_results([1])
    assert hints.gain(res["psnr"]["a"], "prior", LEVIN, 1) == pytest.approx((1.2, 0.0))
    mean, se = hints.gain(res["psnr"]["b"], "prior", LEVIN, 1)
    # 0.5, 1.5, 0.5, 1.5: sample std 0.577 over sqrt(4)
    assert mean == pytest.approx(1.0) and se == pytest.approx(np.std([0.5, 1.5, 0.5, 1.5], ddof=1) / 2)


def test_targets_name_the_worst_source_with_its_standard_error():
    lines = hints.targets(run_results([1, 2])["psnr"], ["prior"], [1, 2])["prior"]
    assert lines[0] == "met  1 pts: >= +1.0 dB over Levin on every source (worst b: +1.00 ±0.29)"
    assert lines[1].startswith("met  2 pts") and len(lines) == 2   # no variational in the run: no such target
    worse = run_results([1], offset=0.4)
    assert hints.targets(worse["psnr"], ["prior"], [1])["prior"] == [
        "MISSED 1 pts: >= +1.0 dB over Levin on every source (worst a: +0.40 ±0.00)"]


def saved(tmp_path, name, results):
    """results written as bench/hints.py writes them (JSON turns the point counts into strings)."""
    path = tmp_path / name / "hints.json"
    path.parent.mkdir()
    path.write_text(json.dumps({"per_photo": results}))
    return str(path)


def test_runs_over_disjoint_point_counts_report_as_one_run(tmp_path, capsys):
    one = run_results([1, 2, 5])
    a = saved(tmp_path, "a", run_results([1, 5]))
    b = saved(tmp_path, "b", run_results([2]))
    merged = hints.merged([a, b])
    assert merged["psnr"] == one["psnr"] and merged["uncertainty"] == one["uncertainty"]
    assert merged["runs"] == one["runs"] and merged["seconds"] == {"prior": 2.0, LEVIN: 4.0}
    hints.report(merged, tmp_path)
    report = json.loads((tmp_path / "hints.json").read_text())
    assert report["sources"] == {"a": 4, "b": 4}
    assert report["psnr"]["overall"]["prior"]["2"] == pytest.approx(np.mean(one["psnr"]["a"]["prior"][2]
                                                                            + one["psnr"]["b"]["prior"][2]))
    assert report["gain_over_reference"]["prior"]["a"]["5"] == pytest.approx([1.2, 0.0])
    assert (tmp_path / "hints.png").stat().st_size > 0
    # the report's own JSON is a run again: merged with nothing, it reports the same
    assert hints.merged([str(tmp_path / "hints.json")])["psnr"] == one["psnr"]
    out = capsys.readouterr().out
    assert "prior - levin2004 | +1.20 ±0.00" in out


def test_merging_refuses_runs_on_other_photos_or_without_per_photo_results(tmp_path):
    a = saved(tmp_path, "a", run_results([1]))
    b = saved(tmp_path, "b", run_results([2], photos=6))
    with pytest.raises(SystemExit, match="other methods or photos"):
        hints.merged([a, b])
    old = tmp_path / "old.json"
    old.write_text(json.dumps({"psnr": {}}))
    with pytest.raises(SystemExit, match="no per-photo results"):
        hints.merged([str(old)])


def test_macro_mean_beside_the_pooled_one_with_its_standard_error(tmp_path, capsys):
    """Source b has 2 photos, a has 6: the macro mean weighs them the same, the pooled one by photos."""
    a, b = run_results([1], photos=6), run_results([1], photos=2)
    results = dict(a, psnr={"a": a["psnr"]["a"], "b": b["psnr"]["b"]})
    hints.report(results, tmp_path)
    report = json.loads((tmp_path / "hints.json").read_text())
    assert list(report["psnr"]) == ["a", "b", hints.MACRO, hints.OVERALL]
    mean_a, mean_b = np.mean(results["psnr"]["a"]["prior"][1]), np.mean(results["psnr"]["b"]["prior"][1])
    assert report["psnr"][hints.MACRO]["prior"]["1"] == pytest.approx((mean_a + mean_b) / 2)
    pooled = np.mean(results["psnr"]["a"]["prior"][1] + results["psnr"]["b"]["prior"][1])
    assert report["psnr"][hints.OVERALL]["prior"]["1"] == pytest.approx(pooled)
    assert pooled != pytest.approx((mean_a + mean_b) / 2)
    sem_a = np.std(results["psnr"]["a"]["prior"][1], ddof=1) / np.sqrt(6)
    sem_b = np.std(results["psnr"]["b"]["prior"][1], ddof=1) / np.sqrt(2)
    assert report["psnr_sem"][hints.MACRO]["prior"]["1"] == pytest.approx(np.hypot(sem_a, sem_b) / 2)
    # the gain over Levin: a +1.2 on every photo (error 0), b +0.5 / +1.5 (error 0.5): macro +1.1 ± 0.25
    assert report["gain_over_reference"]["prior"][hints.MACRO]["1"] == pytest.approx([1.1, 0.25])
    assert "PSNR (dB ± standard error), macro (macro mean of the 2 sources" in capsys.readouterr().out
