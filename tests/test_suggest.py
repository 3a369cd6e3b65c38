"""Where to paint next (colorcore/suggest.py, --suggest, the bridge and the plug-in's "Where to paint" layer)."""
import json
import math
import random
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from colorcore import protocol
from colorcore.suggest import holds, suggest

REPO = Path(__file__).resolve().parents[1]
PLUGIN = REPO / "gimp_plugin" / "colorize"


def two_regions(h=96, w=128):
    """A photo with a large flat region (left three quarters) and a small one, a lightness edge between them."""
    rgb = np.full((h, w, 3), 0.6, np.float32)
    rgb[:, 3 * w // 4:] = (0.2, 0.3, 0.2)
    return rgb


def test_one_stroke_goes_where_it_fixes_most_not_where_the_radius_peaks():
    """The regions rule (the default): the result's regions ranked by the expected error they hold. A thin strip
    that is less sure holds less error than a part of a large region."""
    rgb = two_regions()
    radius = np.full(rgb.shape[:2], 10.0, np.float32)
    radius[:, 124:] = 11.0
    rgb[:, 124:] = (0.2, 0.3, 0.6)   # a thin blue strip, the least sure (and its RGB the most sensitive to ab)
    places = suggest(rgb, radius, 3)
    assert len(places) == 3
    assert places[0]["x"] < 124
    assert all(p["x"] < 124 for p in suggest(rgb, radius, 3, region_sigma=0.0))
    for p in places:
        assert set(p) == {"x", "y", "radius", "rgb"}
        assert 0 <= p["x"] < 128 and 0 <= p["y"] < 96 and p["radius"] >= 3
        assert all(isinstance(v, int) and 0 <= v <= 255 for v in p["rgb"])
    assert len({(p["x"], p["y"]) for p in places}) == 3   # three regions, not one place thrice


def test_a_region_that_is_much_less_sure_comes_first_even_when_smaller():
    rgb = two_regions()
    radius = np.full(rgb.shape[:2], 10.0, np.float32)
    radius[:, 3 * 128 // 4:] = 40.0   # 16 times the expected error on a third of the large region's area
    assert suggest(rgb, radius, 1)[0]["x"] >= 3 * 128 // 4
    assert suggest(rgb, radius, 1, rule="reach")[0]["x"] >= 3 * 128 // 4
    with pytest.raises(ValueError, match="rule must be one of"):
        suggest(rgb, radius, 1, rule="nearest")


def test_the_regions_rule_answers_more_places_than_it_has_regions():
    rgb = two_regions()
    places = suggest(rgb, np.full(rgb.shape[:2], 10.0, np.float32), 12)
    assert len(places) == 12 and len({(p["x"], p["y"]) for p in places}) == 12


def test_the_expected_error_is_what_a_round_normal_error_of_that_radius_costs_in_rgb():
    from colorcore import color
    from colorcore.suggest import expected_square_error
    rng = np.random.default_rng(0)
    L = np.full((64, 64), 50.0, np.float32)
    ab = np.zeros((64, 64, 2), np.float32) + (10, 20)
    sigma = 5.0
    q = sigma * np.sqrt(2 * np.log(10))   # the 0.9 quantile radius of a round 2-D normal of that sigma
    noisy = color.with_lightness(L, ab + rng.normal(0, sigma, ab.shape).astype(np.float32))
    actual = np.sum((noisy - color.with_lightness(L, ab)) ** 2, axis=-1).mean()
    assert expected_square_error(L, ab, np.full(L.shape, q, np.float32)).mean() == pytest.approx(actual, rel=0.05)


def test_an_edge_walls_a_stroke_in():
    lab_L = np.where(np.arange(128) < 96, 60.0, 30.0)[None].repeat(96, 0).astype(np.float32)
    ab = np.zeros((96, 128, 2), np.float32)
    hold = holds(lab_L, ab, np.array([48]), np.array([40]))[0]
    assert hold[48, 40] == pytest.approx(1.0)
    assert hold[:, :90].mean() > 5 * hold[:, 100:].mean()


def test_nothing_to_fix_no_places_and_painted_places_are_skipped():
    rgb = two_regions()
    assert suggest(rgb, np.zeros(rgb.shape[:2], np.float32), 3) == []
    assert suggest(rgb, np.ones(rgb.shape[:2], np.float32), 0) == []
    radius = np.zeros(rgb.shape[:2], np.float32)
    radius[:, :40] = 10.0                      # e.g. a selection: only there is anything to fix
    places = suggest(rgb, radius, 2)
    assert places and all(p["x"] < 44 for p in places)
    scribbles = np.zeros(rgb.shape[:2] + (4,), np.float32)
    scribbles[:, :20, 3] = 1.0                 # painted already
    assert all(p["x"] >= 18 for p in suggest(rgb, radius, 2, scribbles=scribbles))


def test_a_large_photo_is_ranked_at_the_working_size_and_answered_in_its_own_pixels():
    rgb = np.repeat(np.repeat(two_regions(), 8, 0), 8, 1)
    places = suggest(rgb, np.full(rgb.shape[:2], 10.0, np.float32), 2)
    assert places[0]["x"] < 3 * 1024 // 4 and 0 <= places[0]["y"] < 768


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "colorcore", *map(str, args)], capture_output=True, text=True,
                          cwd=REPO, env=dict(__import__("os").environ, COLORCORE_PLUGINS="variational"))


