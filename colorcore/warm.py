"""The warm engine's socket, seen from both sides: where it lives, and the client. Standard library only.

The GIMP plug-in imports this module (the installer copies it beside the plug-in, as it copies protocol.py), so
it must not import colorcore, numpy or anything outside Python's standard library.

- The socket is a Unix domain socket in a private per-user folder: $XDG_RUNTIME_DIR/colorcore, or
  /tmp/colorcore-<uid>; the folder must belong to this user and be closed to everyone else (mode 0700), or
  nothing listens or connects there. There is no TCP listener.
- Messages are JSON objects, one per line, both ways:
    client: {"hello": {...}}          engine: {"hello": "ok", "pid": ..} or {"hello": "stale", "reason": ..}
    client: {"run": [argv], "cwd": D} engine: {"out": line} / {"err": line} ..., then {"exit": code}
    client: {"cancel": true}          (during a run; closing the connection cancels too)
  A run is a conversation's last message: the engine closes the connection after its exit status.
    client: {"status": true}          engine: {"status": {...}}
    client: {"stop": true}            engine: {"stopping": true}, then it exits
  A run is exactly the command line `python -m colorcore ARGV` in a warm process: the same output lines, the
  same exit status, the same files.
- The hello carries what makes an engine the right one: the protocol module's hash, the engine interpreter and
  the COLORCORE_* environment. An engine that differs, or whose code or weights changed on disk since it
  started, answers "stale" and exits; the client then starts a fresh one. It never answers with stale code.
"""
from __future__ import annotations

import hashlib
import json
import os
import select
import socket
import stat
import subprocess
import sys
import time

SOCKET_NAME = "engine.sock"
START_TIMEOUT = 60.0       # seconds a fresh engine may take to listen (python + torch + weights on a slow disk)
ENV_PREFIX = "COLORCORE_"
# environment that only concerns the client or the engine's own lifetime, not what a job computes
ENV_IGNORED = ("COLORCORE_ENGINE_IDLE", "COLORCORE_ENGINE", "COLORCORE_TIMING_LOG", "COLORCORE_TEST_SCREENSHOTS",
               "COLORCORE_UPDATE_SCREENSHOTS")


class WarmEngineError(Exception):
    """The warm engine could not be used (the caller falls back to a one-shot engine) or died during a job."""


def runtime_dir(environ=None, uid=None) -> str:
    """The private folder of this user's engine socket (not created here)."""
    environ = os.environ if environ is None else environ
    uid = os.getuid() if uid is None else uid
    base = environ.get("XDG_RUNTIME_DIR")
    if base and os.path.isdir(base):
        return os.path.join(base, "colorcore")
    return os.path.join("/tmp", "colorcore-%d" % uid)


def check_private_dir(path, uid=None):
    """Refuse a socket folder another user owns or others may enter: one clear line, a WarmEngineError."""
    uid = os.getuid() if uid is None else uid
    st = os.lstat(path)
    if not stat.S_ISDIR(st.st_mode):
        raise WarmEngineError("%s is not a folder (remove it; the engine's socket folder is made there)" % path)
    if st.st_uid != uid:
        raise WarmEngineError("the engine's socket folder %s belongs to user %d, not to you (%d); remove it"
                              % (path, st.st_uid, uid))
    if st.st_mode & 0o077:
        raise WarmEngineError("the engine's socket folder %s has mode %o; it must be 0700 (chmod 700 %s)"
                              % (path, stat.S_IMODE(st.st_mode), path))


def ensure_private_dir(path=None) -> str:
    path = path or runtime_dir()
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    check_private_dir(path)
    return path


def socket_path(environ=None) -> str:
    return os.path.join(runtime_dir(environ), SOCKET_NAME)


def _file_hash(path) -> str:
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()[:16]


def hello(protocol_file, python, environ=None) -> dict:
    """What the client expects of the engine (see the module docstring)."""
    environ = os.environ if environ is None else environ
    env = {k: v for k, v in sorted(environ.items()) if k.startswith(ENV_PREFIX) and k not in ENV_IGNORED}
    return {"protocol": _file_hash(protocol_file), "python": os.path.realpath(python), "env": env}


class Connection:
    """One conversation with the engine: newline-delimited JSON over the Unix socket."""

    def __init__(self, path, timeout=5.0):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        try:
            self.sock.connect(path)
        except OSError:
            self.sock.close()
            raise
        self.sock.settimeout(None)
        self._buffer = b""

    def send(self, message):
        self.sock.sendall((json.dumps(message) + "\n").encode("utf-8"))

    def receive(self, timeout=None):
        """The next message; None when the engine closed the connection (it died or stopped); socket.timeout
        when none came within `timeout` seconds (the connection stays usable)."""
        while b"\n" not in self._buffer:
            if timeout is not None and not select.select([self.sock], [], [], timeout)[0]:
                raise socket.timeout("no message within %.1f s" % timeout)
            chunk = self.sock.recv(65536)
            if not chunk:
                return None
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        return json.loads(line.decode("utf-8"))

    def close(self):
        self.sock.close()


