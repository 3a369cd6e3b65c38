"""The colorization engine, seen from the plug-in (stdlib only: GIMP's Python may lack numpy).

The engine is another Python, in its own venv, recorded by install.py in engine.json beside the plug-in. Here:
the protocol both sides speak (P, loaded from the copy install.py puts beside the plug-in), finding that
interpreter, starting `python -m colorcore gimp-run MANIFEST`, reading its progress and result lines, turning
its error output into one sentence for the user, and the timing log.
"""
import importlib.util
import json
import os
import subprocess
import sys
import threading
import time

PROTOCOL_FILE = "colorcore_protocol.py"   # install.py copies colorcore/protocol.py here, byte for byte
ENGINE_FILE = "engine.json"               # written by install.py beside colorize.py
ENV_ENGINE = "COLORIZE_ENGINE_PYTHON"
ENV_TIMING_LOG = "COLORIZE_TIMING_LOG"


def plugin_dir():
    return os.path.dirname(os.path.abspath(__file__))


def _load_protocol():
    """The engine's protocol module: the installed copy beside this file, else (running from the source
    tree) the original. Loaded by path, so neither GIMP's sys.path nor the colorcore package is needed."""
    here = plugin_dir()
    for path in (os.path.join(here, PROTOCOL_FILE),
                 os.path.join(here, os.pardir, os.pardir, "colorcore", "protocol.py")):
        if os.path.isfile(path):
            spec = importlib.util.spec_from_file_location("colorcore_protocol", path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            return module
    raise ImportError("%s is missing beside %s: run `python install.py` again" % (PROTOCOL_FILE, here))


P = _load_protocol()   # modes, manifest, buffer names, line grammar, exit codes: what the engine agrees to
write_manifest = P.write_manifest
parse_line = P.parse_line


class PluginError(Exception):
    """A failure to show the user. `calling` = bad input (CALLING_ERROR)."""

    def __init__(self, message, calling=False):
        super().__init__(message)
        self.calling = calling


class Cancelled(Exception):
    pass


# --------------------------------------------------------------------------- finding the engine
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


# --------------------------------------------------------------------------- running it
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
