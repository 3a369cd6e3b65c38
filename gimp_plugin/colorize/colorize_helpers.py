"""GIMP-free helpers of the Colorize plug-in (stdlib only, no gi, no numpy).

Everything here is testable without GIMP: finding the engine interpreter that
install.py recorded, asking it which backends exist, turning dialog values into
backend options, writing the job manifest, running `python -m colorcore
gimp-run MANIFEST` and reading its progress, result and error lines. What the
plug-in and the engine agree on (modes, manifest, buffer names, line grammar,
exit codes, default alpha) is not here but in the protocol module P, shared
with the engine.
"""
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

PROTOCOL_FILE = "colorcore_protocol.py"   # install.py copies colorcore/protocol.py here, beside this file


def _load_protocol():
    """The engine's protocol module: the installed copy beside this file, else (running from the source
    tree) the original. Loaded by path, so neither GIMP's sys.path nor the colorcore package is needed."""
    here = os.path.dirname(os.path.abspath(__file__))
    for path in (os.path.join(here, PROTOCOL_FILE),
                 os.path.join(here, os.pardir, os.pardir, "colorcore", "protocol.py")):
        if os.path.isfile(path):
            spec = importlib.util.spec_from_file_location("colorcore_protocol", path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            return module
    raise ImportError("%s is missing beside %s: run `python install.py` again" % (PROTOCOL_FILE, here))


P = _load_protocol()
MODES = P.MODES
DEFAULT_ALPHA = P.DEFAULT_ALPHA
write_manifest = P.write_manifest
parse_line = P.parse_line
PROC_NAMES = {m: "plug-in-colorize-" + m for m in MODES}
MENU_LABELS = {"auto": "Auto\u2026", "scribble": "Scribble\u2026", "partial": "Partial\u2026"}
MENU_PATH = "<Image>/Filters/Colorize"
ENGINE_FILE = "engine.json"          # written by install.py beside colorize.py
BACKENDS_CACHE = "backends.json"     # `colorcore backends --json`, refreshed by install.py
ENV_ENGINE = "COLORIZE_ENGINE_PYTHON"
ENV_TIMING_LOG = "COLORIZE_TIMING_LOG"
TMP_PREFIX = "gimp-colorize-"
COLORIZED_PREFIX = "Colorized ("
UNCERTAINTY_PREFIX = "Uncertainty ("
INTERVAL_PREFIX = "RGB interval "   # "RGB interval low (gan)", "RGB interval high (gan)"
RESULT_PREFIXES = (COLORIZED_PREFIX, UNCERTAINTY_PREFIX, INTERVAL_PREFIX)
SCRIBBLE_LAYER_NAME = "Scribbles"
PARASITE_NAME = "colorize-uncertainty"


class PluginError(Exception):
    """A failure to show the user. `calling` = bad input (CALLING_ERROR)."""

    def __init__(self, message, calling=False):
        super().__init__(message)
        self.calling = calling


class Cancelled(Exception):
    pass


# --------------------------------------------------------------------------- engine discovery
def plugin_dir():
    return os.path.dirname(os.path.abspath(__file__))


def read_engine_record(folder=None):
    path = os.path.join(folder or plugin_dir(), ENGINE_FILE)
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise PluginError("cannot read %s (%s); run `python install.py` again" % (path, exc))


def find_engine(override=None, folder=None, environ=None):
    """Path of the engine's Python interpreter, or PluginError saying how to fix it.

    Order: explicit argument, $COLORIZE_ENGINE_PYTHON, engine.json beside the plug-in.
    """
    environ = os.environ if environ is None else environ
    source = "argument"
    python = override or None
    if not python and environ.get(ENV_ENGINE):
        python, source = environ[ENV_ENGINE], "$" + ENV_ENGINE
    if not python:
        rec = read_engine_record(folder)
        if not rec or not rec.get("python"):
            raise PluginError(
                "the colorization engine is not installed: %s is missing next to the plug-in. "
                "Run `python install.py` from the colorcore source folder."
                % os.path.join(folder or plugin_dir(), ENGINE_FILE))
        python, source = rec["python"], ENGINE_FILE
    if engine_launcher(folder) and os.path.exists("/.flatpak-info"):
        return python   # a host path, not visible inside GIMP's Flatpak sandbox
    if not (os.path.isfile(python) and os.access(python, os.X_OK)):
        raise PluginError(
            "the colorization engine interpreter %s (from %s) does not exist or cannot be run. "
            "Run `python install.py` again to repair the installation." % (python, source))
    return python


def engine_launcher(folder=None):
    """Command prefix from engine.json, e.g. ["flatpak-spawn", "--host"] for Flatpak GIMP."""
    try:
        rec = read_engine_record(folder) or {}
    except PluginError:
        return []
    launcher = rec.get("launcher") or []
    return [str(x) for x in launcher] if isinstance(launcher, list) else []


def engine_command(python, args, folder=None):
    return engine_launcher(folder) + [python, "-m", "colorcore"] + list(args)


def engine_env(environ=None):
    """The engine's environment: GIMP's own Python/GI/library settings removed."""
    environ = os.environ if environ is None else environ
    drop = ("PYTHON", "GI_", "LD_", "GIMP", "BABL", "GEGL", "GDK_PIXBUF", "DYLD_")
    env = {k: v for k, v in environ.items() if not k.startswith(drop)}
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONNOUSERSITE"] = "1"
    return env


# --------------------------------------------------------------------------- backends
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


# --------------------------------------------------------------------------- job folder
def cleanup_stale_workdirs(max_age_s=24 * 3600, now=None):
    """Remove job folders left by a killed plug-in (GIMP kills it on cancel)."""
    now = time.time() if now is None else now
    for base in job_base_dirs():
        try:
            names = os.listdir(base)
        except OSError:
            continue
        for name in names:
            if name.startswith(TMP_PREFIX):
                path = os.path.join(base, name)
                try:
                    if now - os.path.getmtime(path) > max_age_s or not _owner_alive(name):
                        shutil.rmtree(path, ignore_errors=True)
                except OSError:
                    pass


def _owner_alive(name):
    """Job folders are named gimp-colorize-<pid>-...: is that plug-in process still running?"""
    try:
        pid = int(name[len(TMP_PREFIX):].split("-", 1)[0])
    except ValueError:
        return True
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def job_base_dirs():
    """Where job folders may go: RAM-backed /dev/shm first (Linux), then the temp folder."""
    dirs = []
    if sys.platform.startswith("linux") and os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK):
        dirs.append("/dev/shm")
    dirs.append(tempfile.gettempdir())
    return dirs


