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
WARM_FILE = "colorcore_warm.py"           # ... and colorcore/warm.py (the warm engine's socket and client)
ENGINE_FILE = "engine.json"               # written by install.py beside colorize.py
ENV_ENGINE = "COLORIZE_ENGINE_PYTHON"
ENV_TIMING_LOG = "COLORIZE_TIMING_LOG"
ENV_ENGINE_MODE = "COLORIZE_ENGINE_MODE"  # "warm" (default) or "one-shot": a process per run, as before


def plugin_dir():
    return os.path.dirname(os.path.abspath(__file__))


def _engine_module_path(copy, original):
    """The installed copy beside this file, else (running from the source tree) the engine's original."""
    here = plugin_dir()
    for path in (os.path.join(here, copy), os.path.join(here, os.pardir, os.pardir, "colorcore", original)):
        if os.path.isfile(path):
            return path
    raise ImportError("%s is missing beside %s: run `python install.py` again" % (copy, here))


def _load_engine_module(copy, original):
    """One of the engine's stdlib-only modules, loaded by path, so neither GIMP's sys.path nor the colorcore
    package is needed."""
    spec = importlib.util.spec_from_file_location(copy[:-3], _engine_module_path(copy, original))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


P = _load_engine_module(PROTOCOL_FILE, "protocol.py")   # modes, manifest, buffers, lines, exit codes
W = _load_engine_module(WARM_FILE, "warm.py")           # the warm engine's socket and its client
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


_said_fallback = []   # the fallback to a one-shot engine is logged once per plug-in process


def run_engine(python, manifest, on_progress=None, should_cancel=None, timeout=None, environ=None):
    """Run `colorcore gimp-run manifest` in the warm engine (started when none runs), or in a one-shot engine
    process when the warm one cannot be used (COLORIZE_ENGINE_MODE=one-shot, Flatpak, no Unix sockets, a
    folder that is not private...), saying so once in the log. Returns (result dict, timing dict).

    on_progress(fraction, message) gets the engine's progress; should_cancel() -> True stops it.
    Raises PluginError with the engine's own message (calling=True for bad input).
    """
    if wants_warm(environ):
        try:
            return run_warm(python, manifest, on_progress, should_cancel, timeout)
        except W.WarmEngineError as exc:
            if not _said_fallback:
                _said_fallback.append(True)
                sys.stderr.write("[colorize] the warm engine cannot be used (%s); starting the engine for "
                                 "each run instead\n" % exc)
    return run_one_shot(python, manifest, on_progress, should_cancel, timeout)


def wants_warm(environ=None):
    """Whether runs go to the warm engine: not when asked for one-shot (COLORIZE_ENGINE_MODE) nor under a
    launcher (Flatpak), where the engine is started outside the sandbox for each run."""
    environ = os.environ if environ is None else environ
    return environ.get(ENV_ENGINE_MODE, "warm") != "one-shot" and not engine_launcher()


def prewarm(python, environ=None):
    """Start the warm engine, without waiting, if it will be used and none runs: called as a dialog opens, so
    Python, torch and the weights load while the user chooses the settings and the first run finds the engine
    warm, and as a run starts, so the engine starts while the layers are read. True when one was started. Never
    raises: the run itself reports any trouble."""
    if not wants_warm(environ) or not hasattr(W.socket, "AF_UNIX"):
        return False
    if _still_starting(python) is not None:
        return False   # started already (as the dialog opened) and still starting
    try:
        env = engine_env()
        conn = W.connect(_hello(python, env))
        if conn is not None:
            conn.close()
            return False
        _starting[:] = [(python, W.spawn(W.engine_command(python), env=env, log=_engine_log()))]
        return True
    except (OSError, W.WarmEngineError):
        return False


_starting = []   # [(python, Popen)]: the engine prewarm started, which the run then waits for


def _still_starting(python):
    """The engine prewarm started for this interpreter, while it has not exited; else None."""
    return next((proc for py, proc in _starting if py == python and proc.poll() is None), None)


