"""The dialogs' words for the backends' options: every option of every built-in backend has a label a restorer
understands, the expert ones are marked, and each backend's options form a group of their own."""
import subprocess
import sys

import pytest

from test_plugin_helpers import PLUGIN
from testutil_engine import colorcore_cmd, engine_env

sys.path.insert(0, str(PLUGIN))
import colorize_labels as labels  # noqa: E402
import colorize_options as options  # noqa: E402

BUILT_IN = {"prior", "variational", "gan", "partial-gan", "reference"}


@pytest.fixture(scope="module")
def engine_backends():
    """What the installed plug-in sees: `colorcore backends --json`, every plugin the engine finds."""
    proc = subprocess.run(colorcore_cmd() + ["backends", "--json"], capture_output=True, text=True, env=engine_env(),
                          timeout=600)
    assert proc.returncode == 0, proc.stderr
    return options.parse_backends_json(proc.stdout)


def test_every_option_of_every_built_in_backend_has_the_dialogs_words(engine_backends):
    assert BUILT_IN <= {b["name"] for b in engine_backends}
    missing = ["%s: %s" % (b["name"], o["name"]) for b in engine_backends if b["name"] in BUILT_IN
               for o in b["options"] if o["name"] not in labels.OPTION_WORDS]
    assert missing == [], ("backend options without a label in gimp_plugin/colorize/colorize_labels.py "
                           "(OPTION_WORDS): %s" % missing)
    unused = set(labels.OPTION_WORDS) - {o["name"] for b in engine_backends for o in b["options"]}
    assert unused == set(), "words for options no backend declares any more: %s" % sorted(unused)


def test_a_backends_options_have_distinct_labels_and_a_sentence_each(engine_backends):
    for b in engine_backends:
        shown = [labels.option_words(o)[0] for o in b["options"]]
        assert len(shown) == len(set(shown)), b["name"]
    for name, (label, expert, hint) in labels.OPTION_WORDS.items():
        assert label and "_" not in label and label[0].isupper(), name
        assert expert in (labels.BASIC, labels.EXPERT) and len(hint) > 40 and hint.endswith("."), name


def test_expert_options_are_the_ones_about_how_the_engine_works():
    expert = {n for n, (_, e, _) in labels.OPTION_WORDS.items() if e}
    assert expert == {"work_megapixels", "samples", "size", "guide_sensitivity", "temperature"}
    assert labels.option_words({"name": "prior_distance"})[0] == "How far colours spread"
    assert labels.option_words({"name": "nonlocal"})[0] == "Let colours jump to similar areas"
    assert labels.option_words({"name": "size"})[0].startswith("Detail of the colour guess")


def test_an_option_without_words_shows_under_its_own_name_as_a_basic_option():
    assert labels.option_words({"name": "new_knob", "help": "what it does"}) == ("New knob", labels.BASIC,
                                                                                 "what it does")


def test_each_backend_gets_its_own_group_of_basic_and_expert_options(engine_backends):
    for mode in ("auto", "scribble", "partial", "reference"):
        args = options.option_args(engine_backends, mode)
        groups = labels.dialog_groups(engine_backends, mode)
        assert [b for b, _, _ in groups] == list(dict.fromkeys(b for _, b, _ in args))   # the engine's order
        for bname, basic, expert in groups:
            own = [(p, labels.option_words(o)[1]) for p, b, o in args if b == bname]
            assert basic == [p for p, e in own if not e] and expert == [p for p, e in own if e], (mode, bname)
    scribble = {b: (basic, expert) for b, basic, expert in labels.dialog_groups(engine_backends, "scribble")}
    assert set(scribble) == {"prior", "variational"}
    assert "prior-prior-distance" in scribble["prior"][0] and "prior-work-megapixels" in scribble["prior"][1]
    assert "variational-nonlocal" in scribble["variational"][0]
    auto = {b: (basic, expert) for b, basic, expert in labels.dialog_groups(engine_backends, "auto")}
    assert auto["gan"][0] == ["gan-vividness"] and set(auto["gan"][1]) == {"gan-size", "gan-samples"}