def test_cli_suggest_in_scribble_and_partial_mode(tmp_path):
    from PIL import Image
    photo = (two_regions(48, 64) * 255).astype(np.uint8)
    Image.fromarray(photo).save(tmp_path / "in.png")
    scr = np.zeros((48, 64, 4), np.uint8)
    scr[20:26, 10:16] = (200, 40, 40, 255)
    Image.fromarray(scr).save(tmp_path / "scr.png")
    r = run_cli("colorize", tmp_path / "in.png", "-o", tmp_path / "out.png", "--scribbles", tmp_path / "scr.png",
                "--suggest", 3, tmp_path / "s.json", "--quiet")
    assert r.returncode == 0, r.stderr
    places = json.loads((tmp_path / "s.json").read_text())
    assert 1 <= len(places) <= 3 and "places to paint next" in r.stdout
    assert not any(8 <= p["x"] <= 17 and 18 <= p["y"] <= 27 for p in places)   # not on the stroke
    mask = np.zeros((48, 64), np.uint8)
    mask[:, :32] = 255
    Image.fromarray(mask).save(tmp_path / "mask.png")
    r = run_cli("colorize", tmp_path / "in.png", "-o", tmp_path / "out2.png", "--scribbles", tmp_path / "scr.png",
                "--mask", tmp_path / "mask.png", "--suggest", 2, tmp_path / "s2.json", "--quiet")
    assert r.returncode == 0, r.stderr
    assert all(p["x"] < 34 for p in json.loads((tmp_path / "s2.json").read_text()))
    r = run_cli("colorize", tmp_path / "in.png", "-o", tmp_path / "out3.png", "--scribbles", tmp_path / "scr.png",
                "--suggest", "x", tmp_path / "s3.json")
    assert r.returncode == 2 and "--suggest" in r.stderr and not (tmp_path / "out3.png").exists()


def test_the_manifest_carries_the_request_and_the_bridge_writes_the_places(tmp_path):
    from colorcore.bridge import run_manifest
    h, w = 24, 32
    rgb = two_regions(h, w)
    img = np.dstack([rgb, np.ones((h, w), np.float32)]).astype("<f4")
    scr = np.zeros((h, w, 4), "<f4")
    scr[10:14, 4:8] = (0.8, 0.2, 0.2, 1.0)
    img.tofile(tmp_path / protocol.IMAGE_FILE)
    scr.tofile(tmp_path / protocol.SCRIBBLES_FILE)
    path = protocol.write_manifest(tmp_path, "scribble", "variational", w, h, has_scribbles=True, suggest=4)
    job = protocol.read_manifest(path)
    assert job["suggest"] == 4 and job["suggest_output"] == protocol.SUGGEST_FILE
    assert protocol.read_manifest(protocol.write_manifest(tmp_path / "..", "auto", None, 2, 2))["suggest"] == 0
    out = tmp_path / "lines.txt"
    with out.open("w") as f:
        assert run_manifest(path, out=f) == 0
    places = json.loads((tmp_path / protocol.SUGGEST_FILE).read_text())
    assert 1 <= len(places) <= 4
    bad = json.loads(Path(path).read_text())
    bad["suggest"] = -1
    Path(path).write_text(json.dumps(bad))
    with pytest.raises(protocol.ProtocolError, match="suggest"):
        protocol.read_manifest(path)


@pytest.fixture
def helpers(monkeypatch):
    monkeypatch.syspath_prepend(str(PLUGIN))
    import colorize_suggest
    return colorize_suggest


