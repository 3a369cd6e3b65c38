"""The `colorcore` command line: the contract invocation, file formats, and bad input."""
import json
import os
import stat
import subprocess

import numpy as np
import pytest
from PIL import Image

from testutil_engine import colorcore_cmd, engine_env


def cli(*args, cwd=None):
    return subprocess.run(colorcore_cmd() + [str(a) for a in args], capture_output=True, text=True,
                          env=engine_env(COLORCORE_PLUGINS="variational"), cwd=cwd)


@pytest.fixture
def files(tmp_path, photo):
    from training.evaluation import gray_of
    g = np.round(gray_of(photo)[..., 0] * 255).astype(np.uint8)
    Image.fromarray(g).save(tmp_path / "gray.png")
    hints = np.zeros(g.shape + (4,), np.uint8)
    hints[15:20, 12:20] = [220, 40, 30, 255]
    hints[28:34, 40:50] = [40, 160, 60, 255]
    Image.fromarray(hints, "RGBA").save(tmp_path / "hints.png")
    return tmp_path


def test_the_contract_invocation_works(files):
    proc = cli("colorize", "gray.png", "--backend", "variational", "--scribbles", "hints.png", "-o", "out.png",
               cwd=files)
    assert proc.returncode == 0, proc.stderr
    out = Image.open(files / "out.png")
    assert out.mode == "RGB" and out.size == (64, 48)
    px = np.asarray(out).astype(int)
    assert px[17, 15, 0] > px[17, 15, 1] + 30      # red where painted red
    assert px[30, 45, 1] > px[30, 45, 0] + 20      # green where painted green


def test_uncertainty_png_is_16_bit_with_its_scale(files):
    proc = cli("colorize", "gray.png", "--scribbles", "hints.png", "-o", "out.png", "--uncertainty", "unc.png",
               "--alpha", "0.2", "--seed", "3", cwd=files)
    assert proc.returncode == 0, proc.stderr
    unc = Image.open(files / "unc.png")
    assert unc.mode.startswith("I") and np.asarray(unc).max() > 1000
    scale = float(unc.text["colorcore:uncertainty_scale"])
    assert scale > 0 and f"{scale:.1f}" in proc.stdout and unc.text["colorcore:alpha"] == "0.2"


