"""Filters > Colorize in a real GIMP 3: batch (NONINTERACTIVE) calls of all three procedures.

One GIMP session runs every case (tests/e2e/gimp_driver.py inside GIMP); the tests below check its
report and the raw pixels it dumped, on the host, with numpy.
"""
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from training.shared_data import shared_data

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
PROCS = ["plug-in-colorize-auto", "plug-in-colorize-scribble", "plug-in-colorize-partial",
         "plug-in-colorize-reference"]

SHARED = shared_data(REPO) / "oldphotos_v1"
RGB_PHOTO = SHARED / "DeOldify_test_images" / "1892WaterLillies.jpg"
GRAY_PHOTO = SHARED / "RNI6_real_gray" / "Marilyn.jpg"
FALLBACK = HERE.parents[1] / "examples" / "sample" / "cottage.png"   # our own synthetic scene
STROKES = [  # (name, rgb, (y0, y1, x0, x1) as fractions of the photo) -- hints painted by "the user",
    # on mid-tones where the colour fits the sRGB gamut at the photo's lightness
    ("trees", (60, 125, 50), (0.14, 0.17, 0.02, 0.25)),
    ("water", (55, 100, 135), (0.60, 0.63, 0.02, 0.20)),
    ("red", (175, 60, 55), (0.55, 0.58, 0.62, 0.72)),
    ("ground", (140, 100, 60), (0.40, 0.43, 0.80, 0.95)),
]


# ----------------------------------------------------------------------------- colour maths (host side)
def srgb_to_lab(rgb):
    rgb = np.clip(rgb.astype(np.float64), 0, 1)
    lin = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    m = np.array([[0.4124564, 0.3575761, 0.1804375], [0.2126729, 0.7151522, 0.0721750],
                  [0.0193339, 0.1191920, 0.9503041]])
    xyz = lin @ m.T / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], -1)


def load(out, name, tag, w, h, c=4):
    return np.fromfile(out / ("%s.%s.f32" % (name, tag)), "<f4").reshape(h, w, c) if c > 1 else \
        np.fromfile(out / ("%s.%s.f32" % (name, tag)), "<f4").reshape(h, w)


# ----------------------------------------------------------------------------- inputs
def photos(work):
    """(rgb photo path, gray photo path, size of each), converted to PNG in the work folder."""
    from PIL import Image
    srcs = (RGB_PHOTO, GRAY_PHOTO) if RGB_PHOTO.exists() and GRAY_PHOTO.exists() else (FALLBACK, FALLBACK)
    sys.stderr.write("\n[gimp3 e2e] photos: %s%s\n" % (", ".join(map(str, srcs)), "" if srcs[0] != FALLBACK else
                     " (the synthetic fallback: no %s; set COLORCORE_SHARED_DATA)" % SHARED))
    out = []
    for i, src in enumerate(srcs):
        im = Image.open(src)
        im = im.convert("RGB") if i == 0 else im.convert("L")
        p = work / ("photo_rgb.png" if i == 0 else "photo_gray.png")
        im.save(p)
        out.append((str(p), im.size))
    return out


def screened_png(path, photo, period=4.5):
    """The gray photo printed through a halftone screen (training.aging.halftone), as an 8-bit gray PNG."""
    from PIL import Image
    from training.aging import halftone
    g = np.asarray(Image.open(photo).convert("L"), np.float32)[..., None].repeat(3, -1) / 255.0
    out, _ = halftone(g, np.random.default_rng(0), {"period": (period, period)})
    Image.fromarray(np.round(out[..., 0] * 255).astype(np.uint8)).save(path)
    return str(path)


ANIMATION_MS = [80, 120, 160, 200]


def animated_gif(work, photo, size=(200, 150), step=6):
    """A gray GIF that pans across the photo, one frame time per frame, looping forever."""
    from PIL import Image
    im = Image.open(photo).convert("L")
    im = im.resize((size[0] + step * len(ANIMATION_MS), round(im.height * (size[0] + step * len(ANIMATION_MS))
                                                             / im.width)))
    frames = [im.crop((step * i, 0, step * i + size[0], size[1])) for i in range(len(ANIMATION_MS))]
    path = work / "animation.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=ANIMATION_MS, loop=0)
    return str(path)


def scribble_png(path, w, h, dx=0, dy=0, cw=None, ch=None, strokes=STROKES):
    """Strokes at photo positions, drawn on a canvas of (cw, ch) where the photo sits at (dx, dy)."""
    from PIL import Image
    cw, ch = cw or w, ch or h
    a = np.zeros((ch, cw, 4), np.uint8)
    for _, rgb, (y0, y1, x0, x1) in strokes:
        ys = slice(max(int(y0 * h) + dy, 0), max(int(y1 * h) + dy, 0))
        xs = slice(max(int(x0 * w) + dx, 0), max(int(x1 * w) + dx, 0))
        a[ys, xs] = list(rgb) + [255]
    Image.fromarray(a).save(path)
    return str(path)


