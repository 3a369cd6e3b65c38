"""bench/auto.py's pure helpers, on small hand-made inputs (no shared data, no network weights)."""
import json
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench import auto  # noqa: E402


def record(gt, gray, gan_at_1, spearman=None, cov=None):
    """An image record: predict-gray at gain 1, gan at every swept gain (PSNR falls, colourfulness rises with
    the gain), and optionally gan's uncertainty."""
    rec = {"gt_colour": gt,
           "methods": {"predict-gray": {1.0: (gray, 0.0)},
                       "gan": {g: (gan_at_1[0] - (g - 1) * 10, gan_at_1[1] * g) for g in auto.SWEEP_GAINS}}}
    if cov is not None:
        rec["uncertainty"] = {"spearman": spearman, "gan": cov, auto.CONSTANT: (cov[0] + 0.05, 30.0)}
    return rec


def test_overall_pools_every_image_of_every_source_not_the_mean_of_the_sources():
    records = {"a": [record(10.0, 20.0, (22.0, 6.0)), record(30.0, 24.0, (28.0, 12.0))],
               "b": [record(20.0, 30.0, (31.0, 12.0))]}
    res = auto.summarise_sources(records)
    assert list(res) == ["a", "b", auto.MACRO, auto.OVERALL]
    a, b, overall = res["a"], res["b"], res[auto.OVERALL]
    assert a["gan"]["psnr"] == pytest.approx(25.0)
    assert a["gan"]["psnr_sem"] == pytest.approx(3.0)   # sample std 3 sqrt(2) of (22, 28) over sqrt(2)
    assert a["gan"]["psnr_vs_gray"] == pytest.approx(3.0)                # 25 - 22
    assert a["gan"]["colourfulness_ratio"] == pytest.approx(9.0 / 20.0)  # mean predicted / mean truth
    assert b["gan"]["psnr_vs_gray"] == pytest.approx(1.0)
    assert b["predict-gray"]["psnr_vs_gray"] == 0.0 and b["predict-gray"]["colourfulness_ratio"] == 0.0
    # pooled: 3 images weigh equally (the mean of the two sources' means would be 28.0 and 0.525)
    assert overall["gan"]["psnr"] == pytest.approx(27.0)
    assert overall["gan"]["psnr_vs_gray"] == pytest.approx(27.0 - 74.0 / 3)
    assert overall["gan"]["colourfulness_ratio"] == pytest.approx(10.0 / 20.0)
    # the sweep: gain 1.5 costs 5 dB on every image and scales colourfulness by 1.5
    sweep = dict((g, (p, c)) for g, p, c in overall["gan"]["gain_sweep"])
    assert sorted(sweep) == list(auto.SWEEP_GAINS)
    assert sweep[1.5] == pytest.approx((22.0, 0.75))
    assert "gain_sweep" not in overall["predict-gray"]
    # the macro mean: a and b weigh the same; its error from the sources' (b has one photo: 0)
    macro = res[auto.MACRO]
    assert macro["gan"]["psnr"] == pytest.approx((25.0 + 31.0) / 2)
    assert macro["gan"]["psnr_sem"] == pytest.approx(np.sqrt(3.0 ** 2 + 0.0) / 2)
    assert macro["gan"]["psnr_vs_gray"] == pytest.approx((3.0 + 1.0) / 2)
    assert a["gan"]["psnr_vs_gray_sem"] == pytest.approx(1.0)     # paired: gains (2, 4): std sqrt(2) / sqrt(2)
    assert macro["gan"]["psnr_vs_gray_sem"] == pytest.approx(0.5)
    assert macro["gan"]["colourfulness_ratio"] == pytest.approx((9.0 / 20.0 + 12.0 / 20.0) / 2)
    assert "gain_sweep" not in macro["gan"]


def test_mse_share_of_the_soup_is_read_from_the_weights_json(tmp_path):
    meta = {"soup": [{"weights": "gan v5 (itself the soup listed under v5_soup)", "share": 0.5},
                     {"weights": "gan v5 continued", "share": 0.5}],
            "v5_soup": [{"weights": "gan v3", "share": 0.7}, {"weights": "mse_baseline.pt (the baseline)", "share": 0.3}]}
    assert auto.soup_share(meta) == pytest.approx(0.15)
    assert auto.soup_share({}) == 0.0
    w = tmp_path / "gan.pt"
    w.with_suffix(".json").write_text(json.dumps(meta))
    share, line = auto.mse_description(w)
    assert share == pytest.approx(0.15) and "MSE ingredient" in line and "15%" in line
    assert "ingredient" not in auto.mse_description(tmp_path / "other.pt")[1]


