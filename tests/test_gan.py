"""Plumbing tests for the `gan` backend with tiny random-init networks (no shared data needed)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from colorcore import ColorizeRequest, InvalidRequest, run_backend  # noqa: E402
from backends.gan import infer, nets  # noqa: E402
from training.gan import weights_io  # noqa: E402
from backends.gan.plugin import DEFAULT_WEIGHTS, GanBackend  # noqa: E402

TINY = dict(in_ch=1, widths=(4, 8, 8), dropout=0.5, dropout_levels=1)


@pytest.fixture()
def tiny_weights(tmp_path):
    torch.manual_seed(0)
    G = nets.UNetG(**TINY)
    return weights_io.save_weights(G.state_dict(), G.config, tmp_path / "tiny.pt", {"loss": "test"})


@pytest.mark.parametrize("hw", [(17, 23), (32, 32), (64, 40), (1, 5)])
def test_generator_shapes_any_size(hw):
    G = nets.UNetG(**TINY).eval()
    L = torch.rand(2, 1, *hw) * 100
    x, (h, w) = nets.pad_to_multiple(nets.l_to_input(L), G.multiple)
    out = G(x)[..., :h, :w]
    assert out.shape == (2, 3, *hw)
    assert out[:, :2].abs().max() <= 1.0


def test_discriminator_patch_map():
    D = nets.PatchD(in_ch=3, width=8)
    y = D(torch.zeros(2, 1, 64, 64), torch.zeros(2, 2, 64, 64))
    assert y.shape == (2, 1, 8, 8)


def test_extra_input_channels_need_only_in_ch():
    G = nets.UNetG(in_ch=4, widths=(4, 8, 8))
    assert G(torch.zeros(1, 4, 32, 32)).shape == (1, 3, 32, 32)


def test_weights_only_round_trip(tiny_weights):
    sd = torch.load(tiny_weights, map_location="cpu", weights_only=True)
    assert all(v.dtype in (torch.float16, torch.int64) for v in sd.values())
    G = infer.load_generator(tiny_weights)
    assert json.loads(tiny_weights.with_suffix(".json").read_text())["generator"]["widths"] == [4, 8, 8]
    ref = nets.UNetG(**TINY)
    ref.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in sd.items()})
    ref.eval()
    assert all(torch.equal(v, ref.state_dict()[k]) for k, v in G.state_dict().items())
    x = torch.rand(1, 1, 32, 32)   # the loaded one computes in channels-last layout: the same to float rounding
    assert torch.allclose(G(x), ref(x), atol=1e-5)


@pytest.mark.parametrize("hw", [(17, 23), (300, 200)])
def test_backend_through_pipeline(tiny_weights, hw):
    backend = GanBackend(tiny_weights)
    assert backend.unavailable_reason() is None
    img = np.random.default_rng(0).random((*hw, 3), dtype=np.float32)
    res = run_backend(backend, ColorizeRequest(image=img, seed=3, options={"size": 64, "samples": 2}))
    assert res.rgb.shape == (*hw, 3) and res.rgb.dtype == np.float32
    assert res.uncertainty.shape == hw and (res.uncertainty >= 0).all()
    out = backend.run(ColorizeRequest(image=img, seed=3, options={"size": 64, "samples": 2}))
    assert out.ab.shape == (*hw, 2) and out.score.shape == hw and np.isfinite(out.score).all()


def test_determinism_with_seed(tiny_weights):
    backend = GanBackend(tiny_weights)
    img = np.random.default_rng(1).random((40, 50, 3), dtype=np.float32)
    req = dict(image=img, options={"size": 64, "samples": 3})
    a = backend.run(ColorizeRequest(seed=7, **req))
    b = backend.run(ColorizeRequest(seed=7, **req))
    c = backend.run(ColorizeRequest(seed=8, **req))
    assert np.array_equal(a.ab, b.ab) and np.array_equal(a.score, b.score)
    assert np.array_equal(a.ab, c.ab)            # the prediction itself is deterministic
    assert not np.array_equal(a.score, c.score)  # the dropout samples follow the seed


def test_guided_upsample_follows_edges():
    L_full = np.zeros((64, 64), np.float32)
    L_full[:, 32:] = 100.0
    L_lo = L_full[::4, ::4].copy()
    ab_lo = np.zeros((16, 16, 2), np.float32)
    ab_lo[:, 8:, 0] = 40.0
    up = infer.guided_upsample(L_lo, ab_lo, L_full)
    assert up.shape == (64, 64, 2)
    assert abs(up[:, :30, 0]).max() < 3 and abs(up[:, 34:, 0] - 40).max() < 3


def test_unavailable_reason_names_the_path(tmp_path):
    reason = GanBackend(tmp_path / "missing.pt").unavailable_reason()
    assert reason and "missing.pt" in reason


def _synthetic_photos(folder: Path, n=6):
    from PIL import Image
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True)
    for i in range(n):
        base = rng.random(3) * 255
        img = np.clip(base + rng.normal(0, 30, (48, 56, 3)), 0, 255).astype(np.uint8)
        Image.fromarray(img).save(folder / f"img{i}.png")


# the smallest trainer configuration that runs: tiny network, 32 px crops, one held-out photo per split
TINY_TRAIN = ["--batch", "2", "--crop", "32", "--cache-size", "40", "--widths", "4,8,8", "--calib-count", "1",
              "--val-count", "1"]


@pytest.mark.parametrize("loss", ["gan", "mse"])
def test_two_step_training_writes_checkpoint_and_resumes(tmp_path, loss):
    from training.gan import train
    data = tmp_path / "photos"
    _synthetic_photos(data / "groupA")
    out = tmp_path / "run" / "ck.pt"
    common = ["--data", str(data), "--out", str(out), "--loss", loss, *TINY_TRAIN,
              "--val-every", "2", "--log-every", "1", "--seed", "0"]
    assert train.main(common + ["--steps", "2"]) == 0
    ck = torch.load(out, map_location="cpu", weights_only=True)
    assert ck["step"] == 2
    assert (out.parent / "ck_samples_000002.png").is_file()
    lines = [json.loads(x) for x in (out.parent / "ck.jsonl").read_text().splitlines()]
    assert any(r.get("kind") == "val" and "val_psnr" in r for r in lines)
    splits = json.loads((out.parent / "ck.splits.json").read_text())
    assert not set(splits["calib"]) & set(splits["train"])
    assert train.main(common + ["--steps", "3"]) == 0
    assert torch.load(out, map_location="cpu", weights_only=True)["step"] == 3
    assert "resumed from" in (out.parent / "ck.log").read_text()
    shipped = weights_io.export_generator(out, tmp_path / "w" / "g.pt")
    assert GanBackend(shipped).unavailable_reason() is None
    # its default prediction size is the crop it was trained on (not the larger cache size the crops came from)
    crop = int(TINY_TRAIN[TINY_TRAIN.index("--crop") + 1])
    assert infer.native_size(shipped) == crop


def test_bf16_training_on_cpu_autocasts_and_tracks_fp32(tmp_path):
    """--precision bf16 trains under bfloat16 autocast on the CPU: the weights come out fp32, differ from an
    fp32 run from the same seed (the autocast really ran) and stay close to it (it trains the same thing)."""
    from training.gan import train
    data = tmp_path / "photos"
    _synthetic_photos(data / "groupA")
    weights = {}
    for precision in ("fp32", "bf16"):
        out = tmp_path / precision / "ck.pt"
        assert train.main(["--data", str(data), "--out", str(out), *TINY_TRAIN,
                           "--val-every", "100", "--seed", "0", "--steps", "2", "--precision", precision]) == 0
        weights[precision] = torch.load(out, map_location="cpu", weights_only=True)["G"]
        assert f"precision torch.{'float32' if precision == 'fp32' else 'bfloat16'}" in \
            (out.parent / "ck.log").read_text()
    assert "no native bfloat16" not in (tmp_path / "fp32" / "ck.log").read_text()
    assert ("no native bfloat16" in (tmp_path / "bf16" / "ck.log").read_text()) == (not train.cpu_has_native_bf16())
    a, b = weights["fp32"], weights["bf16"]
    assert all(b[k].dtype == a[k].dtype for k in a)
    w = [k for k in a if k.endswith("weight") and a[k].dim() == 4]
    rel = [float((a[k] - b[k]).norm() / a[k].norm()) for k in w]
    assert max(rel) > 1e-6 and max(rel) < 0.05, rel


def test_too_few_photos_for_the_held_out_splits_is_explained(tmp_path):
    from training.gan import train
    _synthetic_photos(tmp_path / "photos" / "groupA", n=5)
    out = tmp_path / "run" / "ck.pt"
    assert train.main(["--data", str(tmp_path / "photos"), "--out", str(out), "--steps", "1",
                       "--val-count", "100", "--calib-count", "300"]) == 2
    assert not out.exists()
    assert "no training photos left: 5 found" in (out.parent / "ck.log").read_text()


def test_bf16_on_a_cpu_without_native_support_is_warned_about(tmp_path, monkeypatch):
    from training.gan import train
    monkeypatch.setattr(train, "cpu_has_native_bf16", lambda: False)
    _synthetic_photos(tmp_path / "photos" / "groupA")
    out = tmp_path / "run" / "ck.pt"
    assert train.main(["--data", str(tmp_path / "photos"), "--out", str(out), *TINY_TRAIN,
                       "--steps", "1", "--precision", "bf16"]) == 0
    assert "no native bfloat16" in (out.parent / "ck.log").read_text()


def test_ddp_gloo_single_process(tmp_path, monkeypatch):
    """torchrun-style environment with WORLD_SIZE=1 still runs through the DDP code path when forced."""
    import torch.distributed as dist
    from training.gan import train
    if not dist.is_available():
        pytest.skip("torch.distributed not available")
    data = tmp_path / "photos"
    _synthetic_photos(data)
    monkeypatch.setenv("WORLD_SIZE", "1")
    monkeypatch.setenv("RANK", "0")
    monkeypatch.setenv("LOCAL_RANK", "0")
    monkeypatch.setenv("MASTER_ADDR", "127.0.0.1")
    monkeypatch.setenv("MASTER_PORT", "29533")
    monkeypatch.setenv("GAN_FORCE_DDP", "1")
    out = tmp_path / "run" / "ck.pt"
    assert train.main(["--data", str(data), "--out", str(out), *TINY_TRAIN, "--steps", "2"]) == 0
    assert torch.load(out, map_location="cpu", weights_only=True)["step"] == 2


def test_shipped_weights_present_and_small():
    if not DEFAULT_WEIGHTS.is_file():
        pytest.fail(f"shipped weights missing at {DEFAULT_WEIGHTS}")
    assert DEFAULT_WEIGHTS.stat().st_size < 25 * 2 ** 20
    backend = GanBackend()
    assert backend.unavailable_reason() is None
    cal = backend.calibration()
    assert cal is not None and 0.1 in cal.lambdas


def test_backends_listing_names_the_weights_in_use(tiny_weights):
    """With COLORCORE_GAN_WEIGHTS set, `colorcore backends` says which weights the gan backend uses."""
    import subprocess
    from testutil_engine import colorcore_cmd, engine_env
    env = engine_env(COLORCORE_PLUGINS="gan", COLORCORE_GAN_WEIGHTS=str(tiny_weights))
    proc = subprocess.run(colorcore_cmd() + ["backends", "--json"], capture_output=True, text=True, env=env)
    (row,) = json.loads(proc.stdout)["backends"]
    assert row["weights"] == str(tiny_weights) and row["available"]
    text = subprocess.run(colorcore_cmd() + ["backends"], capture_output=True, text=True, env=env).stdout
    assert f"weights: {tiny_weights}" in text


def test_registered_as_builtin():
    from colorcore.plugins import load_registry
    reg = load_registry()
    assert "gan" in reg.backends, reg.failures


def test_colorcore_train_gan_dispatches(tmp_path):
    from colorcore.cli import main as cli_main
    data = tmp_path / "photos"
    _synthetic_photos(data)
    out = tmp_path / "run" / "ck.pt"
    rc = cli_main(["train", "gan", "--data", str(data), "--out", str(out), *TINY_TRAIN, "--steps", "1"])
    assert rc == 0 and out.is_file()


def test_group_weights_set_each_folders_share():
    from training.gan import data
    rels = [f"big/{i}.png" for i in range(90)] + [f"small/{i}.png" for i in range(10)]
    p = data.group_probabilities(rels, data.parse_group_weights("small=0.5"))
    assert p.sum() == pytest.approx(1.0)
    assert p[90:].sum() == pytest.approx(0.5) and p[:90].sum() == pytest.approx(0.5)
    assert np.allclose(p[90:], p[90])          # shared evenly inside a folder
    rng = np.random.default_rng(0)
    cache = np.concatenate([np.zeros((90, 8, 8, 3), np.uint8), np.full((10, 8, 8, 3), 255, np.uint8)])
    batch = data.sample_batch(cache, rng, 4000, 8, p)
    assert 0.45 < (batch[:, 0, 0, 0] == 255).mean() < 0.55


@pytest.mark.parametrize("text, expected", [("nope=0.5", "no training images"), ("big=0.7,small=0.6", "at most 1"),
                                            ("small", "FOLDER=WEIGHT"), ("small=-1", "FOLDER=WEIGHT")])
def test_group_weights_bad_input_is_explained(text, expected):
    from training.gan import data
    rels = [f"big/{i}.png" for i in range(9)] + ["small/0.png"]
    with pytest.raises(ValueError, match=expected):
        data.group_probabilities(rels, data.parse_group_weights(text))


def test_init_from_training_checkpoint_takes_generator_and_discriminator(tmp_path):
    from training.gan import train
    data = tmp_path / "photos"
    _synthetic_photos(data / "groupA")
    _synthetic_photos(data / "groupB", n=4)
    common = ["--data", str(data), *TINY_TRAIN, "--val-every", "100", "--log-every", "1"]
    first = tmp_path / "a" / "ck.pt"
    assert train.main(common + ["--out", str(first), "--steps", "2"]) == 0
    src = torch.load(first, map_location="cpu", weights_only=True)
    G = nets.UNetG(in_ch=1, widths=(4, 8, 8))
    D = nets.PatchD(in_ch=3)
    assert weights_io.init_generator(G, first, D)
    assert all(torch.equal(v, src["G"][k]) for k, v in G.state_dict().items())
    assert all(torch.equal(v, src["D"][k]) for k, v in D.state_dict().items())
    # a discriminator that also sees a condition (partial-gan's mask) takes the weights, the new channel at zero
    D2 = nets.PatchD(in_ch=4)
    assert weights_io.init_generator(nets.UNetG(in_ch=2, widths=(4, 8, 8)), first, D2)
    w_old, w_new = src["D"]["net.0.weight"], D2.state_dict()["net.0.weight"]
    assert torch.equal(w_new[:, [0, 2, 3]], w_old) and not w_new[:, 1].any()
    assert not weights_io.init_generator(nets.UNetG(in_ch=2, widths=(4, 8, 8)), first, nets.PatchD(in_ch=4, width=8))
    second = tmp_path / "b" / "ck.pt"
    assert train.main(common + ["--out", str(second), "--steps", "1", "--init", str(first),
                                "--group-weights", "groupB=0.9"]) == 0
    assert "generator and discriminator initialised" in (second.parent / "ck.log").read_text()
    assert train.main(common + ["--out", str(tmp_path / "c" / "ck.pt"), "--steps", "1",
                                "--group-weights", "groupC=0.5"]) == 2


def test_calibration_is_weighted_to_the_training_mixture(tmp_path):
    from training.calibration import gan as calibrate
    from colorcore.calibration import Calibration
    data = tmp_path / "photos"
    _synthetic_photos(data / "a", n=8)
    _synthetic_photos(data / "b", n=8)
    rels = sorted(str(p.relative_to(data)) for p in data.rglob("*.png"))
    calib = [r for r in rels if r[-5] in "01234"]                         # 5 of each group held out
    train = [r for r in rels if r not in calib]
    splits = tmp_path / "splits.json"
    splits.write_text(json.dumps({"data": str(data), "train": train, "calib": calib}))
    torch.manual_seed(0)
    G = nets.UNetG(**TINY)
    meta = {"loss": "test", "train_args": {"group_weights": "b=0.25"}}
    w = weights_io.save_weights(G.state_dict(), G.config, tmp_path / "w" / "g.pt", meta)
    assert calibrate.main(["--weights", str(w), "--splits", str(splits), "--size", "32", "--samples", "2"]) == 0
    cal = Calibration.load(w.parent / "calibration.json")
    assert cal.extra["shares"] == {"a": 0.75, "b": 0.25}            # not the split's 1:1 proportions
    assert cal.extra["novelty"]["n_photos"] == 10 and cal.extra["novelty"]["threshold"] > 0
    # alphas at or below the finite-sample floor (0.75/6 + 0.25/6) are left out, the rest calibrated
    assert set(cal.groups) == {"a", "b"} and sorted(cal.lambdas) == [0.2, 0.3]
    assert calibrate.mixture_mean([1.0, 1.0, 1.0, 5.0], ["a", "a", "a", "b"], {"a": 0.5, "b": 0.5}) == 3.0
    assert calibrate.training_shares(train, None, ["a", "b"]) is None


def _tiny_calibration_setup(tmp_path, n, meta):
    """A tiny generator's weights (with meta) and calibrate's arguments for n synthetic photos, the first 2 on the
    training side and the rest the calibration split."""
    data = tmp_path / "photos"
    _synthetic_photos(data / "a", n=n)
    rels = sorted(str(p.relative_to(data)) for p in data.rglob("*.png"))
    splits = tmp_path / "splits.json"
    splits.write_text(json.dumps({"data": str(data), "train": rels[:2], "calib": rels[2:]}))
    torch.manual_seed(0)
    G = nets.UNetG(**TINY)
    w = weights_io.save_weights(G.state_dict(), G.config, tmp_path / "w" / "g.pt", meta)
    return w, ["--weights", str(w), "--splits", str(splits), "--size", "32", "--samples", "2"]


def test_calibration_with_aged_photos_takes_the_larger_lambda_of_clean_and_aged_runs(tmp_path, monkeypatch):
    """--aged: every calibration photo runs as it is and aged like an old print; each lambda is the larger of the
    two conditions', so it is never below the clean-only calibration, and the novelty check still describes the
    clean photos only."""
    from training.calibration import gan as calibrate
    from colorcore.calibration import Calibration
    w, args = _tiny_calibration_setup(tmp_path, 16, {"loss": "test"})
    assert calibrate.main(args) == 0
    clean = Calibration.load(w.parent / "calibration.json")
    import training.aging
    aged_inputs, real_age = [], training.aging.age

    def recording_age(gray, rng, **kw):
        aged_inputs.append(gray.shape)
        return real_age(gray, rng, **kw)
    monkeypatch.setattr(training.aging, "age", recording_age)
    assert calibrate.main(args + ["--aged"]) == 0
    assert len(aged_inputs) == 14   # each photo once more, aged
    both = Calibration.load(w.parent / "calibration.json")
    assert clean.n_images == 14 and both.n_images == 28
    assert both.extra["conditions"] == ["aged", "clean"] and "each also aged" in both.source
    assert both.extra["novelty"]["n_photos"] == 14
    for alpha, lam in clean.lambdas.items():
        assert both.lambdas[alpha] >= lam - 1e-9


def test_bench_reads_psnr_off_a_gain_sweep_at_equal_colourfulness():
    """bench/auto.py compares gan and the MSE baseline at equal colourfulness by interpolating each one's
    chroma-gain sweep; a colourfulness the sweep never reaches gives None, not an extrapolation."""
    import sys
    from pathlib import Path
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from bench import auto
    curve = [(0.8, 24.0, 0.40), (1.0, 23.5, 0.50), (1.2, 22.5, 0.60)]
    assert auto.psnr_at_colourfulness(curve, 0.50) == pytest.approx(23.5)
    assert auto.psnr_at_colourfulness(curve, 0.55) == pytest.approx(23.0)
    assert auto.psnr_at_colourfulness(curve, 0.45) == pytest.approx(23.75)
    assert auto.psnr_at_colourfulness(curve, 0.65) is None
    assert auto.psnr_at_colourfulness(curve, 0.30) is None


def test_size_option_defaults_to_the_scale_recorded_with_the_weights(tiny_weights):
    img = np.random.default_rng(0).random((40, 60, 3)).astype(np.float32)
    backend = GanBackend(tiny_weights)
    assert backend.run(ColorizeRequest(image=img, seed=0, options={"size": 0, "samples": 1})).info["size"] == \
        infer.LEGACY_SIZE
    meta = json.loads(tiny_weights.with_suffix(".json").read_text())
    tiny_weights.with_suffix(".json").write_text(json.dumps(dict(meta, size=96)))
    out = backend.run(ColorizeRequest(image=img, seed=0, options={"size": 0, "samples": 1}))
    assert out.info["size"] == 96 and out.ab.shape == (40, 60, 2)
    with pytest.raises(InvalidRequest, match="0 .the model's own scale. or 16-512"):
        backend.run(ColorizeRequest(image=img, seed=0, options={"size": 8, "samples": 1}))


def test_tune_chooses_size_gain_and_shrink_on_a_held_out_split(tmp_path, capsys):
    from training.gan import tune
    data = tmp_path / "photos"
    _synthetic_photos(data / "a", n=4)
    rels = sorted(str(p.relative_to(data)) for p in data.rglob("*.png"))
    splits = tmp_path / "splits.json"
    # the calibration split by default: the val slices are what bench/auto.py reports
    splits.write_text(json.dumps({"data": {"a": str(data)}, "train": [], "val": [], "calib": rels}))
    torch.manual_seed(0)
    G = nets.UNetG(**TINY)
    w = weights_io.save_weights(G.state_dict(), G.config, tmp_path / "w" / "g.pt",
                           {"loss": "test", "postprocess": {"gain": 3.0, "score_chroma": 0.2}})
    assert tune.main(["--weights", str(w), "--splits", str(splits), "--sizes", "32,48", "--eval-size", "48",
                      "--min-colourfulness", "0", "--write"]) == 0
    meta = json.loads(w.with_suffix(".json").read_text())
    printed = capsys.readouterr().out
    assert meta["size"] in (32, 48, infer.LEGACY_SIZE) and f"chosen: size {meta['size']}," in printed
    post = meta["postprocess"]
    # the chosen setting is the best PSNR of every printed one (no colourfulness floor here)
    table = [float(v.split(" dB")[0]) for v in printed.split(": ")[1:] if " dB c=" in v]
    assert len(table) == 3 * len(tune.GAINS) * len(tune.TAUS) and post["psnr"] == pytest.approx(max(table), abs=0.006)
    assert post["tuned_on"].startswith(f"{len(rels)} calib images")
    assert post["score_chroma"] == 0.2 and post["gain"] in tune.GAINS   # calibrate's choice survives a new tune
    assert infer.native_size(w) == meta["size"]


def test_score_chroma_adds_a_share_of_the_predicted_chroma(tiny_weights):
    """With "score_chroma": c in the postprocess the raw score is the plain one plus c * |ab| at every pixel,
    at the photo's own size and when chroma is upsampled to a larger photo."""
    G = infer.load_generator(tiny_weights)
    L = np.random.default_rng(0).uniform(0, 100, (48, 72)).astype(np.float32)
    for size in (72, 32):   # no upsampling, then guided upsampling to 48x72
        ab0, s0 = infer.colorize_L(G, L, size=size, samples=2, post={"gain": 1.5})
        ab1, s1 = infer.colorize_L(G, L, size=size, samples=2, post={"gain": 1.5, "score_chroma": 0.4})
        np.testing.assert_array_equal(ab0, ab1)
        assert np.linalg.norm(ab1, axis=-1).max() > 0.1
        np.testing.assert_allclose(s1, s0 + 0.4 * np.linalg.norm(ab1, axis=-1), rtol=1e-5, atol=1e-5)


