"""Backends and their options, as procedure arguments (stdlib only).

Which backends the engine offers (`colorcore backends --json`, cached beside the plug-in), which serve a mode and
which one is its default, and each backend option as a typed procedure argument named "<backend>-<option>":
its bounds, its value converted back to the option's type, and the options sent to the engine for a run.
"""
import json
import os
import re
import subprocess
import tempfile

from colorize_engine import P, PluginError, engine_command, engine_env, error_message, find_engine, plugin_dir

BACKENDS_CACHE = "backends.json"     # `colorcore backends --json`, refreshed by install.py


# --------------------------------------------------------------------------- the engine's backends
def parse_backends_json(text):
    """List of backend dicts from `colorcore backends --json` (a list, or {"backends": [...]})."""
    data = json.loads(text)
    if isinstance(data, dict):
        data = data.get("backends", [])
    if not isinstance(data, list):
        raise ValueError("expected a JSON list of backends")
    out = []
    for row in data:
        if not isinstance(row, dict) or not row.get("name"):
            continue
        row.setdefault("label", row["name"])
        row.setdefault("modes", [])
        row.setdefault("options", [])
        row.setdefault("available", True)
        row.setdefault("unavailable_reason", None)
        out.append(row)
    return out


def query_backends(python, timeout=60):
    proc = subprocess.run(engine_command(python, ["backends", "--json"]),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                          env=engine_env(), timeout=timeout, universal_newlines=True,
                          cwd=tempfile.gettempdir())
    if proc.returncode != 0:
        raise PluginError("`colorcore backends` failed: %s" % error_message(proc.stderr, proc.returncode))
    return parse_backends_json(proc.stdout)


def load_backends(folder=None, python=None, refresh=False):
    """Backends from the cache beside the plug-in; asks the engine when missing or refresh."""
    folder = folder or plugin_dir()
    cache = os.path.join(folder, BACKENDS_CACHE)
    if not refresh:
        try:
            with open(cache, encoding="utf-8") as f:
                return parse_backends_json(f.read())
        except (OSError, ValueError):
            pass
    try:
        python = python or find_engine(folder=folder)
        rows = query_backends(python)
    except (PluginError, OSError, subprocess.SubprocessError):
        return []
    try:
        with open(cache + ".tmp", "w", encoding="utf-8") as f:
            json.dump(rows, f, indent=1)
        os.replace(cache + ".tmp", cache)
    except OSError:
        pass
    return rows


def backends_for_mode(backends, mode):
    return [b for b in backends if mode in b.get("modes", [])]


def default_backend(backends, mode):
    """The engine's default for the mode (the protocol's rule); when none is available, the first listed,
    so the dialog shows why it cannot run; "" when no backend serves the mode."""
    rows = backends_for_mode(backends, mode)
    return P.default_backend(rows, mode) or (rows[0]["name"] if rows else "")


def backend_choice_label(b):
    label = b.get("label") or b["name"]
    if not b.get("available", True):
        reason = b.get("unavailable_reason") or "unavailable"
        label += " (unavailable: %s)" % (reason if len(reason) < 60 else reason[:57] + "...")
    return label


# --------------------------------------------------------------------------- options as arguments
def prop_name(backend, option):
    """GObject property name of a backend option, e.g. ('gan', 'n_samples') -> 'gan-n-samples'."""
    raw = "%s-%s" % (backend, option)
    name = re.sub(r"[^A-Za-z0-9-]+", "-", raw).strip("-").lower()
    if not name or not name[0].isalpha():
        name = "o-" + name
    return name


def option_args(backends, mode):
    """(property name, backend name, option dict) for every option of the mode's backends."""
    out, seen = [], set()
    for b in backends_for_mode(backends, mode):
        for opt in b.get("options", []):
            if not isinstance(opt, dict) or "name" not in opt:
                continue
            name = prop_name(b["name"], opt["name"])
            if name in seen:
                continue
            seen.add(name)
            out.append((name, b["name"], opt))
    return out


def option_bounds(opt):
    """(min, max) for int/float options; wide defaults where the engine gives none."""
    big = 2 ** 31 - 1 if opt.get("type") == "int" else 1e9
    lo = opt.get("minimum")
    hi = opt.get("maximum")
    lo = -big if lo is None else lo
    hi = big if hi is None else hi
    if opt.get("type") == "int":
        lo, hi = int(lo), int(hi)
    else:
        lo, hi = float(lo), float(hi)
    return lo, hi


def coerce_option(opt, value):
    """A dialog/argument value converted to the option's declared type."""
    kind = opt.get("type")
    if value is None:
        return opt.get("default")
    if kind == "int":
        return int(value)
    if kind == "float":
        return float(value)
    if kind == "bool":
        return bool(value)
    return str(value)


def collect_options(backends, mode, backend_name, getter):
    """Options for `backend_name`, read through getter(prop_name) (None = keep default)."""
    opts = {}
    for name, bname, opt in option_args(backends, mode):
        if bname != backend_name:
            continue
        try:
            value = getter(name)
        except Exception:  # property missing (backend appeared after GIMP queried us)
            value = None
        value = coerce_option(opt, value)
        if value is not None:
            opts[opt["name"]] = value
    return opts
