"""The `prior` backend (Scribble with a learned prior): hint-conditioned network + edge-aware solve."""
from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from colorcore import ColorizeRequest, color, load_registry, run_backend  # noqa: E402
from backends.gan import infer, nets  # noqa: E402
from training.gan.weights_io import save_weights  # noqa: E402
from backends.prior.plugin import PriorBackend  # noqa: E402
from backends.prior.guess import hint_condition  # noqa: E402
from backends.variational.strokes import scribble_hints  # noqa: E402
from test_partial_gan import TINY, photo  # noqa: E402


@pytest.fixture
def tiny_prior(tmp_path):
    torch.manual_seed(0)
    G = nets.UNetG(in_ch=4, **TINY)
    return save_weights(G.state_dict(), G.config, tmp_path / "prior.pt", {"loss": "test", "size": 64})


def strokes(shape):
    s = np.zeros(shape + (4,), np.float32)
    s[10:13, 8:40] = [0.85, 0.2, 0.15, 1.0]     # red on the top region
    s[70:73, 8:40] = [0.2, 0.6, 0.3, 1.0]       # green on the bottom-left one
    return s


def test_the_solve_adds_the_guesss_detail_away_from_the_strokes():
    """Far from the strokes a gray guess keeps far_residual_share of their spread colours (half for one stroke);
    a right guess is kept; with a reach, the strokes rule near them."""
    from backends.prior.fusion import far_residual_share, guess_gain, propagate_with_guess
    from backends.variational.plugin import VariationalBackend
    from backends.variational.propagate import propagate_scribbles
    rgb = photo()
    L = color.lightness(rgb)
    s = strokes(L.shape)
    opts = VariationalBackend().validate_options({})
    gray_guess = lambda L_work: np.zeros(L_work.shape + (2,), np.float32)  # noqa: E731
    assert [far_residual_share(n) for n in (1, 2, 10)] == [0.5, 0.75, 0.95]
    assert [guess_gain(n) for n in (0, 1, 2, 10)] == [0.8, 0.8, 0.9, 0.98]
    for one_or_two in (s[:40], s):   # the top stroke alone, then both
        plain = propagate_scribbles(L[:len(one_or_two)], one_or_two, opts)
        zero = propagate_with_guess(L[:len(one_or_two)], scribble_hints(one_or_two), opts, gray_guess, 1e-6)
        painted = one_or_two[..., 3] > 0
        share = far_residual_share(plain.strokes)
        assert plain.strokes == (1 if one_or_two is not s else 2)
        np.testing.assert_allclose(zero.ab[~painted], share * plain.ab[~painted], atol=1e-3)
        np.testing.assert_allclose(zero.ab[painted], plain.ab[painted], atol=1e-3)   # the stroke holds
    zero = propagate_with_guess(L, scribble_hints(s), opts, gray_guess, 1e4)
    np.testing.assert_allclose(zero.ab, plain.ab, atol=1e-2)        # a huge reach: propagation everywhere
    truth = color.rgb_to_lab(rgb)[..., 1:]
    s_true = np.dstack([rgb, s[..., 3:]])          # strokes that agree with the guess: the guess stays, paler
    kept = propagate_with_guess(L, scribble_hints(s_true), opts, lambda L_work: truth, 0.1)
    k = guess_gain(kept.strokes)
    assert k == 0.9
    np.testing.assert_allclose(kept.ab[s[..., 3] > 0], truth[s[..., 3] > 0], atol=1.0)   # the strokes hold
    coloured = (np.linalg.norm(truth, axis=-1) > 5) & (kept.guess_share > 0.9)   # where the guess makes it
    assert coloured.mean() > 0.2
    cos = np.sum(kept.ab * truth, -1) / (np.linalg.norm(kept.ab, axis=-1) * np.linalg.norm(truth, axis=-1) + 1e-6)
    assert cos[coloured].min() > 0.98                                       # the guess's hues
    gain = np.linalg.norm(kept.ab, axis=-1)[coloured] / np.linalg.norm(truth, axis=-1)[coloured]
    assert k - 0.05 < np.median(gain) < 0.97                                # paler, by about k
    near = propagate_with_guess(L, scribble_hints(s), opts, lambda L_work: truth, 1e-6)
    far = propagate_with_guess(L, scribble_hints(s), opts, lambda L_work: truth, 1e4)
    np.testing.assert_allclose(far.ab, plain.ab, atol=0.5)         # a huge reach: propagation everywhere
    assert np.abs(near.ab - truth).mean() < np.abs(plain.ab - truth).mean()


