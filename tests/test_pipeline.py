import numpy as np
import pytest

from colorcore import (Backend, BackendOutput, Calibration, ColorizeRequest, Option, color, run_backend)
from colorcore.errors import BackendFailed, BackendUnavailable, InvalidRequest
from testutil_engine import gray


class Vivid(Backend):
    name, label, modes = "vivid", "vivid", ("auto", "partial")
    options = (Option("a", float, 30.0, minimum=-100, maximum=100), Option("mode", str, "x", choices=("x", "y")))

    def run(self, request):
        h, w = request.shape
        ab = np.dstack([np.full((h, w), request.options["a"]), np.full((h, w), -10.0)]).astype(np.float32)
        return BackendOutput(ab=ab, score=np.full((h, w), 2.0, np.float32))


def test_out_of_gamut_chroma_is_shortened_not_clipped(photo):
    class Garish(Vivid):
        def run(self, request):
            h, w = request.shape
            return BackendOutput(ab=np.dstack([np.full((h, w), 120.0), np.full((h, w), -120.0)]).astype(np.float32))
    src = gray(photo)
    res = run_backend(Garish(), ColorizeRequest(image=src))
    np.testing.assert_allclose(color.lightness(res.rgb), color.lightness(src), atol=0.05)
    lab = color.rgb_to_lab(res.rgb)
    hue = np.degrees(np.arctan2(lab[..., 2], lab[..., 1]))
    assert np.all(np.abs(hue + 45) < 2) and lab[..., 1].min() > 5     # same hue, still coloured


def test_input_lightness_is_put_back(photo):
    class Wrong(Vivid):
        def run(self, request):   # returns RGB with the wrong lightness
            return BackendOutput(rgb=np.clip(request.image * 0.5 + [0.3, 0, 0], 0, 1).astype(np.float32))
    src = gray(photo)
    res = run_backend(Wrong(), ColorizeRequest(image=src))
    np.testing.assert_allclose(color.lightness(res.rgb), color.lightness(src), atol=0.6)
    assert color.rgb_to_lab(res.rgb)[..., 1].mean() > 5


def test_mask_composite_is_exact_outside_and_linear_inside(photo):
    src = gray(photo)
    mask = np.zeros(src.shape[:2], np.float32)
    mask[:, 32:] = 1.0
    mask[:, 30:32] = 0.5
    res = run_backend(Vivid(), ColorizeRequest(image=src, mode="partial", mask=mask))
    assert np.array_equal(res.rgb[:, :30], src[:, :30])
    full = run_backend(Vivid(), ColorizeRequest(image=src)).rgb
    # a feathered edge blends chroma linearly and keeps the input's lightness
    lab, lab_full, lab_src = (color.rgb_to_lab(x[:, 31]) for x in (res.rgb, full, src))
    np.testing.assert_allclose(lab[:, 1:], 0.5 * lab_full[:, 1:] + 0.5 * lab_src[:, 1:], atol=0.05)
    np.testing.assert_allclose(lab[:, 0], lab_src[:, 0], atol=0.01)
    assert np.all(res.uncertainty[:, :30] == 0) and np.all(res.uncertainty[:, 32:] > 0)


def test_calibration_scales_the_raw_score(photo):
    class Calibrated(Vivid):
        def calibration(self):
            return Calibration({0.1: 3.0, 0.2: 1.5})
    res = run_backend(Calibrated(), ColorizeRequest(image=photo, alpha=0.2))
    np.testing.assert_allclose(res.uncertainty, 3.0)
    assert res.info["calibrated"] is True


def test_an_alpha_below_the_calibrated_ones_is_refused_before_the_run(photo):
    runs = []

    class Calibrated(Vivid):
        def calibration(self):
            return Calibration({0.1: 3.0, 0.2: 1.5})

        def run(self, request):
            runs.append(1)
            return super().run(request)
    with pytest.raises(InvalidRequest, match=r"alpha=0.05 is below the smallest one calibrated \(0.1"):
        run_backend(Calibrated(), ColorizeRequest(image=photo, alpha=0.05))
    assert runs == []


