"""Unit tests of the GIMP plug-in's gi-free helpers and of install.py (no GIMP needed)."""
import importlib.util
import json
import re
import os
import struct
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "gimp_plugin" / "colorize"))
import colorize_helpers as H  # noqa: E402

FAKE = REPO / "tests" / "e2e" / "fake_engine.py"


def load_install():
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
    H.write_buffer(str(folder), "image.f32", img)
    if mask:
        H.write_buffer(str(folder), "mask.f32", struct.pack("<%df" % (w * h), *([1.0] * (w * h))))
    return H.write_manifest(str(folder), mode, "fake", w, h, options={"strength": 1.0}, seed=3, has_mask=mask)


# ----------------------------------------------------------------------------- protocol
def test_parse_progress_result_and_other_lines():
    assert H.parse_line("PROGRESS 0.25 solving level 2\n") == ("progress", 0.25, "solving level 2")
    assert H.parse_line("PROGRESS 7 x") == ("progress", 1.0, "x")
    assert H.parse_line("PROGRESS nan-ish")[0] == "other"
    assert H.parse_line('RESULT {"backend": "v", "uncertainty_scale": 12.5}') == \
        ("result", {"backend": "v", "uncertainty_scale": 12.5})
    assert H.parse_line("RESULT {broken")[0] == "other"
    assert H.parse_line("hello") == ("other", "hello")


def test_error_message_prefers_the_engine_line():
    assert H.error_message("noise\nERROR the mask is empty\n", 2) == "the mask is empty"
    assert H.error_message("colorcore: error: unknown backend 'x'", 2) == "unknown backend 'x'"
    assert "signal 11" in H.error_message("", -11)
    assert "status 1" in H.error_message("", 1)
    assert H.error_message("Traceback...\nValueError: bad\n", 1) == "ValueError: bad"


def test_manifest_matches_the_bridge_contract(tmp_path):
    path = H.write_manifest(str(tmp_path), "partial", "variational", 7, 4, options={"a": 1}, seed=-1,
                            alpha=0.2, uncertainty=False, has_scribbles=True, has_mask=True)
    m = json.loads(Path(path).read_text())
    assert m == {"version": 1, "mode": "partial", "backend": "variational", "width": 7, "height": 4,
                 "image": "image.f32", "scribbles": "scribbles.f32", "mask": "mask.f32", "options": {"a": 1},
                 "seed": None, "alpha": 0.2, "uncertainty": False, "output": "result.f32",
                 "uncertainty_output": "uncertainty.f32", "frames": 1, "combine": None, "output_alpha": None,
                 "intervals_lo": None, "intervals_hi": None}
    with pytest.raises(ValueError):
        H.write_manifest(str(tmp_path), "bogus", "x", 1, 1)


def test_engine_env_drops_gimp_python_and_loader_settings():
    env = H.engine_env({"PATH": "/bin", "PYTHONPATH": "/gimp", "GI_TYPELIB_PATH": "x", "LD_LIBRARY_PATH": "y",
                        "GIMP3_DIRECTORY": "z", "BABL_PATH": "b", "HOME": "/h"})
    assert env["PATH"] == "/bin" and env["HOME"] == "/h" and env["PYTHONUNBUFFERED"] == "1"
    assert not any(k.startswith(("PYTHONPATH", "GI_", "LD_", "GIMP", "BABL")) for k in env)


# ----------------------------------------------------------------------------- engine discovery
def test_find_engine_order_and_messages(tmp_path, fake_python):
    py = fake_python()
    with pytest.raises(H.PluginError, match="install.py"):
        H.find_engine(folder=str(tmp_path), environ={})
    (tmp_path / "engine.json").write_text(json.dumps({"python": py}))
    assert H.find_engine(folder=str(tmp_path), environ={}) == py
    assert H.find_engine(folder=str(tmp_path), environ={H.ENV_ENGINE: sys.executable}) == sys.executable
    with pytest.raises(H.PluginError, match="does not exist"):
        H.find_engine("/nonexistent/python", folder=str(tmp_path), environ={})
    (tmp_path / "engine.json").write_text("{not json")
    with pytest.raises(H.PluginError, match="cannot read"):
        H.find_engine(folder=str(tmp_path), environ={})


