"""The plug-in/engine protocol is one module: the plug-in runs an identical copy, and each side reads the other."""
import io
import json
import re
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from colorcore import protocol as P
from colorcore.errors import InvalidRequest
from test_plugin_helpers import REPO, fake_python, load_install  # noqa: F401  (fake_python is a fixture)


@pytest.fixture
def installed(tmp_path, fake_python):  # noqa: F811
    """The plug-in as install.py installs it, and its helpers loaded from there (not from the source tree)."""
    inst = load_install()
    dest, _ = inst.install_plugin("native", str(tmp_path / "GIMP" / "3.0" / "plug-ins"), fake_python(), {})
    return Path(dest), inst.load_helpers(dest)


def test_the_installed_copy_is_identical_and_is_the_one_the_plugin_uses(installed):
    dest, helpers = installed
    copy = dest / helpers.PROTOCOL_FILE
    assert copy.read_bytes() == (REPO / "colorcore" / "protocol.py").read_bytes()
    assert Path(helpers.P.__file__) == copy


def test_a_manifest_written_by_the_plugin_is_read_by_the_engine(installed):
    from colorcore.bridge import load_job
    dest, helpers = installed
    job = dest.parent / "job"
    job.mkdir()
    w, h = 5, 3
    pixels = [(0.1 * i % 1, 0.2, 0.3, 1.0) for i in range(w * h)]
    helpers.write_buffer(str(job), helpers.P.IMAGE_FILE, b"".join(struct.pack("<4f", *p) for p in pixels))
    helpers.write_buffer(str(job), helpers.P.MASK_FILE, struct.pack("<%df" % (w * h), *([0.5] * (w * h))))
    manifest = helpers.write_manifest(str(job), "partial", "partial-gan", w, h, options={"n": 2}, seed=7,
                                      alpha=0.2, uncertainty=False, has_mask=True)
    loaded = load_job(manifest)
    request = loaded.request
    assert loaded.backend == "partial-gan" and request.mode == "partial" and request.options == {"n": 2}
    assert request.seed == 7 and request.alpha == pytest.approx(0.2) and loaded.wants_uncertainty is False
    assert request.scribbles is None and request.mask.shape == (h, w) and np.all(request.mask == 0.5)
    assert np.allclose(request.image.reshape(-1, 3), np.array(pixels, np.float32)[:, :3])
    assert loaded.output.name == P.RESULT_FILE and loaded.uncertainty_output.name == P.UNCERTAINTY_FILE
    assert loaded.output.parent == job and loaded.clip is None
    # a random seed in the dialog (-1) reaches the engine as "no seed"
    request = load_job(helpers.write_manifest(str(job), "auto", None, w, h, seed=-1)).request
    assert request.seed is None and request.alpha == P.DEFAULT_ALPHA and request.mask is None


@pytest.mark.parametrize("fmt", [f for f in P.FORMATS if P.FORMATS[f][1] < 4])
def test_an_input_in_its_layers_own_format_reaches_the_backend_as_the_float_default_would(tmp_path, fmt):
    """What GEGL gives as "R'G'B'A float" (or "Y float") for the same stored values: value / 255 or / 65535,
    gray copied to R, G and B, no alpha opaque; exactly, so the format a layer goes in never changes a result."""
    from colorcore.bridge import load_job
    values, size, gray = P.FORMATS[fmt]
    top, w, h = (255 if size == 1 else 65535), 6, 4
    stored = np.random.default_rng(1).integers(0, top + 1, (h, w, values))
    stored[0, 0], stored[0, 1] = 0, top
    field = "mask" if fmt in P.BUFFER_FORMATS["mask"] else "image"
    data = stored.astype("u1" if size == 1 else "<u2").tobytes()
    (tmp_path / (P.MASK_FILE if field == "mask" else P.IMAGE_FILE)).write_bytes(data)
    if field == "mask":
        (tmp_path / P.IMAGE_FILE).write_bytes(np.zeros((h, w, 4), "<f4").tobytes())
    else:   # the same values as a scribble layer: RGBA, its alpha kept
        (tmp_path / P.SCRIBBLES_FILE).write_bytes(data)
    manifest = P.write_manifest(str(tmp_path), "partial" if field == "mask" else "scribble", None, w, h,
                                has_mask=field == "mask", has_scribbles=field != "mask",
                                formats={field: fmt} if field == "mask" else {field: fmt, "scribbles": fmt})
    assert len(data) == P.buffer_bytes(field, w, h, fmt=fmt)
    request = load_job(manifest).request
    if field == "mask":
        assert request.mask.dtype == np.float32
        np.testing.assert_array_equal(request.mask, (stored[..., 0] / top).astype(np.float32))
        return
    rgb = stored[..., :1].repeat(3, -1) if gray else stored[..., :3]
    np.testing.assert_array_equal(request.image, (rgb / top).astype(np.float32))
    assert request.image.dtype == np.float32
    alpha = stored[..., -1] / top if values in (2, 4) else np.ones((h, w))
    np.testing.assert_array_equal(request.scribbles, np.dstack([rgb / top, alpha]).astype(np.float32))
    (tmp_path / P.IMAGE_FILE).write_bytes(data[:-1])   # a short buffer: one clear line, no crash
    with pytest.raises(InvalidRequest, match="expected"):
        load_job(manifest)


