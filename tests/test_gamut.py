"""colorcore.gamut: the sRGB gamut's bound on a chroma error, and the `prior` score that uses it."""
import numpy as np

from colorcore import color
from colorcore.gamut import gamut_reach


def true_colours(n=20000, seed=0):
    rng = np.random.default_rng(seed)
    return color.rgb_to_lab(rng.uniform(0, 1, (n, 1, 3)).astype(np.float32))[:, 0]


def test_no_true_colour_is_farther_from_a_guess_than_the_gamut_allows():
    lab = true_colours()
    rng = np.random.default_rng(1)
    guess = rng.normal(0, 40, (len(lab), 2)).astype(np.float32)
    error = np.hypot(*(lab[:, 1:] - guess).T)
    bound = gamut_reach(lab[:, 0], guess)
    # the edge is found every half lightness unit and every degree of hue: an ab unit or two of slack at most
    assert np.all(error <= bound + 2.5)
    assert np.mean(error <= bound) > 0.999


def test_the_bound_is_tight_and_shrinks_to_nothing_at_black_and_white():
    lab = true_colours(200000)
    mid = np.abs(lab[:, 0] - 50) < 0.5
    farthest = np.hypot(lab[mid, 1], lab[mid, 2]).max()   # from a gray guess at L 50: the most colourful truth
    assert abs(gamut_reach(np.float32(50), np.zeros(2, np.float32)) - farthest) < 3.0
    ends = gamut_reach(np.float32([0.0, 100.0]), np.zeros((2, 2), np.float32))
    assert ends.max() < 1.0
    # from a saturated red guess the farthest truth is across the gamut: farther than from gray
    assert gamut_reach(np.float32(50), np.float32([60, 40])) > gamut_reach(np.float32(50), np.zeros(2, np.float32))


def test_the_prior_score_is_scaled_by_how_wrong_the_gamut_lets_a_colour_be(monkeypatch):
    """The same run with the gamut's factor replaced by 1: the score differs by the factor the result's lightness
    and colours give. On black the only true colour is gray, so the error is at most the guess's own chroma and
    the score shrinks; at mid lightness the gamut is widest and it grows."""
    from backends.prior import fusion
    from backends.prior.plugin import PriorBackend
    from colorcore import ColorizeRequest, load_registry
    from test_prior import strokes
    from test_partial_gan import photo
    prior = load_registry().get("prior")
    if prior.unavailable_reason():
        import pytest
        pytest.skip(prior.unavailable_reason())
    rgb = photo()
    rgb[:, :20] = 0.0                        # a black strip
    gray = np.repeat(color.lightness(rgb)[..., None] / 100, 3, axis=2).astype(np.float32)
    L = color.lightness(gray)
    req = lambda o: ColorizeRequest(image=gray, mode="scribble", scribbles=strokes(gray.shape[:2]), options=o)  # noqa: E731
    options = prior.validate_options({})
    out = prior.run(req(options))
    factor = fusion.gamut_factor(L, out.ab)
    monkeypatch.setattr(fusion, "gamut_factor", lambda L, ab: np.ones(L.shape, np.float32))
    plain = PriorBackend().run(req(options))
    np.testing.assert_allclose(out.ab, plain.ab)                # the colours are the same
    ratio = out.score / np.maximum(plain.score, 1e-6)
    inner = (slice(5, -5), slice(25, -5))   # (computed at the network's size: not at the strip's edge)
    np.testing.assert_allclose(ratio[inner], factor[inner], rtol=0.1)
    assert ratio[:, :12].mean() < 0.85 * ratio[:, 40:].mean()