@pytest.mark.parametrize("change, message", [
    (dict(image=np.zeros((4, 4), np.float32)), "shape"),
    (dict(image=np.zeros((4, 4, 3), np.uint8)), "float"),
    (dict(image=np.full((4, 4, 3), 2.0, np.float32)), r"\[0, 1\]"),
    (dict(image=np.full((4, 4, 3), np.nan, np.float32)), "NaN"),
    (dict(mode="scribble"), "does not serve"),
    (dict(mode="partial"), "mask"),
    (dict(mode="partial", mask=np.zeros((4, 4), np.float32)), "not empty"),
    (dict(mask=np.ones((5, 4), np.float32)), "mask is 4x5"),
    (dict(options={"b": 1}), "no option 'b'"),
    (dict(options={"a": "many"}), "expects a float"),
    (dict(options={"a": 500}), r"\[-100, 100\]"),
    (dict(options={"mode": "z"}), "one of x, y"),
    (dict(alpha=1.5), "alpha"),
])
def test_bad_requests_say_what_was_expected(change, message):
    req = ColorizeRequest(**dict(dict(image=np.full((4, 4, 3), 0.5, np.float32)), **change))
    with pytest.raises(InvalidRequest, match=message):
        run_backend(Vivid(), req)


def test_backend_errors_are_wrapped_and_contract_breaches_caught(photo):
    class Crashing(Vivid):
        def run(self, request):
            raise ZeroDivisionError("boom")

    class BadShape(Vivid):
        def run(self, request):
            return BackendOutput(ab=np.zeros((3, 3, 2), np.float32))

    class Missing(Vivid):
        def unavailable_reason(self):
            return "weights not found at /nowhere"
    with pytest.raises(BackendFailed, match="boom"):
        run_backend(Crashing(), ColorizeRequest(image=photo))
    with pytest.raises(BackendFailed, match="shape"):
        run_backend(BadShape(), ColorizeRequest(image=photo))
    with pytest.raises(BackendUnavailable, match="/nowhere"):
        run_backend(Missing(), ColorizeRequest(image=photo))


def test_the_callers_arrays_are_never_modified(photo):
    src = gray(photo)
    before = src.copy()
    run_backend(Vivid(), ColorizeRequest(image=src))
    assert np.array_equal(src, before)


class Hinted(Vivid):
    name, modes, needs_scribbles = "hinted", ("scribble", "partial"), True


def test_missing_scribbles_are_not_called_an_empty_layer():
    """'The scribble layer is empty' only when one was given; none given says so, naming the mode or backend."""
    image = np.full((4, 4, 3), 0.5, np.float32)
    with pytest.raises(InvalidRequest, match="scribble mode needs colour scribbles, but none were given") as e:
        run_backend(Hinted(), ColorizeRequest(image=image, mode="scribble"))
    assert "empty" not in str(e.value)
    with pytest.raises(InvalidRequest, match="backend 'hinted' needs colour scribbles, but none were given"):
        run_backend(Hinted(), ColorizeRequest(image=image, mode="partial", mask=np.ones((4, 4), np.float32)))
    with pytest.raises(InvalidRequest, match="the scribble layer is empty"):
        run_backend(Hinted(), ColorizeRequest(image=image, mode="scribble", scribbles=np.zeros((4, 4, 4), np.float32)))


@pytest.mark.parametrize("shrink", [False, True])
def test_the_full_size_result_is_the_same_on_one_thread_or_several(shrink):
    """_compose runs its bands of rows side by side (strips.for_each_strip); each band depends on its own rows
    alone, so the result is bit for bit that of one thread, upsampled or not, with a feathered mask."""
    from colorcore import pipeline
    from colorcore.strips import for_each_strip
    rng = np.random.default_rng(4)
    H, W = 1301, 611   # four bands
    mask = np.clip(rng.random((H, W)) * 2 - 0.5, 0, 1).astype(np.float32)
    request = ColorizeRequest(image=rng.random((H, W, 3)).astype(np.float32), mode="partial", mask=mask)
    work = pipeline.chroma_request(request, max_pixels=H * W // 5) if shrink else request
    h, w = work.shape
    ab = (rng.standard_normal((h, w, 2)) * 30).astype(np.float32)
    score = rng.random((h, w)).astype(np.float32)
    runs = []
    for threads in (1, 2, 3):
        done = []
        original = pipeline.for_each_strip
        pipeline.for_each_strip = lambda height, width, band: for_each_strip(
            height, width, lambda y0, y1: done.append((y0, y1)) or band(y0, y1), threads=threads)
        try:
            runs.append(pipeline._compose(request, work, ab, score, 2.0))
        finally:
            pipeline.for_each_strip = original
        assert sorted(done)[0][0] == 0 and sorted(done)[-1][1] == H and len(done) >= 3
    for rgb, radius, _ in runs[1:]:
        np.testing.assert_array_equal(rgb, runs[0][0])
        np.testing.assert_array_equal(radius, runs[0][1])