def test_sixteen_bit_input_gives_sixteen_bit_output(files, tmp_path):
    g16 = (np.asarray(Image.open(files / "gray.png")).astype(np.uint16) * 257)
    Image.fromarray(g16).save(tmp_path / "g16.png")
    proc = cli("colorize", "g16.png", "--scribbles", "hints.png", "-o", "o16.png", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    import cv2
    out = cv2.imread(str(tmp_path / "o16.png"), cv2.IMREAD_UNCHANGED)
    assert out.dtype == np.uint16 and out.shape == (48, 64, 3)


def test_sixteen_bit_colour_input_keeps_its_precision(files, tmp_path):
    import cv2
    g = np.asarray(Image.open(files / "gray.png")).astype(np.uint16) * 257 + 100   # values no 8-bit file holds
    cv2.imwrite(str(tmp_path / "rgb16.png"), np.dstack([g, g, g]))
    proc = cli("colorize", "rgb16.png", "--scribbles", files / "hints.png", "-o", "o16.png", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = cv2.imread(str(tmp_path / "o16.png"), cv2.IMREAD_UNCHANGED)
    assert out.dtype == np.uint16 and (out % 257 != 0).mean() > 0.5


@pytest.mark.parametrize("kind", ["RGB", "RGBA", "P", "LA", "sepia"])
def test_reads_the_usual_pillow_modes(files, kind):
    g = Image.open(files / "gray.png")
    img = {"RGB": lambda: g.convert("RGB"), "RGBA": lambda: g.convert("RGBA"), "P": lambda: g.convert("P"),
           "LA": lambda: g.convert("LA"),
           "sepia": lambda: Image.fromarray(np.clip(np.asarray(g.convert("RGB")) * [1.0, 0.85, 0.6], 0, 255)
                                            .astype(np.uint8))}[kind]()
    img.save(files / "in.png")
    proc = cli("colorize", "in.png", "--scribbles", "hints.png", "-o", "o.png", cwd=files)
    assert proc.returncode == 0, proc.stderr
    out = Image.open(files / "o.png")
    assert out.size == (64, 48) and out.mode == ("RGBA" if kind in ("RGBA", "LA") else "RGB")


def test_mask_limits_the_colour(files):
    mask = np.zeros((48, 64), np.uint8)
    mask[:, :32] = 255
    Image.fromarray(mask).save(files / "mask.png")
    proc = cli("colorize", "gray.png", "--scribbles", "hints.png", "--mask", "mask.png", "-o", "o.png", cwd=files)
    assert proc.returncode == 0, proc.stderr
    out = np.asarray(Image.open(files / "o.png").convert("RGB")).astype(int)
    src = np.asarray(Image.open(files / "gray.png").convert("RGB")).astype(int)
    assert np.array_equal(out[:, 32:], src[:, 32:])
    assert np.abs(out[:, :32] - src[:, :32]).max() > 20


# bad input (missing files, collisions, animations, ...): tests/test_bad_input.py


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_outputs_follow_the_umask(files, umask):
    """A new output gets the mode a plain open() gives (0o666 less the umask), not the temporary file's 0o600."""
    proc = subprocess.run(colorcore_cmd() + ["colorize", "gray.png", "--scribbles", "hints.png", "-o", "out.png",
                                             "--uncertainty", "unc.png"], capture_output=True, text=True, cwd=files,
                          env=engine_env(COLORCORE_PLUGINS="variational"), preexec_fn=lambda: os.umask(umask))
    assert proc.returncode == 0, proc.stderr
    for name in ("out.png", "unc.png"):
        assert stat.S_IMODE(os.stat(files / name).st_mode) == 0o666 & ~umask, name


def test_an_overwritten_output_keeps_its_mode(files):
    (files / "out.png").write_bytes(b"an earlier result")
    os.chmod(files / "out.png", 0o640)
    proc = cli("colorize", "gray.png", "--scribbles", "hints.png", "-o", "out.png", cwd=files)
    assert proc.returncode == 0, proc.stderr
    assert stat.S_IMODE(os.stat(files / "out.png").st_mode) == 0o640
    assert Image.open(files / "out.png").size == (64, 48)


def test_backends_listing(files):
    proc = cli("backends", "--json")
    data = json.loads(proc.stdout)
    (var,) = data["backends"]
    assert var["name"] == "variational" and var["modes"] == ["scribble", "partial"] and var["available"]
    assert var["calibration"]["lambdas"]["0.1"] > 0
    text = cli("backends").stdout
    assert "variational" in text and "edge_sensitivity" in text and "calibration" in text


def test_train_help_reaches_the_backends_trainer():
    proc = subprocess.run(colorcore_cmd() + ["train", "gan", "--help"], capture_output=True, text=True,
                          env=engine_env(COLORCORE_PLUGINS="gan"))
    assert proc.returncode == 0 and "--data" in proc.stdout, proc.stderr
    proc = subprocess.run(colorcore_cmd() + ["train", "variational"], capture_output=True, text=True,
                          env=engine_env(COLORCORE_PLUGINS="variational"))
    assert proc.returncode == 2 and "nothing to train" in proc.stderr


def test_quiet_prints_the_result_line_only(files):
    proc = cli("colorize", "gray.png", "--scribbles", "hints.png", "-o", "out.png", "--quiet", cwd=files)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == "" and proc.stdout.startswith("wrote out.png (variational, scribble,")
    loud = cli("colorize", "gray.png", "--scribbles", "hints.png", "-o", "out.png", cwd=files)
    assert "100.0%" in loud.stderr   # without --quiet the progress lines are there


def test_help_says_how_the_mode_is_chosen():
    text = cli("colorize", "--help").stdout
    assert "--scribbles -> Scribble" in " ".join(text.split()) and "neither -> Auto" in " ".join(text.split())


def test_scribbles_inside_a_mask_run_in_partial_mode(files):
    mask = np.zeros((48, 64), np.uint8)
    mask[:, :32] = 255
    Image.fromarray(mask).save(files / "mask.png")
    proc = cli("colorize", "gray.png", "--scribbles", "hints.png", "--mask", "mask.png", "-o", "out.png", "--quiet",
               cwd=files)
    assert proc.returncode == 0, proc.stderr
    assert "(variational, partial," in proc.stdout
    src = np.asarray(Image.open(files / "gray.png").convert("RGB"))
    assert (np.asarray(Image.open(files / "out.png"))[:, 32:] == src[:, 32:]).all()   # outside: untouched


def test_a_halftone_scan_is_said_and_keeps_its_dots(tmp_path):
    """A scan of a printed photo: the CLI notes the screen it took out of the backend's copy, and the written
    result still has the scan's own lightness, dots and all."""
    import cv2
    from colorcore import color
    from training.aging import halftone
    yy, xx = np.mgrid[0:128, 0:160] / 160.0
    g = np.clip(0.3 + 0.5 * xx + 0.1 * np.sin(8 * yy), 0, 1)
    cv2.circle(g, (100, 60), 30, 0.85, -1)
    screened, _ = halftone(np.repeat(g[..., None], 3, -1).astype(np.float32), np.random.default_rng(0),
                           {"period": (4.0, 4.0)})
    Image.fromarray(np.round(screened[..., 0] * 255).astype(np.uint8)).save(tmp_path / "print.png")
    hints = np.zeros((128, 160, 4), np.uint8)
    hints[20:30, 20:30] = [200, 60, 40, 255]
    Image.fromarray(hints, "RGBA").save(tmp_path / "hints.png")
    proc = cli("colorize", "print.png", "--scribbles", "hints.png", "-o", "out.png", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    import re
    said = re.search(r"note: A halftone screen \(dots every ([0-9.]+) px\) was found", proc.stdout)
    assert said and abs(float(said.group(1)) - 4.0) < 0.3, proc.stdout
    out = np.asarray(Image.open(tmp_path / "out.png"), np.float32) / 255
    np.testing.assert_allclose(color.lightness(out), color.lightness(screened), atol=1.0)
