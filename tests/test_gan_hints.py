"""The hint-conditioned generator's training side (the Scribble prior): simulated hints and the hints task."""
from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from training.evaluation import to_uint8  # noqa: E402
from backends.gan import infer, nets  # noqa: E402
from training.gan.weights_io import save_weights  # noqa: E402
from training.gan import hint_simulation, train, weights_io  # noqa: E402
from test_partial_gan import TINY, photo  # noqa: E402


def regions_ab():
    """Network-unit ab of three flat regions (top red, bottom-left green, bottom-right blue)."""
    ab = np.zeros((2, 64, 64), np.float32)
    ab[:, :32] = [[[0.4]], [[0.3]]]
    ab[:, 32:, :32] = [[[-0.4]], [[0.3]]]
    ab[:, 32:, 32:] = [[[0.1]], [[-0.5]]]
    return ab


def test_points_follow_zhangs_protocol_and_carry_the_patch_colour():
    ab = regions_ab()
    counts, sizes = [], []
    for seed in range(400):
        h = hint_simulation.sample_hints(np.random.default_rng(seed), ab, stroke_p=0.0)
        painted = h[2] > 0
        counts.append(painted.any())
        assert set(np.unique(h[2])) <= {0.0, 1.0}
        for c in range(2 if painted.any() else 0):   # a hint's colour: a mean of the truth under it
            assert h[c][painted].min() >= ab[c].min() - 1e-6 and h[c][painted].max() <= ab[c].max() + 1e-6
        sizes.append(painted.sum())
    none = 1 - np.mean(counts)
    assert 0.07 < none < 0.2                          # P(no hint) = 1/8
    assert 20 < np.mean(sizes) < 250                   # about 7 patches of 1-9 px a side


def test_strokes_stay_in_the_region_where_they_start_with_its_colour_and_soft_edges():
    ab = regions_ab()
    seen_soft = painted_any = False
    for seed in range(60):
        h = np.zeros((3, 64, 64), np.float32)
        hint_simulation._strokes(np.random.default_rng(seed), ab, h)
        m = h[2] > 0
        if not m.any():
            continue
        painted_any = True
        # each painted pixel carries its own region's colour: no stroke crosses into another region
        np.testing.assert_allclose(h[:2][:, m], ab[:, m], atol=1e-5)
        seen_soft |= bool(((h[2] > 0) & (h[2] < 1)).any())
    assert painted_any and seen_soft


def test_recolour_turns_a_photos_colours_and_its_hints_together_and_leaves_photos_without_hints():
    ab = torch.from_numpy(np.stack([regions_ab(), regions_ab(), regions_ab()]))
    cond = torch.from_numpy(hint_simulation.fixed_points(ab.numpy(), 5, seed=1))
    cond[2] = 0.0                                   # the third photo has no hints
    assert (cond[:2, 2] > 0).flatten(1).any(1).all()
    new_ab, new_cond, picked = hint_simulation.recolour(np.random.default_rng(0), ab, cond, p=1.0)
    assert picked.tolist() == [True, True, False]
    torch.testing.assert_close(new_ab[2], ab[2])    # no hints: the photo's likely colours stay the target
    for i in (0, 1):
        assert not torch.allclose(new_ab[i], ab[i], atol=1e-3)
        # one linear map per photo: the chroma ratio is one factor in [0.7, 1.3], the hints keep their patch's mean
        ratio = new_ab[i].norm(dim=0) / ab[i].norm(dim=0)
        assert 0.7 <= float(ratio.min()) and float(ratio.max()) <= 1.3 and float(ratio.max() - ratio.min()) < 1e-4
        painted = cond[i, 2] > 0
        torch.testing.assert_close(new_cond[i, :2][:, painted], new_ab[i][:, painted], atol=1e-5, rtol=0)
        torch.testing.assert_close(new_cond[i, 2], cond[i, 2])
    untouched = hint_simulation.recolour(np.random.default_rng(0), ab, cond, p=0.0)
    assert not untouched[2].any() and torch.equal(untouched[0], ab)


def test_hints_training_runs_from_auto_weights_and_keeps_the_discriminator(tmp_path):
    from PIL import Image
    data = tmp_path / "photos"
    data.mkdir()
    for k in range(6):
        Image.fromarray(to_uint8(photo(72, 72, seed=k))).save(data / f"p{k}.png")
    auto_run = tmp_path / "auto" / "gan.pt"
    common = ["--data", str(data), "--widths", "4,8,8", "--batch", "2", "--crop", "64", "--cache-size", "72",
              "--calib-count", "1", "--val-count", "1", "--val-every", "2", "--log-every", "1"]
    assert train.main(common + ["--out", str(auto_run), "--steps", "1"]) == 0
    out = tmp_path / "hints" / "h.pt"
    assert train.main(common + ["--out", str(out), "--task", "hints", "--init", str(auto_run), "--steps", "2",
                                "--hint-recolour", "0.5"]) == 0
    ck, before = torch.load(out, weights_only=True), torch.load(auto_run, weights_only=True)
    assert ck["G"]["stem.0.weight"].shape[1] == 4 and ck["D"]["net.0.weight"].shape[1] == 6
    assert "generator and discriminator initialised" in (out.parent / "h.log").read_text()
    val = [json.loads(line) for line in (out.parent / "h.jsonl").read_text().splitlines() if '"val"' in line]
    assert val and np.isfinite(val[-1]["val_psnr"])
    assert weights_io.generator_config_of(out)["in_ch"] == 4