def test_the_layer_draws_numbered_rings_inside_the_image(helpers, tmp_path):
    places = [{"x": 50, "y": 40, "radius": 8, "rgb": [1, 2, 3]}, {"x": 2, "y": 3, "radius": 4, "rgb": [0, 0, 0]}]
    tiles = helpers.place_tiles(places, 120, 90)
    assert len(tiles) == 2
    for x, y, w, h, data in tiles:
        assert x >= 0 and y >= 0 and x + w <= 120 and y + h <= 90 and len(data) == 16 * w * h
    x, y, w, h, data = tiles[0]
    px = struct.unpack("<%df" % (4 * w * h), data)
    alpha = px[3::4]
    assert 0 < sum(a > 0 for a in alpha) < w * h            # a ring and a label, transparent elsewhere
    r = helpers.ring_radius(places[0], 120, 90)
    on_ring = 4 * ((40 - y) * w + int(round(50 + r - 0.5)) - x)
    assert px[on_ring + 3] == 1.0
    centre = 4 * ((40 - y) * w + (50 - x))
    assert px[centre + 3] == 0.0                            # the place itself stays visible
    (tmp_path / "suggest.json").write_text(json.dumps(places))
    assert helpers.read_places(tmp_path) == places
    (tmp_path / "suggest.json").write_text("{not json")
    assert helpers.read_places(tmp_path) == []
    assert helpers.wants_suggestions("auto", None) == helpers.wants_suggestions("scribble", None) > 0
    assert helpers.wants_suggestions("partial", None) == 0 and helpers.wants_suggestions("auto", [1, 2]) == 0
    assert "Where to paint" in helpers.suggest_message(places) and helpers.suggest_message([]) == ""


def drawn_pixel_by_pixel(helpers, place, rank, width, height, tile):
    """The ring and label the docstring of place_tiles defines, pixel by pixel (the slow, plain definition)."""
    x0, y0, w, h, _ = tile
    r = helpers.ring_radius(place, width, height)
    t, s = max(2.0, r / 6.0), max(2, int(round(r / 5.0)))
    cx, cy = float(place["x"]), float(place["y"])
    lh = 5 * s
    lx, ly = int(round(cx + r * 0.75 + t)), int(round(cy - r * 0.75 - t - lh))
    px = {}
    for y in range(y0, y0 + h):
        for x in range(x0, x0 + w):
            d = abs(math.hypot(x + 0.5 - cx, y + 0.5 - cy) - r)
            if d <= t:
                px[x, y] = helpers.WHITE if d <= t - 1.0 else helpers.BLACK
    for i, ch in enumerate(str(rank)):
        gx = lx + 4 * s * i
        px.update({(x, y): helpers.WHITE for y in range(ly - s, ly + lh + s) for x in range(gx - s, gx + 4 * s)})
        for row, bits in enumerate(helpers._DIGITS[ch]):
            px.update({(x, y): helpers.BLACK for col, bit in enumerate(bits) if bit == "1"
                       for y in range(ly + row * s, ly + (row + 1) * s) for x in range(gx + col * s, gx + (col + 1) * s)})
    out = [0.0] * (4 * w * h)
    for (x, y), rgba in px.items():
        if x0 <= x < x0 + w and y0 <= y < y0 + h:
            k = 4 * ((y - y0) * w + x - x0)
            out[k:k + 4] = rgba
    return out


def test_the_rings_drawn_by_rows_are_the_pixel_by_pixel_rings(helpers):
    rng = random.Random(7)
    for width, height in ((120, 90), (700, 500), (64, 640)):
        places = [{"x": rng.uniform(-5, width + 5), "y": rng.uniform(-5, height + 5),
                   "radius": rng.choice([0.5, 3, 9.7, 40, 130]), "rgb": [0, 0, 0]} for _ in range(11)]
        places += [{"x": 20.5, "y": 30.5, "radius": 11.0, "rgb": [0, 0, 0]}]   # centres on pixel edges
        tiles = helpers.place_tiles(places, width, height)
        # each tile's rank: the places that got one (a place wholly outside the image gets none)
        ranks = [k for k in range(1, len(places) + 1)
                 if len(helpers.place_tiles(places[:k], width, height)) > len(helpers.place_tiles(places[:k - 1], width, height))]
        assert len(ranks) == len(tiles) >= 8
        for rank, tile in zip(ranks, tiles):
            got = struct.unpack("<%df" % (4 * tile[2] * tile[3]), tile[4])
            want = drawn_pixel_by_pixel(helpers, places[rank - 1], rank, width, height, tile)
            assert list(got) == want