def test_the_painted_colours_hold_where_painted_and_the_result_is_whole(tiny_prior):
    gray = np.repeat(photo().mean(axis=2, keepdims=True), 3, axis=2)
    s = strokes(gray.shape[:2])
    res = run_backend(PriorBackend(tiny_prior), ColorizeRequest(image=gray, mode="scribble", scribbles=s))
    lab, want = color.rgb_to_lab(res.rgb), color.rgb_to_lab(s[..., :3])
    painted = s[..., 3] > 0
    assert np.median(np.hypot(*(lab[painted][:, 1:] - want[painted][:, 1:]).T)) < 6
    np.testing.assert_allclose(lab[..., 0], color.lightness(gray), atol=0.05)
    assert res.uncertainty.shape == gray.shape[:2] and (res.uncertainty >= 0).all()
    assert res.info["calibration_group"] == "1-2 scribbles"


def test_a_thin_stroke_stays_a_hint_at_the_networks_size():
    s = np.zeros((200, 200, 4), np.float32)
    s[100, 20:180] = [0.9, 0.1, 0.1, 1.0]
    cond = hint_condition(*scribble_hints(s), (50, 50))
    assert cond.shape == (3, 50, 50) and (cond[2] > 0).sum() >= 35
    a = cond[0][cond[2] > 0] * nets.AB_SCALE
    assert np.allclose(a, a[0], atol=0.5) and a[0] > 40        # the stroke's own red, everywhere it survives


def test_missing_weights_say_how_to_make_them(tmp_path):
    reason = PriorBackend(tmp_path / "none.pt").unavailable_reason()
    assert "--task hints" in reason
    wrong = save_weights(nets.UNetG(in_ch=1, **TINY).state_dict(), nets.UNetG(in_ch=1, **TINY).config,
                               tmp_path / "auto.pt")
    assert "needs 4 (lightness and the hints' a, b and mask)" in PriorBackend(wrong).unavailable_reason()


def test_the_solve_takes_more_than_four_channels_at_any_size():
    """OpenCV resizes at most 4 channels at once; the prior's solve spreads 5 (a, b, |ab|^2 and the guess's a, b)."""
    from backends.variational.solver import SolverSettings, propagate
    rng = np.random.default_rng(0)
    L = rng.uniform(20, 80, (97, 161)).astype(np.float32)
    w = np.zeros(L.shape, np.float32)
    w[10:13, 20:25] = 1.0
    values = np.zeros(L.shape + (5,), np.float32)
    values[10:13, 20:25] = [1, 2, 5, 3, 4]
    u = propagate(L, w, values, SolverSettings(coarsest_pixels=256))
    assert u.shape == (97, 161, 5) and np.allclose(u[11, 22], [1, 2, 5, 3, 4], atol=0.05)


def test_the_score_counts_the_networks_error_where_its_guess_makes_the_result():
    """Next to a stroke the result is the stroke's colour and only a share of the network's predicted error counts;
    where the guess makes the result (the fusion's guess_share near 1) it counts in full."""
    from backends.prior.fusion import SCORE_FLOOR, SCORE_NEAR, prior_score, propagate_with_guess
    from backends.variational.plugin import VariationalBackend
    rgb = photo()
    L = color.lightness(rgb)
    s = strokes(L.shape)
    gray_guess = lambda L_work: np.zeros(L_work.shape + (2,), np.float32)  # noqa: E731
    prop = propagate_with_guess(L, scribble_hints(s), VariationalBackend().validate_options({}), gray_guess, 0.1)
    share = prop.guess_share
    assert share.shape == L.shape and share[s[..., 3] > 0].max() == 0 and share.max() > 0.5
    s_head = np.full(L.shape, 20.0, np.float32)
    score = prior_score(s_head, np.zeros(L.shape, np.float32), share)
    np.testing.assert_allclose(score[s[..., 3] > 0], SCORE_NEAR * 20 + SCORE_FLOOR, rtol=1e-5)
    far = share > 0.9
    assert far.any()
    np.testing.assert_allclose(score[far], 20 * (SCORE_NEAR + (1 - SCORE_NEAR) * share[far]) + SCORE_FLOOR, rtol=1e-5)
    assert score[far].min() > score[s[..., 3] > 0].max()
