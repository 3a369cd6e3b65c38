"""Reference mode (issue 31): the contract's checks, the mode's selection, the backend on small photos, and the
paths through the CLI and the GIMP bridge."""
import json
import subprocess

import numpy as np
import pytest
from PIL import Image

from colorcore import ColorizeRequest, InvalidRequest, protocol, run_backend
from colorcore.contract import NO_COLOUR_MESSAGE, REFERENCE_MIN_PIXELS, validate_reference
from colorcore.selection import choose, requested_mode
from testutil_engine import colorcore_cmd, engine_env

PLUGINS = "variational,gan,reference"


def scene(h=120, w=160, seed=0):
    """A small colour 'photo' with texture SIFT can hold on to: coloured blobs over a noisy gradient."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w] / np.array([h, w])[:, None, None]
    rgb = np.stack([0.35 + 0.3 * xx, 0.45 + 0.2 * yy, 0.6 - 0.3 * xx], axis=-1)
    for _ in range(14):
        cy, cx, r = rng.uniform(0, h), rng.uniform(0, w), rng.uniform(5, 16)
        rgb[(np.mgrid[0:h, 0:w][0] - cy) ** 2 + (np.mgrid[0:h, 0:w][1] - cx) ** 2 < r * r] = rng.uniform(0.05, 0.95, 3)
    rgb += rng.normal(0, 0.03, (-(-h // 4), -(-w // 4), 3)).repeat(4, 0).repeat(4, 1)[:h, :w]
    return np.clip(rgb, 0, 1).astype(np.float32)


def gray(rgb):
    from training.evaluation import gray_of
    return gray_of(rgb)


@pytest.fixture(scope="module")
def backend(registry):
    b = registry.backends.get("reference")
    if b is None or b.unavailable_reason():
        pytest.skip("the reference backend is not available here")
    return b


# ------------------------------------------------------------------ contract
def test_a_reference_without_colour_is_refused_in_one_clear_line():
    g = np.repeat(np.linspace(0, 1, 40 * 30, dtype=np.float32).reshape(30, 40, 1), 3, axis=2)
    with pytest.raises(InvalidRequest, match=NO_COLOUR_MESSAGE):
        validate_reference(g, (30, 40))
    with pytest.raises(InvalidRequest, match="fully transparent"):
        validate_reference(np.dstack([scene(30, 40), np.zeros((30, 40), np.float32)]), (30, 40))


def test_a_far_larger_reference_is_reduced_and_gains_an_alpha():
    big = np.random.default_rng(0).uniform(0, 1, (1500, 1000, 3)).astype(np.float32)
    out = validate_reference(big, (48, 64))
    assert out.shape[2] == 4 and out.shape[0] * out.shape[1] <= REFERENCE_MIN_PIXELS
    assert np.allclose(out[..., 3], 1)
    small = validate_reference(big[:60, :80], (48, 64))
    assert small.shape == (60, 80, 4)   # not larger than needed: kept as it is


def test_reference_only_in_reference_mode(backend):
    img = gray(scene(32, 40))
    with pytest.raises(InvalidRequest, match="needs a colour reference"):
        run_backend(backend, ColorizeRequest(image=img, mode="reference"))


def test_selection_a_reference_means_reference_mode(registry, backend):
    assert requested_mode(False, False, True) == "reference" and requested_mode(True, True, True) == "reference"
    b, mode = choose(registry, None, False, False, True)
    assert (b.name, mode) == ("reference", "reference")
    b, mode = choose(registry, None, True, True, True)       # strokes and a mask go with it
    assert (b.name, mode) == ("reference", "reference")
    with pytest.raises(InvalidRequest, match="does not use a reference"):
        choose(registry, "gan", False, False, True)
    assert protocol.default_backend([backend.describe()], "reference") == "reference"


def test_the_manifest_carries_the_reference(tmp_path):
    protocol.write_manifest(tmp_path, "reference", None, 8, 6, reference_size=(20, 10))
    job = protocol.read_manifest(tmp_path / protocol.MANIFEST_FILE)
    assert (job["mode"], job["reference"], job["reference_width"], job["reference_height"]) == \
        ("reference", protocol.REFERENCE_FILE, 20, 10)
    assert protocol.buffer_bytes("reference", 20, 10) == 20 * 10 * 4 * 4
    with pytest.raises(ValueError):
        protocol.write_manifest(tmp_path, "auto", None, 8, 6, reference_size=(20, 10))
    data = json.loads((tmp_path / protocol.MANIFEST_FILE).read_text())
    data["reference"] = None
    (tmp_path / protocol.MANIFEST_FILE).write_text(json.dumps(data))
    with pytest.raises(protocol.ProtocolError, match="needs a reference buffer"):
        protocol.read_manifest(tmp_path / protocol.MANIFEST_FILE)


# ------------------------------------------------------------------ the backend
def test_the_target_itself_in_colour_gives_its_colours_back(backend):
    from training.evaluation import psnr
    rgb = scene()
    res = run_backend(backend, ColorizeRequest(image=gray(rgb), mode="reference", reference=rgb, seed=0))
    assert psnr(res.rgb, rgb) >= 35.0
    assert res.info["aligned"] and res.info["calibration_group"] == "aligned"
    assert res.uncertainty.shape == rgb.shape[:2] and np.isfinite(res.uncertainty).all()


def test_the_gate_leans_toward_auto_only_when_the_reference_neither_aligns_nor_matches():
    from backends.reference.method import GATE_HIGH, GATE_LOW, reference_trust
    assert reference_trust(True, 0.0, (GATE_LOW, GATE_HIGH)) == 1.0          # aligned: the reference stands
    assert reference_trust(False, GATE_LOW - 0.05, (GATE_LOW, GATE_HIGH)) == 0.0
    assert reference_trust(False, GATE_HIGH + 0.05, (GATE_LOW, GATE_HIGH)) == 1.0
    assert 0.0 < reference_trust(False, (GATE_LOW + GATE_HIGH) / 2, (GATE_LOW, GATE_HIGH)) < 1.0
    assert reference_trust(False, 0.0, None) == 1.0                           # gate off


def test_an_unrelated_reference_gives_about_autos_colours(registry, backend):
    from training.evaluation import psnr
    rgb = scene(96, 128)
    other = np.zeros((90, 120, 3), np.float32)
    other[..., 0], other[..., 1], other[..., 2] = 0.9, np.linspace(0.1, 0.9, 120)[None, :], 0.2   # no texture
    res = run_backend(backend, ColorizeRequest(image=gray(rgb), mode="reference", reference=other, seed=0))
    assert not res.info["aligned"] and res.info["reference_trust"] < 1.0
    if res.info["reference_trust"] == 0.0:
        auto = run_backend(registry.backends["gan"], ColorizeRequest(image=gray(rgb), seed=0))
        assert psnr(res.rgb, auto.rgb) >= 40.0
    assert np.isfinite(res.uncertainty).all()
    palette = run_backend(backend, ColorizeRequest(image=gray(rgb), mode="reference", reference=other, seed=0,
                                                   options={"lean_on_auto": False}))
    assert palette.info["reference_trust"] == 1.0   # the user asked for the reference's palette: no leaning
    assert not np.array_equal(palette.rgb, res.rgb)


def test_transparent_reference_pixels_are_not_used(backend):
    rgb = scene(64, 80)
    ref = np.dstack([rgb, np.ones(rgb.shape[:2], np.float32)])
    ref[:, 40:, 3] = 0
    other = ref.copy()
    other[:, 40:, :3] = [0.0, 1.0, 0.0]   # loud green, but invisible
    a = run_backend(backend, ColorizeRequest(image=gray(rgb), mode="reference", reference=ref, seed=0))
    b = run_backend(backend, ColorizeRequest(image=gray(rgb), mode="reference", reference=other, seed=0))
    assert np.array_equal(a.rgb, b.rgb)


def test_strokes_override_and_a_mask_limits(backend):
    from colorcore import color
    rgb = scene(64, 80)
    img = gray(rgb)
    strokes = np.zeros(rgb.shape[:2] + (4,), np.float32)
    strokes[20:30, 20:30] = [0.1, 0.2, 0.9, 1.0]   # blue
    mask = np.zeros(rgb.shape[:2], np.float32)
    mask[:, :48] = 1
    res = run_backend(backend, ColorizeRequest(image=img, mode="reference", reference=rgb, scribbles=strokes,
                                               mask=mask, seed=0))
    ab = color.rgb_to_lab(res.rgb[22:28, 22:28])[..., 1:].reshape(-1, 2).mean(0)
    assert ab[1] < -20                              # b < 0: the stroke's blue, not the reference's colour
    assert np.array_equal(res.rgb[:, 48:], img[:, 48:]) and res.uncertainty[:, 48:].max() == 0


# ------------------------------------------------------------------ the CLI and the bridge
def cli(*args, cwd):
    return subprocess.run(colorcore_cmd() + [str(a) for a in args], capture_output=True, text=True, cwd=cwd,
                          env=engine_env(COLORCORE_PLUGINS=PLUGINS))


def save(path, rgb):
    Image.fromarray(np.round(np.clip(rgb, 0, 1) * 255).astype(np.uint8)).save(path)


def test_cli_reference_mode_and_its_bad_input(tmp_path, backend):
    rgb = scene(60, 80)
    save(tmp_path / "gray.png", gray(rgb))
    save(tmp_path / "ref.png", rgb[5:, 8:])
    save(tmp_path / "bw_ref.png", gray(rgb))
    proc = cli("colorize", "gray.png", "--reference", "ref.png", "-o", "out.png", "--uncertainty", "u.png",
               cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "(reference, reference," in proc.stdout and (tmp_path / "out.png").is_file()
    before = sorted(p.name for p in tmp_path.iterdir())
    for args, words in [(["--reference", "bw_ref.png", "-o", "o2.png"], NO_COLOUR_MESSAGE),
                        (["--reference", "nope.png", "-o", "o2.png"], "not found"),
                        (["--reference", "ref.png", "--backend", "gan", "-o", "o2.png"], "does not use a reference"),
                        (["--reference", "ref.png", "-o", "ref.png"], "is the reference photo (--reference)")]:
        proc = cli("colorize", "gray.png", *args, cwd=tmp_path)
        lines = proc.stderr.strip().splitlines()
        assert proc.returncode == protocol.EXIT_BAD_INPUT and len(lines) == 1 and words in lines[0], \
            (args, proc.stderr)
    assert sorted(p.name for p in tmp_path.iterdir()) == before   # nothing written by a refused run


def test_bridge_reads_the_reference_buffer(tmp_path, backend):
    rgb = scene(48, 64)
    img = gray(rgb)
    h, w = img.shape[:2]
    np.dstack([img, np.ones((h, w), np.float32)]).astype("<f4").tofile(tmp_path / protocol.IMAGE_FILE)
    ref = np.dstack([rgb[4:, 6:], np.ones((h - 4, w - 6), np.float32)])
    ref.astype("<f4").tofile(tmp_path / protocol.REFERENCE_FILE)
    manifest = protocol.write_manifest(tmp_path, "reference", None, w, h, seed=1, reference_size=(w - 6, h - 4))
    proc = subprocess.run(colorcore_cmd() + ["gimp-run", str(manifest)], capture_output=True, text=True,
                          env=engine_env(COLORCORE_PLUGINS=PLUGINS))
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.splitlines()[-1].removeprefix(protocol.RESULT_TAG + " "))
    assert result["backend"] == "reference" and result["info"]["calibration_group"] in ("aligned", "semantic")
    out = np.fromfile(tmp_path / protocol.RESULT_FILE, "<f4").reshape(h, w, 3)
    assert np.isfinite(out).all() and np.abs(out - rgb).mean() < np.abs(img - rgb).mean()
