"""The one place that decides what a run does: which backend, and in which mode.

Every caller goes through here: the CLI (photos and animations), the GIMP bridge, animations and
colorcore.colorize(). The rules:
- the mode follows what the user gave: a mask -> Partial (scribbles with it: Scribble inside the selection),
  scribbles -> Scribble, neither -> Auto; the GIMP menus name the mode themselves;
- a backend named by the user is used, or refused with a clear reason; none named -> the mode's default
  (protocol.default_backend, the rule the plug-in's dialogs share), and with scribbles the Scribble default,
  since the user painted them to be used;
- scribbles given to a backend that would ignore them are refused;
- the backend runs in the requested mode when it serves it, else in the nearest one it serves (a backend that
  serves only Auto still takes a mask: the pipeline composites its colours through it).
"""
from __future__ import annotations

from .errors import BackendUnavailable


def requested_mode(scribbles_given: bool, mask_given: bool) -> str:
    """The mode a run asks for, from what the user gave."""
    return "partial" if mask_given else "scribble" if scribbles_given else "auto"


def served_mode(backend, scribbles_given: bool, mask_given: bool) -> str:
    """The mode `backend` runs in for these inputs: Partial when it serves it and a mask was given, Scribble
    when it serves it and scribbles were given, else Auto, else the first mode it serves."""
    if mask_given and "partial" in backend.modes:
        return "partial"
    if scribbles_given and "scribble" in backend.modes:
        return "scribble"
    if "auto" in backend.modes:
        return "auto"    # a mask, if any, is applied by the pipeline's compositing
    return backend.modes[0]


def pick_backend(registry, backend_name: str | None, mode: str, scribbles_given: bool = False):
    """The backend named, or the default for the mode (with scribbles: Scribble's default); refuses one that
    would ignore scribbles that were given."""
    if backend_name is None:
        wanted = "scribble" if scribbles_given and mode == "partial" else mode
        backend = registry.default_for(wanted) or registry.default_for(mode)
        if backend is None:
            raise BackendUnavailable(f"no available backend serves mode {mode!r}; run `colorcore backends`")
    else:
        backend = registry.get(backend_name)
    if scribbles_given:
        registry.refuse_ignored_scribbles(backend)
    return backend


def choose(registry, backend_name: str | None, scribbles_given: bool, mask_given: bool):
    """(backend, mode) for a run whose mode follows from its inputs (the CLI, colorcore.colorize without one)."""
    backend = pick_backend(registry, backend_name, requested_mode(scribbles_given, mask_given), scribbles_given)
    return backend, served_mode(backend, scribbles_given, mask_given)