def test_engine_launcher_for_flatpak(tmp_path):
    (tmp_path / "engine.json").write_text(json.dumps({"python": "/h/venv/bin/python",
                                                      "launcher": ["flatpak-spawn", "--host"]}))
    assert H.engine_command("/h/venv/bin/python", ["backends"], folder=str(tmp_path)) == \
        ["flatpak-spawn", "--host", "/h/venv/bin/python", "-m", "colorcore", "backends"]


def test_backends_listed_cached_and_refreshed(tmp_path, fake_python):
    (tmp_path / "engine.json").write_text(json.dumps({"python": fake_python()}))
    rows = H.load_backends(str(tmp_path))
    assert [b["name"] for b in rows] == ["fake"]
    assert json.loads((tmp_path / H.BACKENDS_CACHE).read_text())[0]["name"] == "fake"
    (tmp_path / H.BACKENDS_CACHE).write_text(json.dumps([{"name": "cached", "modes": ["auto"]}]))
    assert [b["name"] for b in H.load_backends(str(tmp_path))] == ["cached"]
    assert [b["name"] for b in H.load_backends(str(tmp_path), refresh=True)] == ["fake"]


def test_backends_json_accepts_list_or_object():
    rows = H.parse_backends_json('[{"name": "a", "modes": ["auto"], "available": false, '
                                 '"unavailable_reason": "weights not found"}]')
    assert rows[0]["label"] == "a" and "unavailable: weights not found" in H.backend_choice_label(rows[0])
    assert H.parse_backends_json('{"backends": [{"name": "b"}], "failed_plugins": []}')[0]["name"] == "b"
    assert H.default_backend(rows, "auto") == "a"       # only one: offered even though unavailable
    assert H.default_backend(rows, "scribble") == ""


def test_default_backend_is_the_one_made_for_the_mode():
    rows = [{"name": "var", "modes": ["scribble", "partial"]}, {"name": "auto-gan", "modes": ["auto", "partial"]},
            {"name": "part", "modes": ["partial"]}]
    assert H.default_backend(rows, "partial") == "part"
    assert H.default_backend(rows, "scribble") == "var"
    rows[2]["available"] = False   # not available: the first available one serving the mode
    assert H.default_backend(rows, "partial") == "var"


def test_options_become_typed_arguments():
    rows = H.parse_backends_json(json.dumps([
        {"name": "var-iational", "modes": ["scribble"], "options": [
            {"name": "n_levels", "type": "int", "default": 4, "minimum": 1, "maximum": 9},
            {"name": "edge", "type": "float", "default": 0.5, "minimum": None, "maximum": None},
            {"name": "fast", "type": "bool", "default": True},
            {"name": "space", "type": "choice", "default": "lab", "choices": ["lab", "yuv"]}]},
        {"name": "other", "modes": ["auto"], "options": [{"name": "x", "type": "int", "default": 1}]}]))
    args = H.option_args(rows, "scribble")
    assert [a[0] for a in args] == ["var-iational-n-levels", "var-iational-edge", "var-iational-fast",
                                    "var-iational-space"]
    assert H.option_bounds(args[0][2]) == (1, 9)
    assert H.option_bounds(args[1][2]) == (-1e9, 1e9)
    values = {"var-iational-n-levels": 6.0, "var-iational-edge": "0.25", "var-iational-fast": 0,
              "var-iational-space": None}
    opts = H.collect_options(rows, "scribble", "var-iational", values.get)
    assert opts == {"n_levels": 6, "edge": 0.25, "fast": False, "space": "lab"}
    assert H.prop_name("9lives", "a b") == "o-9lives-a-b"