def stroke_boxes(w, h, strokes=STROKES):
    return [(n, rgb, (int(y0 * h), int(y1 * h), int(x0 * w), int(x1 * w))) for n, rgb, (y0, y1, x0, x1) in strokes]


ONE_MP = (1152, 864)
WHERE_TO_PAINT = "Where to paint"   # the hidden layer of suggested places Auto and Scribble add


def three_runs_case(work, rgb_path, backend):
    """Scribble three times on one 1 MP photo, a stroke added before each later run (the paint-run-look loop
    the warm engine is for): each run gets the layer holding all strokes so far."""
    from PIL import Image
    path = work / "photo_1mp.png"
    Image.open(rgb_path).convert("RGB").resize(ONE_MP, Image.BICUBIC).save(path)
    layers = [scribble_png(work / ("strokes_%d.png" % k), *ONE_MP, strokes=STROKES[:k + 1]) for k in range(3)]
    return dict(name="warm_scribble_three_runs", proc=PROCS[1],
                ops=[["load", str(path)], ["scribble", layers[0], "Strokes 1", 0, 0]],
                args={"backend": backend, "seed": 1, "scribble-layer": "@layer:Strokes 1"},
                reruns=[{"scribbles": [(layers[k], "Strokes %d" % (k + 1))], "scribble_layer": "Strokes %d" % (k + 1)}
                        for k in (1, 2)])


def pick_backend(backends, mode):
    rows = [b for b in backends if mode in b.get("modes", [])]
    ok = [b for b in rows if b.get("available", True)]
    return (ok[0] if ok else None), rows


