"""Unit tests of the GIMP plug-in's gi-free modules (no GIMP needed): the engine, the job folder, the options,
the layers. install.py's tests are in test_plugin_install.py, the dialog words' in test_plugin_labels.py."""
import ast
import importlib.util
import json
import os
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PLUGIN = REPO / "gimp_plugin" / "colorize"
sys.path.insert(0, str(PLUGIN))   # as inside GIMP: the modules beside colorize.py import each other by name
import colorize_engine as engine  # noqa: E402
import colorize_jobdir as jobdir  # noqa: E402
import colorize_layers as layers  # noqa: E402
import colorize_options as options  # noqa: E402

FAKE = REPO / "tests" / "e2e" / "fake_engine.py"


def load_install():
    """install.py as a module (also used by test_plugin_install.py and test_protocol.py)."""
    spec = importlib.util.spec_from_file_location("install_under_test", REPO / "install.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture
def fake_python(tmp_path):
    def make(how="ok"):
        p = tmp_path / ("engine-%s.sh" % how)
        p.write_text('#!/bin/sh\nE2E_FAKE=%s exec %s %s "$@"\n' % (how, sys.executable, FAKE))
        p.chmod(0o755)
        return str(p)
    return make


def job(folder, w=5, h=3, mode="auto", mask=False):
    img = b"".join(struct.pack("<4f", 0.5, 0.5, 0.5, 1.0) for _ in range(w * h))
    jobdir.write_buffer(str(folder), engine.P.IMAGE_FILE, img)
    if mask:
        jobdir.write_buffer(str(folder), engine.P.MASK_FILE, struct.pack("<%df" % (w * h), *([1.0] * (w * h))))
    return engine.write_manifest(str(folder), mode, "fake", w, h, options={"strength": 1.0}, seed=3, has_mask=mask)


# ----------------------------------------------------------------------------- protocol
def test_parse_progress_result_and_other_lines():
    assert engine.parse_line("PROGRESS 0.25 solving level 2\n") == ("progress", 0.25, "solving level 2")
    assert engine.parse_line("PROGRESS 7 x") == ("progress", 1.0, "x")
    assert engine.parse_line("PROGRESS nan-ish")[0] == "other"
    assert engine.parse_line('RESULT {"backend": "v", "uncertainty_scale": 12.5}') == \
        ("result", {"backend": "v", "uncertainty_scale": 12.5})
    assert engine.parse_line("RESULT {broken")[0] == "other"
    assert engine.parse_line("hello") == ("other", "hello")


def test_error_message_prefers_the_engine_line():
    assert engine.error_message("noise\nERROR the mask is empty\n", 2) == "the mask is empty"
    assert engine.error_message("colorcore: error: unknown backend 'x'", 2) == "unknown backend 'x'"
    assert "signal 11" in engine.error_message("", -11)
    assert "status 1" in engine.error_message("", 1)
    assert engine.error_message("Traceback...\nValueError: bad\n", 1) == "ValueError: bad"


def test_manifest_matches_the_bridge_contract(tmp_path):
    path = engine.write_manifest(str(tmp_path), "partial", "variational", 7, 4, options={"a": 1}, seed=-1,
                            alpha=0.2, uncertainty=False, has_scribbles=True, has_mask=True)
    m = json.loads(Path(path).read_text())
    want = {"version": engine.P.VERSION, "mode": "partial", "backend": "variational", "width": 7, "height": 4,
            "image": "image.raw", "scribbles": "scribbles.raw", "mask": "mask.raw", "options": {"a": 1},
            "seed": None, "alpha": 0.2, "uncertainty": False, "output": "result.raw",
            "uncertainty_output": "uncertainty.raw", "frames": 1, "combine": None, "output_alpha": None,
            "intervals_lo": None, "intervals_hi": None, "formats": {}}
    assert {k: m.get(k) for k in want} == want
    assert all(m[k] is None for k in set(m) - set(want)), "a field the plug-in did not ask for is set"
    with pytest.raises(ValueError):
        engine.write_manifest(str(tmp_path), "bogus", "x", 1, 1)


def test_layers_go_in_their_own_format_where_the_protocol_has_one():
    """8- and 16-bit perceptual layers go as stored (GEGL copies them); anything else, and a photo layer with
    alpha (its alpha goes back into the results as floats), in the float default."""
    from colorize_jobdir import transfer_format
    assert transfer_format("image", 8, gray=False, alpha=False) == "R'G'B' u8"
    assert transfer_format("image", 16, gray=True, alpha=False) == "Y' u16"
    assert transfer_format("image", 8, gray=False, alpha=True) == engine.P.DEFAULT_FORMATS["image"]
    assert transfer_format("scribbles", 8, gray=False, alpha=True) == "R'G'B'A u8"
    assert transfer_format("mask", 16) == "Y u16"
    assert transfer_format("uncertainty_output", 8, gray=True, alpha=False) == "R'G'B' u8"   # RGB layers
    assert transfer_format("output", 16, alpha=True) == engine.P.DEFAULT_FORMATS["output"]
    for field in ("image", "scribbles", "mask") + jobdir.RESULTS:
        assert transfer_format(field, None) == engine.P.DEFAULT_FORMATS[field]   # float, linear or half images
        for bits in (8, 16, None):
            for gray in (False, True):
                for alpha in (False, True):
                    assert transfer_format(field, bits, gray, alpha) in engine.P.BUFFER_FORMATS[field]


def test_engine_env_drops_gimp_python_and_loader_settings():
    env = engine.engine_env({"PATH": "/bin", "PYTHONPATH": "/gimp", "GI_TYPELIB_PATH": "x", "LD_LIBRARY_PATH": "y",
                        "GIMP3_DIRECTORY": "z", "BABL_PATH": "b", "HOME": "/h"})
    assert env["PATH"] == "/bin" and env["HOME"] == "/h" and env["PYTHONUNBUFFERED"] == "1"
    assert not any(k.startswith(("PYTHONPATH", "GI_", "LD_", "GIMP", "BABL")) for k in env)


# ----------------------------------------------------------------------------- engine discovery
def test_find_engine_order_and_messages(tmp_path, fake_python):
    py = fake_python()
    with pytest.raises(engine.PluginError, match="install.py"):
        engine.find_engine(folder=str(tmp_path), environ={})
    (tmp_path / "engine.json").write_text(json.dumps({"python": py}))
    assert engine.find_engine(folder=str(tmp_path), environ={}) == py
    assert engine.find_engine(folder=str(tmp_path), environ={engine.ENV_ENGINE: sys.executable}) == sys.executable
    with pytest.raises(engine.PluginError, match="does not exist"):
        engine.find_engine("/nonexistent/python", folder=str(tmp_path), environ={})
    (tmp_path / "engine.json").write_text("{not json")
    with pytest.raises(engine.PluginError, match="cannot read"):
        engine.find_engine(folder=str(tmp_path), environ={})


def test_engine_launcher_for_flatpak(tmp_path):
    (tmp_path / "engine.json").write_text(json.dumps({"python": "/h/venv/bin/python",
                                                      "launcher": ["flatpak-spawn", "--host"]}))
    assert engine.engine_command("/h/venv/bin/python", ["backends"], folder=str(tmp_path)) == \
        ["flatpak-spawn", "--host", "/h/venv/bin/python", "-m", "colorcore", "backends"]


def test_backends_listed_cached_and_refreshed(tmp_path, fake_python):
    (tmp_path / "engine.json").write_text(json.dumps({"python": fake_python()}))
    rows = options.load_backends(str(tmp_path))
    assert [b["name"] for b in rows] == ["fake"]
    assert json.loads((tmp_path / options.BACKENDS_CACHE).read_text())[0]["name"] == "fake"
    (tmp_path / options.BACKENDS_CACHE).write_text(json.dumps([{"name": "cached", "modes": ["auto"]}]))
    assert [b["name"] for b in options.load_backends(str(tmp_path))] == ["cached"]
    assert [b["name"] for b in options.load_backends(str(tmp_path), refresh=True)] == ["fake"]


def test_backends_json_accepts_list_or_object():
    rows = options.parse_backends_json('[{"name": "a", "modes": ["auto"], "available": false, '
                                 '"unavailable_reason": "weights not found"}]')
    assert rows[0]["label"] == "a" and "unavailable: weights not found" in options.backend_choice_label(rows[0])
    assert options.parse_backends_json('{"backends": [{"name": "b"}], "failed_plugins": []}')[0]["name"] == "b"
    assert options.default_backend(rows, "auto") == "a"       # only one: offered even though unavailable
    assert options.default_backend(rows, "scribble") == ""


def test_default_backend_is_the_one_made_for_the_mode():
    rows = [{"name": "var", "modes": ["scribble", "partial"]}, {"name": "auto-gan", "modes": ["auto", "partial"]},
            {"name": "part", "modes": ["partial"]}]
    assert options.default_backend(rows, "partial") == "part"
    assert options.default_backend(rows, "scribble") == "var"
    rows[2]["available"] = False   # not available: the first available one serving the mode
    assert options.default_backend(rows, "partial") == "var"


def test_options_become_typed_arguments():
    rows = options.parse_backends_json(json.dumps([
        {"name": "var-iational", "modes": ["scribble"], "options": [
            {"name": "n_levels", "type": "int", "default": 4, "minimum": 1, "maximum": 9},
            {"name": "edge", "type": "float", "default": 0.5, "minimum": None, "maximum": None},
            {"name": "fast", "type": "bool", "default": True},
            {"name": "space", "type": "choice", "default": "lab", "choices": ["lab", "yuv"]}]},
        {"name": "other", "modes": ["auto"], "options": [{"name": "x", "type": "int", "default": 1}]}]))
    args = options.option_args(rows, "scribble")
    assert [a[0] for a in args] == ["var-iational-n-levels", "var-iational-edge", "var-iational-fast",
                                    "var-iational-space"]
    assert options.option_bounds(args[0][2]) == (1, 9)
    assert options.option_bounds(args[1][2]) == (-1e9, 1e9)
    values = {"var-iational-n-levels": 6.0, "var-iational-edge": "0.25", "var-iational-fast": 0,
              "var-iational-space": None}
    opts = options.collect_options(rows, "scribble", "var-iational", values.get)
    assert opts == {"n_levels": 6, "edge": 0.25, "fast": False, "space": "lab"}
    assert options.prop_name("9lives", "a b") == "o-9lives-a-b"


def test_pick_scribble_layer():
    stack = [(5, "Uncertainty (v)", True), (4, "Colorized (v)", True), (3, "notes", True), (2, "bg copy", False),
             (1, "Photo", False)]
    assert layers.pick_scribble_layer(stack, 1) == 3
    assert layers.pick_scribble_layer([(9, "x", True), (7, "Scribbles", True), (1, "Photo", True)], 1) == 7
    assert layers.pick_scribble_layer([(4, "Colorized (v)", True), (1, "Photo", True)], 1) is None
    assert layers.pick_scribble_layer([(1, "Scribbles", True)], 1) is None


def test_result_layer_names_are_what_the_scribble_and_frame_pickers_skip():
    names = [layers.colorized_layer_name("gan"), layers.uncertainty_layer_name("gan"),
             layers.interval_layer_name("low", "gan"), layers.interval_layer_name("high", "gan")]
    assert names == ["Colorized (gan)", "Uncertainty (gan)", "RGB interval low (gan)", "RGB interval high (gan)"]
    assert all(layers.is_result_name(n) for n in names) and not layers.is_result_name("Photo")
    stack = [(9 - k, n, True) for k, n in enumerate(names)] + [(1, "Photo", False)]
    assert layers.pick_scribble_layer(stack, 1) is None


def test_interleave_puts_the_source_alpha_back():
    rgb = struct.pack("<6f", 0.1, 0.2, 0.3, 0.4, 0.5, 0.6)
    src = struct.pack("<8f", 9, 9, 9, 0.25, 9, 9, 9, 1.0)
    assert struct.unpack("<8f", layers.interleave(rgb, src, 3)) == pytest.approx((0.1, 0.2, 0.3, 0.25,
                                                                              0.4, 0.5, 0.6, 1.0))
    gray = struct.pack("<2f", 0.7, 0.8)
    assert struct.unpack("<4f", layers.interleave(gray, src, 1)) == pytest.approx((0.7, 0.25, 0.8, 1.0))


# ----------------------------------------------------------------------------- running the engine
def test_run_engine_streams_progress_and_returns_result(tmp_path, fake_python):
    man = job(tmp_path, mask=True)
    seen = []
    res, timing = engine.run_one_shot(fake_python(), man, on_progress=lambda f, m: seen.append((f, m)))
    assert res["backend"] == "fake" and res["uncertainty_scale"] == 25.0
    assert seen[0] == (0.0, "starting") and seen[-1] == (1.0, "done")
    assert timing["engine_start"] > 0 and timing["engine_work"] >= 0
    assert len(jobdir.read_buffer(str(tmp_path), engine.P.RESULT_FILE, 5 * 3 * 12)) == 180
    with pytest.raises(engine.PluginError, match="expected 4"):
        jobdir.read_buffer(str(tmp_path), engine.P.RESULT_FILE, 4)


def test_run_engine_errors_carry_the_engine_text(tmp_path, fake_python):
    man = job(tmp_path)
    with pytest.raises(engine.PluginError) as e:
        engine.run_one_shot(fake_python("bad"), man)
    assert e.value.calling and str(e.value) == "fake engine: the scribbles hold no colour"
    with pytest.raises(engine.PluginError) as e:
        engine.run_one_shot(fake_python("crash"), man)
    assert not e.value.calling and "crashed (signal 11)" in str(e.value)
    with pytest.raises(engine.PluginError, match="cannot start the engine"):
        engine.run_one_shot(str(tmp_path / "missing"), man)


def test_cancel_stops_the_engine(tmp_path, fake_python):
    man = job(tmp_path)
    t0 = time.monotonic()
    with pytest.raises(engine.Cancelled):
        engine.run_one_shot(fake_python("hang"), man, should_cancel=lambda: time.monotonic() - t0 > 0.5)
    assert time.monotonic() - t0 < 10


def test_stale_job_folders_are_removed(tmp_path, monkeypatch):
    monkeypatch.setattr(jobdir, "job_base_dirs", lambda: [str(tmp_path)])
    old = tmp_path / (jobdir.TMP_PREFIX + "old")
    new = tmp_path / (jobdir.TMP_PREFIX + "new")
    mine = Path(jobdir.make_workdir())
    dead = tmp_path / (jobdir.TMP_PREFIX + "999999999-abc")   # its plug-in was killed (cancel)
    for d in (old, new, dead):
        d.mkdir()
    os.utime(old, (time.time() - 3 * 86400,) * 2)
    jobdir.cleanup_stale_workdirs()
    assert not old.exists() and new.exists() and not dead.exists() and mine.exists()
    assert mine.name.startswith("%s%d-" % (jobdir.TMP_PREFIX, os.getpid()))


def test_timing_log(tmp_path):
    log = tmp_path / "t.jsonl"
    engine.log_timing({"mode": "auto", "total": 1.5}, environ={engine.ENV_TIMING_LOG: str(log)})
    assert json.loads(log.read_text()) == {"mode": "auto", "total": 1.5}




def test_the_default_reference_is_the_latest_colour_image_that_is_not_the_target():
    import colorize_reference as ref
    assert ref.default_reference([(1, True), (4, False), (3, True), (5, True)], 5) == 3   # not the target
    assert ref.default_reference([(1, True), (2, True)], 7) == 2                          # the newest
    assert ref.default_reference([(4, False), (5, True)], 5) is None                      # gray, or the target
    assert ref.reference_source(8, 3, 2) == ("layer", 8) and ref.reference_source(None, 3, 2) == ("image", 3)
    assert ref.reference_source(None, None, 2) == ("image", 2) and ref.reference_source(None, None, None) is None
    rows = [(9, "Reference", True), (8, "Scribbles", True), (1, "Photo", False)]
    assert ref.reference_scribble_layer(rows, 1, 9) == 8
    assert ref.reference_scribble_layer([(9, "Reference", True), (1, "Photo", False)], 1, 9) is None   # never
    assert ref.reference_scribble_layer(rows, 1, 8) is None   # the chosen reference is named "Scribbles"
    assert not ref.merge_needed([(10, 5, 0, 0, True)], 10, 5)
    assert ref.merge_needed([(10, 5, 0, 0, True), (3, 3, 1, 1, True)], 10, 5)
    assert ref.merge_needed([(10, 5, 2, 0, True)], 10, 5) and ref.merge_needed([(10, 5, 0, 0, False)], 10, 5)


# ----------------------------------------------------------------------------- the modules themselves
MODULES = sorted(p.stem for p in PLUGIN.glob("colorize_*.py"))


def test_every_module_needs_only_the_standard_library_and_its_siblings():
    """GIMP's Python may lack numpy, and the modules are imported before gi is needed: none may pull them in."""
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import importlib\n"
            "for m in sys.argv[2:]: importlib.import_module(m)\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('numpy', 'gi', 'colorcore', 'torch')))")
    proc = subprocess.run([sys.executable, "-I", "-S", "-c", code, str(PLUGIN)] + MODULES,
                          capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.strip() == "[]", proc.stderr


def test_the_modules_import_each_other_without_a_circle():
    graph = {}
    for name in MODULES:
        tree = ast.parse((PLUGIN / (name + ".py")).read_text())
        found = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        found |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
        graph[name] = sorted(found & set(MODULES))
    done, order = set(), []

    def visit(name, path):
        assert name not in path, "import circle: %s" % " -> ".join(path + [name])
        if name not in done:
            for dep in graph[name]:
                visit(dep, path + [name])
            done.add(name)
            order.append(name)
    for name in MODULES:
        visit(name, [])
    assert order.index("colorize_engine") < order.index("colorize_options") < order.index("colorize_labels")