def make_workdir(nbytes=0):
    """A private job folder; in RAM when it has room for the job twice over (pixels go through it)."""
    for base in job_base_dirs():
        try:
            st = os.statvfs(base) if hasattr(os, "statvfs") else None
            if st is not None and base != tempfile.gettempdir() and st.f_bavail * st.f_frsize < 2 * nbytes + (64 << 20):
                continue
            return tempfile.mkdtemp(prefix="%s%d-" % (TMP_PREFIX, os.getpid()), dir=base)
        except OSError:
            continue
    return tempfile.mkdtemp(prefix="%s%d-" % (TMP_PREFIX, os.getpid()))


def write_buffer(folder, name, data):
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


def read_buffer(folder, name, nbytes):
    path = os.path.join(folder, name)
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as exc:
        raise PluginError("the engine did not write %s: %s" % (name, exc))
    if len(data) != nbytes:
        raise PluginError("the engine wrote %d bytes to %s, expected %d" % (len(data), name, nbytes))
    return data


# --------------------------------------------------------------------------- engine protocol
def error_message(stderr_text, returncode):
    """The engine's one-line error, else its last line, else what its exit status says."""
    own = P.parse_error(stderr_text)
    if own:
        return own
    lines = [l.strip() for l in (stderr_text or "").splitlines() if l.strip()]
    if returncode is not None and returncode < 0:
        tail = (" (last output: %s)" % lines[-1]) if lines else ""
        return "the engine crashed (signal %d)%s" % (-returncode, tail)
    if lines:
        return lines[-1]
    return "the engine exited with status %s and no message" % returncode


def _linux_pdeathsig():
    """Make the engine die with the plug-in (GIMP kills the plug-in when the user cancels)."""
    try:
        import ctypes
        import signal
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:
        pass


def _close_quietly(stream):
    try:
        stream.close()
    except OSError:
        pass


