"""colorize.py's job flow without GIMP: gi is stubbed, the engine is the real one.

The layers' pixels go out as the protocol's buffers, the real `colorcore gimp-run` reads them, and the plug-in
reads the result buffers back: a check that colorize.py and the engine name and size the buffers alike, which
otherwise only the real-GIMP tests (tests/e2e) see. Also colorize()'s promises: every step timed, the job folder
removed, and a failure while the layers go in leaves the image as it was (one undo group, layers removed, a
GRAY image converted back).
"""
import json
import struct
import sys
from pathlib import Path
from unittest import mock

import pytest


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


def scribble_run(plugin, monkeypatch, image=None, write_pixels=None):
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
    monkeypatch.setitem(g, "write_pixels", write_pixels or (lambda layer, fmt, data: None))
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
            "transfer_out", "transfer", "total", "engine_start_plus_transfer",
            "engine_seconds_read", "engine_seconds_colorize", "engine_seconds_write"} <= set(timing)
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


def test_the_colorized_and_uncertainty_layers_are_filled_while_the_engine_writes_the_rest(plugin, monkeypatch):
    """The engine says when its colours and its uncertainty are written (P.COLOURS_WRITTEN,
    P.UNCERTAINTY_WRITTEN); the plug-in fills those layers then, before the engine's run ends, and inserts them
    with the others, the uncertainty layer hidden and with its parasite."""
    g = plugin["colorize"].__globals__
    state = {"engine_done": False, "fills": []}
    run_engine = g["run_engine"]

    def engine(*a, **kw):
        out = run_engine(*a, **kw)
        state["engine_done"] = True
        return out
    monkeypatch.setitem(g, "run_engine", engine)
    image, timing = scribble_run(plugin, monkeypatch)
    assert "colorized_early" in timing and "uncertainty_early" in timing
    state["engine_done"] = False
    Gimp = plugin["Gimp"]
    made = []
    Gimp.Layer.new.side_effect = lambda *args: made.append(mock.MagicMock(name=args[1])) or made[-1]
    image, _ = scribble_run(plugin, monkeypatch,
                            write_pixels=lambda layer, fmt, data: state["fills"].append(state["engine_done"]))
    assert state["fills"] == [False, False]   # both during the engine's run
    assert image.insert_layer.call_count == 2
    assert [c.args[0] for c in image.insert_layer.call_args_list] == made   # colorized in first, the uncertainty above
    made[1].set_visible.assert_called_with(False)
    assert made[1].attach_parasite.call_count == 1 and not any(lay.delete.called for lay in made)
    Gimp.Layer.new.side_effect = None
    # a GRAY image (RGB only once the layers go in): a layer made before would be GRAY, so none is made early
    gray = mock.MagicMock()
    gray.get_base_type.side_effect = lambda: (Gimp.ImageBaseType.GRAY if state["engine_started"]
                                              else Gimp.ImageBaseType.RGB)
    state.update(fills=[], engine_done=False, engine_started=False)

    def engine_starts(*a, **kw):
        state["engine_started"] = True
        return engine(*a, **kw)
    monkeypatch.setitem(g, "run_engine", engine_starts)
    _, timing = scribble_run(plugin, monkeypatch, gray,
                             write_pixels=lambda layer, fmt, data: state["fills"].append(state["engine_done"]))
    assert "colorized_early" not in timing and "uncertainty_early" not in timing and state["fills"] == [True, True]


def test_a_failure_after_the_layers_were_filled_early_deletes_them(plugin, monkeypatch):
    Gimp = plugin["Gimp"]
    g = plugin["colorize"].__globals__
    made = []
    Gimp.Layer.new.side_effect = lambda *args: made.append(mock.MagicMock(name=args[1])) or made[-1]

    def fails(work, job):
        raise plugin["PluginError"]("the engine did not write uncertainty.raw")
    monkeypatch.setitem(g, "read_results", fails)
    image = mock.MagicMock()
    image.get_base_type.return_value = Gimp.ImageBaseType.RGB
    with pytest.raises(plugin["PluginError"], match="did not write"):
        scribble_run(plugin, monkeypatch, image)
    assert [lay._mock_name for lay in made] == ["Colorized (variational)", "Uncertainty (variational)"]   # early
    assert all(lay.delete.call_count == 1 for lay in made) and not image.insert_layer.called   # not left behind