def test_pick_scribble_layer():
    layers = [(5, "Uncertainty (v)", True), (4, "Colorized (v)", True), (3, "notes", True), (2, "bg copy", False),
              (1, "Photo", False)]
    assert H.pick_scribble_layer(layers, 1) == 3
    assert H.pick_scribble_layer([(9, "x", True), (7, "Scribbles", True), (1, "Photo", True)], 1) == 7
    assert H.pick_scribble_layer([(4, "Colorized (v)", True), (1, "Photo", True)], 1) is None
    assert H.pick_scribble_layer([(1, "Scribbles", True)], 1) is None


def test_interleave_puts_the_source_alpha_back():
    rgb = struct.pack("<6f", 0.1, 0.2, 0.3, 0.4, 0.5, 0.6)
    src = struct.pack("<8f", 9, 9, 9, 0.25, 9, 9, 9, 1.0)
    assert struct.unpack("<8f", H.interleave(rgb, src, 3)) == pytest.approx((0.1, 0.2, 0.3, 0.25,
                                                                              0.4, 0.5, 0.6, 1.0))
    gray = struct.pack("<2f", 0.7, 0.8)
    assert struct.unpack("<4f", H.interleave(gray, src, 1)) == pytest.approx((0.7, 0.25, 0.8, 1.0))


# ----------------------------------------------------------------------------- running the engine
def test_run_engine_streams_progress_and_returns_result(tmp_path, fake_python):
    man = job(tmp_path, mask=True)
    seen = []
    res, timing = H.run_engine(fake_python(), man, on_progress=lambda f, m: seen.append((f, m)))
    assert res["backend"] == "fake" and res["uncertainty_scale"] == 25.0
    assert seen[0] == (0.0, "starting") and seen[-1] == (1.0, "done")
    assert timing["engine_start"] > 0 and timing["engine_work"] >= 0
    assert len(H.read_buffer(str(tmp_path), "result.f32", 5 * 3 * 12)) == 180
    with pytest.raises(H.PluginError, match="expected 4"):
        H.read_buffer(str(tmp_path), "result.f32", 4)


def test_run_engine_errors_carry_the_engine_text(tmp_path, fake_python):
    man = job(tmp_path)
    with pytest.raises(H.PluginError) as e:
        H.run_engine(fake_python("bad"), man)
    assert e.value.calling and str(e.value) == "fake engine: the scribbles hold no colour"
    with pytest.raises(H.PluginError) as e:
        H.run_engine(fake_python("crash"), man)
    assert not e.value.calling and "crashed (signal 11)" in str(e.value)
    with pytest.raises(H.PluginError, match="cannot start the engine"):
        H.run_engine(str(tmp_path / "missing"), man)


def test_cancel_stops_the_engine(tmp_path, fake_python):
    man = job(tmp_path)
    t0 = time.monotonic()
    with pytest.raises(H.Cancelled):
        H.run_engine(fake_python("hang"), man, should_cancel=lambda: time.monotonic() - t0 > 0.5)
    assert time.monotonic() - t0 < 10


def test_stale_job_folders_are_removed(tmp_path, monkeypatch):
    monkeypatch.setattr(H, "job_base_dirs", lambda: [str(tmp_path)])
    old = tmp_path / (H.TMP_PREFIX + "old")
    new = tmp_path / (H.TMP_PREFIX + "new")
    mine = Path(H.make_workdir())
    dead = tmp_path / (H.TMP_PREFIX + "999999999-abc")   # its plug-in was killed (cancel)
    for d in (old, new, dead):
        d.mkdir()
    os.utime(old, (time.time() - 3 * 86400,) * 2)
    H.cleanup_stale_workdirs()
    assert not old.exists() and new.exists() and not dead.exists() and mine.exists()
    assert mine.name.startswith("%s%d-" % (H.TMP_PREFIX, os.getpid()))


def test_timing_log(tmp_path):
    log = tmp_path / "t.jsonl"
    H.log_timing({"mode": "auto", "total": 1.5}, environ={H.ENV_TIMING_LOG: str(log)})
    assert json.loads(log.read_text()) == {"mode": "auto", "total": 1.5}