def run_engine(python, manifest, on_progress=None, should_cancel=None, timeout=None):
    """Run `python -m colorcore gimp-run manifest`; returns (result dict, timing dict).

    on_progress(fraction, message) gets the engine's progress; should_cancel() -> True stops it.
    Raises PluginError with the engine's own message (calling=True for bad input).
    """
    folder = os.path.dirname(manifest)
    err_path = os.path.join(folder, "engine-stderr.txt")
    t0 = time.monotonic()
    kwargs = {}
    if sys.platform.startswith("linux"):
        kwargs["preexec_fn"] = _linux_pdeathsig
    elif os.name == "nt":
        kwargs["creationflags"] = getattr(subprocess, "CREATE_NO_WINDOW", 0)
    with open(err_path, "w+", encoding="utf-8", errors="replace") as err:
        try:
            # stdin stays open and unused: the engine stops as soon as it closes (this process died,
            # or cancelled), which works where Linux's parent-death signal does not (macOS, Windows)
            proc = subprocess.Popen(engine_command(python, ["gimp-run", manifest, "--exit-with-stdin"]),
                                    stdout=subprocess.PIPE, stderr=err, stdin=subprocess.PIPE,
                                    env=engine_env(), cwd=folder, universal_newlines=True,
                                    bufsize=1, **kwargs)
        except OSError as exc:
            raise PluginError("cannot start the engine %s: %s; run `python install.py` again" % (python, exc))
        result, first_line_t = None, None
        killer = None
        state = {"cancelled": False}
        if should_cancel is not None or timeout is not None:

            def watch():
                while proc.poll() is None and not state.get("done"):
                    if (should_cancel is not None and should_cancel()) or \
                            (timeout is not None and time.monotonic() - t0 > timeout):
                        state["cancelled"] = True
                        _close_quietly(proc.stdin)
                        proc.terminate()
                        try:
                            proc.wait(5)
                        except subprocess.TimeoutExpired:
                            proc.kill()
                        return
                    time.sleep(0.1)
            killer = threading.Thread(target=watch, daemon=True)
            killer.start()
        try:
            for line in proc.stdout:
                if first_line_t is None:
                    first_line_t = time.monotonic()
                item = parse_line(line)
                if item[0] == "progress" and on_progress is not None:
                    on_progress(item[1], item[2])
                elif item[0] == "result":
                    # the buffers are written before RESULT: go on now, not after the interpreter's
                    # teardown (about 1 s with torch loaded); the engine exits on its own
                    result = item[1]
                    break
            if result is not None:
                rc = proc.poll() or 0
                threading.Thread(target=proc.wait, daemon=True).start()   # reap it when it exits
            else:
                rc = proc.wait()
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        finally:
            proc.stdout.close()
            _close_quietly(proc.stdin)
        t_end = time.monotonic()
        if killer is not None:
            state["done"] = True
            killer.join(1)
            if state["cancelled"]:
                raise Cancelled("cancelled")
        err.seek(0)
        stderr_text = err.read()
    if rc != 0:
        msg = error_message(stderr_text, rc)
        if P.parse_error(stderr_text) is None and engine_launcher() and os.path.exists("/.flatpak-info"):
            msg += (" -- GIMP runs as a Flatpak and could not start the engine outside its sandbox: run "
                    "`flatpak override --user --talk-name=org.freedesktop.Flatpak org.gimp.GIMP` and restart GIMP")
        raise PluginError(msg, calling=(rc == P.EXIT_BAD_INPUT))
    if result is None:
        raise PluginError("the engine finished without a RESULT line (stderr: %s)"
                          % error_message(stderr_text, rc))
    first_line_t = first_line_t or t_end
    timing = {"engine_start": first_line_t - t0, "engine_work": t_end - first_line_t,
              "engine_total": t_end - t0}
    return result, timing


def log_timing(record, environ=None):
    """Append one JSON line to $COLORIZE_TIMING_LOG (for benchmarks and tests); always to stderr."""
    environ = os.environ if environ is None else environ
    line = json.dumps(record, sort_keys=True)
    sys.stderr.write("[colorize] timing %s\n" % line)
    path = environ.get(ENV_TIMING_LOG)
    if path:
        try:
            with open(path, "a", encoding="utf-8") as f:
                f.write(line + "\n")
        except OSError:
            pass