def test_shipped_gan_describes_the_mse_network_as_its_ingredient():
    share, line = auto.mse_description(auto.REPO / "backends" / "gan" / "weights" / "gan.pt")
    # v7 = ½ v6 + ½ a continuation of v6's checkpoint; v6 = ½ v5 + ½ …; v5 = 0.3 MSE network + …
    assert share == pytest.approx(0.5 * 0.5 * 0.3, abs=0.005) and "ingredient" in line


def test_uncertainty_is_averaged_per_row_and_skipped_without_it():
    recs = [record(10.0, 20.0, (22.0, 6.0), 0.2, (0.8, 20.0)),
            record(10.0, 20.0, (22.0, 6.0), float("nan"), (1.0, 40.0))]
    res = auto.summarise(recs)
    assert res["gan"]["coverage"] == pytest.approx(0.9) and res["gan"]["mean_radius"] == pytest.approx(30.0)
    assert res["gan"]["spearman"] == pytest.approx(0.2)                  # a constant image's nan is left out
    assert res[auto.CONSTANT] == pytest.approx({"coverage": 0.95, "mean_radius": 30.0})
    plain = auto.summarise([record(10.0, 20.0, (22.0, 6.0))])
    assert "coverage" not in plain["gan"] and auto.CONSTANT not in plain


def test_image_uncertainty_per_pixel_and_constant_radius():
    err = np.array([[1.0, 2.0], [3.0, 10.0]])
    score = np.array([[1.0, 1.0], [1.0, 4.0]])
    out = auto.image_uncertainty(err, score, {"gan": (2.5, True), auto.CONSTANT: (2.5, False)})
    assert out["gan"] == pytest.approx((0.75, 2.5 * 7 / 4))            # 10 <= 2.5 * 4; 3 > 2.5
    assert out[auto.CONSTANT] == pytest.approx((0.5, 2.5))
    assert out["spearman"] == pytest.approx(3 / np.sqrt(15))          # ranks (2, 2, 2, 4) vs (1, 2, 3, 4)


def test_psnr_at_colourfulness_and_the_targets():
    curve = [(0.8, 24.0, 0.40), (1.0, 23.5, 0.50), (1.2, 22.5, 0.60), (1.4, 21.5, 0.90)]
    assert auto.psnr_at_colourfulness(curve, 0.55) == pytest.approx(23.0)
    assert auto.psnr_at_colourfulness(curve[::-1], 0.55) == pytest.approx(23.0)   # order of the points
    assert auto.psnr_at_colourfulness(curve, 0.80) == pytest.approx(21.5 + 1.0 / 3)
    assert auto.psnr_at_colourfulness(curve, 0.95) is None
    overall = {"gan": {"colourfulness_ratio": 0.6, "gain_sweep": curve},
               "mse-baseline": {"colourfulness_ratio": 0.4, "gain_sweep": [(1.0, 25.0, 0.4), (1.5, 23.0, 0.6)]}}
    rows = {label: (c, psnr) for label, c, psnr in auto.equal_colourfulness(overall)}
    assert rows["gan as shipped"] == (0.6, pytest.approx({"mse-baseline": 23.0, "gan": 22.5}))
    assert rows["MSE as trained"][1] == pytest.approx({"mse-baseline": 25.0, "gan": 24.0})
    assert rows["the 0.8x target"] == (0.8, {"mse-baseline": None, "gan": pytest.approx(21.5 + 1.0 / 3)})
    assert rows["the earlier 0.7x target"][0] == 0.7


def test_weights_size_from_the_json_beside_the_weights(tmp_path):
    from backends.gan.infer import LEGACY_SIZE
    w = tmp_path / "g.pt"
    assert auto.weights_size(w) == LEGACY_SIZE                         # no JSON
    w.with_suffix(".json").write_text(json.dumps({"generator": {}}))
    assert auto.weights_size(w) == LEGACY_SIZE
    w.with_suffix(".json").write_text(json.dumps({"generator": {}, "size": 192}))
    assert auto.weights_size(w) == 192
    assert auto.weights_size(w, override=96) == 96