def test_calibrate_chooses_the_score_chroma_with_the_narrowest_radius(tmp_path):
    """Errors that grow with the predicted chroma are covered most tightly by a score with the matching chroma
    share; calibrate --score-chroma stores the chosen share with the weights and calibrates that score."""
    from training.calibration import gan as calibrate
    from colorcore.calibration import Calibration
    rng = np.random.default_rng(0)
    bases = [rng.uniform(1, 2, 500).astype(np.float32) for _ in range(20)]
    chromas = [rng.uniform(0, 40, 500).astype(np.float32) for _ in range(20)]
    errors = [(b + 0.5 * c) * rng.uniform(0, 1, 500) for b, c in zip(bases, chromas)]
    best, widths = calibrate.narrowest_weight(bases, chromas, errors, [0.0, 0.5, 3.0])
    assert best == 0.5 and widths[0.5] < min(widths[0.0], widths[3.0])

    w, args = _tiny_calibration_setup(tmp_path, 12, {"postprocess": {"gain": 2.0}})
    meta_path = w.with_suffix(".json")

    def mean_score(extra_args=()):
        assert calibrate.main(args + list(extra_args)) == 0
        return Calibration.load(w.parent / "calibration.json").extra["mean_score"]
    m0 = mean_score(["--score-chroma", "0"])
    meta = json.loads(meta_path.read_text())
    meta["postprocess"]["score_chroma"] = 1.0
    meta_path.write_text(json.dumps(meta))
    m1 = mean_score()                     # the stored share is part of the score the backend gives
    assert m1 > m0
    # choosing starts from the score without the stored share, so each candidate is calibrated as it would be
    m = mean_score(["--score-chroma", "0,1"])
    post = json.loads(meta_path.read_text())["postprocess"]
    assert post["gain"] == 2.0 and "c=1: " in post["score_chroma_chosen_on"]
    assert m == pytest.approx({0.0: m0, 1.0: m1}[post["score_chroma"]], rel=1e-5)
    for bad in ("0,x", "-1"):
        with pytest.raises(SystemExit, match="--score-chroma"):
            calibrate.main(args + ["--score-chroma", bad])