def test_the_layer_covers_its_circles_only(helpers):
    places = [{"x": 300, "y": 200, "radius": 10, "rgb": [0, 0, 0]}, {"x": 900, "y": 650, "radius": 20, "rgb": [0, 0, 0]}]
    tiles = helpers.place_tiles(places, 1200, 900)
    x, y, w, h = helpers.tiles_bounds(tiles)
    assert all(x <= tx and y <= ty and tx + tw <= x + w and ty + th <= y + h for tx, ty, tw, th, _ in tiles)
    assert (x, y) == (min(t[0] for t in tiles), min(t[1] for t in tiles))
    assert (x + w, y + h) == (max(t[0] + t[2] for t in tiles), max(t[1] + t[3] for t in tiles))
    assert w * h < 1200 * 900 / 2 and helpers.tiles_bounds([]) == (0, 0, 1, 1)


def test_the_layer_is_never_taken_for_the_scribbles(helpers):
    import colorize_layers
    rows = [(5, helpers.SUGGEST_LAYER_NAME, True), (1, "photo", False)]
    assert colorize_layers.pick_scribble_layer(rows, 1) is None


def test_a_scribble_run_in_the_plugin_adds_the_hidden_where_to_paint_layer(plugin):
    """colorize.py without GIMP (gi stubbed, the real engine): the layer is made, drawn, hidden and inserted."""
    from unittest import mock
    from test_plugin_flow import drawable   # a layer as the gi stub hands it to colorize()
    Gimp = plugin["Gimp"]
    w, h = 40, 30
    source = drawable([(0.3 + 0.4 * (x > 25), 0.3 + 0.4 * (x > 25), 0.3 + 0.4 * (x > 25), 1.0)
                       for _ in range(h) for x in range(w)], 1, w, h)
    scribbles = drawable([(0.9, 0.1, 0.1, 1.0) if x < 3 and y < 3 else (0, 0, 0, 0)
                          for y in range(h) for x in range(w)], 2, w, h)
    props = {"backend": "variational", "alpha": 0.2, "uncertainty-layer": True, "seed": 3,
             "engine-python": sys.executable, "scribble-layer": scribbles, "mask-channel": None}
    config = mock.MagicMock()
    config.get_property.side_effect = props.get
    image = mock.MagicMock()
    image.get_base_type.return_value = Gimp.ImageBaseType.RGB
    plugin["colorize"].__globals__["write_pixels"] = lambda layer, fmt, data: None
    backends = [{"name": "variational", "modes": ["scribble", "partial"], "needs_scribbles": True}]
    plugin["colorize"](None, Gimp.RunMode.NONINTERACTIVE, image, source, config, "scribble", backends)
    names = [c.args[1] for c in Gimp.Layer.new.call_args_list]
    assert plugin["SUGGEST_LAYER_NAME"] in names
    made = Gimp.Layer.new.call_args_list[names.index(plugin["SUGGEST_LAYER_NAME"])].args
    assert 0 < made[2] <= w and 0 < made[3] <= h   # only as large as its circles
    layer = Gimp.Layer.new.return_value   # every mocked layer is this one object: check what was done to it
    layer.set_visible.assert_any_call(False)
    assert layer.get_buffer.return_value.set.call_count >= 1   # the rings' tiles written


def test_the_vividness_factor_is_interpolated_in_the_calibrations_table():
    from backends.gan.plugin import GanBackend, vividness_factor
    from colorcore import Calibration
    table = {"gains": [0.5, 1.0, 1.5], "score_factor": [1.2, 1.0, 1.1]}
    cal = Calibration(lambdas={0.1: 1.0}, extra={"vividness": table})
    assert vividness_factor(cal, 1.0) == 1.0 and vividness_factor(None, 0.7) == 1.0
    assert vividness_factor(cal, 0.75) == pytest.approx(1.1) and vividness_factor(cal, 1.5) == pytest.approx(1.1)
    shipped = GanBackend().calibration()
    assert shipped is None or vividness_factor(shipped, 1.0) == 1.0
    opt = {o.name: o for o in GanBackend.options}["vividness"]
    assert opt.default == 1.0 and (opt.minimum, opt.maximum) == (0.5, 1.5)


