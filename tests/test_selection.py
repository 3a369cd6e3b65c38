"""colorcore.selection: the one place that picks the backend and the mode for every caller."""
import pytest

from colorcore import InvalidRequest, load_registry
from colorcore.selection import choose, requested_mode, served_mode


class Fake:
    def __init__(self, *modes):
        self.modes = modes


def test_the_mode_follows_what_the_user_gave():
    assert requested_mode(False, False) == "auto"
    assert requested_mode(True, False) == "scribble"
    assert requested_mode(False, True) == "partial"
    assert requested_mode(True, True) == "partial"   # Scribble inside the selection


def test_a_backend_runs_in_the_nearest_mode_it_serves():
    assert served_mode(Fake("scribble", "partial"), True, True) == "partial"
    assert served_mode(Fake("scribble", "partial"), True, False) == "scribble"
    assert served_mode(Fake("auto", "partial"), False, True) == "partial"
    assert served_mode(Fake("auto"), False, True) == "auto"      # the pipeline composites through the mask
    assert served_mode(Fake("partial"), False, False) == "partial"


@pytest.fixture(scope="module")
def registry():
    return load_registry()


def test_defaults_per_input(registry):
    assert [b.name for b in [choose(registry, None, False, False)[0]]] == [registry.default_for("auto").name]
    backend, mode = choose(registry, None, True, False)
    assert (backend.name, mode) == (registry.default_for("scribble").name, "scribble")
    backend, mode = choose(registry, None, False, True)
    assert (backend.name, mode) == (registry.default_for("partial").name, "partial")
    backend, mode = choose(registry, None, True, True)   # strokes in a selection: the Scribble default, masked
    assert (backend.name, mode) == (registry.default_for("scribble").name, "partial")


def test_scribbles_a_backend_would_ignore_are_refused(registry):
    with pytest.raises(InvalidRequest, match="ignores scribbles"):
        choose(registry, "gan", True, False)
    assert choose(registry, "gan", False, True)[1] == "partial"
