"""Very large photos: the backend works on a reduced copy, and every full-size step runs in bands of rows, with
the same result as in one piece and the input's lightness (and, outside a mask, its pixels) kept exactly."""
import cv2
import numpy as np
import pytest

from colorcore import Backend, BackendOutput, ColorizeRequest, color, pipeline, run_backend, strips
from colorcore.upsample import bilinear_rows, joint_bilateral_upsample
from testutil_engine import gray


class Smooth(Backend):
    """Chroma that varies smoothly with position and lightness; records the size it was asked to work at."""
    name, label, modes = "smooth", "smooth", ("auto", "partial", "scribble")
    seen = []

    def run(self, request):
        h, w = request.shape
        self.seen.append((h, w))
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        L = request.lightness()
        ab = np.dstack([40 * xx / w - 20 + 0.2 * (L - 50), 30 * yy / h - 15]).astype(np.float32)
        return BackendOutput(ab=ab, score=(1 + xx / w).astype(np.float32), info={})


def big_photo(h=240, w=320, seed=0):
    rng = np.random.default_rng(seed)
    small = rng.uniform(0.2, 0.8, (6, 8)).astype(np.float32)
    g = cv2.resize(small, (w, h), interpolation=cv2.INTER_NEAREST)
    g = cv2.GaussianBlur(g, (0, 0), 2) + rng.normal(0, 0.01, (h, w)).astype(np.float32)
    return np.repeat(np.clip(g, 0, 1)[..., None], 3, axis=2)


def test_row_strips_cover_every_row_once():
    bands = strips.row_strips(1001, 333, pixels=10_000)
    assert bands[0][0] == 0 and bands[-1][1] == 1001
    assert all(a[1] == b[0] and a[1] > a[0] for a, b in zip(bands, bands[1:]))
    assert strips.row_strips(5, 10**9, pixels=10) == [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5)]   # one row at least


def test_upsampling_band_by_band_equals_one_piece():
    rng = np.random.default_rng(1)
    low, guide_low = rng.normal(0, 20, (13, 17, 2)).astype(np.float32), rng.uniform(0, 100, (13, 17)).astype(np.float32)
    guide = rng.uniform(0, 100, (101, 133)).astype(np.float32)
    whole = joint_bilateral_upsample(low, guide_low, guide)
    bands = np.concatenate([joint_bilateral_upsample(low, guide_low, guide[a:b], height=101, row0=a)
                            for a, b in strips.row_strips(101, 133, pixels=133 * 7)])
    np.testing.assert_allclose(bands, whole, atol=1e-5)
    plain = np.concatenate([bilinear_rows(low[..., 0], 101, 133, a, b - a) for a, b in strips.row_strips(101, 133, 900)])
    np.testing.assert_allclose(plain, cv2.resize(low[..., 0], (133, 101), interpolation=cv2.INTER_LINEAR), atol=1e-3)


def test_a_photo_in_bands_is_the_photo_in_one_piece(photo, monkeypatch):
    mask = np.zeros(photo.shape[:2], np.float32)
    mask[5:40, 10:50] = 1
    mask[5:40, 45:50] = 0.5
    req = ColorizeRequest(image=gray(photo), mode="partial", mask=mask)
    whole = run_backend(Smooth(), req)
    monkeypatch.setattr(strips, "STRIP_PIXELS", 64 * 5)
    banded = run_backend(Smooth(), req)
    np.testing.assert_allclose(banded.rgb, whole.rgb, atol=1e-6)   # float rounding (vector lanes) at most
    np.testing.assert_array_equal(banded.uncertainty, whole.uncertainty)
    outside = mask == 0
    np.testing.assert_array_equal(banded.rgb[outside], req.image[outside])


@pytest.mark.parametrize("mode", ["auto", "partial"])
def test_a_photo_above_the_limit_is_colorized_small_and_kept_exact_at_full_size(monkeypatch, mode):
    image = big_photo()
    H, W = image.shape[:2]
    mask = None
    if mode == "partial":
        mask = np.zeros((H, W), np.float32)
        mask[40:200, 60:260] = 1
    direct = run_backend(Smooth(), ColorizeRequest(image=image, mode=mode, mask=mask))
    monkeypatch.setattr(pipeline, "CHROMA_MAX_PIXELS", 120 * 160)
    monkeypatch.setattr(strips, "STRIP_PIXELS", W * 16)
    Smooth.seen.clear()
    res = run_backend(Smooth(), ColorizeRequest(image=image, mode=mode, mask=mask))
    h, w = Smooth.seen[-1]
    assert h * w <= 120 * 160 and abs(w / h - W / H) < 0.02          # the backend saw a reduced copy, same shape
    assert res.rgb.shape == image.shape and res.uncertainty.shape == (H, W)
    assert res.info["worked_at"] == f"{w}x{h}"
    L_in, lab = color.lightness(image), color.rgb_to_lab(res.rgb)
    np.testing.assert_allclose(lab[..., 0], L_in, atol=0.05)          # the full-size lightness is the input's
    err = np.abs(lab[..., 1:] - color.rgb_to_lab(direct.rgb)[..., 1:])
    assert np.median(err) < 0.5 and np.percentile(err, 99) < 4        # chroma: what the backend says at full size
    np.testing.assert_allclose(res.uncertainty, direct.uncertainty, atol=0.02)
    if mask is not None:
        outside = mask == 0
        np.testing.assert_array_equal(res.rgb[outside], image[outside])   # bit for bit
        assert (res.uncertainty[outside] == 0).all()


def test_a_thin_scribble_keeps_its_colour_when_the_photo_is_reduced(monkeypatch):
    image = big_photo()
    scribbles = np.zeros(image.shape[:2] + (4,), np.float32)
    scribbles[100, 20:300] = [0.9, 0.1, 0.1, 1.0]          # one pixel wide: 1/2 of a reduced pixel
    monkeypatch.setattr(pipeline, "CHROMA_MAX_PIXELS", 120 * 160)
    small = pipeline.chroma_request(ColorizeRequest(image=image, mode="scribble", scribbles=scribbles))
    painted = small.scribbles[..., 3] > 0
    assert painted.any() and small.scribbles[..., 3].max() < 1    # a lighter hint ...
    np.testing.assert_allclose(small.scribbles[painted][:, :3], [[0.9, 0.1, 0.1]] * painted.sum(), atol=1e-4)  # same red