def test_a_place_also_counts_what_the_result_coloured_alike_elsewhere():
    """The reach rule (shipped before the regions rule, kept for the measurements). Two red strips apart (40
    columns each) around a green middle (48): walled in by the edges, a stroke holds more of the middle, but one
    red stroke tells the prior both strips' colour. The "either" support (the default) sums a place's gain over
    both; "hold" only over the region the walk reaches."""
    h, w = 96, 128
    rgb = np.empty((h, w, 3), np.float32)
    rgb[:] = (0.75, 0.35, 0.35)
    rgb[:, 40:88] = (0.35, 0.6, 0.35)
    from colorcore import color
    from colorcore.suggest import rgb_sensitivity
    lab = color.rgb_to_lab(rgb)
    radius = (10.0 / rgb_sensitivity(lab[..., 0], lab[..., 1:])).astype(np.float32)   # the same error everywhere
    in_middle = lambda p: 40 <= p["x"] < 88   # noqa: E731
    assert in_middle(suggest(rgb, radius, 1, rule="reach", support="hold")[0])
    assert not in_middle(suggest(rgb, radius, 1, rule="reach")[0])
    assert not in_middle(suggest(rgb, radius, 1, rule="reach", support="alike")[0])
    with pytest.raises(ValueError, match="support must be one of"):
        suggest(rgb, radius, 1, rule="reach", support="nearby")


def test_holds_are_the_same_on_one_thread_and_on_two(monkeypatch):
    rng = np.random.default_rng(3)
    L = np.repeat(np.linspace(20, 80, 100, dtype=np.float32)[None], 90, 0) + rng.normal(0, 2, (90, 100)).astype(np.float32)
    ab = rng.normal(0, 10, (90, 100, 2)).astype(np.float32)
    ys, xs = np.repeat(np.arange(5, 90, 10), 8), np.tile(np.arange(5, 100, 12), 9)   # 72 places: columns split
    monkeypatch.setenv("COLORCORE_THREADS", "1")
    one = holds(L, ab, ys, xs)
    monkeypatch.setenv("COLORCORE_THREADS", "2")
    two = holds(L, ab, ys, xs)
    assert one.shape == (72, 90, 100) and np.array_equal(one, two)


def test_vividness_factors_keep_the_rule_lambda_was_fitted_by():
    """Each gain's factor is its lambda over gain 1's; with conditions, each lambda the larger of the conditions'."""
    from training.calibration.vividness import gain_factors
    rng = np.random.default_rng(0)
    score = [np.ones(400) for _ in range(40)]
    # clean errors scale with the gain; aged ones are the same at every gain and larger than clean at gain 1
    clean = {g: [g * rng.exponential(10, 400) for _ in range(20)] for g in (0.7, 1.0, 1.5)}
    aged = [rng.exponential(12, 400) for _ in range(20)]
    errors = {g: clean[g] + aged for g in clean}
    scores = {g: score for g in clean}
    pooled, _ = gain_factors(scores, errors)
    each, lam = gain_factors(scores, errors, ["clean"] * 20 + ["aged"] * 20)
    assert each[1.0] == 1.0 and pooled[1.5] > 1.0 > pooled[0.7]
    # the aged runs bind at gains up to 1, so those factors stay about 1 (pooled, 0.7 would shrink the radius);
    # at 1.5 the clean errors exceed the aged ones and set the factor
    assert abs(each[0.7] - 1.0) < 0.02 < 1.0 - pooled[0.7] and each[1.5] > 1.1
    assert lam[0.7] >= lam[1.0] * 0.98


def test_with_a_likeness_the_next_region_is_of_another_colour():
    """Two large green patches, a red and a blue strip, equally unsure: by weight alone both green patches come
    before the strips; counting regions coloured alike as fixed by a stroke, the second place leaves the green."""
    rgb = np.zeros((96, 128, 3), np.float32)
    rgb[:, :48] = rgb[:, 64:112] = (0.3, 0.6, 0.3)
    rgb[:, 48:64] = (0.7, 0.3, 0.3)
    rgb[:, 112:] = (0.3, 0.3, 0.7)
    radius = np.full(rgb.shape[:2], 10.0, np.float32)
    green = lambda p: p["x"] < 48 or 64 <= p["x"] < 112   # noqa: E731
    plain = suggest(rgb, radius, 2, region_sigma=0.0)
    assert green(plain[0]) and green(plain[1])
    alike_too = suggest(rgb, radius, 4)   # the default
    assert green(alike_too[0]) and not green(alike_too[1]) and not green(alike_too[2])
    assert green(alike_too[3])   # a colour already chosen comes later, not never


@pytest.mark.parametrize("shape", [(1, 1), (1, 6), (3, 3), (2, 50)])
def test_a_tiny_image_gets_places_inside_it(shape):
    rgb = np.random.default_rng(0).random(shape + (3,)).astype(np.float32)
    places = suggest(rgb, np.full(shape, 10.0, np.float32), 5)
    assert 1 <= len(places) <= 5 and len({(p["x"], p["y"]) for p in places}) == len(places)
    assert all(0 <= p["y"] < shape[0] and 0 <= p["x"] < shape[1] for p in places)