# ----------------------------------------------------------------------------- the session
@pytest.fixture(scope="module")
def batch(gimp3, tmp_path_factory):
    work = tmp_path_factory.mktemp("gimp_batch")
    (rgb_path, (W, H)), (gray_path, (GW, GH)) = photos(work)
    backends = gimp3.backends()
    chosen = {m: pick_backend(backends, m) for m in ("auto", "scribble", "partial")}
    sb = chosen["scribble"][0]["name"] if chosen["scribble"][0] else None
    pb = chosen["partial"][0]["name"] if chosen["partial"][0] else None
    ab = chosen["auto"][0]["name"] if chosen["auto"][0] else None
    # the fake engine (tests/e2e/fake_engine.py) drives the crash / bad-input paths
    shutil.copy(HERE / "fake_engine.py", work / "fake_engine.py")
    fakes = {}
    for how in ("ok", "crash", "bad", "hang"):
        p = work / ("fake-%s.sh" % how)
        p.write_text('#!/bin/sh\nE2E_FAKE=%s exec %s %s "$@"\n' % (how, gimp3.engine_py, work / "fake_engine.py"))
        p.chmod(0o755)
        fakes[how] = str(p)
    scr = scribble_png(work / "scr.png", W, H)
    scr_off = scribble_png(work / "scr_off.png", W, H, dx=30, dy=20, cw=W + 60, ch=H + 40)
    cx, cy = min(40, W // 16), min(30, H // 16)   # how far the photo sticks out of the canvas on each side
    scr_big = scribble_png(work / "scr_big.png", W, H, dx=-cx, dy=-cy, cw=W - 2 * cx, ch=H - 2 * cy)
    S, P, A, R = PROCS[1], PROCS[2], PROCS[0], PROCS[3]
    ell = [int(-W * 0.15), int(H * 0.05), int(W * 1.3), int(H * 0.7)]
    cases = []
    if sb:
        cases += [
            dict(name="scribble_rgb8", proc=S, ops=[["load", rgb_path], ["scribble", scr, "Scribbles", 0, 0]],
                 args={"backend": sb, "seed": 1}),
            dict(name="scribble_offsets_alpha", proc=S,
                 ops=[["load", rgb_path], ["resize", W + 60, H + 40, 30, 20],
                      ["alpha_hole", 30, 20 + H - 40, 50, 40], ["scribble", scr_off, "my hints", 0, 0]],
                 args={"backend": sb, "seed": 1}),
            dict(name="scribble_larger_than_canvas", proc=S,
                 ops=[["load", rgb_path], ["resize", W - 2 * cx, H - 2 * cy, -cx, -cy],
                      ["scribble", scr_big, "Scribbles", 0, 0]],
                 args={"backend": sb, "scribble-layer": "@layer:Scribbles"}),
            dict(name="scribble_no_uncertainty", proc=S,
                 ops=[["load", rgb_path], ["scribble", scr, "Scribbles", 0, 0]],
                 args={"backend": sb, "uncertainty-layer": False, "alpha": 0.2}),
            dict(name="scribble_alpha_0_2", proc=S,
                 ops=[["load", rgb_path], ["scribble", scr, "Scribbles", 0, 0]], args={"backend": sb, "alpha": 0.2}),
            dict(name="scribble_float32", proc=S,   # a script sets backend options by their argument names
                 ops=[["load", rgb_path], ["precision", "float"], ["scribble", scr, "Scribbles", 0, 0]],
                 args={"backend": sb, sb + "-work-megapixels": 0.25, sb + "-edge-sensitivity": 2.0}),
        ]
    if sb:
        cases.append(three_runs_case(work, rgb_path, sb))
    if pb:
        cases += [
            dict(name="partial_feathered", proc=P,
                 ops=[["load", rgb_path], ["scribble", scr, "Scribbles", 0, 0], ["select_ellipse"] + ell,
                      ["feather", 40]], args={"backend": pb, "seed": 1}),
            dict(name="partial_channel", proc=P,
                 ops=[["load", rgb_path], ["scribble", scr, "Scribbles", 0, 0],
                      ["select_rect", 0, 0, W // 2, H], ["channel_from_selection", "left half"]],
                 args={"backend": pb, "mask-channel": "@channel:left half"}),
        ]
    if any(b["name"] == "partial-gan" and b.get("available", True) for b in backends):
        # the mask-conditioned GAN on a gray photo with a feathered ellipse: the README's selective-colour picture
        gell = [int(GW * 0.3), int(GH * 0.15), int(GW * 0.4), int(GH * 0.6)]
        cases.append(dict(name="partial_gan_gray", proc=P, ops=[["load", gray_path], ["select_ellipse"] + gell,
                                                                ["feather", max(8, GW // 40)]],
                          args={"backend": "partial-gan", "seed": 1}))
    if ab:
        cases += [
            dict(name="auto_animation_gif", proc=A, ops=[["load_animation", animated_gif(work, gray_path)]],
                 args={"backend": ab, "seed": 1}, export_gif=True),
            dict(name="auto_rgb8", proc=A, ops=[["load", rgb_path]], args={"backend": ab, "seed": 1}),
            dict(name="auto_interval_layers", proc=A, ops=[["load", rgb_path]],
                 args={"backend": ab, "seed": 1, "interval-layers": True}),
            dict(name="auto_gray16", proc=A, ops=[["load", gray_path], ["precision", "u16"]],
                 args={"backend": ab, "seed": 1}),
            # a scan of a printed photo: the engine blurs the screen out of its copy (colorcore.descreen); the
            # layers keep the scan's own lightness, dots and all
            dict(name="auto_halftone", proc=A, ops=[["load", screened_png(work / "photo_screened.png", gray_path)]],
                 args={"backend": ab, "seed": 1}),
        ]
    if any(b["name"] == "reference" and b.get("available", True) for b in backends):
        # From reference...: the photo in gray as the target, the colour photo opened beside it as the reference
        from PIL import Image
        as_gray = work / "photo_rgb_as_gray.png"
        Image.open(rgb_path).convert("L").save(as_gray)
        cases += [
            dict(name="reference_default", proc=R, ops=[["load", str(as_gray)], ["load_reference", rgb_path]],
                 args={"backend": "reference", "seed": 1}),
            # a layer of this image as the reference, strokes on "Scribbles", only the selection changes
            dict(name="reference_layer_selection", proc=R,
                 ops=[["load", str(as_gray)], ["rgb"], ["scribble", rgb_path, "Reference", 0, 0],
                      ["scribble", scr, "Scribbles", 0, 0], ["select_rect", 0, 0, W // 2, H],
                      ["load_reference", gray_path]],   # an open gray image: never the reference
                 args={"backend": "reference", "seed": 1, "reference-layer": "@layer:Reference"}),
            dict(name="err_reference_gray", proc=R, ops=[["load", rgb_path], ["load_reference", gray_path]],
                 args={"backend": "reference", "reference-image": "@reference"}),
            dict(name="err_reference_none", proc=R, ops=[["load", str(as_gray)]], args={"backend": "reference"}),
        ]
    unavailable = [b for b in backends if not b.get("available", True)]
    if unavailable:
        u = unavailable[0]
        proc = {"auto": A, "scribble": S, "partial": P}[u["modes"][0]]
        ops = [["load", rgb_path], ["scribble", scr, "Scribbles", 0, 0], ["select_rect", 0, 0, W // 2, H]]
        cases.append(dict(name="err_backend_unavailable", proc=proc, ops=ops, args={"backend": u["name"]},
                          reason=u.get("unavailable_reason")))
    cases.insert(0, dict(name="cancel_kills_engine", proc=A, ops=[["load", rgb_path]],
                         args={"engine-python": fakes["hang"]}, kill_plugin=True))
    cases += [
        # GIMP-side mechanics with the fake engine: 16-bit GRAY, every mode
        dict(name="fake_auto_gray16", proc=A, ops=[["load", gray_path], ["precision", "u16"]],
             args={"engine-python": fakes["ok"]}),
        dict(name="fake_partial_rgb8", proc=P, ops=[["load", rgb_path], ["scribble", scr, "Scribbles", 0, 0],
                                                    ["select_rect", 10, 10, W // 2, H // 2]],
             args={"engine-python": fakes["ok"]}),
        # bad cases: error status, readable message, image unchanged
        dict(name="err_no_scribble_layer", proc=S, ops=[["load", rgb_path]], args={}),
        dict(name="err_partial_empty_selection", proc=P, ops=[["load", rgb_path], ["scribble", scr, "Scribbles", 0, 0]],
             args={}),
        dict(name="err_partial_selection_off_layer", proc=P,
             ops=[["load", rgb_path], ["resize", W + 100, H, 100, 0], ["scribble", scr, "Scribbles", 100, 0],
                  ["select_rect", 0, 0, 90, 50]], args={}),
        dict(name="err_engine_missing", proc=A, ops=[["load", rgb_path]], args={"engine-python": "/nonexistent/python"}),
        dict(name="err_engine_crash", proc=S, ops=[["load", rgb_path], ["scribble", scr, "Scribbles", 0, 0]],
             args={"engine-python": fakes["crash"]}),
        dict(name="err_engine_bad_input", proc=S, ops=[["load", rgb_path], ["scribble", scr, "Scribbles", 0, 0]],
             args={"engine-python": fakes["bad"]}),
    ]
    mode_of = {A: "auto", S: "scribble", P: "partial", R: "reference"}
    for c in cases:
        rows = [b for b in backends if mode_of[c["proc"]] in b.get("modes", [])]
        ok = [b for b in rows if b.get("available", True)]   # the one made for the mode, else the first available
        default = ([b["name"] for b in ok if b["modes"][0] == mode_of[c["proc"]]] + [b["name"] for b in ok]
                   + [b["name"] for b in rows] + ["fake"])[0]
        c["expect_backend"] = c["args"].get("backend") or default
    rc, log, report = gimp3.run_driver(HERE / "gimp_driver.py", work, {"cases": cases})
    assert report is not None, "GIMP driver wrote no report (rc %s):\n%s" % (rc, log[-5000:])
    timings = []
    tfile = work / "out" / "timing.jsonl"
    if tfile.exists():
        timings = [json.loads(l) for l in tfile.read_text().splitlines() if l.strip()]
    return dict(crop=(cx, cy), work=work, out=work / "out", report=report, log=log, rc=rc,
                cases={c["name"]: c for c in cases},
                chosen=chosen, size=(W, H), gray_size=(GW, GH), timings=timings, gimp3=gimp3)


def case(batch, name):
    rec = batch["report"]["cases"].get(name)
    if rec is None:
        pytest.skip("case %s not run (no available backend for its mode: %s)" % (name, {
            m: [(b["name"], b.get("unavailable_reason")) for b in rows] for m, (_, rows) in batch["chosen"].items()}))
    return rec


def succeeded(batch, name):
    """The case's record, asserting it succeeded, and its source layer's record ("Photo", before the run)."""
    rec = case(batch, name)
    assert rec["status"] == "success", rec.get("error")
    return rec, [l for l in rec["before"]["layers"] if l["name"] == "Photo"][0]


SUCCESS = ["scribble_rgb8", "scribble_offsets_alpha", "scribble_larger_than_canvas", "scribble_float32",
           "partial_feathered", "partial_channel", "auto_rgb8", "auto_gray16", "auto_halftone",
           "fake_auto_gray16",
           "fake_partial_rgb8", "partial_gan_gray", "reference_default", "reference_layer_selection"]
ERRORS = {"err_no_scribble_layer": ("calling-error", "no scribble layer"),
          "err_partial_empty_selection": ("calling-error", "nothing is selected"),
          "err_partial_selection_off_layer": ("calling-error", "does not cover any pixel"),
          "err_engine_missing": ("execution-error", "does not exist"),
          "err_engine_crash": ("execution-error", "crashed"),
          "err_engine_bad_input": ("calling-error", "the scribbles hold no colour"),
          "err_backend_unavailable": ("execution-error", None),
          "err_reference_gray": ("calling-error", "the reference has no colour; choose a colour image"),
          "err_reference_none": ("calling-error", "no colour image other than this one is open")}


# ----------------------------------------------------------------------------- tests
def test_install_py_succeeded(gimp3):
    assert gimp3.install_rc == 0, gimp3.install_output[-4000:]
    assert "plug-in installed" in gimp3.install_output
    assert (gimp3.plugin_dir / "colorize.py").exists() and (gimp3.plugin_dir / "engine.json").exists()
    eng = json.loads((gimp3.plugin_dir / "engine.json").read_text())
    assert eng["python"] == gimp3.engine_py
    assert (gimp3.install_home / ".local" / "bin" / "colorcore").exists()   # the CLI link, in the test's own home


def test_registered_with_menu_path_and_labels(batch):
    procs = batch["report"]["procedures"]
    labels = {"plug-in-colorize-auto": "Auto\u2026", "plug-in-colorize-scribble": "Scribble\u2026",
              "plug-in-colorize-partial": "Partial\u2026", "plug-in-colorize-reference": "From reference\u2026"}
    for name, label in labels.items():
        info = procs.get(name)
        assert info is not None, "%s not in the PDB; GIMP log:\n%s" % (name, batch["log"][-3000:])
        assert info["menu_paths"] == ["<Image>/Filters/Colorize"]
        assert info["menu_label"] == label
        assert "RGB*" in info["image_types"] and "GRAY*" in info["image_types"]
        for arg in ("backend", "alpha", "uncertainty-layer", "seed"):
            assert arg in info["arguments"]
    assert "scribble-layer" in procs["plug-in-colorize-scribble"]["arguments"]
    assert "mask-channel" in procs["plug-in-colorize-partial"]["arguments"]
    assert {"reference-image", "reference-layer", "scribble-layer"} <= set(procs["plug-in-colorize-reference"]["arguments"])


@pytest.mark.parametrize("name", SUCCESS)
def test_success_adds_two_layers_and_keeps_source(batch, name):
    rec, src = succeeded(batch, name)
    before, after = rec["before"]["layers"], rec["after"]["layers"]
    backend = batch["cases"][name]["expect_backend"]
    names = [l["name"] for l in after]
    i = names.index("Photo")
    assert names[i - 1] == "Colorized (%s)" % backend, names
    assert names[i - 2] == "Uncertainty (%s)" % backend, names
    new = ("Colorized (%s)" % backend, "Uncertainty (%s)" % backend, WHERE_TO_PAINT)
    assert [l for l in names if l not in new] == [l["name"] for l in before]
    if batch["cases"][name]["proc"] in (PROCS[0], PROCS[1]) and not name.startswith("fake_"):
        # Auto and Scribble also add the hidden "Where to paint" layer, just above the new ones
        assert names[i - 3] == WHERE_TO_PAINT, names
        assert not after[i - 3]["visible"], "the suggestions layer must be hidden (exports unaffected)"
        marks = after[i - 3]   # only as large as its circles, and where they are: inside the source layer
        assert (src["ox"] <= marks["ox"] and marks["ox"] + marks["w"] <= src["ox"] + src["w"]
                and src["oy"] <= marks["oy"] and marks["oy"] + marks["h"] <= src["oy"] + src["h"]), (marks, src)
    for lay in after[i - 2:i]:
        assert (lay["w"], lay["h"], lay["ox"], lay["oy"]) == (src["w"], src["h"], src["ox"], src["oy"])
    assert rec["after"]["base_type"] == "rgb"
    assert rec["after"]["precision"] == rec["before"]["precision"]
    out = batch["out"]
    before_px = (out / (name + ".src_before.f32")).read_bytes()
    after_px = (out / (name + ".src_after.f32")).read_bytes()
    if rec["before"]["base_type"] == "rgb":
        assert before_px == after_px, "the source layer changed"
    else:  # a GRAY image is converted to RGB (same undo group). The stored values stay (the plug-in puts them
        # back if the conversion moved them), but babl reads a 16-bit GRAY and a 16-bit RGB layer as float by
        # different paths that may round one ulp apart (seen: 6e-8 on one clean CI run, 0 on others)
        d = np.abs(np.frombuffer(before_px, "<f4") - np.frombuffer(after_px, "<f4")).max()
        assert d < 1e-6, "the source layer changed by %g in the GRAY -> RGB conversion" % d
        stored = out / (name + ".src_stored_before.raw")
        if stored.exists():   # 8 or 16 bits: the stored values, read as stored, are exactly the same
            dtype = "u1" if rec["before"]["precision"].startswith("u8") else "<u2"
            gray = np.frombuffer(stored.read_bytes(), dtype)
            rgb = np.frombuffer((out / (name + ".src_stored_after.raw")).read_bytes(), dtype)
            c = 1 + bool(src["alpha"])
            gray, rgb = gray.reshape(-1, c), rgb.reshape(-1, 2 + c)
            assert np.array_equal(rgb[:, :3], np.repeat(gray[:, :1], 3, 1)), "a stored gray value changed"
            assert np.array_equal(rgb[:, 3:], gray[:, 1:]), "a stored alpha changed"
    par = json.loads(after[i - 2]["parasite"])
    assert par["backend"] == backend and par["delta_e_at_white"] > 0 and 0 < par["alpha"] < 1


@pytest.mark.parametrize("name", SUCCESS)
def test_colorized_keeps_lightness_and_alpha(batch, name):
    rec, src = succeeded(batch, name)
    w, h = src["w"], src["h"]
    out = batch["out"]
    s = load(out, name, "src_before", w, h)
    c = load(out, name, "colorized", w, h)
    u = load(out, name, "uncertainty", w, h)
    np.testing.assert_array_equal(c[..., 3], s[..., 3])
    np.testing.assert_array_equal(u[..., 3], s[..., 3])
    if name.startswith("fake_"):
        return   # the fake engine's tint does not keep L exactly
    vis = s[..., 3] > 0
    mfile = out / (name + ".mask.f32")
    if mfile.exists():  # a soft mask blends source and colour: L is only promised where the mask is 0 or 1
        m = np.fromfile(mfile, "<f4").reshape(h, w)
        vis &= (m == 0) | (m == 1)
    # Where the colour fits the sRGB gamut the engine puts the source's L back exactly (up to the layer's
    # quantisation); where it had to clip a channel to 0 or 1, L may move: reported, bounded loosely.
    in_gamut = vis & np.all((c[..., :3] > 1e-4) & (c[..., :3] < 1 - 1e-4), axis=-1)
    dl_all = np.abs(srgb_to_lab(c[..., :3])[..., 0] - srgb_to_lab(s[..., :3])[..., 0])
    dl = dl_all[in_gamut]
    lsb = 100 / 255 if "float" not in name and "16" not in name else 0.05
    assert in_gamut.sum() > 1000, "almost every pixel clipped"
    assert dl.mean() < 0.2 + lsb and np.percentile(dl, 99) < 0.5 + 2 * lsb, \
        "lightness changed in gamut: mean %.2f p99 %.2f" % (dl.mean(), np.percentile(dl, 99))
    clipped = vis & ~in_gamut
    print("%s: %.1f%% pixels clipped to the gamut; there mean |dL| %.2f" % (
        name, 100 * clipped.mean(), dl_all[clipped].mean() if clipped.any() else 0.0))
    assert np.all((u[..., :3] >= 0) & (u[..., :3] <= 1))


@pytest.mark.parametrize("name", ["scribble_rgb8", "scribble_offsets_alpha", "scribble_larger_than_canvas",
                                  "scribble_float32", "partial_feathered", "reference_layer_selection"])
def test_chroma_follows_the_scribbles(batch, name):
    rec, src = succeeded(batch, name)
    W, H = batch["size"]
    c = load(batch["out"], name, "colorized", src["w"], src["h"])
    lab = srgb_to_lab(c[..., :3])
    mfile = batch["out"] / (name + ".mask.f32")
    m = np.fromfile(mfile, "<f4").reshape(src["h"], src["w"]) if mfile.exists() else None
    checked = 0
    for stroke, rgb, (y0, y1, x0, x1) in stroke_boxes(W, H):
        if m is not None and m[y0:y1, x0:x1].mean() < 0.99:
            continue   # stroke outside the Partial mask: nothing promised there
        if "larger" in name:   # the scribble layer covers only the canvas: photo x in [cx, W-cx), y in [cy, H-cy)
            cx, cy = batch["crop"]
            area = (y1 - y0) * (x1 - x0)
            y0, y1, x0, x1 = max(y0, cy), min(y1, H - cy), max(x0, cx), min(x1, W - cx)
            if y1 <= y0 or x1 <= x0 or (y1 - y0) * (x1 - x0) < 0.5 * area:
                continue
        checked += 1
        want = srgb_to_lab(np.array(rgb, np.float64) / 255)[1:]
        got = lab[y0:y1, x0:x1, 1:].reshape(-1, 2).mean(0)
        assert np.linalg.norm(got) > 8, "%s: no chroma under the %s stroke (ab %s)" % (name, stroke, got)
        cos = got @ want / (np.linalg.norm(got) * np.linalg.norm(want))
        assert cos > 0.7, "%s: hue under the %s stroke is off (ab %s, want %s)" % (name, stroke, got, want)
    assert checked >= 2


@pytest.mark.parametrize("name", ["partial_feathered", "partial_channel", "fake_partial_rgb8", "partial_gan_gray",
                                  "reference_layer_selection"])
def test_partial_outside_mask_equals_source(batch, name):
    rec, src = succeeded(batch, name)
    w, h = src["w"], src["h"]
    out = batch["out"]
    m = np.fromfile(out / (name + ".mask.f32"), "<f4").reshape(h, w)
    s = load(out, name, "src_before", w, h)
    c = load(out, name, "colorized", w, h)
    outside = m == 0
    assert outside.any() and (m > 0.99).any()
    if name == "partial_feathered":
        assert ((m > 0.01) & (m < 0.99)).mean() > 0.01, "feathered selection should give a soft mask"
    diff = np.abs(c[..., :3] - s[..., :3])[outside]
    assert diff.max() < 1e-6, "outside the mask the colorized layer differs from the source by %g" % diff.max()
    inside = m > 0.99
    chroma = np.linalg.norm(srgb_to_lab(c[..., :3])[..., 1:], axis=-1)
    chroma_src = np.linalg.norm(srgb_to_lab(s[..., :3])[..., 1:], axis=-1)
    assert np.abs(chroma - chroma_src)[inside].mean() > 1.0, "nothing was colorized inside the mask"
    if name == "partial_gan_gray":   # before | after, kept with the test output (docs/gimp/partial-before-after.jpg)
        from PIL import Image
        pair = np.concatenate([s[..., :3], c[..., :3]], 1)
        Image.fromarray((np.clip(pair, 0, 1) * 255 + 0.5).astype(np.uint8)).save(out / "partial_gan_before_after.png")


def test_uncertainty_switch_and_alpha(batch):
    rec = case(batch, "scribble_no_uncertainty")
    assert rec["status"] == "success", rec.get("error")
    names = [l["name"] for l in rec["after"]["layers"]]
    added = [n for n in names if n not in {l["name"] for l in rec["before"]["layers"]}]
    backend = batch["cases"]["scribble_no_uncertainty"]["expect_backend"]
    assert sorted(added) == sorted(["Colorized (%s)" % backend, WHERE_TO_PAINT]), added   # no uncertainty layer
    a = json.loads([l for l in case(batch, "scribble_alpha_0_2")["after"]["layers"]
                    if l["name"].startswith("Uncertainty")][0]["parasite"])
    b = json.loads([l for l in case(batch, "scribble_rgb8")["after"]["layers"]
                    if l["name"].startswith("Uncertainty")][0]["parasite"])
    assert a["alpha"] == pytest.approx(0.2) and b["alpha"] == pytest.approx(0.1)
    assert a["delta_e_at_white"] <= b["delta_e_at_white"] + 1e-6, "a larger alpha must not widen the radius"


def test_gray16_converted_to_rgb_in_16_bit(batch):
    for name in ("fake_auto_gray16", "auto_gray16"):
        rec = batch["report"]["cases"].get(name)
        if rec is None:
            continue
        assert rec["status"] == "success", rec.get("error")
        assert rec["before"]["base_type"] == "gray" and rec["after"]["base_type"] == "rgb"
        assert "16" in rec["after"]["precision"], rec["after"]["precision"]
        src = rec["before"]["layers"][0]
        c = load(batch["out"], name, "colorized", src["w"], src["h"])
        vals = np.unique(np.round(c[..., :3].ravel() * 65535))
        assert len(vals) > 256, "16-bit output collapsed to %d levels" % len(vals)


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_bad_cases_fail_cleanly(batch, name):
    rec = case(batch, name)
    status, text = ERRORS[name]
    assert rec["status"] == status, (rec["status"], rec.get("error"))
    msg = rec.get("error") or ""
    assert msg.startswith("Colorize: ") and len(msg) > 25, msg
    if text is None:
        text = (batch["cases"][name].get("reason") or "")[:30]
    assert text in msg, msg
    assert "Traceback" not in msg
    assert rec["after"] == rec["before"], "image changed by a failed call"
    out = batch["out"]
    assert (out / (name + ".src_before.f32")).read_bytes() == (out / (name + ".src_after.f32")).read_bytes()


def test_cancel_kills_the_engine_and_leaves_the_image(batch):
    """GIMP kills a plug-in whose progress the user cancels: the engine must die with it, the image stay
    as it was, and the job folder go at the next run."""
    rec = case(batch, "cancel_kills_engine")
    assert rec.get("killed_plugin"), "the engine never started: %s" % rec
    assert rec["status"] != "success"
    assert rec["engine_alive_after"] is False, "the engine outlived its killed plug-in"
    assert rec["after"] == rec["before"]


def test_no_temp_files_left(batch):
    import glob
    import tempfile
    root = batch["gimp3"].root
    left = glob.glob(root + "/tmp/gimp-colorize-*") + glob.glob(tempfile.gettempdir() + "/gimp-colorize-*") + \
        glob.glob("/dev/shm/gimp-colorize-*")
    assert not left, left


def test_timings_logged(batch):
    ok = [t for t in batch["timings"]]
    assert ok, "no timing lines"
    for t in ok:
        for k in ("engine_start", "engine_work", "transfer_in", "transfer_out", "total"):
            assert k in t
    lines = ["%-10s %-12s %5.2f MP  start %.2f s  work %.2f s  transfer %.2f s  total %.2f s"
             % (t["mode"], t["backend"], t["megapixels"], t["engine_start"], t["engine_work"], t["transfer"],
                t["total"]) for t in ok]
    (batch["work"] / "timings.txt").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def test_an_animated_gif_colorized_with_auto_exports_as_a_gif_with_its_timing(batch):
    """GIMP opens the GIF as one layer per frame; Auto (frames: auto) colorizes them as an animation into a new
    image, which exports as a GIF that plays with the original frame times, and the source image is untouched."""
    from PIL import Image
    rec = case(batch, "auto_animation_gif")
    assert rec["status"] == "success", rec.get("error")
    assert rec["after"]["layers"] == rec["before"]["layers"]           # the source image as it was
    colour = [im for im in rec["new_images"] if im["base_type"] == "rgb"]
    assert len(colour) == 1 and len(rec["new_images"]) == 2             # colorized and uncertainty images
    names = [l["name"] for l in reversed(colour[0]["layers"])]
    assert names == [l["name"] + " (replace)" for l in reversed(rec["before"]["layers"])]   # whole frames now
    assert rec["exported"] == "success"
    gif = Image.open(batch["out"] / "auto_animation_gif.gif")
    source = Image.open(batch["work"] / "animation.gif")
    assert gif.n_frames == source.n_frames == len(ANIMATION_MS)
    times, frames = [], []
    for i in range(gif.n_frames):
        gif.seek(i)
        source.seek(i)
        times.append(gif.info["duration"])
        rgb = np.asarray(gif.convert("RGB"), np.float64) / 255
        gray = np.asarray(source.convert("L"), np.float64) / 255
        lab = srgb_to_lab(rgb)
        assert np.hypot(lab[..., 1], lab[..., 2]).mean() > 3            # in colour
        assert np.abs(lab[..., 0] - srgb_to_lab(np.repeat(gray[..., None], 3, 2))[..., 0]).mean() < 4   # its tones
        frames.append(lab)
    steady = [np.abs(a[..., 1:] - b[..., 1:]).mean() for a, b in zip(frames, frames[1:])]
    assert max(steady) < 6, steady                                      # colour follows the pan, no re-guessing
    assert times == ANIMATION_MS and gif.info.get("loop") == 0
    sys.stderr.write("\n[gimp3 e2e] animation: %d frames exported, %s ms\n" % (gif.n_frames, times))


def test_rgb_interval_layers_bound_the_colorized_layer(batch):
    """Add RGB interval layers: two hidden layers above the uncertainty layer, low <= colorized <= high."""
    rec, _ = succeeded(batch, "auto_interval_layers")
    W, H = batch["size"]
    names = [l["name"] for l in rec["after"]["layers"]]
    backend = batch["cases"]["auto_interval_layers"]["expect_backend"]
    low, high = "RGB interval low (%s)" % backend, "RGB interval high (%s)" % backend
    assert [n for n in names if n != WHERE_TO_PAINT][:4] == [high, low, "Uncertainty (%s)" % backend,
                                                             "Colorized (%s)" % backend], names
    assert not any(l["visible"] for l in rec["after"]["layers"] if l["name"] in (low, high))
    out = batch["out"]
    rgb, lo, hi = (load(out, "auto_interval_layers", t, W, H)[..., :3] for t in ("colorized", "interval_low",
                                                                              "interval_high"))
    assert (lo <= rgb + 1e-4).all() and (rgb <= hi + 1e-4).all() and (hi - lo).mean() > 0.01


def test_three_scribble_runs_on_one_photo_with_strokes_added_each_give_the_right_result(batch):
    """The warm engine's loop in real GIMP: three runs, a stroke more each time; every run's result follows all
    the strokes it was given, the source stays as it was, and the later runs come from the warm engine."""
    rec, src = succeeded(batch, "warm_scribble_three_runs")
    assert [r["status"] for r in rec["runs"]] == ["success"] * 3, rec["runs"]
    w, h = ONE_MP
    out = batch["out"]
    for k in range(3):
        lab = srgb_to_lab(load(out, "warm_scribble_three_runs", "run%d.colorized" % (k + 1), w, h)[..., :3])
        for stroke, rgb, (y0, y1, x0, x1) in stroke_boxes(w, h, STROKES[:k + 1]):
            want = srgb_to_lab(np.array(rgb, np.float64) / 255)[1:]
            got = lab[y0:y1, x0:x1, 1:].reshape(-1, 2).mean(0)
            cos = got @ want / (np.linalg.norm(got) * np.linalg.norm(want) + 1e-9)
            assert np.linalg.norm(got) > 8 and cos > 0.7, "run %d: the %s stroke's colour is missing (ab %s)" % (
                k + 1, stroke, got)
    before = (out / "warm_scribble_three_runs.src_before.f32").read_bytes()
    assert before == (out / "warm_scribble_three_runs.src_after.f32").read_bytes()
    rows = [t for t in batch["timings"] if t.get("width") == w and t.get("mode") == "scribble"]
    assert len(rows) == 3 and [t.get("engine") for t in rows[1:]] == ["warm", "warm"], rows
    print("three Scribble runs at 1 MP, procedure call to finished layers: %s s; engine %s"
          % ([r["seconds"] for r in rec["runs"]], [round(t["engine_total"], 2) for t in rows]))


def test_from_reference_gives_the_reference_photos_colours_back_and_leaves_both_images_as_they_were(batch):
    """Open a target and a reference, From reference...: the colour photo opened beside its own gray version is
    the default reference, the result takes its colours back (issue 31: >= 35 dB for a self-reference; here
    through GIMP's GRAY -> RGB conversion and 8-bit layers), and neither the source layer nor the reference image
    changes."""
    rec, src = succeeded(batch, "reference_default")
    W, H = batch["size"]
    out = batch["out"]
    c = load(out, "reference_default", "colorized", W, H)[..., :3]
    ref = np.fromfile(out / "reference_default.ref0_before.f32", "<f4").reshape(H, W, 4)[..., :3]
    psnr = 10 * np.log10(1 / np.mean((c - ref) ** 2))
    print("From reference, the colour photo as its own reference, through GIMP: PSNR %.2f dB" % psnr)
    assert psnr >= 30, psnr
    assert rec["references_after"] == rec["references_before"]
    assert (out / "reference_default.ref0_before.f32").read_bytes() == \
        (out / "reference_default.ref0_after.f32").read_bytes()
    layer = case(batch, "reference_layer_selection")
    assert [l["name"] for l in layer["after"]["layers"]][:2] == ["Scribbles", "Reference"]   # still there, unchanged
