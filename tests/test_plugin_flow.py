"""colorize.py's job flow without GIMP: gi is stubbed, the engine is the real one.

The layers' pixels go out as the protocol's buffers, the real `colorcore gimp-run` reads them, and the plug-in
reads the result buffers back: a check that colorize.py and the engine name and size the buffers alike, which
otherwise only the real-GIMP tests (tests/e2e) see.
"""
import runpy
import struct
import sys
import types
from pathlib import Path
from unittest import mock

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def plugin(monkeypatch):
    gi = types.ModuleType("gi")
    gi.require_version = lambda *a: None
    repo = types.ModuleType("gi.repository")
    for name in ("Gimp", "Gegl", "GObject", "GLib"):
        setattr(repo, name, mock.MagicMock(name=name))
    repo.Gimp.PlugIn = type("PlugIn", (), {"__gtype__": None})
    monkeypatch.setitem(sys.modules, "gi", gi)
    monkeypatch.setitem(sys.modules, "gi.repository", repo)
    monkeypatch.setenv("COLORCORE_PLUGINS", "variational")
    return runpy.run_path(str(REPO / "gimp_plugin" / "colorize" / "colorize.py"))


def drawable(pixels, ident, w, h):
    d = mock.MagicMock()
    d.get_width.return_value, d.get_height.return_value = w, h
    d.get_offsets.return_value = (True, 0, 0)
    d.get_id.return_value = ident
    d.get_buffer.return_value.get.return_value = b"".join(struct.pack("<4f", *p) for p in pixels)
    d.has_alpha.return_value = False
    return d


def test_a_scribble_run_goes_through_the_real_engine_and_back(plugin):
    Gimp, P = plugin["Gimp"], plugin["P"]
    w, h = 8, 6
    source = drawable([(0.5, 0.5, 0.5, 1.0)] * (w * h), 1, w, h)
    red = [(0.9, 0.1, 0.1, 1.0) if x < 2 else (0, 0, 0, 0) for _ in range(h) for x in range(w)]
    scribbles = drawable(red, 2, w, h)
    props = {"backend": "variational", "alpha": 0.2, "uncertainty-layer": True, "seed": 3,
             "engine-python": sys.executable, "scribble-layer": scribbles, "mask-channel": None}
    config = mock.MagicMock()
    config.get_property.side_effect = props.get
    image = mock.MagicMock()
    image.get_base_type.return_value = Gimp.ImageBaseType.RGB
    written = []
    plugin["colorize"].__globals__["write_pixels"] = lambda layer, fmt, data: written.append((fmt, data))
    backends = [{"name": "variational", "modes": ["scribble", "partial"], "needs_scribbles": True}]
    plugin["colorize"](None, Gimp.RunMode.NONINTERACTIVE, image, source, config, "scribble", backends)
    (rgb_fmt, rgb), (unc_fmt, unc) = written
    assert len(rgb) == P.buffer_bytes("output", w, h) and len(unc) == P.buffer_bytes("uncertainty_output", w, h)
    r, g, b = struct.unpack_from("<3f", rgb, (3 * w + 0) * 12)   # a painted pixel: red, at the photo's lightness
    assert r > g + 0.1 and r > b + 0.1


def partial_job(plugin, chosen_layer):
    Gimp = plugin["Gimp"]
    w, h = 8, 6
    source = drawable([(0.5, 0.5, 0.5, 1.0)] * (w * h), 1, w, h)
    props = {"backend": "gan", "scribble-layer": chosen_layer, "mask-channel": None}
    config = mock.MagicMock()
    config.get_property.side_effect = props.get
    image = mock.MagicMock()
    image.get_base_type.return_value = Gimp.ImageBaseType.RGB
    Gimp.Selection.is_empty.return_value = False
    binfo = {"name": "gan", "modes": ["auto", "partial"], "needs_scribbles": False}
    return plugin["input_layers"](image, source, "partial", config, binfo)


def test_partial_with_a_backend_that_ignores_hints_sends_no_scribble_layer(plugin):
    hints = drawable([(0.9, 0.1, 0.1, 1.0)] * 48, 2, 8, 6)
    plugin["find_scribbles"].__globals__["find_scribbles"] = lambda *a: hints   # a "Scribbles" layer is there
    assert partial_job(plugin, None)["scribble_layer"] is None                  # found by name: left alone
    with pytest.raises(plugin["PluginError"], match='"gan" ignores scribbles'):
        partial_job(plugin, hints)                                              # chosen by the user: said so
