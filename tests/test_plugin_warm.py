"""The plug-in's side of the warm engine (gimp_plugin/colorize/colorize_engine.py run_engine): the real engine
started on demand, kept between runs, a lost engine failing one run clearly, and the fallback to a one-shot
engine. Each test has its own runtime folder and stops the engine it started."""
import os
import signal
import struct
import sys
import threading
import time

import pytest

from colorcore import warm
from test_plugin_helpers import engine, jobdir  # the plug-in modules, imported as GIMP imports them

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="Unix sockets only")


@pytest.fixture
def runtime(tmp_path, monkeypatch):
    rt = tmp_path / "rt"
    rt.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(rt))
    monkeypatch.setenv("COLORCORE_PLUGINS", "variational")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    monkeypatch.delenv("COLORIZE_ENGINE_MODE", raising=False)
    engine._said_fallback.clear()
    yield rt
    answer = warm.request({"status": True}, warm.socket_path(), timeout=2)
    if answer:
        os.kill(answer["status"]["pid"], signal.SIGKILL)


def scribble_job(folder, w=40, h=30):
    """A gray image with a red stroke, as the plug-in writes it: buffers and a manifest for variational."""
    folder.mkdir(exist_ok=True)
    jobdir.write_buffer(str(folder), engine.P.IMAGE_FILE, b"".join(struct.pack("<4f", 0.5, 0.5, 0.5, 1.0)
                                                           for _ in range(w * h)))
    stroke = [(0.9, 0.1, 0.1, 1.0) if 5 <= x < 15 and 10 <= y < 13 else (0, 0, 0, 0)
              for y in range(h) for x in range(w)]
    jobdir.write_buffer(str(folder), engine.P.SCRIBBLES_FILE, b"".join(struct.pack("<4f", *p) for p in stroke))
    return engine.write_manifest(str(folder), "scribble", "variational", w, h, seed=1, has_scribbles=True)


def result_of(folder, w=40, h=30):
    return jobdir.read_buffer(str(folder), engine.P.RESULT_FILE, w * h * 12)


def test_the_plugin_starts_the_warm_engine_once_and_gets_the_one_shot_result(runtime, tmp_path):
    one, _ = engine.run_one_shot(sys.executable, scribble_job(tmp_path / "a"))
    first, t1 = engine.run_engine(sys.executable, scribble_job(tmp_path / "b"))
    pid = warm.request({"status": True})["status"]["pid"]
    second, t2 = engine.run_engine(sys.executable, scribble_job(tmp_path / "c"))
    assert t1["engine"] == t2["engine"] == "warm"
    assert warm.request({"status": True})["status"]["pid"] == pid   # the same engine served both
    assert t2["engine_total"] < t1["engine_total"]                   # no interpreter to start the second time
    assert result_of(tmp_path / "a") == result_of(tmp_path / "b") == result_of(tmp_path / "c")
    assert one["backend"] == first["backend"] == second["backend"] == "variational"


def test_an_engine_killed_mid_run_fails_that_run_clearly_and_the_next_run_works(runtime, tmp_path):
    engine.run_engine(sys.executable, scribble_job(tmp_path / "warmup"))
    pid = warm.request({"status": True})["status"]["pid"]
    big = scribble_job(tmp_path / "big", w=1500, h=1200)   # long enough to be killed in the middle

    def kill_when_busy():   # once the engine is working on the job, whatever the machine's speed
        for _ in range(600):
            if warm.request({"status": True}, timeout=2)["status"]["busy"]:
                break
            time.sleep(0.02)
        os.kill(pid, signal.SIGKILL)
    killer = threading.Thread(target=kill_when_busy)
    killer.start()
    with pytest.raises(engine.PluginError, match="stopped during this run .* the image is unchanged"):
        engine.run_engine(sys.executable, big)
    killer.join()
    result, timing = engine.run_engine(sys.executable, scribble_job(tmp_path / "after"))
    assert timing["engine"] == "warm" and result["backend"] == "variational"
    assert warm.request({"status": True})["status"]["pid"] != pid


def test_when_the_socket_folder_is_not_private_the_plugin_runs_one_shot_and_says_so_once(runtime, tmp_path,
                                                                                        capsys):
    folder = runtime / "colorcore"
    folder.mkdir(mode=0o755)
    os.chmod(folder, 0o755)
    for name in ("a", "b"):
        _, timing = engine.run_engine(sys.executable, scribble_job(tmp_path / name))
        assert timing["engine"] == "one-shot"
    assert capsys.readouterr().err.count("the warm engine cannot be used") == 1


def test_one_shot_mode_is_a_setting(runtime, tmp_path, monkeypatch):
    monkeypatch.setenv("COLORIZE_ENGINE_MODE", "one-shot")
    _, timing = engine.run_engine(sys.executable, scribble_job(tmp_path / "a"))
    assert timing["engine"] == "one-shot" and warm.request({"status": True}) is None


def test_a_dialog_opening_starts_the_engine_in_the_background_and_the_run_finds_it_warm(runtime, tmp_path):
    assert warm.request({"status": True}) is None
    t0 = time.monotonic()
    assert engine.prewarm(sys.executable) is True
    assert time.monotonic() - t0 < 1.0   # it does not wait for the engine (Python and the imports take longer)
    for _ in range(600):   # the engine comes up while "the dialog is open"
        answer = warm.request({"status": True}, timeout=2)
        if answer:
            break
        time.sleep(0.05)
    pid = answer["status"]["pid"]
    assert engine.prewarm(sys.executable) is False   # one runs already: nothing more is started
    result, timing = engine.run_engine(sys.executable, scribble_job(tmp_path / "a"))
    assert timing["engine"] == "warm" and result["backend"] == "variational"
    assert warm.request({"status": True})["status"]["pid"] == pid   # the run used the engine started early


def test_no_engine_is_started_early_when_the_plugin_runs_one_shot(runtime, monkeypatch):
    monkeypatch.setenv("COLORIZE_ENGINE_MODE", "one-shot")
    assert engine.prewarm(sys.executable) is False
    time.sleep(0.5)
    assert warm.request({"status": True}) is None


def test_a_run_right_after_the_early_start_waits_for_that_engine_instead_of_starting_another(runtime, tmp_path,
                                                                                            monkeypatch):
    spawned = []
    real_spawn = engine.W.spawn
    monkeypatch.setattr(engine.W, "spawn", lambda *a, **k: spawned.append(real_spawn(*a, **k)) or spawned[-1])
    assert engine.prewarm(sys.executable) is True
    assert engine.prewarm(sys.executable) is False   # still starting: not a second one
    result, timing = engine.run_engine(sys.executable, scribble_job(tmp_path / "a"))   # before it listens
    assert timing["engine"] == "warm" and result["backend"] == "variational"
    assert len(spawned) == 1
    assert warm.request({"status": True})["status"]["pid"] == spawned[0].pid