def _hello(python, env):
    """What this plug-in expects of a warm engine for `python` (colorcore.warm.hello)."""
    return W.hello(_engine_module_path(PROTOCOL_FILE, "protocol.py"), python, env)


def _engine_log():
    return os.path.join(W.ensure_private_dir(), "engine.log")


def _warm_connection(python):
    """A connection to the warm engine for this interpreter and these settings, started if none runs."""
    if not hasattr(W.socket, "AF_UNIX"):
        raise W.WarmEngineError("this system has no Unix domain sockets")
    env = engine_env()
    expect = _hello(python, env)
    try:
        conn = W.connect(expect)
        if conn is None:   # the one prewarm started (if still starting), else a new one: never two at once
            proc = _still_starting(python) or W.spawn(W.engine_command(python), env=env, log=_engine_log())
            W.wait_listening(proc, W.socket_path(env), log=_engine_log())
            conn = W.connect(expect)
    except OSError as exc:
        raise W.WarmEngineError(str(exc))
    if conn is None:
        raise W.WarmEngineError("the engine it started did not answer")
    return conn


def run_warm(python, manifest, on_progress=None, should_cancel=None, timeout=None):
    """run_engine through the warm engine. WarmEngineError before the job is sent (the caller falls back);
    PluginError once it was: a job the engine lost is not run twice."""
    t0 = time.monotonic()
    conn = _warm_connection(python)
    t_connected = time.monotonic()
    state = {"result": None, "first": None, "err": [], "cancelled": False}

    def on_line(stream, line):
        if stream == "err":
            state["err"].append(line)
            return
        state["first"] = state["first"] or time.monotonic()
        item = parse_line(line)
        if item[0] == "progress" and on_progress is not None:
            on_progress(item[1], item[2])
        elif item[0] == "result":
            state["result"] = item[1]

    def cancel():
        stop = ((should_cancel is not None and should_cancel())
                or (timeout is not None and time.monotonic() - t0 > timeout))
        state["cancelled"] = state["cancelled"] or bool(stop)
        return stop
    try:
        rc = W.run(conn, ["gimp-run", manifest], cwd=os.path.dirname(manifest), on_line=on_line,
                   should_cancel=cancel)
    except W.WarmEngineError as exc:
        raise PluginError("the colorization engine stopped during this run (%s); the image is unchanged. "
                          "Run the filter again: a fresh engine starts." % exc)
    finally:
        conn.close()
    t_end = time.monotonic()
    if state["cancelled"]:
        raise Cancelled("cancelled")
    stderr_text = "\n".join(state["err"])
    if rc != 0:
        raise PluginError(error_message(stderr_text, rc), calling=(rc == P.EXIT_BAD_INPUT))
    if state["result"] is None:
        raise PluginError("the engine finished without a RESULT line (stderr: %s)" % error_message(stderr_text, rc))
    first = state["first"] or t_end
    return state["result"], {"engine": "warm", "engine_connect": t_connected - t0, "engine_start": first - t0,
                             "engine_work": t_end - first, "engine_total": t_end - t0}


def run_one_shot(python, manifest, on_progress=None, should_cancel=None, timeout=None):
    """Run `python -m colorcore gimp-run manifest` in a process of its own (see run_engine)."""
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
    timing = {"engine": "one-shot", "engine_start": first_line_t - t0, "engine_work": t_end - first_line_t,
              "engine_total": t_end - t0}
    return result, timing


def process_age():
    """Seconds since this process started (Linux: /proc, 10 ms steps), or None: how long GIMP's start of the
    plug-in took before the run began."""
    try:
        with open('/proc/self/stat') as f:
            started = int(f.read().rsplit(')', 1)[1].split()[19]) / os.sysconf('SC_CLK_TCK')
        with open('/proc/uptime') as f:
            return max(0.0, float(f.read().split()[0]) - started)
    except (OSError, ValueError, IndexError, AttributeError):
        return None


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
