"""Halftone screens: found, taken out of the backend's copy only, and said."""
import numpy as np
import pytest

from colorcore import Backend, BackendOutput, ColorizeRequest, color, descreen, protocol, run_backend
from training.aging import halftone, jpeg


def scene(h=256, w=256, seed=0):
    """A gray photo-like scene: smooth shading, a few objects with edges, faint grain."""
    import cv2
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w] / np.array([h, w])[:, None, None]
    g = 0.35 + 0.3 * xx + 0.15 * np.sin(6 * yy)
    g[40:120, 30:110] = 0.8
    cv2.circle(g, (180, 170), 50, 0.2, -1)
    g = g + rng.normal(0, 0.01, g.shape)
    return np.repeat(np.clip(g, 0, 1)[..., None], 3, -1).astype(np.float32)


def screened(img, period, seed=0):
    out, params = halftone(img, np.random.default_rng(seed), {"period": (period, period)})
    return out


@pytest.mark.parametrize("period", [3.0, 4.2, 5.0, 8.0])
def test_a_screen_is_found_with_its_period(period):
    found = descreen.screen_period(screened(scene(), period))
    assert found is not None and abs(found - period) < 0.05 * period


@pytest.mark.parametrize("make", [
    lambda: scene(),                                                          # a plain photo
    lambda: np.repeat(np.random.default_rng(1).random((256, 256, 1)), 3, -1),  # noise
    lambda: jpeg(scene(), np.random.default_rng(0), {"quality": (12, 13)})[0],  # JPEG's 8-pixel blocks
    lambda: scene(40, 40),                                                    # too small to tell
])
def test_no_screen_without_one(make):
    assert descreen.screen_period(make()) is None


def test_stripes_one_way_are_not_a_screen():
    """A screen is a grid: one set of fine stripes at 45 degrees (a fabric, a fence) has no partner at right
    angles, so it is not taken out."""
    yy, xx = np.mgrid[0:256, 0:256]
    stripes = 0.5 + 0.2 * np.cos(2 * np.pi * (xx + yy) / np.sqrt(2) / 4.0)
    img = np.repeat(((scene()[..., 0] + stripes) / 2)[..., None], 3, -1).astype(np.float32)
    assert descreen.screen_period(img) is None
    grid = img + 0.1 * np.cos(2 * np.pi * (xx - yy) / np.sqrt(2) / 4.0)[..., None]
    assert descreen.screen_period(np.clip(grid, 0, 1)) is not None


def test_descreening_leaves_a_few_percent_of_the_screen():
    img = screened(scene(), 4.0)
    flat = descreen.descreened(img, 4.0)
    F = lambda x: descreen._magnitude(descreen._centre(x))[0]  # noqa: E731
    n = 256
    peak = (n // 2 + round(n / 4.0 / np.sqrt(2)), round(n / 4.0 / np.sqrt(2)))   # (fy, fx) of the screen
    before = F(img)[peak[0] - 1:peak[0] + 2, peak[1] - 1:peak[1] + 2].max()
    after = F(flat)[peak[0] - 1:peak[0] + 2, peak[1] - 1:peak[1] + 2].max()
    assert after < 0.1 * before


class Spy(Backend):
    """Records the image it is given; colours everything one way."""
    name, label, modes = "spy", "spy", ("auto",)

    def run(self, request):
        self.seen = request.image
        h, w = request.shape
        return BackendOutput(ab=np.dstack([np.full((h, w), 20.0), np.full((h, w), 10.0)]).astype(np.float32),
                             score=np.ones((h, w), np.float32))


def test_the_backend_sees_the_screen_taken_out_and_the_result_keeps_the_scan():
    img = screened(scene(), 4.5)
    spy = Spy()
    res = run_backend(spy, ColorizeRequest(image=img))
    np.testing.assert_array_equal(spy.seen, descreen.descreened(img, descreen.screen_period(img)))
    assert res.info["descreened"] == pytest.approx(4.5, rel=0.05)
    # the scan's own lightness, dots and all, with the backend's colour
    np.testing.assert_allclose(color.lightness(res.rgb), color.lightness(img), atol=0.6)
    assert res.rgb.shape == img.shape and "worked_at" not in res.info
    note = protocol.result_note(res.info)
    assert "halftone screen" in note and "4.5 px" in note
    import sys
    from pathlib import Path
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "gimp_plugin" / "colorize"))
    import colorize_layers as H   # the plug-in's message after the run, as inside GIMP
    msg = H.uncertainty_message({"uncertainty_scale": 40.0, "alpha": 0.1, "info": res.info}, 0.1, "spy")
    assert msg.endswith(note)


