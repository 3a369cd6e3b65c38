"""`colorcore serve`: the warm engine. One per user, started on demand by the GIMP plug-in (or by
`colorcore colorize --engine warm`), it keeps Python, torch and the backends' weights loaded between runs and
exits when idle.

Each job is a command line run in this process exactly as `python -m colorcore ARGV` would run it (colorcore.cli
.main), its stdout and stderr lines sent back over the socket (colorcore.warm describes the messages). One job at
a time: a second caller waits, told so by a progress line. A cancel (or the caller going away) stops the job at
its next progress report, and the engine stays up. It listens only on a Unix socket in a private per-user folder,
checks the peer's user id where the OS says it, and refuses a caller that expects other code (colorcore.warm.hello).
"""
from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import socket
import struct
import sys
import threading
import time
from pathlib import Path

from . import memory, protocol, threads, warm

DEFAULT_IDLE = 600.0           # seconds without a job before the engine exits
KEEP_MEMORY_S = 60.0           # seconds without a job before the memory kept for the next run is given back
IDLE_ENV = "COLORCORE_ENGINE_IDLE"
ROOT = Path(__file__).resolve().parents[1]


def settings_file() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "colorcore" / "engine.json"


def idle_seconds(environ=None) -> float:
    """The idle time before the engine exits: COLORCORE_ENGINE_IDLE, else the settings file's
    "idle_seconds" (~/.config/colorcore/engine.json), else DEFAULT_IDLE."""
    environ = os.environ if environ is None else environ
    if environ.get(IDLE_ENV):
        return float(environ[IDLE_ENV])
    try:
        return float(json.loads(settings_file().read_text()).get("idle_seconds", DEFAULT_IDLE))
    except (OSError, ValueError, AttributeError):
        return DEFAULT_IDLE


def code_state() -> str:
    """A fingerprint of the code and weights on disk (paths, sizes, modification times): an engine whose files
    changed since it started is stale and makes way for a fresh one."""
    h = hashlib.sha256()
    for pkg in ("colorcore", "backends"):
        for p in sorted((ROOT / pkg).rglob("*")):
            if p.suffix in (".py", ".pt", ".json") and p.is_file():
                st = p.stat()
                h.update(f"{p.relative_to(ROOT)}:{st.st_size}:{st.st_mtime_ns}\n".encode())
    return h.hexdigest()[:16]


def peer_uid(conn) -> int | None:
    """The connecting process's user id (Linux SO_PEERCRED), or None where the OS does not say."""
    if not hasattr(socket, "SO_PEERCRED"):
        return None
    creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    return struct.unpack("3i", creds)[1]


class _LineSender(io.TextIOBase):
    """A text stream whose complete lines go to the client as {stream: line} messages."""

    def __init__(self, send, stream):
        self.send_message, self.stream, self.buffer_ = send, stream, ""

    def writable(self):
        return True

    def write(self, text):
        self.buffer_ += text
        while "\n" in self.buffer_:
            line, self.buffer_ = self.buffer_.split("\n", 1)
            self.send_message({self.stream: line})
        return len(text)

    def flush(self):
        pass

    def finish(self):
        if self.buffer_:
            self.send_message({self.stream: self.buffer_})
            self.buffer_ = ""


