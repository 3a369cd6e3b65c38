"""The one place that decides what a run does: which backend, and in which mode.

Every caller goes through here: the CLI (photos and animations), the GIMP bridge, animations and
colorcore.colorize(). The rules:
- the mode follows what the user gave: a reference photo -> Reference (scribbles and a mask with it: the strokes
  override the reference where they hold, and only the selection changes), else a mask -> Partial (scribbles
  with it: Scribble inside the selection), scribbles -> Scribble, neither -> Auto; the GIMP menus name the mode
  themselves;
- a backend named by the user is used, or refused with a clear reason; none named -> the mode's default
  (protocol.default_backend, the rule the plug-in's dialogs share), and with scribbles the Scribble default,
  since the user painted them to be used;
- scribbles given to a backend that would ignore them are refused, and so is a reference;
- the backend runs in the requested mode when it serves it, else in the nearest one it serves (a backend that
  serves only Auto still takes a mask: the pipeline composites its colours through it).
"""
from __future__ import annotations

from .errors import BackendUnavailable, InvalidRequest


def requested_mode(scribbles_given: bool, mask_given: bool, reference_given: bool = False) -> str:
    """The mode a run asks for, from what the user gave."""
    if reference_given:
        return "reference"
    return "partial" if mask_given else "scribble" if scribbles_given else "auto"


def served_mode(backend, scribbles_given: bool, mask_given: bool, reference_given: bool = False) -> str:
    """The mode `backend` runs in for these inputs: Reference when a reference was given, else Partial when it
    serves it and a mask was given, Scribble when it serves it and scribbles were given, else Auto, else the first
    mode it serves."""
    if reference_given:
        return "reference"   # pick_backend has refused a backend that does not serve it
    if mask_given and "partial" in backend.modes:
        return "partial"
    if scribbles_given and "scribble" in backend.modes:
        return "scribble"
    if "auto" in backend.modes:
        return "auto"    # a mask, if any, is applied by the pipeline's compositing
    return backend.modes[0]


def pick_backend(registry, backend_name: str | None, mode: str, scribbles_given: bool = False):
    """The backend named, or the default for the mode (with scribbles: Scribble's default); refuses one that
    would ignore scribbles that were given, and in reference mode one that would ignore the reference."""
    if backend_name is None:
        wanted = "scribble" if scribbles_given and mode == "partial" else mode   # reference: its own default
        backend = registry.default_for(wanted) or registry.default_for(mode)
        if backend is None:
            raise BackendUnavailable(f"no available backend serves mode {mode!r}; run `colorcore backends`")
    else:
        backend = registry.get(backend_name)
    if mode == "reference" and "reference" not in backend.modes:
        takers = [b.name for b in registry.for_mode("reference")]
        raise InvalidRequest(f"backend {backend.name!r} does not use a reference photo (it serves "
                             f"{', '.join(backend.modes)}); drop --reference, or choose "
                             + (" or ".join(takers) if takers else "a backend that takes one"))
    if scribbles_given:
        registry.refuse_ignored_scribbles(backend)
    return backend


def choose(registry, backend_name: str | None, scribbles_given: bool, mask_given: bool,
           reference_given: bool = False):
    """(backend, mode) for a run whose mode follows from its inputs (the CLI, colorcore.colorize without one)."""
    backend = pick_backend(registry, backend_name, requested_mode(scribbles_given, mask_given, reference_given),
                           scribbles_given)
    return backend, served_mode(backend, scribbles_given, mask_given, reference_given)
