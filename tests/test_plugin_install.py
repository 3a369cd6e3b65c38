"""Unit tests of install.py (no GIMP needed): finding GIMP 3, copying the plug-in and its helper modules,
the engine venv, the CLI link, the check and uninstall."""
import json
import os
import re
import sys
from pathlib import Path

import pytest

from test_plugin_helpers import PLUGIN, REPO, fake_python, load_install  # noqa: F401  (fake_python: a fixture)


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


def test_install_copies_every_helper_module_and_the_check_misses_none(tmp_path, monkeypatch, capsys, fake_python):
    inst = load_install()
    plugins = tmp_path / "GIMP" / "3.0" / "plug-ins"
    dest, _ = inst.install_plugin("native", str(plugins), fake_python(), {})
    shipped = sorted(p.name for p in PLUGIN.glob("*.py"))
    assert {"colorize.py", "colorize_engine.py", "colorize_options.py", "colorize_labels.py"} <= set(shipped)
    for name in shipped:
        assert Path(dest, name).read_bytes() == (PLUGIN / name).read_bytes(), name
    helpers = inst.load_helpers(dest)   # the installed copies, not the source tree's
    assert helpers.plugin_dir() == dest and Path(helpers.P.__file__) == Path(dest, helpers.PROTOCOL_FILE)
    assert Path(inst.load_helpers().plugin_dir()) == PLUGIN
    loaded = sys.modules.get("colorize_engine")   # whatever the tests imported is left as it was
    assert loaded is None or Path(loaded.__file__).parent == PLUGIN
    fake_home(tmp_path, monkeypatch, [])
    venv = fake_venv(tmp_path)
    monkeypatch.setattr(inst, "self_check", lambda py, d=None: True)
    assert inst.main(["--check", "--venv", str(venv), "--gimp-dir", str(plugins)]) == 0
    assert "FAIL" not in capsys.readouterr().out
    os.remove(os.path.join(dest, "colorize_labels.py"))
    assert inst.main(["--check", "--venv", str(venv), "--gimp-dir", str(plugins)]) == 1
    assert "FAIL the plug-in's colorize_labels.py is missing" in capsys.readouterr().out
