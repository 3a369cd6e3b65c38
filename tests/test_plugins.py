import json
import subprocess
import sys
import types

import numpy as np
import pytest

from colorcore import Backend, BackendOutput, hookimpl, load_registry
from colorcore.errors import UnknownBackend
from testutil_engine import ROOT, colorcore_cmd, engine_env


class Flat(Backend):
    modes = ("auto",)

    def __init__(self, name):
        self.name, self.label = name, name

    def run(self, request):
        return BackendOutput(ab=np.zeros(request.shape + (2,), np.float32))


def plugin_module(name, *backend_names):
    module = types.ModuleType(name)

    @hookimpl
    def register_backends(register):
        for b in backend_names:
            register(Flat(b))
    module.register_backends = register_backends
    return module


def broken_import():
    raise ImportError("No module named 'torchx'")


def test_builtins_register_through_the_same_hook(registry):
    assert registry.owners["variational"] == "variational"
    assert "variational" in [b.name for b in registry.for_mode("scribble")]


def test_each_mode_defaults_to_the_backend_made_for_it(registry):
    """Partial defaults to partial-gan (no scribbles needed), though the scribble backends are listed first for it;
    Scribble to the learned prior, or to variational where the prior's weights are missing."""
    assert [b.name for b in registry.for_mode("partial")][:2] == ["prior", "variational"]
    scribble = "prior" if registry.get("prior").unavailable_reason() is None else "variational"
    want = {"auto": "gan", "scribble": scribble, "partial": "partial-gan"}
    for mode, name in want.items():
        if registry.get(name).unavailable_reason() is None:
            assert registry.default_for(mode).name == name


def test_broken_plugin_is_reported_and_the_others_still_load():
    reg = load_registry([("good", lambda: plugin_module("good", "flat-a")), ("bad", broken_import),
                         ("late", lambda: plugin_module("late", "flat-b"))])
    assert set(reg.backends) == {"flat-a", "flat-b"}
    assert [(f.plugin, "torchx" in f.error) for f in reg.failures] == [("bad", True)]


def test_plugin_raising_inside_the_hook_is_skipped():
    mod = types.ModuleType("raiser")

    @hookimpl
    def register_backends(register):
        raise RuntimeError("weights corrupt")
    mod.register_backends = register_backends
    reg = load_registry([("raiser", lambda: mod), ("good", lambda: plugin_module("good", "flat-a"))])
    assert list(reg.backends) == ["flat-a"]
    assert "weights corrupt" in reg.failures[0].error


def test_duplicate_backend_name_is_an_error_naming_both_plugins():
    reg = load_registry([("first", lambda: plugin_module("first", "same")),
                         ("second", lambda: plugin_module("second", "same"))])
    assert reg.owners == {"same": "first"}
    (fail,) = reg.failures
    assert fail.plugin == "second" and "'first'" in fail.error and "'second'" in fail.error


def test_plugin_without_backends_or_with_bad_names_is_reported():
    reg = load_registry([("empty", lambda: types.ModuleType("empty")),
                         ("caps", lambda: plugin_module("caps", "Bad Name")),
                         ("snake", lambda: plugin_module("snake", "bad_name"))])
    assert not reg.backends
    assert {f.plugin for f in reg.failures} == {"empty", "caps", "snake"}


def test_environment_switch_limits_the_plugins(monkeypatch):
    monkeypatch.setenv("COLORCORE_PLUGINS", "two")
    reg = load_registry([("one", lambda: plugin_module("one", "b-one")), ("two", lambda: plugin_module("two", "b-two"))])
    assert list(reg.backends) == ["b-two"]


def test_unknown_backend_lists_the_known_ones():
    reg = load_registry([("one", lambda: plugin_module("one", "b-one"))])
    with pytest.raises(UnknownBackend, match="b-one"):
        reg.get("nope")


@pytest.fixture(scope="module")
def example_installed(tmp_path_factory):
    """The example third-party package, pip-installed into a private folder put on PYTHONPATH."""
    import shutil
    target = tmp_path_factory.mktemp("site")
    source = tmp_path_factory.mktemp("src") / "colorcore-sepia"   # a copy: building leaves files beside the source
    shutil.copytree(ROOT / "examples" / "colorcore-sepia", source)
    proc = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                           "--target", str(target), str(source)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return engine_env(PYTHONPATH=str(target))


def test_installed_example_plugin_is_listed_and_usable(example_installed, tmp_path):
    from PIL import Image
    out = subprocess.run(colorcore_cmd() + ["backends", "--json"], capture_output=True, text=True,
                         env=example_installed)
    listing = json.loads(out.stdout)
    sepia = [b for b in listing["backends"] if b["name"] == "sepia-tone"]
    assert sepia and sepia[0]["plugin"] == "sepia" and sepia[0]["available"]
    Image.fromarray(np.full((20, 30), 120, np.uint8)).save(tmp_path / "g.png")
    run = subprocess.run(colorcore_cmd() + ["colorize", str(tmp_path / "g.png"), "--backend", "sepia-tone",
                                            "-o", str(tmp_path / "o.png")], capture_output=True, text=True,
                         env=example_installed)
    assert run.returncode == 0, run.stderr
    out = np.asarray(Image.open(tmp_path / "o.png")).astype(int)
    assert out.shape == (20, 30, 3) and (out[..., 0] > out[..., 2] + 10).all()   # warm tone


def test_environment_switch_hides_the_example(example_installed):
    env = dict(example_installed, COLORCORE_PLUGINS="variational")
    out = subprocess.run(colorcore_cmd() + ["backends", "--json"], capture_output=True, text=True, env=env)
    assert [b["name"] for b in json.loads(out.stdout)["backends"]] == ["variational"]


def test_the_warm_engine_loads_its_registry_once(monkeypatch):
    """After keep_registry() (colorcore.serve calls it) every load_registry() returns the one registry, with the
    same backend objects; an explicit list of plugins is still loaded afresh. A one-shot process loads anew."""
    from colorcore import plugins
    calls = []
    monkeypatch.setattr(plugins, "_candidates", lambda: calls.append(1) or [("p", lambda: plugin_module("p", "flat"))])
    monkeypatch.setattr(plugins, "_resident", [])
    assert load_registry() is not load_registry() and len(calls) == 2
    plugins.keep_registry()
    first = load_registry()
    assert load_registry() is first and first.backends["flat"] is load_registry().backends["flat"]
    assert len(calls) == 3
    assert load_registry([("q", lambda: plugin_module("q", "other"))]) is not first
