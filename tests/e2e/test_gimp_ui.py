"""Filters > Colorize INTERACTIVE in the GIMP 3 GUI under Xvfb: each dialog opens (screenshots saved, as it
opens and with its expert options open) and shows only the chosen backend's options, one Ctrl+Z undoes a whole
run, and a GRAY image without scribbles gets an empty "Scribbles" layer.

Screenshots land in the test's work folder; with COLORCORE_UPDATE_SCREENSHOTS=1 they are also copied
(downscaled) into docs/gimp/ for the README.
"""
import json
import os
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
DOCS = REPO / "docs" / "gimp"


@pytest.fixture(scope="module")
def ui(gimp3, tmp_path_factory):
    import sys
    from PIL import Image
    sys.path.insert(0, str(HERE))   # works under any pytest import mode
    from test_gimp_batch import photos, scribble_png
    work = tmp_path_factory.mktemp("gimp_ui")
    (rgb, (w, h)), (gray, _) = photos(work)
    scr = scribble_png(work / "scr.png", w, h)
    shutil.copy(HERE / "fake_engine.py", work / "fake_engine.py")
    fake = work / "fake-ok.sh"
    fake.write_text('#!/bin/sh\nexec %s %s "$@"\n' % (gimp3.engine_py, work / "fake_engine.py"))
    fake.chmod(0o755)
    rc, log, report = gimp3.run_driver(
        HERE / "gimp_ui_driver.py", work, {"photo": rgb, "gray_photo": gray, "scribbles": scr,
                                           "fake_ok": str(fake)},
        extra_env={"COLORIZE_TEST_DIALOG": str(work / "out"), "GIMP_SCREEN": "1280x900x24"}, ui=True,
        timeout=420)
    assert report is not None, "UI driver wrote no report (rc %s):\n%s" % (rc, log[-5000:])
    steps = {s["step"]: s for s in report["steps"]}
    if os.environ.get("COLORCORE_UPDATE_SCREENSHOTS"):
        DOCS.mkdir(parents=True, exist_ok=True)
        for p in (work / "out").glob("*.png"):
            im = Image.open(p).convert("RGB")
            im.thumbnail((800, 800))
            im.quantize(192, method=Image.Quantize.MEDIANCUT).save(DOCS / p.name, optimize=True)
    return dict(work=work, steps=steps, log=log, rc=rc, backends=gimp3.backends())


def dialog_states(log, mode):
    """What the plug-in logged the dialog showed (its _test_autoclose): one dict per state and backend."""
    return [s for s in (json.loads(line.split("dialog shows ", 1)[1]) for line in log.splitlines()
                        if "dialog shows {" in line) if s["mode"] == mode]


def test_gui_reached_the_end(ui):
    assert "done" in ui["steps"], ui["log"][-4000:]


@pytest.mark.parametrize("mode", ["auto", "scribble", "partial", "reference"])
def test_dialog_opens_and_is_captured(ui, mode):
    from PIL import Image
    for name in ("dialog-%s.png" % mode, "dialog-%s-expert.png" % mode):   # as it opens; expert options open
        p = ui["work"] / "out" / name
        assert p.exists(), "no dialog screenshot %s; log:\n%s" % (name, ui["log"][-3000:])
        a = np.asarray(Image.open(p).convert("RGB"))
        assert a.shape[0] > 100 and a.shape[1] > 200 and a.std() > 5


@pytest.mark.parametrize("mode", ["auto", "scribble", "partial", "reference"])
def test_dialog_shows_only_the_chosen_backends_options_in_the_users_words(ui, mode):
    sys.path.insert(0, str(REPO / "gimp_plugin" / "colorize"))
    import colorize_labels as labels
    import colorize_options as options
    states = dialog_states(ui["log"], mode)
    assert [s["state"] for s in states][:2] == ["opened", "expert"], ui["log"][-3000:]
    every = {labels.option_words(o)[0] for _, _, o in options.option_args(ui["backends"], mode)}
    seen = set()
    for s in states:
        own = [o for _, b, o in options.option_args(ui["backends"], mode) if b == s["backend"]]
        want = sorted(labels.option_words(o)[0] for o in own
                      if s["state"] == "expert" or not labels.option_words(o)[1])
        shown = sorted(l for l in s["labels"] if l in every)
        assert shown == want, s   # each of the chosen backend's options once, no other backend's
        assert "Expert options" in s["labels"] and ("Random seed" in s["labels"]) == (s["state"] == "expert"), s
        seen.add(s["backend"])
    assert seen == {b["name"] for b in options.backends_for_mode(ui["backends"], mode) if b["options"]}


def test_menu_screenshot(ui):
    assert (ui["work"] / "out" / "menu.png").exists()


def test_interactive_scribble_run_and_one_undo(ui):
    s = ui["steps"]["scribble"]
    assert s["status"] == "success", s["error"]
    assert len(s["after"]) == len(s["before"]) + 3   # Colorized, Uncertainty and the hidden "Where to paint"
    u = ui["steps"]["undo"]
    assert u["after_visibility_undo"] == s["after"]
    assert u["after_one_undo"] == s["before"], "one Ctrl+Z did not restore the layer list"
    assert ui["steps"]["redo"]["layers"] == s["after"]


def test_interactive_partial(ui):
    """Run with the Scribbles layer still selected (as right after painting): the photo below is used."""
    s = ui["steps"]["partial"]
    assert s["status"] == "success", s["error"]
    i = s["layers"].index("Photo")
    assert s["layers"][i - 1].startswith("Colorized (") and s["layers"][0] == "Scribbles"


def test_interactive_from_reference(ui):
    """From reference... with a colour photo open beside the target: the dialog opens on it (the default), and OK
    adds the result layers above the photo; the reference image is not changed."""
    s = ui["steps"]["reference"]
    assert s["status"] == "success", s["error"]
    i = s["layers"].index("Photo")
    assert s["layers"][i - 1] == "Colorized (reference)" and s["layers"][i - 2] == "Uncertainty (reference)"
    assert len(s["reference_layers"]) == 1
    states = dialog_states(ui["log"], "reference")
    assert states and "Reference image" in states[0]["labels"] and "Blend of likely matches" not in states[0]["labels"]


def test_scribble_without_layer_adds_one_on_gray(ui):
    s = ui["steps"]["scribble_no_layer"]
    assert s["status"] == "success", s["error"]
    assert s["after"] == ["Scribbles"] + s["before"]
    assert s["base_type"] == "rgb"


def test_one_undo_reverts_gray_conversion_too(ui):
    s = ui["steps"]["scribble_no_layer_undo"]
    assert s["base_type"] == "gray" and s["layers"] == ui["steps"]["scribble_no_layer"]["before"]
    g = ui["steps"]["gray_run_undo"]
    assert g["status"] == "success", g["error"]
    assert g["after_base_type"] == "rgb" and len(g["after"]) == len(g["before"]) + 2
    assert g["undone"] == g["before"] and g["undone_base_type"] == "gray"