# ----------------------------------------------------------------------------- install.py
def fake_home(tmp_path, monkeypatch, profiles):
    home = tmp_path / "home"
    for rel in profiles:
        (home / rel).mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.delenv("GIMP3_DIRECTORY", raising=False)
    return home


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux folder layout")
def test_install_finds_native_flatpak_and_snap_gimp3(tmp_path, monkeypatch):
    inst = load_install()
    monkeypatch.setattr(inst, "gimp3_binaries", lambda: [])
    home = fake_home(tmp_path, monkeypatch, [".config/GIMP/3.0", ".config/GIMP/2.10",
                                              ".var/app/org.gimp.GIMP/config/GIMP/3.0",
                                              "snap/gimp/current/.config/GIMP/3.0"])
    targets, searched, v2 = inst.find_gimp()
    assert targets == [("native", str(home / ".config/GIMP/3.0/plug-ins")),
                       ("flatpak", str(home / ".var/app/org.gimp.GIMP/config/GIMP/3.0/plug-ins")),
                       ("snap", str(home / "snap/gimp/current/.config/GIMP/3.0/plug-ins"))]
    assert v2 == [str(home / ".config/GIMP/2.10")]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux folder layout")
def test_install_reports_only_gimp_2_10(tmp_path, monkeypatch, capsys):
    inst = load_install()
    monkeypatch.setattr(inst, "gimp3_binaries", lambda: [])
    fake_home(tmp_path, monkeypatch, [".config/GIMP/2.10"])
    targets, searched, v2 = inst.find_gimp()
    assert targets == [] and len(v2) == 1
    assert any(".config/GIMP/3.*" in s for s in searched) and any("org.gimp.GIMP" in s for s in searched)
    (tmp_path / "venv").mkdir()
    monkeypatch.setattr(inst, "ensure_venv", lambda venv, base, torch, record: (sys.executable, False))
    monkeypatch.setattr(inst, "self_check", lambda py, d=None: True)
    assert inst.main(["--venv", str(tmp_path / "venv")]) == 0
    out = capsys.readouterr().out
    assert "Plug-in step SKIPPED: no GIMP 3 found" in out and "Only GIMP 2.10 was found" in out
    assert "venv (reused)" in out and "(created)" not in out


def test_gimp_dir_override_and_env(tmp_path, monkeypatch):
    inst = load_install()
    assert inst.find_gimp(str(tmp_path / "GIMP" / "3.0"))[0] == [("native", str(tmp_path / "GIMP/3.0/plug-ins"))]
    assert inst.find_gimp(str(tmp_path / "x" / "plug-ins"))[0] == [("native", str(tmp_path / "x/plug-ins"))]
    monkeypatch.setattr(inst, "gimp3_binaries", lambda: [])
    fake_home(tmp_path, monkeypatch, [])
    monkeypatch.setenv("GIMP3_DIRECTORY", str(tmp_path / "prof"))
    assert inst.find_gimp()[0] == [("native", str(tmp_path / "prof" / "plug-ins"))]


def test_install_plugin_then_uninstall_removes_exactly_that(tmp_path, monkeypatch, fake_python):
    inst = load_install()
    venv = tmp_path / "venv"
    venv.mkdir()
    plugins = tmp_path / "GIMP" / "3.0" / "plug-ins"
    plugins.mkdir(parents=True)
    (plugins / "someone-elses").mkdir()
    record = {"venv_created": False}
    dest, rows = inst.install_plugin("native", str(plugins), fake_python(), record)
    assert os.access(os.path.join(dest, "colorize.py"), os.X_OK)
    assert json.loads(Path(dest, "engine.json").read_text())["python"] == fake_python()
    assert [b["name"] for b in rows] == ["fake"]
    # idempotent: a second run gives the same record
    dest2, _ = inst.install_plugin("native", str(plugins), fake_python(), record)
    assert dest2 == dest and len(record["plugins"]) == 1
    inst.save_record(str(venv), record)
    (Path(dest) / "user-notes.txt").write_text("keep me")
    assert inst.main(["--uninstall", "--venv", str(venv)]) == 0
    assert sorted(os.listdir(dest)) == ["user-notes.txt"]
    assert (plugins / "someone-elses").is_dir() and venv.is_dir()
    assert not (venv / inst.RECORD).exists()