class Engine:
    def __init__(self, run_command, path=None, idle=None):
        self.run_command = run_command   # colorcore.cli.main, handed in (the CLI is what starts the engine)
        self.path = path or warm.socket_path()
        self.idle = idle_seconds() if idle is None else idle
        self.expect = warm.hello(Path(protocol.__file__), sys.executable)
        self.state = code_state()
        self.job_lock = threading.Lock()
        self.last_active = time.monotonic()
        self.started = time.time()
        self.jobs = 0
        self.stopping = threading.Event()
        self.busy = 0   # connections being served
        self._busy_lock = threading.Lock()
        self.keeping_memory = False   # freed memory kept since the last job (given back after KEEP_MEMORY_S idle)

    # ---- the socket

    def listen(self):
        folder = warm.ensure_private_dir(os.path.dirname(self.path))
        if os.path.exists(self.path):   # a live engine keeps it; a dead one's file is removed
            if warm.request({"status": True}, self.path, timeout=2.0) is not None:
                raise SystemExit(f"colorcore serve: an engine already listens on {self.path}")
            os.unlink(self.path)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old = os.umask(0o177)   # the socket file is the user's alone from its first moment
        try:
            sock.bind(self.path)
        finally:
            os.umask(old)
        sock.listen(8)
        sock.settimeout(0.5)
        self.sock = sock
        return folder

    def serve_forever(self):
        try:
            while not self.stopping.is_set():
                try:
                    conn, _ = self.sock.accept()
                except socket.timeout:
                    if self.idle_step():
                        break
                    continue
                threading.Thread(target=self.handle, args=(conn,), daemon=True).start()
            while self.busy:   # a stop waits for the job that is running
                time.sleep(0.05)
        finally:
            self.sock.close()
            with contextlib.suppress(FileNotFoundError):
                if os.stat(self.path).st_ino == self._inode:
                    os.unlink(self.path)

    def idle_step(self) -> bool:
        """Between callers: give back the memory kept for the next run once the painting loop has paused
        (KEEP_MEMORY_S), and say when the engine has been idle long enough to exit."""
        idle = time.monotonic() - self.last_active if self.busy == 0 else 0.0
        if idle > KEEP_MEMORY_S and self.keeping_memory:
            memory.give_back_memory()
            self.keeping_memory = False
        return idle > self.idle

    def run(self):
        from .photo_cache import CACHE
        from .plugins import keep_registry
        CACHE.enabled = True   # later runs on the same photo reuse what depends on the photo alone
        memory.keep_freed_memory()   # and the pages of their arrays (colorcore.memory), until idle
        keep_registry()        # the backends, loaded once, serve every job
        self.listen()
        self._inode = os.stat(self.path).st_ino
        threading.Thread(target=preload, args=(self.quiet,), daemon=True).start()
        self.serve_forever()

    def quiet(self) -> bool:
        """No caller connected, none for PRELOAD_QUIET_S: the time to load what no job asked for yet."""
        return (self.busy == 0 and not self.job_lock.locked()
                and time.monotonic() - self.last_active >= PRELOAD_QUIET_S)

    # ---- one caller

    def _count(self, step):
        with self._busy_lock:
            self.busy += step

    def handle(self, conn):
        self._count(+1)
        self.last_active = time.monotonic()
        self.keeping_memory = True
        send_lock = threading.Lock()

        def send(message):
            with send_lock:
                conn.sendall((json.dumps(message) + "\n").encode("utf-8"))
        try:
            uid = peer_uid(conn)
            if uid is not None and uid != os.getuid():
                send({"error": "this engine serves its own user only"})
                return
            reader = conn.makefile("r", encoding="utf-8", newline="\n")
            for line in reader:
                message = json.loads(line)
                if "hello" in message:
                    reason = self.stale_reason(message["hello"])
                    send({"hello": "stale", "reason": reason} if reason else
                         {"hello": "ok", "pid": os.getpid(), "state": self.state})
                    if reason:
                        self.stopping.set()
                        return
                elif "status" in message:
                    send({"status": self.status()})
                elif "stop" in message:
                    send({"stopping": True})
                    self.stopping.set()
                    return
                elif "run" in message:   # the conversation's last message: one job per connection
                    send({"exit": self.run_job(message["run"], message.get("cwd"), send, reader)})
                    return
                else:
                    send({"error": f"unknown message {sorted(message)}"})
        except (OSError, ValueError):
            pass   # the caller went away: nothing to answer
        finally:
            conn.close()
            self._count(-1)
            self.last_active = time.monotonic()

    def stale_reason(self, expect) -> str | None:
        for key in ("protocol", "python", "env"):
            if expect.get(key) != self.expect[key]:
                return f"the caller expects another {key}"
        if code_state() != self.state:
            return "the code or weights changed on disk since this engine started"
        return None

    def status(self):
        import resource
        rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return {"pid": os.getpid(), "socket": self.path, "uptime_s": round(time.time() - self.started, 1),
                "jobs": self.jobs, "busy": self.job_lock.locked(), "idle_exit_s": self.idle,
                "peak_rss_mb": round(rss_kb / 1024, 1), "rss_mb": current_rss_mb(),
                "threads": threads.choose_threads(), "python": sys.executable, "preloaded": list(PRELOADED)}

    def run_job(self, argv, cwd, send, reader) -> int:
        from . import progress
        argv = [a for a in argv if a != "--exit-with-stdin"]   # that switch ends the process: not here
        gimp = bool(argv) and argv[0] == "gimp-run"
        if not self.job_lock.acquire(blocking=False):
            note = "waiting for another colorize job to finish"
            send({"out": protocol.format_progress(0.0, note)} if gimp else {"err": f"[colorcore] {note}"})
            self.job_lock.acquire()
        try:
            cancel = threading.Event()
            progress.cancel_with(cancel)
            threading.Thread(target=_watch_for_cancel, args=(reader, cancel), daemon=True).start()
            out, err = _LineSender(send, "out"), _LineSender(send, "err")
            old_cwd = os.getcwd()
            try:
                os.chdir(cwd or old_cwd)
                with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                    try:
                        rc = self.run_command(list(argv))
                    except SystemExit as exc:   # argparse: bad arguments, --help
                        rc = exc.code if isinstance(exc.code, int) else protocol.EXIT_BAD_INPUT
            finally:
                os.chdir(old_cwd)
                out.finish()
                err.finish()
            self.jobs += 1
            return int(rc or 0)
        finally:
            progress.cancel_with(None)
            self.job_lock.release()


