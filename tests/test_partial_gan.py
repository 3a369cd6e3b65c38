"""`partial-gan`: training masks, the mask-conditioned backend with tiny random weights, training plumbing."""
from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from colorcore import ColorizeRequest, run_backend  # noqa: E402
from training.evaluation import to_uint8  # noqa: E402
from backends.gan import infer, nets  # noqa: E402
from training.gan import train, weights_io  # noqa: E402
from training.gan import masks  # noqa: E402
from backends.partial_gan.plugin import PartialGanBackend  # noqa: E402

TINY = dict(widths=(4, 8, 8), dropout=0.5, dropout_levels=1)


def photo(h=96, w=80, seed=0):
    """A small synthetic photo with a few flat coloured regions and noise (object masks need structure)."""
    rng = np.random.default_rng(seed)
    img = np.zeros((h, w, 3), np.float32)
    img[: h // 2] = (0.8, 0.3, 0.2)
    img[h // 2:, : w // 2] = (0.2, 0.6, 0.3)
    img[h // 2:, w // 2:] = (0.3, 0.3, 0.8)
    return np.clip(img + rng.normal(0, 0.03, img.shape), 0, 1).astype(np.float32)


def tiny_partial_weights(path, mask_gain=3.0):
    torch.manual_seed(0)
    G = nets.UNetG(in_ch=2, **TINY)
    with torch.no_grad():
        G.stem[0].weight[:, 1] *= mask_gain   # make the mask channel matter
    return weights_io.save_weights(G.state_dict(), G.config, path, {"loss": "test"})


@pytest.mark.parametrize("family", masks.FAMILIES)
def test_each_mask_family_is_a_valid_nonempty_selection(family):
    rgb = to_uint8(photo())
    for seed in range(8):
        m = masks.random_mask(np.random.default_rng(seed), rgb, family=family, p_feather=0.0)
        assert m.shape == rgb.shape[:2] and m.dtype == np.float32
        assert 0 < m.mean() < 1 and m.min() >= 0 and m.max() <= 1
        assert set(np.unique(m)) <= {0.0, 1.0}   # unfeathered masks are hard


def test_masks_are_seeded_and_feathering_makes_soft_edges():
    rgb = to_uint8(photo())
    a = masks.batch_masks(np.random.default_rng(3), np.stack([rgb] * 6))
    b = masks.batch_masks(np.random.default_rng(3), np.stack([rgb] * 6))
    assert a.shape == (6, 1, 96, 80) and np.array_equal(a, b)
    soft = masks.random_mask(np.random.default_rng(1), rgb, family="rectangle", p_feather=1.0)
    assert ((soft > 0.05) & (soft < 0.95)).any()


def test_object_region_boundaries_follow_the_photo():
    """Object masks are unions of the photo's own superpixels: their boundaries lie on the photo's colour
    edges far more often than those of shape-only masks (blobs) do."""
    import cv2
    rgb = to_uint8(photo())
    regions = np.zeros(rgb.shape[:2], np.uint8)
    regions[48:, :40], regions[48:, 40:] = 1, 2
    photo_edges = cv2.morphologyEx(regions, cv2.MORPH_GRADIENT, np.ones((5, 5), np.uint8)) > 0

    def on_edges(family):
        fractions = []
        for seed in range(10):
            m = masks.random_mask(np.random.default_rng(seed), rgb, family=family, p_feather=0.0).astype(np.uint8)
            boundary = cv2.morphologyEx(m, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8)) > 0
            boundary[[0, -1]] = False
            boundary[:, [0, -1]] = False
            fractions.append((boundary & photo_edges).sum() / max(boundary.sum(), 1))
        return np.mean(fractions)

    assert on_edges("object") > 2 * on_edges("blob")


def test_backend_keeps_outside_and_zero_uncertainty_there(tmp_path):
    backend = PartialGanBackend(tiny_partial_weights(tmp_path / "p.pt"))
    assert backend.unavailable_reason() is None
    gray = np.repeat(photo().mean(-1, keepdims=True), 3, -1)
    mask = np.zeros(gray.shape[:2], np.float32)
    mask[20:70, 10:50] = 1.0
    mask[70:80, 10:50] = 0.5
    res = run_backend(backend, ColorizeRequest(image=gray, mode="partial", mask=mask, seed=0,
                                               options={"size": 64, "samples": 2}))
    assert np.array_equal(res.rgb[mask == 0], gray[mask == 0])
    assert (res.uncertainty[mask == 0] == 0).all() and (res.uncertainty[mask == 1] > 0).all()


def test_the_mask_reaches_the_generator(tmp_path):
    backend = PartialGanBackend(tiny_partial_weights(tmp_path / "p.pt"))
    gray = np.repeat(photo().mean(-1, keepdims=True), 3, -1)
    small = np.zeros(gray.shape[:2], np.float32)
    small[30:60, 20:60] = 1
    big = np.ones_like(small)
    a = backend.run(ColorizeRequest(image=gray, mode="partial", mask=small, seed=0, options={"size": 64, "samples": 1}))
    b = backend.run(ColorizeRequest(image=gray, mode="partial", mask=big, seed=0, options={"size": 64, "samples": 1}))
    assert np.abs(a.ab[30:60, 20:60] - b.ab[30:60, 20:60]).max() > 1e-3


def test_wrong_generator_for_the_backend_is_reported(tmp_path):
    G = nets.UNetG(in_ch=1, **TINY)
    w = weights_io.save_weights(G.state_dict(), G.config, tmp_path / "auto.pt", {"loss": "test"})
    reason = PartialGanBackend(w).unavailable_reason()
    assert "1 input channel" in reason and "needs 2" in reason
    assert "--task partial" in PartialGanBackend(tmp_path / "missing.pt").unavailable_reason()


def test_init_from_auto_weights_starts_as_the_auto_model(tmp_path):
    torch.manual_seed(1)
    auto = nets.UNetG(in_ch=1, **TINY).eval()
    w = weights_io.save_weights(auto.state_dict(), auto.config, tmp_path / "auto.pt", {"loss": "test"})
    auto = infer.load_generator(w)   # fp16 round trip, as the trainer sees it
    part = nets.UNetG(in_ch=2, **TINY)
    weights_io.init_generator(part, w)
    part.eval()
    L = torch.rand(1, 1, 32, 32) * 100
    m = (torch.rand(1, 1, 32, 32) > 0.5).float()
    x = nets.l_to_input(L)
    assert torch.allclose(part(torch.cat([x, m], 1)), auto(x), atol=1e-6)


def test_partial_training_runs_and_resumes(tmp_path):
    from PIL import Image
    data = tmp_path / "photos"
    data.mkdir()
    for k in range(6):
        Image.fromarray(to_uint8(photo(72, 72, seed=k))).save(data / f"p{k}.png")
    torch.manual_seed(0)
    auto = nets.UNetG(in_ch=1, **TINY)
    init = weights_io.save_weights(auto.state_dict(), auto.config, tmp_path / "auto.pt", {"loss": "test"})
    out = tmp_path / "run" / "pg.pt"
    args = ["--data", str(data), "--out", str(out), "--task", "partial", "--init", str(init), "--widths", "4,8,8",
            "--batch", "2", "--crop", "64", "--cache-size", "72", "--calib-count", "1", "--val-count", "1",
            "--val-every", "2", "--log-every", "1"]
    assert train.main(args + ["--steps", "2"]) == 0
    ck = torch.load(out, weights_only=True)
    assert ck["step"] == 2 and ck["G"]["stem.0.weight"].shape[1] == 2 and ck["D"]["net.0.weight"].shape[1] == 4
    assert train.main(args + ["--steps", "3"]) == 0
    assert torch.load(out, weights_only=True)["step"] == 3
    val = [json.loads(line) for line in (out.parent / "pg.jsonl").read_text().splitlines() if '"val"' in line]
    assert val and np.isfinite(val[-1]["val_psnr"])
    shipped = weights_io.export_generator(out, tmp_path / "ship" / "partial_gan.pt")
    assert json.loads(shipped.with_suffix(".json").read_text())["train_args"]["task"] == "partial"
    assert PartialGanBackend(shipped).unavailable_reason() is None


def test_bench_seam_measure_and_held_out_mask_families():
    """bench/partial.py: its band lies just inside the boundary, its interior beyond, and its three
    evaluation families give valid selections (soft only for the ellipses)."""
    import sys
    from pathlib import Path
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from bench import partial as bp
    mask = np.zeros((40, 60), np.float32)
    mask[10:30, 10:50] = 1
    band, interior, deep = bp.bands(mask)
    assert band[10, 20] and band[29, 30] and not band[20, 30] and not band[5, 5]
    assert interior[20, 30] and not interior[11, 20] and not (band & interior).any()
    assert (band | interior).sum() == (mask >= 0.5).sum() and not deep.any()   # nothing is 16 px inside
    rgb = photo(128, 128)
    for name, make in bp.MAKERS.items():
        m = make(np.random.default_rng(0), rgb)
        assert m.shape == (128, 128) and 0 < m.mean() < 1 and m.min() >= 0 and m.max() <= 1, name
        soft = ((m > 0.02) & (m < 0.98)).mean()
        assert (soft > 0.02) == (name == "ellipses"), (name, soft)


def test_bench_pools_photos_by_their_squared_errors_and_catches_changes_outside():
    """bench/partial.py's cell statistics: inside PSNR pools squared errors over every selected pixel (not a mean
    of per-photo PSNRs), and one changed pixel outside the selection shows as the outside difference."""
    import sys
    from pathlib import Path
    from types import SimpleNamespace
    from colorcore import color
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from bench import partial as bp
    gray8 = np.full((20, 20, 3), 128, np.uint8)
    mask = np.zeros((20, 20), np.float32)
    mask[5:15, 5:15] = 1
    band, inner, _ = bp.bands(mask)
    ref_ab = np.zeros((20, 20, 2), np.float32)
    s = bp.empty_stats()
    no_radius = SimpleNamespace(uncertainty=None)

    def add(out8):
        err = np.linalg.norm(color.rgb_to_lab(out8.astype(np.float32) / 255)[..., 1:] - ref_ab, axis=-1)
        bp.add_photo(s, bp.photo_record(out8, gray8, gray8, err, mask, band, inner, no_radius))
    for error in (2, 6):   # two photos, red off by 2 and by 6 levels inside the selection
        out8 = gray8.copy()
        out8[5:15, 5:15, 0] += np.uint8(error)
        add(out8)
    cell = bp.summary(s)
    assert cell["outside_max_diff"] == 0 and cell["coverage"] is None
    assert cell["inside_psnr"] == pytest.approx(10 * np.log10(255.0 ** 2 / ((4 + 36) / 2 / 3)))
    out8 = gray8.copy()
    out8[0, 0] = 140
    add(out8)
    assert bp.summary(s)["outside_max_diff"] == 12