def test_a_photo_without_a_screen_reaches_the_backend_as_it_is():
    img = scene()
    spy = Spy()
    res = run_backend(spy, ColorizeRequest(image=img))
    assert np.array_equal(spy.seen, img)
    assert "descreened" not in res.info and protocol.result_note(res.info) is None


def test_the_bench_screens_what_it_measures_and_runs_the_engine_without_descreening(tmp_path):
    """bench/descreen.py: its screened view is found, its clean one is not; the 'left in' runs really see the
    screen (the engine before descreening), and the report writes its table, JSON and plot."""
    import json
    from bench import descreen as B
    rgb = np.dstack([scene()[..., 0], scene(seed=1)[..., 0] * 0.8, scene(seed=2)[..., 0] * 0.6]).astype(np.float32)
    v = B.views(rgb, 3)
    assert descreen.screen_period(v["screened"]) is not None and descreen.screen_period(v["clean"]) is None
    spy = Spy()
    with B.screen_left_in():
        run_backend(spy, ColorizeRequest(image=v["screened"]))
    assert np.array_equal(spy.seen, v["screened"])
    found = {"s": {"clean": [False], "aged": [False], "screened": [True]}}
    runs = {"gan": {"s": {"with": [(21.0, 0.9)], "without": [(20.0, 0.7)]}}}
    B.report(found, runs, tmp_path)
    out = json.loads((tmp_path / "descreen.json").read_text())
    assert out["gan"]["macro"]["coverage"][2][0] == pytest.approx(0.2)
    assert (tmp_path / "descreen.png").stat().st_size > 0
    (tmp_path / "descreen.png").unlink()
    B.main(["--report", "--out", str(tmp_path)])   # the same report again from the saved measurements
    again = json.loads((tmp_path / "descreen.json").read_text())
    assert again["gan"]["macro"] == out["gan"]["macro"] and (tmp_path / "descreen.png").exists()


def test_the_calibration_tool_knows_which_aged_runs_drew_a_screen():
    """training.calibration.descreen reads a run's screen off its seed alone: the same draw as ageing a real
    256x256 photo (grain draws noise of the photo's shape, not of its values)."""
    from training.aging import CALIBRATION_SEED, age, photo_rng
    from training.calibration.descreen import screened
    photo = scene()
    for i in range(12):
        _, drawn = age(photo, photo_rng(CALIBRATION_SEED, i))
        assert screened(i) == dict(drawn).get("halftone", {}).get("period")
    assert any(screened(i) for i in range(12)) and not all(screened(i) for i in range(12))


def test_the_split_measures_screened_and_other_aged_runs_apart(tmp_path):
    """Runs with a screen under-covered, the rest covered: the split shows it on every left-out source."""
    from training.calibration.descreen import screened, split
    from training.calibration.prior import save_samples
    rng = np.random.default_rng(0)
    scores, errors, runs = [], [], []
    for src in ("a", "b", "c"):
        for i in range(12):
            for aged in (False, True):
                e = rng.exponential(1.0, (16, 16)).astype(np.float32)
                # a screened run's errors are three times what its score says
                scores.append(np.ones((16, 16), np.float32))
                errors.append(e * (3.0 if aged and screened(i) else 1.0))
                runs.append((src, aged))
    path = tmp_path / "s.npz"
    save_samples(path, scores, errors, [""] * len(runs), runs)
    out = split(path)
    n_screened = sum(bool(screened(i)) for i in range(12))
    for src in ("a", "b", "c"):
        assert out[src, "with"][1] == n_screened and out[src, "without"][1] == 12 - n_screened
        assert out[src, "with"][0] < out[src, "without"][0] - 0.2


def test_the_warm_engine_looks_for_a_screen_once_per_photo(monkeypatch):
    """The screen is a fact of the photo: a second run on the same photo (new strokes, say) reuses it."""
    from colorcore import photo_cache
    monkeypatch.setattr(photo_cache.CACHE, "enabled", True)
    photo_cache.CACHE.clear()
    calls = []
    real = descreen.screen_period
    monkeypatch.setattr(descreen, "screen_period", lambda image: calls.append(1) or real(image))
    img = screened(scene(), 4.5)
    first = run_backend(Spy(), ColorizeRequest(image=img))
    second = run_backend(Spy(), ColorizeRequest(image=img))
    assert len(calls) == 1 and first.info["descreened"] == second.info["descreened"]
    run_backend(Spy(), ColorizeRequest(image=scene()))   # another photo: looked at anew
    assert len(calls) == 2
    photo_cache.CACHE.clear()
