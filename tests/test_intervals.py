"""Per-channel RGB intervals: calibrated per channel, containing the output, empty where nothing is guessed."""
import numpy as np
import pytest
from PIL import Image

from colorcore import Backend, BackendOutput, Calibration, ColorizeRequest, color, run_backend
from colorcore.errors import InvalidRequest
from colorcore.intervals import (CHANNELS, GROUPS, KEY, channel_errors, fit_intervals, intervals, lambdas_for,
                                 sensitivity)


def noisy_world(rng, n, size=24, noise=1.0):
    """Images whose true chroma = the prediction + Gaussian noise of (noise x) the scale the score says."""
    cases = []
    for _ in range(n):
        L = rng.uniform(30, 80, (size, size)).astype(np.float32)
        ab = rng.uniform(-20, 20, (size, size, 2)).astype(np.float32)
        score = rng.uniform(1, 8, (size, size)).astype(np.float32)
        truth_ab = ab + rng.normal(0, noise, ab.shape).astype(np.float32) * score[..., None]
        out = color.with_lightness(L, ab)
        truth = color.with_lightness(L, truth_ab)
        cases.append((out, truth, L, ab, score))
    return cases


@pytest.mark.parametrize("alpha", [0.1, 0.2])
def test_calibrated_intervals_hold_the_true_values_at_the_promised_rate(alpha):
    rng = np.random.default_rng(0)
    calib, test = noisy_world(rng, 150), noisy_world(rng, 150)
    table = fit_intervals([c[4] for c in calib], [channel_errors(c[0], c[1], c[2], c[3]) for c in calib])
    lams = np.float32([table[ch][str(alpha)] for ch in CHANNELS])
    inside = []
    for out, truth, L, ab, score in test:
        lo, hi = intervals(out, L, ab, score, lams)
        assert (lo <= out + 1e-6).all() and (out <= hi + 1e-6).all()
        inside.append(((truth >= lo - 1e-6) & (truth <= hi + 1e-6)).reshape(-1, 3).mean(axis=0))
    per_channel = np.mean(inside, axis=0)
    assert ((1 - alpha - 0.03 <= per_channel) & (per_channel <= 1 - alpha + 0.05)).all(), per_channel


def test_each_group_gets_intervals_calibrated_on_its_own_images():
    """Few strokes: the score understates the error; many: it overstates it. One pooled lambda would miss the
    promise both ways; the group's own holds it in each (as the radius does, per hint-count group)."""
    rng = np.random.default_rng(1)
    worlds = {"few": 2.0, "many": 0.5}
    calib = {g: noisy_world(rng, 80, noise=k) for g, k in worlds.items()}
    cases = calib["few"] + calib["many"]
    groups = ["few"] * 80 + ["many"] * 80
    table = fit_intervals([c[4] for c in cases], [channel_errors(*c[:4]) for c in cases], groups=groups)
    assert set(table[GROUPS]) == {"few", "many"}
    cal = Calibration({0.1: 1.0}, extra={KEY: table})
    pooled = lambdas_for(cal, 0.1, "test")
    for g, k in worlds.items():
        own = lambdas_for(cal, 0.1, "test", group=g)
        assert ((own > pooled) if k > 1 else (own < pooled)).all(), (g, own, pooled)
        inside_own, inside_pooled = [], []
        for out, truth, L, ab, score in noisy_world(rng, 60, noise=k):
            for lams, into in ((own, inside_own), (pooled, inside_pooled)):
                lo, hi = intervals(out, L, ab, score, lams)
                into.append(((truth >= lo - 1e-6) & (truth <= hi + 1e-6)).reshape(-1, 3).mean(axis=0))
        assert (np.abs(np.mean(inside_own, axis=0) - 0.9) < 0.04).all(), (g, np.mean(inside_own, axis=0))
        assert (np.abs(np.mean(inside_pooled, axis=0) - 0.9) > 0.04).all(), (g, np.mean(inside_pooled, axis=0))
    assert (lambdas_for(cal, 0.1, "test", group="unknown") == pooled).all()   # not calibrated: the overall


def test_sensitivity_is_how_far_a_channel_moves_with_chroma():
    g = sensitivity(np.float32([50.0]), np.float32([[0.0, 0.0]]))[0]
    step = color.lab_to_rgb(np.float32([[50.0, 5.0, 0.0]])) - color.lab_to_rgb(np.float32([[50.0, 0.0, 0.0]]))
    assert g[0] >= abs(step[0, 0]) / 5 * 0.8 and g.min() > 0