def _watch_for_cancel(reader, cancel):
    """After a run message the only one a caller may send is a cancel; the caller going away is one too (a
    run ends the conversation, so this reader is the connection's last)."""
    try:
        line = reader.readline()
        if not line or "cancel" in json.loads(line):
            cancel.set()
    except (OSError, ValueError):
        cancel.set()


def current_rss_mb():
    try:
        with open("/proc/self/statm") as f:
            return round(int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2 ** 20, 1)
    except (OSError, ValueError, IndexError):
        return None


PRELOADED: list = []   # the backends whose weights preload() loaded (serve --status shows them)


PRELOAD_QUIET_S = 1.0   # preload waits for this long without a caller


def preload(quiet=None):
    """Load torch and every available built-in backend's weights while the engine has nothing to do, so the
    first run of each backend pays no loading. Never beside a job: the plug-in that started the engine sends its
    job at once, and loading the other backends beside it made that first run ~0.7 s slower (two loads on two
    cores); they load once it is done, while the user looks at the result. quiet() says when (Engine.quiet)."""
    def wait():
        while quiet is not None and not quiet():
            time.sleep(0.05)
    try:
        from .plugins import load_registry
        wait()
        for backend in load_registry().backends.values():
            wait()
            weights = getattr(backend, "weights_path", None)
            if weights is not None and backend.unavailable_reason() is None:
                from backends.gan import infer
                infer.load_generator(weights)
            PRELOADED.append(backend.name)
        wait()
        from .gamut import gamut_reach   # its table of the gamut's edge (0.1 s), which the prior's score needs
        gamut_reach(0.0, (0.0, 0.0))
    except Exception:   # a preload failure is the first job's to report, with its own message
        pass


def main(args, run_command) -> int:
    """`colorcore serve`: run_command(argv) -> exit status runs each job (the CLI's main)."""
    if args.status or args.stop:
        answer = warm.request({"stop": True} if args.stop else {"status": True})
        if answer is None:
            print("no warm engine is running" + (f" (socket {warm.socket_path()})" if args.status else ""))
            return 0
        print(json.dumps(answer.get("status", answer), indent=1))
        return 0
    threads.prepare_environment()
    try:
        Engine(run_command, idle=args.idle).run()
    except warm.WarmEngineError as exc:
        print(protocol.CLI_ERROR_PREFIX + str(exc), file=sys.stderr)
        return protocol.EXIT_FAILED
    return 0
