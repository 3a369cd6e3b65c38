"""Plugin manager: finds plugins (built-ins and entry points), collects their backends.

Built-in backends are plugins like any other; they are just listed here instead of in an
installed distribution's entry points. A plugin that fails is reported and skipped.
"""
from __future__ import annotations

import importlib
import importlib.util
import os
import re
import threading
from dataclasses import dataclass, field
from importlib.metadata import entry_points

import pluggy

from . import protocol
from .contract import MODES, Backend
from .errors import InvalidRequest, PluginError, UnknownBackend
from .hooks import PROJECT, ColorcoreSpec

ENTRY_POINT_GROUP = "colorcore"
# COLORCORE_PLUGINS=variational,my-plugin loads only those plugins (names as listed by `colorcore backends`).
ENV_SWITCH = "COLORCORE_PLUGINS"
KEBAB_CASE = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")
BUILTIN_PLUGINS = {   # in this order: the first available backend made for a mode is its default (protocol.py)
    "prior": "backends.prior.plugin",
    "variational": "backends.variational.plugin",
    "gan": "backends.gan.plugin",
    "partial-gan": "backends.partial_gan.plugin",
    "reference": "backends.reference.plugin",
}


@dataclass
class PluginFailure:
    plugin: str
    error: str


@dataclass
class Registry:
    """The backends found, which plugin gave each, and the plugins that failed."""

    backends: dict = field(default_factory=dict)   # name -> Backend
    owners: dict = field(default_factory=dict)     # name -> plugin name
    failures: list = field(default_factory=list)   # [PluginFailure]

    def get(self, name) -> Backend:
        if name not in self.backends:
            raise UnknownBackend(name, self.backends)
        return self.backends[name]

    def refuse_ignored_scribbles(self, backend):
        """Scribbles were given: refuse a backend that would ignore them (the user painted them to be used)."""
        if protocol.uses_scribbles(backend.needs_scribbles, backend.modes):
            return
        takers = [b.name for b in self.backends.values() if protocol.uses_scribbles(b.needs_scribbles, b.modes)]
        raise InvalidRequest(f"backend {backend.name!r} ignores scribbles (it serves {', '.join(backend.modes)}); "
                             "drop the scribbles, or choose a backend that uses them"
                             + (f": {' or '.join(takers)}" if takers else ""))

    def for_mode(self, mode):
        return [b for b in self.backends.values() if mode in b.modes]

    def default_for(self, mode):
        """The backend a mode uses when none is named (the protocol's rule, shared with the plug-in), or None."""
        rows = [{"name": b.name, "modes": list(b.modes), "available": b.unavailable_reason() is None}
                for b in self.for_mode(mode)]
        name = protocol.default_backend(rows, mode)
        return None if name is None else self.backends[name]


def _candidates():
    """(plugin name, loader) pairs: built-ins first, then installed entry points."""
    found = [(name, lambda mod=mod: importlib.import_module(mod)) for name, mod in BUILTIN_PLUGINS.items()
             if importlib.util.find_spec(mod.rsplit(".", 1)[0]) is not None]
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.value not in BUILTIN_PLUGINS.values():
            found.append((ep.name, ep.load))
    return found


def _wanted(names):
    raw = os.environ.get(ENV_SWITCH, "").strip()
    if not raw:
        return names
    allowed = {n.strip() for n in raw.split(",") if n.strip()}
    return [n for n in names if n in allowed]


def _check_backend(plugin, backend):
    if not isinstance(backend, Backend):
        raise PluginError(f"plugin {plugin!r} registered {backend!r}, which is not a colorcore.Backend")
    if not isinstance(backend.name, str) or not KEBAB_CASE.fullmatch(backend.name):
        raise PluginError(f"plugin {plugin!r} registered a backend with a bad name {backend.name!r} (use kebab-case)")
    bad_modes = [m for m in backend.modes if m not in MODES] or ([] if backend.modes else ["(none)"])
    if bad_modes:
        raise PluginError(f"backend {backend.name!r} of plugin {plugin!r} has bad modes {bad_modes}; use {MODES}")


_resident: list = []   # the warm engine's registry, loaded once (keep_registry)
_resident_lock = threading.Lock()


def keep_registry() -> None:
    """From now on load_registry() loads the plugins once and then returns that registry: the warm engine
    (colorcore.serve) keeps its backends for its whole life, as a one-shot process keeps them for its one job.
    (Scanning the entry points and building the registry cost ~40 ms a run; an engine whose code, weights or
    environment changed is replaced, never reused, so the kept registry cannot go stale.)"""
    _resident.append(None)


def load_registry(candidates=None) -> Registry:
    """Load every wanted plugin; never let one plugin's failure stop the others."""
    if candidates is None and _resident:
        with _resident_lock:   # the first job and the preload may ask at once: one registry, loaded once
            if _resident[-1] is None:
                _resident[-1] = _load_registry(None)
            return _resident[-1]
    return _load_registry(candidates)


def _load_registry(candidates) -> Registry:
    registry = Registry()
    manager = pluggy.PluginManager(PROJECT)
    manager.add_hookspecs(ColorcoreSpec)
    candidates = _candidates() if candidates is None else candidates
    wanted = set(_wanted([name for name, _ in candidates]))
    for name, load in candidates:
        if name not in wanted:
            continue
        try:
            module = load()
            found = []
            manager.register(module, name=name)
            manager.subset_hook_caller("register_backends", [m for m in manager.get_plugins() if m is not module])(
                register=found.append)
            if not found:
                raise PluginError(f"plugin {name!r} registered no backends (does it implement register_backends?)")
            for backend in found:
                _check_backend(name, backend)
                if backend.name in registry.backends:
                    raise PluginError(f"backend name {backend.name!r} is registered by both plugin "
                                      f"{registry.owners[backend.name]!r} and plugin {name!r}; "
                                      f"uninstall one or set {ENV_SWITCH} to choose")
            for backend in found:
                registry.backends[backend.name] = backend
                registry.owners[backend.name] = name
        except Exception as exc:  # a broken plugin is reported, never fatal to the others
            registry.failures.append(PluginFailure(name, f"{type(exc).__name__}: {exc}"))
    return registry