def test_flatpak_install_records_the_host_launcher(tmp_path, fake_python):
    inst = load_install()
    plugins = tmp_path / ".var/app/org.gimp.GIMP/config/GIMP/3.0/plug-ins"
    dest, _ = inst.install_plugin("flatpak", str(plugins), fake_python(), {})
    assert json.loads(Path(dest, "engine.json").read_text())["launcher"] == ["flatpak-spawn", "--host"]
    assert "flatpak override --user --talk-name=org.freedesktop.Flatpak org.gimp.GIMP" in inst.flatpak_note(dest)


def test_python_version_rules(monkeypatch):
    inst = load_install()
    assert inst.required_python() >= (3, 9)
    with pytest.raises(inst.InstallError, match="cannot be run"):
        inst.find_base_python("/nonexistent/python3")
    assert inst.find_base_python() == sys.executable   # the dev venv's Python is new enough


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root can write anywhere")
def test_no_write_permission_is_a_clear_error(tmp_path):
    inst = load_install()
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    with pytest.raises(inst.InstallError, match="no write permission"):
        inst.check_writable(str(ro / "venv"), "engine venv")


def fake_venv(tmp_path, name="venv"):
    """A venv folder whose python answers install.py's questions: Python 3.11, no torch, colorcore's requirements."""
    venv = tmp_path / name
    (venv / "bin").mkdir(parents=True)
    py = venv / "bin" / "python"
    py.write_text('#!/bin/sh\ncase "$2" in\n  *version_info*) echo 3.11 ;;\n  *"import torch"*) exit 1 ;;\n'
                  '  *) exit 0 ;;\nesac\n')
    py.chmod(0o755)
    cli = venv / "bin" / "colorcore"
    cli.write_text("#!/bin/sh\necho colorcore\n")
    cli.chmod(0o755)
    return venv


@pytest.mark.skipif(os.name != "posix", reason="~/.local/bin is a POSIX convention")
def test_cli_link_makes_local_bin_says_how_to_reach_it_and_uninstall_removes_both(tmp_path, monkeypatch, capsys):
    inst = load_install()
    home = fake_home(tmp_path, monkeypatch, [])
    home.mkdir()   # a home without ~/.local
    venv = fake_venv(tmp_path)
    record = {"venv_created": False}
    link = inst.link_cli(str(venv), record)
    bindir = home / ".local" / "bin"
    assert link == str(bindir / "colorcore") and os.readlink(link) == str(venv / "bin" / "colorcore")
    assert record["cli_dirs_created"] == [str(bindir), str(home / ".local")]
    assert "created %s" % bindir in capsys.readouterr().out
    on_path, line = inst.path_report(link, environ={"PATH": "/usr/bin:/bin"})
    assert not on_path and 'export PATH="$HOME/.local/bin:$PATH"' in line and line.endswith("run %s" % link)
    on_path, line = inst.path_report(link, environ={"PATH": "/usr/bin:%s" % bindir})
    assert on_path and str(bindir / "colorcore") in line
    other = tmp_path / "other"
    other.mkdir()
    (other / "colorcore").write_text("#!/bin/sh\n")
    (other / "colorcore").chmod(0o755)
    on_path, line = inst.path_report(link, environ={"PATH": "%s:%s" % (other, bindir)})
    assert not on_path and "another `colorcore` comes first" in line
    inst.save_record(str(venv), record)
    assert inst.main(["--uninstall", "--venv", str(venv)]) == 0
    assert not (home / ".local").exists() and home.is_dir() and venv.is_dir()


