import numpy as np
import pytest

from colorcore import color

# Published values (Lindbloom's calculator, D65, sRGB companding).
REFERENCE = [
    ((1.0, 0.0, 0.0), (53.2408, 80.0925, 67.2032)),
    ((0.0, 1.0, 0.0), (87.7347, -86.1827, 83.1793)),
    ((0.0, 0.0, 1.0), (32.2970, 79.1875, -107.8602)),
    ((1.0, 1.0, 1.0), (100.0, 0.0, 0.0)),
    ((0.0, 0.0, 0.0), (0.0, 0.0, 0.0)),
    ((0.5, 0.5, 0.5), (53.3890, 0.0, 0.0)),
    ((1.0, 1.0, 0.0), (97.1393, -21.5537, 94.4780)),
]


@pytest.mark.parametrize("rgb, lab", REFERENCE)
def test_rgb_to_lab_matches_published_values(rgb, lab):
    got = color.rgb_to_lab(np.array([rgb], np.float32))[0]
    np.testing.assert_allclose(got, lab, atol=0.01)


@pytest.mark.parametrize("rgb, lab", REFERENCE)
def test_lab_to_rgb_matches_published_values(rgb, lab):
    got = color.lab_to_rgb(np.array([lab], np.float32))[0]
    np.testing.assert_allclose(got, rgb, atol=1e-4)


def test_round_trip_on_random_colours_and_big_images():
    rng = np.random.default_rng(0)
    for shape in [(1000, 3), (300, 400, 3)]:
        rgb = rng.random(shape, dtype=np.float32)
        back = color.lab_to_rgb(color.rgb_to_lab(rgb))
        assert back.dtype == np.float32 and back.shape == rgb.shape
        assert np.abs(back - rgb).max() < 2e-5


def test_transfer_curve_is_continuous_and_inverse():
    v = np.linspace(0, 1, 100001, dtype=np.float32)
    lin = color.srgb_to_linear(v)
    assert np.all(np.diff(lin) >= 0)
    assert np.abs(color.linear_to_srgb(lin) - v).max() < 1e-5


def test_a_gray_photos_lightness_takes_the_one_channel_path_and_equals_the_general_one():
    v = np.concatenate([np.arange(65536, dtype=np.float32) / 65535,
                        np.random.default_rng(2).random(10000, dtype=np.float32)])
    gray = np.repeat(v[:, None], 3, axis=1)
    general = color.srgb_to_linear(gray) @ color.RGB_TO_XYZ[1].astype(np.float32)
    general = (116.0 * color._f(general) - 16.0).astype(np.float32)
    np.testing.assert_allclose(color.lightness(gray), general, rtol=0, atol=1e-4)
    tinted = gray.copy()
    tinted[::7, 2] *= 0.9   # not gray: the general path, a different L where B changed
    assert not np.array_equal(color.lightness(tinted)[::7], color.lightness(gray)[::7])


def test_lightness_equals_lab_L_and_with_lightness_keeps_it():
    rng = np.random.default_rng(1)
    rgb = rng.random((20, 30, 3), dtype=np.float32)
    L = color.lightness(rgb)
    np.testing.assert_allclose(L, color.rgb_to_lab(rgb)[..., 0], atol=1e-4)
    ab = rng.uniform(-60, 60, (20, 30, 2)).astype(np.float32)     # many of these are out of gamut
    out = color.with_lightness(L, ab)
    assert out.min() >= 0 and out.max() <= 1
    assert (~np.all((color.lab_to_rgb(np.dstack([L, ab]), clip=False) >= 0) &
                    (color.lab_to_rgb(np.dstack([L, ab]), clip=False) <= 1), axis=-1)).mean() > 0.2
    np.testing.assert_allclose(color.lightness(out), L, atol=0.02)    # lightness kept, in gamut or not
    in_lab = color.rgb_to_lab(out)
    same_hue = np.cos(np.arctan2(in_lab[..., 2], in_lab[..., 1]) - np.arctan2(ab[..., 1], ab[..., 0]))
    chroma = np.hypot(in_lab[..., 1], in_lab[..., 2])
    assert np.all((same_hue > 0.99) | (chroma < 1.0))                 # only the chroma was shortened


def test_delta_e_is_euclidean_in_lab():
    assert color.delta_e(np.array([50, 3, 4.0]), np.array([50, 0, 0.0])) == pytest.approx(5.0)
