import runpy
import sys
import types
from pathlib import Path
from unittest import mock

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def registry():
    from colorcore import load_registry
    return load_registry()


@pytest.fixture
def photo():
    """A small synthetic colour 'photo': smooth gradients, two objects with edges, some texture."""
    rng = np.random.default_rng(3)
    h, w = 48, 64
    yy, xx = np.mgrid[0:h, 0:w] / np.array([h, w])[:, None, None]
    rgb = np.stack([0.3 + 0.4 * xx, 0.5 + 0.2 * yy, 0.6 - 0.3 * xx], axis=-1)
    rgb[10:30, 8:28] = [0.8, 0.2, 0.15]
    rgb[20:40, 36:58] = [0.2, 0.6, 0.25]
    rgb += rng.normal(0, 0.01, rgb.shape)
    return np.clip(rgb, 0, 1).astype(np.float32)


@pytest.fixture
def plugin(monkeypatch):
    """gimp_plugin/colorize/colorize.py loaded without GIMP: gi stubbed, the real engine (variational, one-shot)."""
    gi = types.ModuleType("gi")
    gi.require_version = lambda *a: None
    repo = types.ModuleType("gi.repository")
    for name in ("Gimp", "Gegl", "GObject", "GLib"):
        setattr(repo, name, mock.MagicMock(name=name))
    repo.Gimp.PlugIn = type("PlugIn", (), {"__gtype__": None})
    monkeypatch.setitem(sys.modules, "gi", gi)
    monkeypatch.setitem(sys.modules, "gi.repository", repo)
    monkeypatch.setenv("COLORCORE_PLUGINS", "variational")
    monkeypatch.setenv("COLORIZE_ENGINE_MODE", "one-shot")   # the warm path: tests/test_plugin_warm.py
    return runpy.run_path(str(REPO / "gimp_plugin" / "colorize" / "colorize.py"))