def test_a_float_input_becomes_finite_and_within_0_and_1(tmp_path):
    """A float layer may hold anything (HDR values, NaN from a broken filter): the engine gets [0, 1], NaN as 0."""
    from colorcore.bridge import load_job
    values = [np.nan, -np.inf, np.inf, -0.5, 0.25, 1.5]
    np.array([[v, v, v, 1.0] for v in values], "<f4").tofile(tmp_path / P.IMAGE_FILE)
    image = load_job(P.write_manifest(str(tmp_path), "auto", None, len(values), 1)).request.image
    np.testing.assert_array_equal(image[0, :, 0], np.array([0, 0, 1, 0, 0.25, 1], np.float32))


def test_results_asked_in_8_or_16_bits_are_the_float_results_rounded_as_the_cli_rounds_them(tmp_path):
    """An 8- or 16-bit image's result layers come back in the layers' own format: the float results rounded to
    nearest, as `colorcore colorize` rounds them into its files; the uncertainty copied to R, G and B."""
    from colorcore.bridge import run_manifest
    w, h = 12, 8
    rng = np.random.default_rng(2)
    image = np.dstack([np.repeat(rng.random((h, w, 1)), 3, -1), np.ones((h, w, 1))]).astype("<f4")
    strokes = np.zeros((h, w, 4), "<f4")
    strokes[2:4, 2:6] = (0.8, 0.2, 0.1, 1.0)
    runs = {}
    for bits in (None, 8, 16):
        job = tmp_path / str(bits)
        job.mkdir()
        image.tofile(job / P.IMAGE_FILE)
        strokes.tofile(job / P.SCRIBBLES_FILE)
        fmt = "R'G'B' u%d" % bits if bits else None
        formats = {f: fmt for f in ("output", "uncertainty_output")} if bits else {}
        manifest = P.write_manifest(str(job), "scribble", "variational", w, h, seed=1, has_scribbles=True,
                                    formats=formats)
        assert run_manifest(manifest, out=io.StringIO()) == P.EXIT_OK
        dtype = {None: "<f4", 8: "u1", 16: "<u2"}[bits]
        runs[bits] = [np.fromfile(job / name, dtype) for name in (P.RESULT_FILE, P.UNCERTAINTY_FILE)]
        assert runs[bits][0].nbytes == P.buffer_bytes("output", w, h, fmt=formats.get("output"))
    rgb, unc = runs[None]
    for bits in (8, 16):
        top = 2 ** bits - 1
        np.testing.assert_array_equal(runs[bits][0], np.rint(np.clip(rgb, 0, 1).astype(np.float32) * np.float32(top)))
        np.testing.assert_array_equal(runs[bits][1].reshape(-1, 3),
                                      np.rint(np.clip(unc, 0, 1) * np.float32(top))[:, None].repeat(3, 1))


