"""The warm engine (colorcore serve) and its client (colorcore.warm), for real: processes, a Unix socket in a
private folder, SIGKILL, a second user. Each test has its own runtime folder and stops its engine."""
import json
import os
import pwd
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
from PIL import Image

from colorcore import warm
from testutil_engine import ROOT, colorcore_cmd, engine_env

pytestmark = pytest.mark.skipif(not hasattr(os, "getuid") or sys.platform == "win32", reason="Unix sockets only")


@pytest.fixture
def runtime(tmp_path):
    """A private XDG_RUNTIME_DIR, the engine's environment, and a cleanup that stops whatever engine ran."""
    rt = tmp_path / "rt"
    rt.mkdir(mode=0o700)
    env = engine_env(XDG_RUNTIME_DIR=str(rt), COLORCORE_PLUGINS="variational", COLORCORE_ENGINE_IDLE="60",
                     OMP_NUM_THREADS="1")
    yield env
    sock = os.path.join(str(rt), "colorcore", warm.SOCKET_NAME)
    answer = warm.request({"status": True}, sock, timeout=2)
    if answer:
        os.kill(answer["status"]["pid"], signal.SIGKILL)


@pytest.fixture
def job(tmp_path):
    """A gray photo with two strokes: variational colorizes it (no torch); big=True makes one that takes seconds."""
    def make(big=False):
        h, w = (1400, 1800) if big else (48, 64)
        yy, xx = np.mgrid[0:h, 0:w]
        g = np.round((0.3 + 0.5 * (xx / w) * (yy / h) + 0.1 * np.sin(xx / w * 40)) * 255).astype(np.uint8)
        Image.fromarray(g).save(tmp_path / "gray.png")
        s = np.zeros((h, w, 4), np.uint8)
        s[h // 4:h // 4 + 3, w // 5:w // 3] = [220, 40, 30, 255]
        s[3 * h // 4:3 * h // 4 + 3, w // 2:3 * w // 4] = [40, 160, 60, 255]
        Image.fromarray(s, "RGBA").save(tmp_path / "s.png")
        args = ["colorize", "gray.png", "--scribbles", "s.png", "--seed", "1"]
        return args + (["--set", "work_megapixels=2.5", "--set", "nonlocal=false"] if big else [])
    return make


def colorize(args, env, cwd, out, engine="warm"):
    return subprocess.run(colorcore_cmd() + args + ["-o", out, "--engine", engine], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=300)


def status(env):
    return warm.request({"status": True}, warm.socket_path(env), timeout=5)


def test_a_warm_run_gives_the_same_file_as_a_run_here_and_the_engine_stays(runtime, job, tmp_path):
    args = job()
    here = colorize(args, runtime, tmp_path, "here.png", engine="here")
    first = colorize(args, runtime, tmp_path, "warm1.png")
    second = colorize(args, runtime, tmp_path, "warm2.png")
    assert here.returncode == first.returncode == second.returncode == 0, (first.stderr, second.stderr)
    assert "wrote warm2.png (variational, scribble" in second.stdout
    for name in ("warm1.png", "warm2.png"):
        assert (np.asarray(Image.open(tmp_path / name)) == np.asarray(Image.open(tmp_path / "here.png"))).all()
    st = status(runtime)["status"]
    assert st["jobs"] == 2 and st["rss_mb"] > 0
    listed = subprocess.run(colorcore_cmd() + ["serve", "--status"], capture_output=True, text=True, env=runtime)
    assert json.loads(listed.stdout)["pid"] == st["pid"]


def test_the_socket_folder_must_be_private(tmp_path):
    folder = tmp_path / "open"
    folder.mkdir(mode=0o755)
    os.chmod(folder, 0o755)
    with pytest.raises(warm.WarmEngineError, match="mode 755; it must be 0700"):
        warm.check_private_dir(str(folder))
    os.chmod(folder, 0o700)
    warm.check_private_dir(str(folder))
    if os.getuid() == 0:
        nobody = pwd.getpwnam("nobody").pw_uid
        os.chown(folder, nobody, -1)
        with pytest.raises(warm.WarmEngineError, match="belongs to user"):
            warm.check_private_dir(str(folder))


def test_the_engine_refuses_to_listen_in_a_folder_others_can_enter(runtime, tmp_path):
    os.chmod(runtime["XDG_RUNTIME_DIR"], 0o700)
    folder = os.path.join(runtime["XDG_RUNTIME_DIR"], "colorcore")
    os.mkdir(folder, 0o777)
    os.chmod(folder, 0o777)
    proc = subprocess.run(colorcore_cmd() + ["serve"], capture_output=True, text=True, env=runtime, timeout=60)
    assert proc.returncode != 0 and "must be 0700" in proc.stderr
    assert not os.path.exists(os.path.join(folder, warm.SOCKET_NAME))


@pytest.mark.skipif(os.getuid() != 0, reason="needs root to act as another user")
def test_another_user_cannot_connect(runtime, job, tmp_path):
    assert colorize(job(), runtime, tmp_path, "a.png").returncode == 0
    sock = warm.socket_path(runtime)
    nobody = pwd.getpwnam("nobody")
    probe = ("import socket,sys\ns=socket.socket(socket.AF_UNIX)\ntry:\n s.connect(sys.argv[1]); print('connected')\n"
             "except OSError as e: print(type(e).__name__)")
    python = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable   # one nobody may run
    out = subprocess.run([python, "-c", probe, sock], capture_output=True, text=True, cwd="/",
                         preexec_fn=lambda: (os.setgid(nobody.pw_gid), os.setuid(nobody.pw_uid))).stdout.strip()
    assert out == "PermissionError"


def test_an_engine_for_other_settings_makes_way_for_a_fresh_one(runtime, job, tmp_path):
    args = job()
    assert colorize(args, runtime, tmp_path, "a.png").returncode == 0
    old = status(runtime)["status"]["pid"]
    other = dict(runtime, COLORCORE_SOME_SETTING="1")   # another plug-in/engine setting: the old one is stale
    assert colorize(args, other, tmp_path, "b.png").returncode == 0
    new = status(runtime)["status"]["pid"]
    assert new != old
    with pytest.raises(ProcessLookupError):
        for _ in range(100):
            os.kill(old, 0)
            time.sleep(0.05)


def test_sigkill_mid_job_fails_that_call_clearly_and_the_next_call_works(runtime, job, tmp_path):
    small = job()
    assert colorize(small, runtime, tmp_path, "warm.png").returncode == 0
    pid = status(runtime)["status"]["pid"]
    big = job(big=True)
    proc = subprocess.Popen(colorcore_cmd() + big + ["-o", "big.png", "--engine", "warm"], env=runtime,
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for _ in range(600):   # until the engine is busy with it
        if status(runtime)["status"]["busy"]:
            break
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode != 0 and "stopped during the job" in err
    assert not (tmp_path / "big.png").exists()
    again = colorize(job(), runtime, tmp_path, "again.png")
    assert again.returncode == 0, again.stderr
    assert status(runtime)["status"]["pid"] != pid


def test_a_cancel_stops_the_job_and_the_engine_stays_up(runtime, job, tmp_path):
    assert colorize(job(), runtime, tmp_path, "warm.png").returncode == 0
    big = job(big=True)
    expect = warm.hello(ROOT / "colorcore" / "protocol.py", sys.executable, runtime)
    conn = warm.connect(expect, warm.socket_path(runtime))
    assert conn is not None
    lines, asked = [], time.monotonic()
    rc = warm.run(conn, big + ["-o", str(tmp_path / "big.png")], cwd=str(tmp_path),
                  on_line=lambda s, line: lines.append(line), should_cancel=lambda: time.monotonic() - asked > 0.5)
    conn.close()
    assert rc == 130 and any("cancelled" in line for line in lines)
    assert not (tmp_path / "big.png").exists()
    after = colorize(job(), runtime, tmp_path, "after.png")
    assert after.returncode == 0 and status(runtime)["status"]["jobs"] >= 2


def test_two_callers_at_once_both_get_their_own_result(runtime, job, tmp_path):
    args = job()
    assert colorize(args, runtime, tmp_path, "ref.png", engine="here").returncode == 0
    assert colorize(args, runtime, tmp_path, "warm.png").returncode == 0   # the engine is up
    results = {}

    def call(name):
        results[name] = colorize(args, runtime, tmp_path, name)
    callers = [threading.Thread(target=call, args=(f"c{i}.png",)) for i in range(2)]
    for t in callers:
        t.start()
    for t in callers:
        t.join()
    ref = np.asarray(Image.open(tmp_path / "ref.png"))
    for name, proc in results.items():
        assert proc.returncode == 0, proc.stderr
        assert (np.asarray(Image.open(tmp_path / name)) == ref).all()


def test_the_engine_exits_when_idle_and_leaves_no_socket(runtime, job, tmp_path):
    env = dict(runtime, COLORCORE_ENGINE_IDLE="1")
    assert colorize(job(), env, tmp_path, "a.png").returncode == 0
    sock = warm.socket_path(env)
    for _ in range(200):
        if not os.path.exists(sock):
            break
        time.sleep(0.05)
    assert not os.path.exists(sock) and status(env) is None


def test_a_stale_socket_file_does_not_block_the_next_start(runtime, job, tmp_path):
    folder = warm.ensure_private_dir(os.path.join(runtime["XDG_RUNTIME_DIR"], "colorcore"))
    import socket
    dead = socket.socket(socket.AF_UNIX)
    dead.bind(os.path.join(folder, warm.SOCKET_NAME))   # a socket file nobody listens on (a crashed engine's)
    dead.close()
    proc = colorize(job(), runtime, tmp_path, "a.png")
    assert proc.returncode == 0 and "running here instead" not in proc.stderr, proc.stderr
    assert status(runtime) is not None


def test_when_the_socket_cannot_be_used_the_cli_runs_here_and_says_so(runtime, job, tmp_path):
    folder = os.path.join(runtime["XDG_RUNTIME_DIR"], "colorcore")
    os.mkdir(folder, 0o755)
    os.chmod(folder, 0o755)   # not private: no engine may listen there
    proc = colorize(job(), runtime, tmp_path, "a.png")
    assert proc.returncode == 0 and proc.stderr.count("running here instead") == 1
    assert (tmp_path / "a.png").exists()


def test_threads_are_the_usable_cores_and_wait_passively():
    from colorcore.threads import choose_threads, prepare_environment, usable_cores
    assert choose_threads({}, cores=2) == 2 and choose_threads({}) == usable_cores() == len(os.sched_getaffinity(0))
    assert choose_threads({"COLORCORE_THREADS": "3"}, cores=2) == 3
    assert choose_threads({"OMP_NUM_THREADS": "1"}, cores=2) == 1          # the user's setting
    assert choose_threads({"COLORCORE_THREADS": "x"}, cores=2) == 2        # a bad value is ignored
    env = {}
    assert prepare_environment(env) == usable_cores()
    assert env["OMP_WAIT_POLICY"] == "PASSIVE" and env["OMP_NUM_THREADS"] == str(usable_cores())
    env = {"OMP_WAIT_POLICY": "ACTIVE", "OMP_NUM_THREADS": "1"}
    assert prepare_environment(env) == 1 and env["OMP_WAIT_POLICY"] == "ACTIVE"


@pytest.mark.parametrize("user", [None, "2"])
def test_blas_runs_on_one_thread_unless_the_user_says_otherwise(user):
    """Every BLAS library the engine has loaded (numpy's, OpenCV's) and SciPy's, loaded after, runs on one thread
    (OpenBLAS's spinning threads stall a busy machine), or on the count the user set."""
    code = ("from colorcore import threads; threads.prepare_environment(); import scipy.linalg, json; "
            "from threadpoolctl import threadpool_info; "
            "print(json.dumps(sorted({(i['filepath'], i['num_threads']) for i in threadpool_info() "
            "if i['user_api'] == 'blas'})))")
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    if user:
        env["OPENBLAS_NUM_THREADS"] = user
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout
    libraries = json.loads(out)
    assert len(libraries) >= 2, libraries   # numpy's and SciPy's at least
    assert {n for _, n in libraries} == {int(user or 1)}, libraries


def test_preload_waits_until_no_job_is_running(monkeypatch):
    """The engine loads the backends no job asked for only while it is quiet: never beside the first job."""
    import types
    from colorcore import plugins, serve
    loaded, quiet = [], threading.Event()
    backend = types.SimpleNamespace(name="b", weights_path=None, unavailable_reason=lambda: None)
    monkeypatch.setattr(plugins, "load_registry", lambda: loaded.append("registry") or
                        types.SimpleNamespace(backends={"b": backend}))
    monkeypatch.setattr(serve, "PRELOADED", [])
    worker = threading.Thread(target=serve.preload, args=(quiet.is_set,), daemon=True)
    worker.start()
    time.sleep(0.3)
    assert loaded == [] and serve.PRELOADED == []   # a job runs: nothing loads beside it
    from colorcore import gamut
    gamut._corners.cache_clear()
    quiet.set()
    worker.join(5)
    assert loaded == ["registry"] and serve.PRELOADED == ["b"]
    assert gamut._corners.cache_info().currsize == 1   # the gamut's table too, which the prior's score needs


def test_the_memory_kept_for_the_next_run_goes_back_once_the_engine_is_idle_and_it_exits_later(tmp_path, monkeypatch):
    from colorcore import memory, serve
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    given = []
    monkeypatch.setattr(memory, "give_back_memory", lambda: given.append(1) or True)
    engine = serve.Engine(run_command=lambda argv: 0, path=str(tmp_path / "engine.sock"), idle=600)
    engine.keeping_memory = True                      # a job ran
    engine.last_active = time.monotonic() - 5         # a stroke is being painted: keep it
    assert engine.idle_step() is False and given == []
    engine.last_active = time.monotonic() - serve.KEEP_MEMORY_S - 1
    assert engine.idle_step() is False and given == [1]
    assert engine.idle_step() is False and given == [1]   # once
    engine.last_active = time.monotonic() - 601
    assert engine.idle_step() is True