@pytest.mark.skipif(os.name != "posix", reason="~/.local/bin is a POSIX convention")
def test_cli_link_leaves_someone_elses_colorcore_alone(tmp_path, monkeypatch, capsys):
    inst = load_install()
    home = fake_home(tmp_path, monkeypatch, [".local/bin"])
    (home / ".local/bin/colorcore").write_text("theirs")
    venv = fake_venv(tmp_path)
    record = {}
    assert inst.link_cli(str(venv), record) == str(venv / "bin" / "colorcore")
    assert (home / ".local/bin/colorcore").read_text() == "theirs" and "cli_link" not in record
    assert "not this engine's: left as it is" in capsys.readouterr().out


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux folder layout")
def test_check_passes_for_a_cli_only_install_and_reports_path(tmp_path, monkeypatch, capsys):
    inst = load_install()
    monkeypatch.setattr(inst, "gimp3_binaries", lambda: [])
    fake_home(tmp_path, monkeypatch, [])
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    venv = fake_venv(tmp_path)
    monkeypatch.setattr(inst, "self_check", lambda py, d=None: True)
    assert inst.main(["--check", "--venv", str(venv)]) == 0
    out = capsys.readouterr().out
    assert "note no GIMP 3 found" in out and "engine and the CLI work without it" in out
    assert "is not on your PATH" in out and "all good" in out and "FAIL" not in out


def test_self_check_prints_fail_when_the_engine_does_not_import(tmp_path, capsys):
    inst = load_install()
    for name, body, shown in (("silent", "exit 1", "FAIL engine import (exit 1): no output"),
                              ("loud", "echo \"ModuleNotFoundError: No module named 'colorcore'\"; exit 1",
                               "FAIL engine import (exit 1): ModuleNotFoundError: No module named 'colorcore'")):
        py = tmp_path / name
        py.write_text("#!/bin/sh\n%s\n" % body)
        py.chmod(0o755)
        assert inst.self_check(str(py)) is False
        out = capsys.readouterr().out
        assert shown in out and "install.py" in out, out


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PyPI's Linux torch is the CUDA build")
@pytest.mark.parametrize("no_torch", [False, True])
def test_no_pip_call_can_pull_the_cuda_build_of_torch(tmp_path, monkeypatch, no_torch):
    inst = load_install()
    venv = fake_venv(tmp_path)
    calls = []

    def run(cmd, what, quiet=False, env=None):
        calls.append(cmd)
        if "--no-index" in cmd:
            raise inst.InstallError("no local wheel")   # as on a user's machine: the download path is taken
        if "importlib.metadata" in " ".join(cmd):
            return json.dumps(["numpy>=1.24", "torch>=2.1", "pillow>=10", 'pytest>=7; extra == "test"'])
        return ""
    monkeypatch.setattr(inst, "run", run)
    record = {}
    py, created = inst.ensure_venv(str(venv), sys.executable, None if no_torch else inst.DEFAULT_TORCH, record)
    assert py == str(venv / "bin" / "python") and created is False and record["venv_created"] is False
    pips = [c for c in calls if c[1:3] == ["-m", "pip"]]
    torch_args = [a for c in pips for a in c if a.startswith("torch")]
    if no_torch:
        assert torch_args == []
        assert ["--no-deps", inst.HERE] == pips[0][-2:] and pips[1][4:] == ["numpy>=1.24", "pillow>=10"]
    else:
        assert torch_args and all(a == "torch==2.13.0+cpu" for a in torch_args)
        download = [c for c in pips if "torch==2.13.0+cpu" in c and "--no-index" not in c][-1]
        assert download[download.index("--index-url") + 1] == inst.TORCH_CPU_INDEX


def test_cpu_torch_spec():
    inst = load_install()
    assert inst.cpu_torch_spec("torch==2.13.0", mac=False) == "torch==2.13.0+cpu"
    assert inst.cpu_torch_spec("torch==2.13.0", mac=True) == "torch==2.13.0"     # macOS wheels are CPU builds
    assert inst.cpu_torch_spec("torch==2.5.1+cu121", mac=False) == "torch==2.5.1+cu121"   # asked for explicitly


def test_the_test_script_installs_torch_the_installers_way():
    text = (REPO / "scripts" / "test.sh").read_text()
    assert "install.install_torch" in text
    assert not [l for l in text.splitlines() if re.search(r"\btorch(==|\b\s*$|\")", l) and "pip" in l]
