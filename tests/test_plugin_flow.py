"""colorize.py's job flow without GIMP: gi is stubbed, the engine is the real one.

The layers' pixels go out as the protocol's buffers, the real `colorcore gimp-run` reads them, and the plug-in
reads the result buffers back: a check that colorize.py and the engine name and size the buffers alike, which
otherwise only the real-GIMP tests (tests/e2e) see. Also colorize()'s promises: every step timed, the job folder
removed, and a failure while the layers go in leaves the image as it was (one undo group, layers removed, a
GRAY image converted back).
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
    monkeypatch.setenv("COLORIZE_ENGINE_MODE", "one-shot")   # the warm path: tests/test_plugin_warm.py
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


def scribble_run(plugin, monkeypatch, image=None):
    """A Scribble run through the real engine with mocked GIMP objects; returns (image, timing, work folders)."""
    Gimp = plugin["Gimp"]
    w, h = 8, 6
    source = drawable([(0.5, 0.5, 0.5, 1.0)] * (w * h), 1, w, h)
    scribbles = drawable([(0.9, 0.1, 0.1, 1.0)] * (w * h), 2, w, h)
    props = {"backend": "variational", "alpha": 0.2, "uncertainty-layer": True, "seed": 3,
             "engine-python": sys.executable, "scribble-layer": scribbles, "mask-channel": None}
    config = mock.MagicMock()
    config.get_property.side_effect = props.get
    if image is None:
        image = mock.MagicMock()
        image.get_base_type.return_value = Gimp.ImageBaseType.RGB
    g = plugin["colorize"].__globals__
    logged, folders = [], []
    make = g["make_workdir"]
    monkeypatch.setitem(g, "make_workdir", lambda n: folders.append(make(n)) or folders[-1])
    monkeypatch.setitem(g, "log_timing", logged.append)
    monkeypatch.setitem(g, "write_pixels", lambda layer, fmt, data: None)
    backends = [{"name": "variational", "modes": ["scribble", "partial"], "needs_scribbles": True}]
    try:
        plugin["colorize"](None, Gimp.RunMode.NONINTERACTIVE, image, source, config, "scribble", backends)
    finally:
        assert folders and not any(Path(f).exists() for f in folders), "the job folder was left behind"
    return image, logged[0]


def test_a_run_logs_every_step_of_its_timing_and_removes_its_job_folder(plugin, monkeypatch):
    image, timing = scribble_run(plugin, monkeypatch)
    assert {"mode", "backend", "width", "height", "frames", "megapixels", "read_source", "read_scribbles",
            "transfer_in", "engine_start", "engine_work", "engine_total", "read_results", "write_layers",
            "transfer_out", "transfer", "total", "engine_start_plus_transfer"} <= set(timing)
    assert timing["backend"] == "variational" and timing["total"] >= timing["engine_total"]
    assert image.undo_group_start.call_count == image.undo_group_end.call_count == 1
    assert image.insert_layer.call_count == 2


def test_a_failure_while_adding_the_layers_leaves_the_image_as_it_was(plugin, monkeypatch):
    Gimp = plugin["Gimp"]
    image = mock.MagicMock()   # RGB while the inputs are checked, GRAY once the layers go in: converted, then back
    image.get_base_type.side_effect = lambda: (Gimp.ImageBaseType.GRAY if image.undo_group_start.called
                                               else Gimp.ImageBaseType.RGB)
    image.insert_layer.side_effect = [None, RuntimeError("no room")]   # the second layer fails
    image.get_item_position.return_value = 0
    Gimp.Layer.new.side_effect = lambda *args: mock.MagicMock(name=args[1])   # a new layer each time
    with pytest.raises(RuntimeError, match="no room"):
        scribble_run(plugin, monkeypatch, image)
    made = [c.args[0] for c in image.insert_layer.call_args_list]
    assert [lay._mock_name for lay in made] == ["Colorized (variational)", "Uncertainty (variational)"]
    assert image.undo_group_start.call_count == image.undo_group_end.call_count == 1
    assert image.convert_rgb.called and image.convert_grayscale.called
    assert all(image.remove_layer.call_args_list.count(mock.call(lay)) + lay.delete.call_count == 1 for lay in made)