def test_old_gan_is_skipped_when_it_is_the_new_gan_file(tmp_path, capsys):
    args = auto.parse_args(["--gan-weights", str(tmp_path / "g.pt"), "--old-gan-weights", str(tmp_path / "x/../g.pt"),
                            "--mse-weights", str(tmp_path / "m.pt")])
    assert list(auto.network_specs(args)) == ["mse-baseline", "gan"]
    assert "old gan" in capsys.readouterr().out
    args.old_gan_weights = str(tmp_path / "old.pt")
    assert auto.network_specs(args) == {"old gan": (args.old_gan_weights, 1), "mse-baseline": (args.mse_weights, 1),
                                        "gan": (args.gan_weights, args.samples)}


def test_validation_slices_grouped_by_source_and_capped(tmp_path):
    from training.gan import data
    where = {"a": tmp_path / "r1", "b": tmp_path / "r2"}
    rels = ["a/1.jpg", "a/2.jpg", "a/3.jpg", "b/x/1.png"]
    # the first 2 by the SHA-1 of the path (fixed), not the alphabetically first 2
    assert data.slices_by_source(rels, where, limit=2) == {"a": [tmp_path / "r1/a/3.jpg", tmp_path / "r1/a/1.jpg"],
                                                           "b": [tmp_path / "r2/b/x/1.png"]}
    assert len(data.slices_by_source(rels, where)["a"]) == 3


def test_printed_tables_have_a_row_per_source_and_method():
    records = {"a": [record(10.0, 20.0, (22.0, 6.0), 0.2, (0.8, 20.0))],
               "b": [record(20.0, 30.0, (31.0, 12.0), 0.4, (1.0, 40.0))]}
    res = auto.summarise_sources(records)
    counts = {"a": 1, "b": 1, auto.OVERALL: 2}
    rows = auto.quality_rows(res, counts)
    labels = ["a (1)", "b (1)", "macro mean (2 sources)", "overall, pooled (2)"]
    assert [r[:2] for r in rows] == [[s, m] for s in labels for m in ("predict-gray", "gan")]
    assert rows[-1][2:] == ["26.50 ± 4.50", "+1.50 ± 0.50", "0.60"]   # sem: sample std 4.5 sqrt(2) / sqrt(2)
    assert rows[-3][2:] == ["26.50 ± 0.00", "+1.50 ± 0.00", "0.60"]   # one photo a source: no error to add
    header, unc = auto.uncertainty_table(res, counts)
    assert header == ["source (images)", "gan coverage / radius", "constant coverage / radius", "gan Spearman"]
    assert unc[-1] == ["overall, pooled (2)", "0.900 / 30.0", "0.950 / 30.0", "0.30"]
    assert unc[-2][0] == "macro mean (2 sources)"


def test_aged_inputs_are_scored_against_the_colours_at_the_aged_lightness(tmp_path):
    """--aged: the network sees the print, aged, and a perfect colorizer of that print scores as perfect."""
    from PIL import Image
    from colorcore import color
    from colorcore.contract import BackendOutput
    from training.aging import photo_rng
    yy, xx = np.mgrid[0:64, 0:64] / 63
    rgb = np.stack([xx, yy, 1 - xx], -1) * 0.8 + 0.1
    Image.fromarray((rgb * 255).round().astype(np.uint8)).save(tmp_path / "p.png")
    true_ab = color.rgb_to_lab(auto.load_rgb(tmp_path / "p.png", 64))[..., 1:]
    seen = []

    class Oracle:   # knows the photo's colours; sees only the input it is given
        def run(self, request):
            seen.append(color.lightness(request.image))
            return BackendOutput(ab=true_ab, score=np.ones(true_ab.shape[:2], np.float32))
    nets = {"gan": (Oracle(), {})}
    clean = auto.evaluate_image(tmp_path / "p.png", nets, {}, 64)
    aged = auto.evaluate_image(tmp_path / "p.png", nets, {}, 64, photo_rng(auto.AGED_SEED, 0))
    assert np.abs(seen[0] - seen[1]).mean() > 2       # the network saw the aged print, not the photo
    psnr = lambda rec, m: rec["methods"][m][1.0][0]  # noqa: E731
    assert psnr(clean, "gan") > 40 and psnr(aged, "gan") > 40
    # gray is scored against the same truth: the aged print's lightness, the photo's colours
    assert psnr(aged, "predict-gray") < psnr(aged, "gan") - 5