def test_an_animation_job_goes_through_the_engine_frame_by_frame_and_back(installed, tmp_path):
    """Three layers as GIMP holds an optimised GIF (the second drawn over the first): the engine composites
    them, colorizes the clip and returns one opaque full frame per layer, and their uncertainty."""
    from colorcore.bridge import run_manifest
    _, helpers = installed
    w, h, n = 16, 12, 3
    layers = []
    for i in range(n):
        px = [(0.3 + 0.05 * i, 0.3 + 0.05 * i, 0.3 + 0.05 * i, 1.0)] * (w * h)
        if i == 1:   # a "(combine)" layer: only its left half is drawn, the rest shows frame 0 through
            px = [p if k % w < w // 2 else (0, 0, 0, 0) for k, p in enumerate(px)]
        layers.append(b"".join(struct.pack("<4f", *p) for p in px))
    helpers.write_buffer(str(tmp_path), helpers.P.IMAGE_FILE, b"".join(layers))
    manifest = helpers.write_manifest(str(tmp_path), "auto", "gan", w, h, frames=n, combine=[False, True, False])
    lines = []
    out = type("Out", (), {"write": lambda self, t: lines.append(t), "flush": lambda self: None})()
    assert run_manifest(manifest, out=out) == P.EXIT_OK
    result = [P.parse_line(l) for l in "".join(lines).splitlines()][-1]
    assert result[0] == "result" and result[1]["info"]["frames"] == n
    rgb = helpers.read_buffer(str(tmp_path), P.RESULT_FILE, P.buffer_bytes("output", w, h, n))
    alpha = np.frombuffer(helpers.read_buffer(str(tmp_path), P.RESULT_ALPHA_FILE,
                                              P.buffer_bytes("output_alpha", w, h, n)), "<f4")
    unc = helpers.read_buffer(str(tmp_path), P.UNCERTAINTY_FILE, P.buffer_bytes("uncertainty_output", w, h, n))
    frames = np.frombuffer(rgb, "<f4").reshape(n, h, w, 3)
    assert np.all(alpha == 1.0) and len(unc) == 4 * n * w * h          # full, opaque frames
    L = frames.mean(axis=3)
    assert abs(L[1, :, w - 1].mean() - L[0, :, w - 1].mean()) < 0.02  # frame 0 shows through frame 1's hole
    assert L[1, :, 0].mean() > L[0, :, 0].mean() + 0.02                # ... and frame 1's own pixels are its own


def test_engine_lines_are_read_by_the_plugin(installed):
    _, helpers = installed
    assert helpers.parse_line(P.format_progress(0.25, "solving\nlevel 2") + "\n") == ("progress", 0.25,
                                                                                        "solving level 2")
    kind, data = helpers.parse_line(P.format_result("gan", 12.5, 0.1, {"seconds": 1.5}))
    assert kind == "result" and data == {"backend": "gan", "uncertainty_scale": 12.5, "alpha": 0.1,
                                         "info": {"seconds": 1.5}}
    assert helpers.error_message("noise\n" + P.format_error("the mask\nis empty") + "\n", P.EXIT_BAD_INPUT) == \
        "the mask is empty"


def test_the_engine_refuses_a_manifest_outside_the_protocol(tmp_path):
    good = json.loads(Path(P.write_manifest(str(tmp_path), "auto", None, 2, 2)).read_text())
    bad = {"version": P.VERSION + 1, "output": "../../home/user/photo.png", "image": "/etc/passwd", "mode": "magic",
           "width": 0, "seed": "7", "options": [1], "formats": {"mask": "R'G'B' u8"}}
    for field, value in bad.items():
        (tmp_path / P.MANIFEST_FILE).write_text(json.dumps(dict(good, **{field: value})))
        with pytest.raises(P.ProtocolError, match=field if field != "version" else "reinstall"):
            P.read_manifest(str(tmp_path / P.MANIFEST_FILE))


def test_engine_exit_codes_are_the_protocols(tmp_path):
    """What the plug-in treats as bad input (CALLING_ERROR) is what the engine exits with for bad input."""
    from testutil_engine import colorcore_cmd, engine_env
    P.write_manifest(str(tmp_path), "scribble", "variational", 4, 4)   # no image buffer written
    proc = subprocess.run(colorcore_cmd() + ["gimp-run", str(tmp_path / P.MANIFEST_FILE)], capture_output=True,
                          text=True, env=engine_env(COLORCORE_PLUGINS="variational"))
    assert proc.returncode == P.EXIT_BAD_INPUT and P.parse_error(proc.stderr).startswith("image buffer not found")


def test_the_plugin_and_the_engine_pick_the_same_default_backend(registry):
    sys.path.insert(0, str(REPO / "gimp_plugin" / "colorize"))
    import colorize_options as H
    rows = [b.describe() for b in registry.backends.values()]
    for mode in P.MODES:
        engine = registry.default_for(mode)
        if engine is not None:
            assert H.default_backend(rows, mode) == engine.name, mode


def test_the_protocol_needs_nothing_but_the_standard_library():
    proc = subprocess.run([sys.executable, "-I", "-S", "-c",
                           "import runpy, sys; runpy.run_path(sys.argv[1]); "
                           "print(sorted(m for m in sys.modules if m in ('numpy', 'colorcore')))",
                           str(REPO / "colorcore" / "protocol.py")], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.strip() == "[]", proc.stderr


def test_no_other_module_spells_the_protocol_out_again():
    """Buffer names, line tags and the manifest version live in colorcore/protocol.py only."""
    spelled = re.compile(r"""["'](image|scribbles|mask|result|uncertainty)\.f32["']|["'](PROGRESS|RESULT|ERROR) |"""
                         r"""["']version["']\s*:\s*1\b""")
    sources = [*REPO.glob("colorcore/*.py"), *REPO.glob("gimp_plugin/colorize/*.py"), REPO / "install.py"]
    found = [f"{p.relative_to(REPO)}:{n}" for p in sources if p.name != "protocol.py"
             for n, line in enumerate(p.read_text().splitlines(), 1) if spelled.search(line)]
    assert found == []


def test_the_dialogs_alpha_range_is_what_the_engine_can_promise(registry):
    """Every alpha the dialog offers for a mode is accepted by every calibrated backend of that mode, and just
    below the range some backend would refuse: the range comes from the calibrated levels, not a guess."""
    from colorcore.errors import InvalidRequest
    rows = [b.describe() for b in registry.backends.values()]
    for mode in P.MODES:
        lo, hi = P.alpha_range(rows, mode)
        cals = [b.calibration() for b in registry.for_mode(mode) if b.unavailable_reason() is None]
        cals = [c for c in cals if c is not None]
        if not cals:
            assert (lo, hi) == P.ALPHA_RANGE
            continue
        assert 0 < lo < hi < 1, mode
        for cal in cals:
            for group in [None, *cal.groups]:
                cal.check_alpha(lo, group)            # no backend refuses the lowest offered level
        refused = 0
        for cal in cals:
            for group in [None, *cal.groups]:
                try:
                    cal.check_alpha(lo * 0.99, group)
                except InvalidRequest:
                    refused += 1
        assert refused, mode                          # ... and the range starts where refusals begin
        assert hi == max(max(c.lambdas) for c in cals)
    assert P.alpha_range([{"name": "x", "modes": ["auto"], "calibration": None}], "auto") == P.ALPHA_RANGE


def test_only_backends_that_use_scribbles_get_them(registry, photo):
    from colorcore import ColorizeRequest, colorize
    from colorcore.errors import InvalidRequest
    assert P.uses_scribbles(False, ["scribble", "partial"]) and P.uses_scribbles(True, ["partial"])
    assert not P.uses_scribbles(False, ["auto", "partial"])
    hints = np.zeros(photo.shape[:2] + (4,), np.float32)
    hints[5:8, 5:20] = [0.9, 0.1, 0.1, 1.0]
    mask = np.ones(photo.shape[:2], np.float32)
    with pytest.raises(InvalidRequest, match="backend 'gan' ignores scribbles"):   # the GIMP bridge's entry point
        colorize(ColorizeRequest(image=photo, mode="partial", scribbles=hints, mask=mask), "gan", registry)
    res = colorize(ColorizeRequest(image=photo, mode="partial", scribbles=hints, mask=mask), "variational", registry)
    assert res.info["backend"] == "variational"
