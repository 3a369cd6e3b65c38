"""training.gan.refit_head: the error head refitted on the network's own errors, the colours untouched."""
from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from backends.gan import nets  # noqa: E402
from training.gan import refit_head  # noqa: E402

SMALL = dict(in_ch=1, dec_widths=(16, 8, 8, 8), dropout=0.5, dropout_levels=1)


def test_head_logs_from_the_decoder_features_are_the_generators_own():
    torch.manual_seed(0)
    G = nets.EffUNetG(**SMALL).eval()
    x = torch.rand(2, 1, 64, 96) * 2 - 1
    with torch.no_grad():
        h = G.decode_features(G.encode(x))
        logs = refit_head.head_logs(h, G.head.weight[nets.LOG_SCALE], G.head.bias[nets.LOG_SCALE], (64, 96))
        assert torch.allclose(logs, G(x)[:, nets.LOG_SCALE], atol=1e-5)


def test_views_and_errors_line_up_the_mirror_image():
    torch.manual_seed(0)
    G = nets.EffUNetG(**SMALL).eval()
    rgb = np.random.default_rng(0).integers(0, 256, (3, 64, 64, 3), dtype=np.uint8)
    h, e = refit_head.views_and_errors(G, rgb, np.random.default_rng(1), gain=0.9, age_prob=0.0, recipe="print")
    assert h.shape[0] == e.shape[0] == 6 and e.shape[1:] == (1, 64, 64)
    # the engine's prediction is the mean of both views: one error, the mirror view's mirrored to line up
    assert torch.equal(e[:3], e[3:].flip(-1))
    assert float(e.min()) >= 0.0


def test_fit_logs_learns_where_the_errors_are_large():
    """Errors whose scale grows with the first feature: from a head that ignores it, the fit lowers the held-back
    loss and weights that feature up."""
    gen = torch.Generator().manual_seed(0)
    H = torch.randn(64, 2, 6, 6, generator=gen)
    scale = torch.exp(1.0 * H[:, :1] - 2.0)
    E = scale * torch.empty_like(scale).exponential_(generator=gen)
    w0, b0 = torch.zeros(1, 2, 1, 1), torch.zeros(1)
    w, b, nll = refit_head.fit_logs(H, E, w0, b0, steps=1500, seed=0, lr=3e-2, log=lambda *_: None)
    assert nll["after"] < nll["before"] - 0.3
    assert 0.7 < float(w[0, 0]) < 1.3 and abs(float(w[0, 1])) < 0.3 and -2.4 < float(b[0]) < -1.6


def test_with_log_head_changes_only_the_log_scale_channel():
    G = nets.EffUNetG(**SMALL)
    sd = {k: v.half() for k, v in G.state_dict().items()}
    w = torch.full_like(G.head.weight[nets.LOG_SCALE], 0.5)
    b = torch.full_like(G.head.bias[nets.LOG_SCALE], -1.0)
    before = {k: v.clone() for k, v in sd.items()}
    new = refit_head.with_log_head(sd, w, b)
    assert new.keys() == sd.keys()
    for k in sd:
        assert new[k].dtype == sd[k].dtype
        if k not in ("head.weight", "head.bias"):
            assert torch.equal(new[k], sd[k])
    assert torch.equal(new["head.weight"][:2], sd["head.weight"][:2])   # the colours' channels
    assert torch.equal(new["head.bias"][:2], sd["head.bias"][:2])
    assert torch.all(new["head.weight"][nets.LOG_SCALE] == 0.5) and float(new["head.bias"][2]) == -1.0
    assert all(torch.equal(sd[k], before[k]) for k in sd)   # the input is left as it was


def test_refusing_to_overwrite_or_to_read_what_is_not_weights(tmp_path, capsys):
    with pytest.raises(SystemExit, match="expected shipped generator weights"):
        refit_head.main([str(tmp_path / "none.pt"), str(tmp_path / "out.pt")])
    w = tmp_path / "g.pt"
    w.write_bytes(b"")
    w.with_suffix(".json").write_text("{}")
    with pytest.raises(SystemExit, match="would overwrite"):
        refit_head.main([str(w), str(w)])