# ----------------------------------------------------------------------------- From reference...
def colour_photo(w, h):
    """A colour photo: a red left half, a blue right half, both at mid lightness."""
    return [(0.8, 0.2, 0.2, 1.0) if x < w // 2 else (0.2, 0.3, 0.8, 1.0) for _ in range(h) for x in range(w)]


def gray_of(pixels):
    return [(0.2126 * r + 0.7152 * g + 0.0722 * b,) * 3 + (a,) for r, g, b, a in pixels]


def reference_run(plugin, monkeypatch, props, images, selection_empty=True):
    """A From reference run through the real engine with mocked GIMP objects; returns (written, manifest)."""
    Gimp = plugin["Gimp"]
    w, h = 48, 32
    source = drawable(gray_of(colour_photo(w, h)), 1, w, h)
    config = mock.MagicMock()
    config.get_property.side_effect = {"backend": "reference", "alpha": 0.1, "uncertainty-layer": True, "seed": 1,
                                       "engine-python": sys.executable, "scribble-layer": None,
                                       "reference-layer": None, "reference-image": None, **props}.get
    image = mock.MagicMock()
    image.get_id.return_value = 10
    image.get_base_type.return_value = Gimp.ImageBaseType.RGB
    image.get_layers.return_value = [source]
    Gimp.get_images.return_value = images
    Gimp.Image.get_by_id.side_effect = lambda iid: next(im for im in images if im.get_id() == iid)
    Gimp.Selection.is_empty.return_value = selection_empty
    monkeypatch.setenv("COLORCORE_PLUGINS", "reference")
    g = plugin["colorize"].__globals__
    written, manifests = [], []
    monkeypatch.setitem(g, "write_pixels", lambda layer, fmt, data: written.append((fmt, data)))
    monkeypatch.setitem(g, "log_timing", lambda t: None)
    run_engine = g["run_engine"]

    def spy(python, manifest, **kw):
        manifests.append(json.loads(Path(manifest).read_text()))
        return run_engine(python, manifest, **kw)
    monkeypatch.setitem(g, "run_engine", spy)
    backends = [{"name": "reference", "modes": ["reference"], "needs_scribbles": False}]
    plugin["colorize"](None, Gimp.RunMode.NONINTERACTIVE, image, source, config, "reference", backends)
    return written, manifests[0]


def open_image(plugin, iid, pixels, w, h, gray=False):
    Gimp = plugin["Gimp"]
    im = mock.MagicMock()
    im.get_id.return_value = iid
    im.get_base_type.return_value = Gimp.ImageBaseType.GRAY if gray else Gimp.ImageBaseType.RGB
    im.get_width.return_value, im.get_height.return_value = w, h
    lay = drawable(pixels, 100 + iid, w, h)
    lay.get_visible.return_value = True
    im.get_layers.return_value = [lay]
    return im


def test_from_reference_takes_the_latest_colour_image_that_is_not_the_target(plugin, monkeypatch):
    """The default reference: of the open images, the most recently opened colour one other than the target;
    its pixels go to the engine as the reference buffer at its own size and the result takes its colours."""
    pytest.importorskip("torch")
    w, h = 48, 32
    older = open_image(plugin, 3, [(0.1, 0.8, 0.1, 1.0)] * (40 * 20), 40, 20)      # green: an older image
    gray = open_image(plugin, 12, gray_of(colour_photo(w, h)), w, h, gray=True)  # newer but gray: no colour
    ref = open_image(plugin, 11, colour_photo(w, h), w, h)
    target = open_image(plugin, 10, colour_photo(w, h), w, h)   # the target itself, newer than the old one
    written, manifest = reference_run(plugin, monkeypatch, {}, [older, target, ref, gray])
    assert manifest["mode"] == "reference" and manifest["reference"] == plugin["P"].REFERENCE_FILE
    assert (manifest["reference_width"], manifest["reference_height"]) == (w, h)
    (_, rgb), (_, unc) = written
    lab = [struct.unpack_from("<3f", rgb, (16 * w + x) * 12) for x in (4, w - 5)]
    (r1, g1, b1), (r2, g2, b2) = lab
    # the reference's colours: redder on the left than on the right, and nowhere the older image's green
    assert r1 - b1 > r2 - b2 + 0.2 and g1 < r1 and g2 < b2, lab


def test_from_reference_a_chosen_layer_wins_and_a_selection_limits_the_change(plugin, monkeypatch):
    w, h = 48, 32
    ref_layer = drawable(colour_photo(w, h), 7, w, h)
    ref_layer.is_layer.return_value, ref_layer.is_group_layer.return_value = True, False
    ref_layer.get_image.return_value.get_base_type.return_value = plugin["Gimp"].ImageBaseType.RGB
    other = open_image(plugin, 11, [(0.1, 0.8, 0.1, 1.0)] * (w * h), w, h)
    calls, mask_fmt = [], plugin["P"].DEFAULT_FORMATS["mask"]   # a mocked image has no 8- or 16-bit precision
    g = plugin["colorize"].__globals__
    real_read = g["read_aligned"]
    monkeypatch.setitem(g, "read_aligned", lambda job, d, fmt: calls.append(fmt) or (
        struct.pack("<f", 1.0) * (w * 16) + bytes(4 * w * 16) if fmt == mask_fmt else real_read(job, d, fmt)))
    written, manifest = reference_run(plugin, monkeypatch, {"reference-layer": ref_layer, "reference-image": other},
                                      [other], selection_empty=False)
    assert manifest["mask"] and calls == [mask_fmt]
    (_, rgb), _ = written
    top = struct.unpack_from("<3f", rgb, (4 * w + 4) * 12)
    bottom = struct.unpack_from("<3f", rgb, (28 * w + 4) * 12)
    assert top[0] > top[2] + 0.2, top                       # selected: the chosen layer's red, not the image's green
    assert max(bottom) - min(bottom) < 1e-3, bottom         # outside the selection: the gray photo as it was


@pytest.mark.parametrize("images, layer, message", [
    ([], None, "no colour image other than this one is open"),
    ([("gray", 11)], None, "no colour image other than this one"),
    ([("rgb", 10)], None, "no colour image other than this one"),   # only the target itself is open
])
def test_from_reference_without_a_reference_says_what_to_do(plugin, images, layer, message):
    w, h = 48, 32
    opened = [open_image(plugin, iid, colour_photo(w, h), w, h, gray=kind == "gray") for kind, iid in images]
    Gimp = plugin["Gimp"]
    Gimp.get_images.return_value = opened
    image = mock.MagicMock()
    image.get_id.return_value = 10
    config = mock.MagicMock()
    config.get_property.side_effect = {"reference-layer": layer, "reference-image": None}.get
    with pytest.raises(plugin["PluginError"], match=message) as err:
        plugin["pick_reference"](image, config)
    assert err.value.calling


def test_from_reference_a_gray_reference_is_refused_with_the_engines_line(plugin):
    w, h = 48, 32
    gray = open_image(plugin, 11, gray_of(colour_photo(w, h)), w, h, gray=True)
    image = mock.MagicMock()
    image.get_id.return_value = 10
    config = mock.MagicMock()
    config.get_property.side_effect = {"reference-layer": None, "reference-image": gray}.get
    with pytest.raises(plugin["PluginError"], match="the reference has no colour; choose a colour image"):
        plugin["pick_reference"](image, config)


def test_from_reference_an_image_of_several_layers_is_read_as_it_shows_on_a_copy(plugin):
    w, h = 48, 32
    im = open_image(plugin, 11, colour_photo(w, h), w, h)
    extra = drawable(colour_photo(w, h), 9, w, h)
    extra.get_visible.return_value = True
    im.get_layers.return_value = [extra, im.get_layers.return_value[0]]
    copy = im.duplicate.return_value
    merged = copy.merge_visible_layers.return_value
    merged.get_offsets.return_value = (True, 0, 0)
    merged.get_buffer.return_value.get.return_value = b"merged"
    assert plugin["read_reference"](("image", im, (w, h))) == b"merged"
    assert copy.delete.called and not im.merge_visible_layers.called   # the image itself untouched