def test_a_discriminator_gains_condition_channels_at_zero(tmp_path):
    torch.manual_seed(0)
    old, new = nets.PatchD(in_ch=3), nets.PatchD(in_ch=6)
    G = nets.UNetG(in_ch=4, **TINY)
    ck = {"G": nets.UNetG(in_ch=1, **TINY).state_dict(), "D": old.state_dict()}
    torch.save(ck, tmp_path / "ck.pt")
    assert weights_io.init_generator(G, tmp_path / "ck.pt", new)
    old.eval(), new.eval()
    L, ab = torch.rand(2, 1, 16, 16), torch.rand(2, 2, 16, 16)
    cond = torch.rand(2, 3, 16, 16)
    assert torch.allclose(new(torch.cat([L, cond], 1), ab), old(L, ab), atol=1e-5)


def test_hint_spread_gives_every_pixel_the_colour_of_the_hints_around_it():
    cond = torch.zeros(1, 3, 64, 64)
    cond[0, :2, 10:13, 10:13] = torch.tensor([0.4, -0.2])[:, None, None]
    cond[0, 2, 10:13, 10:13] = 1.0
    s = nets.hint_spread(cond, [4, 40])
    assert s.shape == (1, 6, 64, 64)
    near, far = s[0, :3], s[0, 3:]
    assert torch.allclose(near[:2, 11, 15], torch.tensor([0.4, -0.2]), atol=1e-5)   # within 4 px: the hint's ab
    assert near[:, 11, 30].abs().max() == 0                                       # beyond it: nothing, no confidence
    assert torch.allclose(far[:2, 50, 45], torch.tensor([0.4, -0.2]), atol=1e-5)  # the wide box still carries it
    one_point = 1 - np.exp(-1.0)                     # the amount of hint within the box: one whole 3x3 point
    assert near[2, 11, 11] == pytest.approx(one_point) and far[2, 50, 45] == pytest.approx(one_point)
    assert 0 < near[2, 11, 15] < one_point                                         # two of its three columns


def test_a_generator_with_hint_spread_starts_as_the_one_it_came_from(tmp_path):
    """--hint-spread adds the spread hints as encoder inputs at zero weight: started from a hints generator it
    predicts what that one did, records the radii, and refuses a generator without hint channels."""
    small = dict(in_ch=4, dec_widths=(16, 8, 8, 8), dropout=0.5, dropout_levels=1)
    torch.manual_seed(0)
    G0 = nets.EffUNetG(**small)
    w = save_weights(G0.state_dict(), G0.config, tmp_path / "a.pt")
    A = infer.load_generator(w)                       # as shipped: fp16 weights
    B = nets.build_generator(dict(A.config, hint_spread=[3, 12])).eval()
    weights_io.init_generator(B, w)
    assert B.config["hint_spread"] == [3, 12] and B.encoder._conv_stem.weight.shape[1] == 4 + 6
    x = torch.cat([torch.rand(2, 1, 64, 64) * 2 - 1, torch.zeros(2, 3, 64, 64)], 1)
    x[:, 1:3, 20:23, 30:33], x[:, 3, 20:23, 30:33] = 0.3, 1.0
    with torch.no_grad():
        assert torch.allclose(A(x), B(x), atol=1e-6)
    with pytest.raises(ValueError, match="hint channels"):
        nets.EffUNetG(in_ch=1, hint_spread=[3])
    with pytest.raises(ValueError, match="effunet"):
        nets.build_generator({"arch": "unet", "in_ch": 4, "widths": [4, 8], "dropout": 0.5, "hint_spread": [3]})


def test_hint_spread_is_refused_outside_the_hints_task(tmp_path, capsys):
    base = ["--data", str(tmp_path), "--out", str(tmp_path / "x.pt")]
    assert train.main(base + ["--hint-spread", "3,12"]) == 2
    assert "--task hints" in capsys.readouterr().out
    assert train.main(base + ["--task", "hints", "--arch", "effunet", "--hint-spread", "3,x"]) == 2
    assert "comma-separated radii" in capsys.readouterr().out