def test_resized_averages_when_shrinking_and_interpolates_when_enlarging():
    a = np.array([[0, 100], [0, 100]], np.float32)
    up = infer.resized(a, (2, 8))
    assert len(np.unique(up)) > 2 and np.all(np.diff(up[0]) >= 0)   # a ramp, not two blocks
    down = infer.resized(np.tile(np.array([0, 100], np.float32), (4, 4)), (2, 4))
    np.testing.assert_allclose(down, 50.0)                            # each output pixel the mean of its area


def test_calibration_runs_are_saved_for_the_left_out_test_and_no_write_keeps_the_files(tmp_path):
    """--samples-out keeps every run (source, whether aged); --no-write leaves calibration.json and the weights'
    JSON as they were."""
    import numpy as np
    from training.calibration import gan as calibrate
    w, args = _tiny_calibration_setup(tmp_path, 10, {"loss": "test"})
    assert calibrate.main(args) == 0   # clean only
    cal_before, meta_before = (w.parent / "calibration.json").read_text(), w.with_suffix(".json").read_text()
    out = tmp_path / "runs.npz"
    assert calibrate.main(args + ["--aged", "--score-chroma", "0,1", "--samples-out", str(out), "--no-write"]) == 0
    assert (w.parent / "calibration.json").read_text() == cal_before
    assert w.with_suffix(".json").read_text() == meta_before
    d = np.load(out)
    assert d["score"].shape[0] == 16 and set(d["source"]) == {"a"} and d["aged"].sum() == 8
    assert "share_sources" not in d.files     # no --group-weights in training: no shares to weight by