class Steady(Backend):
    name, label, modes = "steady", "steady", ("auto", "partial")

    def __init__(self, table=None):
        self.table = table

    def run(self, request):
        h, w = request.shape
        return BackendOutput(ab=np.full((h, w, 2), 10.0, np.float32), score=np.full((h, w), 3.0, np.float32))

    def calibration(self):
        extra = {KEY: self.table} if self.table else {}
        return Calibration({0.05: 3.0, 0.1: 2.0, 0.2: 1.5}, extra=extra)


TABLE = {ch: {"0.1": 2.0, "0.2": 1.0} for ch in CHANNELS}


def test_the_pipeline_gives_intervals_around_the_output_and_none_outside_the_mask(photo):
    mask = np.zeros(photo.shape[:2], np.float32)
    mask[:, :30] = 1
    res = run_backend(Steady(TABLE), ColorizeRequest(image=photo, mode="partial", mask=mask, intervals=True))
    lo, hi = res.intervals
    assert (lo <= res.rgb + 1e-6).all() and (res.rgb <= hi + 1e-6).all() and (hi - lo)[:, :30].mean() > 0.01
    np.testing.assert_array_equal(lo[:, 30:], photo[:, 30:])
    np.testing.assert_array_equal(hi[:, 30:], photo[:, 30:])
    wide = run_backend(Steady(TABLE), ColorizeRequest(image=photo, mode="partial", mask=mask, intervals=True,
                                                      alpha=0.2)).intervals
    assert (wide[1] - wide[0]).mean() < (hi - lo).mean()            # alpha 0.2: narrower than at 0.1
    assert run_backend(Steady(TABLE), ColorizeRequest(image=photo)).intervals is None   # only when asked


class Grouped(Steady):
    """Says which calibration group each request falls in, as the Scribble backends do."""
    group = "narrow"

    def run(self, request):
        out = super().run(request)
        out.info["calibration_group"] = self.group
        return out


def test_the_pipeline_uses_the_intervals_of_the_requests_group(photo):
    table = dict(TABLE, **{GROUPS: {"narrow": {ch: {"0.1": 0.5} for ch in CHANNELS}}})
    width = {}
    for group in ("narrow", "other"):
        backend = Grouped(table)
        backend.group = group
        lo, hi = run_backend(backend, ColorizeRequest(image=photo, intervals=True)).intervals
        width[group] = float((hi - lo).mean())
    assert width["narrow"] < 0.5 * width["other"]   # lambda 0.5 against the overall 2.0 (clipping aside)


def test_a_backend_without_interval_calibration_says_so(photo):
    with pytest.raises(InvalidRequest, match="no calibrated RGB intervals"):
        run_backend(Steady(), ColorizeRequest(image=photo, intervals=True))
    with pytest.raises(InvalidRequest, match="calibrated from alpha=0.1"):
        run_backend(Steady(TABLE), ColorizeRequest(image=photo, intervals=True, alpha=0.05))


def test_the_cli_writes_the_two_interval_images_around_the_output(tmp_path, photo):
    import subprocess
    from testutil_engine import colorcore_cmd, engine_env
    gray = np.round(photo.mean(axis=2) * 255).astype(np.uint8)
    Image.fromarray(gray).save(tmp_path / "in.png")
    proc = subprocess.run([*colorcore_cmd(), "colorize", "in.png", "-o", "out.png", "--intervals", "lo.png", "hi.png",
                           "--backend", "gan", "--quiet"], cwd=tmp_path, capture_output=True, text=True,
                          env=engine_env(), timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "RGB intervals lo.png .. hi.png" in proc.stdout
    out, lo, hi = (np.asarray(Image.open(tmp_path / n), np.int16) for n in ("out.png", "lo.png", "hi.png"))
    assert lo.shape == hi.shape == out.shape == gray.shape + (3,)
    assert (lo <= out + 1).all() and (out <= hi + 1).all() and (hi - lo).mean() > 2
    proc = subprocess.run([*colorcore_cmd(), "colorize", "in.png", "-o", "o2.png", "--intervals", "lo.png", "in.png"],
                          cwd=tmp_path, capture_output=True, text=True, env=engine_env(), timeout=300)
    assert proc.returncode == 2 and "upper interval (--intervals HI) in.png is the input image" in proc.stderr