def uncertainty_parasite_text(result, alpha, backend):
    scale = result.get("uncertainty_scale")
    return json.dumps({"backend": backend, "alpha": result.get("alpha", alpha),
                       "delta_e_at_white": scale,
                       "meaning": "pixel value v (0..1) = uncertainty radius v*delta_e_at_white in Delta E_ab; "
                                  "the true colour lies within that radius for at least 1-alpha of pixels"})


def uncertainty_message(result, alpha, backend):
    scale = result.get("uncertainty_scale")
    if scale is None:
        msg = "Uncertainty (%s): brighter = less sure." % backend
    else:
        msg = ("Uncertainty (%s): white = %.1f \u0394E (radius that holds the true colour for %d%% of pixels); "
               "black = 0." % (backend, float(scale), round(100 * (1 - float(result.get("alpha", alpha))))))
    note = P.unlike_calibration_note(result.get("info"))
    return msg + " " + note if note else msg


# --------------------------------------------------------------------------- layers, pure logic
def pick_scribble_layer(layers, source_id):
    """layers: [(id, name, has_alpha)] top to bottom. The "Scribbles" layer, else the topmost
    other layer with alpha that is not one of our result layers; None if there is none."""
    for lid, name, _ in layers:
        if lid != source_id and name == SCRIBBLE_LAYER_NAME:
            return lid
    for lid, name, has_alpha in layers:
        if lid == source_id or not has_alpha:
            continue
        if name.startswith(RESULT_PREFIXES):
            continue
        return lid
    return None


def interleave(rgb, alpha, n_color):
    """bytes of n_color float32 per pixel + bytes of the alpha (4 bytes/pixel) of an
    (n_color+1)-float32 source -> (n_color+1) float32 per pixel. Pure slicing, no numpy."""
    stride_in = n_color * 4
    npx = len(rgb) // stride_in
    stride_out = stride_in + 4
    out = bytearray(npx * stride_out)
    src_alpha_stride = len(alpha) // npx
    for k in range(stride_in):
        out[k::stride_out] = rgb[k::stride_in]
    off = src_alpha_stride - 4
    for k in range(4):
        out[stride_in + k::stride_out] = alpha[off + k::src_alpha_stride]
    return bytes(out)


# ----------------------------------------------------------------------------- animations
# GIMP opens a GIF or APNG as one layer per frame, named like "Frame 2 (120ms) (combine)": the timing and how
# the frame is drawn (over the previous one, or replacing it) live in the layer names, which GIF export reads.
FRAME_TIMING = re.compile(r"\(\s*\d+\s*ms\s*\)")
FRAMES_CHOICES = (("auto", "Auto (when the layers are an animation's frames)"),
                  ("all-layers", "All layers are frames"), ("selected-layer", "The selected layer only"))


def frame_layers(layers, exclude=()):
    """layers: [(id, name, has_alpha)] top to bottom (GIMP's order). The frames in play order (the bottom layer
    is the first frame): every layer but the excluded ones (the scribble layer) and our result layers."""
    return [(lid, name) for lid, name, _ in reversed(layers)
            if lid not in exclude and not name.startswith(RESULT_PREFIXES)]


def looks_like_animation(layers, exclude=()):
    """At least two frame layers, and at least two of them carry a frame time "(… ms)" in their names."""
    frames = frame_layers(layers, exclude)
    return len(frames) >= 2 and sum(bool(FRAME_TIMING.search(name)) for _, name in frames) >= 2


def draws_over_previous(name):
    """Whether the layer is drawn over the frame before it: unless it is named "(replace)". GIMP names a GIF's
    frames "(combine)" or "(replace)" from their disposal and leaves the rest ("don't care") untagged, which
    viewers draw over the previous frame: an optimised GIF's layers hold only what changed. A wholly opaque
    layer comes out the same either way."""
    return "(replace)" not in name


def colorized_frame_name(name):
    """The result frame's layer name: the same name and timing, marked "(replace)", since each result layer is
    a whole frame."""
    if "(replace)" in name:
        return name
    return name.replace("(combine)", "(replace)") if "(combine)" in name else name + " (replace)"