def connect(expect, path=None):
    """A connection to a running engine that is the right one (hello accepted), or None when there is none
    (no socket, a stale socket file, an engine that answered "stale" and is exiting)."""
    path = path or socket_path()
    if not os.path.exists(path):
        return None
    check_private_dir(os.path.dirname(path))
    try:
        conn = Connection(path)
        conn.send({"hello": expect})
        answer = conn.receive(timeout=10.0)
    except (OSError, ValueError):
        return None
    if not answer or answer.get("hello") != "ok":
        conn.close()
        if answer and answer.get("hello") == "stale":
            _wait_gone(path, 10.0)   # it exits after saying so; a fresh one takes its place
        return None
    return conn


def _wait_gone(path, timeout):
    end = time.monotonic() + timeout
    while os.path.exists(path) and time.monotonic() < end:
        time.sleep(0.05)


def spawn(command, env=None, path=None, log=None):
    """Start a warm engine (`command` = the engine interpreter and `-m colorcore serve`) in its own session, so
    it outlives the caller, without waiting for it. Returns its Popen. Two started at once are harmless: the
    one that finds the other listening exits (colorcore.serve)."""
    path = path or socket_path(env)
    ensure_private_dir(os.path.dirname(path))
    with open(log or os.devnull, "ab") as err:
        return subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
                                env=env, start_new_session=True, close_fds=True)


def start(command, env=None, path=None, timeout=START_TIMEOUT, log=None):
    """spawn() a warm engine and wait until it listens (wait_listening). Returns its Popen."""
    path = path or socket_path(env)
    return wait_listening(spawn(command, env, path, log), path, timeout, log)


def wait_listening(proc, path, timeout=START_TIMEOUT, log=None):
    """Wait until the engine `proc` (spawn's), or another that won the race, listens on `path`. Returns proc;
    raises WarmEngineError if none came up (the caller falls back to the one-shot engine)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        exited = proc.poll() is not None   # read before the probe: an engine that lost a race to another
        if os.path.exists(path):           # one exits, and the other one listens
            try:
                probe = Connection(path, timeout=1.0)
                probe.close()
                return proc
            except OSError:
                pass
        if exited:
            raise WarmEngineError("the warm engine exited at once (status %d)%s"
                                  % (proc.returncode, "; see " + log if log else ""))
        time.sleep(0.05)
    raise WarmEngineError("the warm engine did not start listening within %.0f s" % timeout)


def run(conn, argv, cwd=None, on_line=None, should_cancel=None, poll=0.1):
    """Run `colorcore ARGV` in the engine; on_line(stream, line) for each output line ("out" or "err").
    Returns the exit status. should_cancel() is polled; when it says yes the engine is asked to cancel (it
    answers with the cancelled status). Raises WarmEngineError when the engine dies mid-job."""
    conn.send({"run": list(argv), "cwd": cwd or os.getcwd()})
    cancelled = False
    while True:
        if should_cancel is not None and not cancelled and should_cancel():
            cancelled = True
            try:
                conn.send({"cancel": True})
            except OSError:
                pass
        try:
            msg = conn.receive(timeout=poll)
        except socket.timeout:
            continue
        except (OSError, ValueError) as exc:
            raise WarmEngineError("lost the warm engine during the job (%s)" % exc)
        if msg is None:
            raise WarmEngineError("the warm engine stopped during the job (it was killed or crashed); the "
                                  "next run starts a fresh one")
        if "exit" in msg:
            return int(msg["exit"])
        for stream in ("out", "err"):
            if stream in msg and on_line is not None:
                on_line(stream, msg[stream])


def request(message, path=None, timeout=5.0):
    """One short exchange with a running engine (status, stop); None when none runs."""
    path = path or socket_path()
    if not os.path.exists(path):
        return None
    try:
        conn = Connection(path, timeout=timeout)
    except OSError:
        return None
    try:
        conn.send(message)
        return conn.receive(timeout=timeout)
    except (OSError, ValueError):
        return None
    finally:
        conn.close()


def engine_command(python):
    """The command line that starts a warm engine with this interpreter."""
    return [python, "-m", "colorcore", "serve"]


if __name__ == "__main__":   # a tiny client for people: python warm.py status|stop
    print(json.dumps(request({sys.argv[1] if len(sys.argv) > 1 else "status": True}), indent=1))
