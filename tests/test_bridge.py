"""The GIMP bridge: manifest + raw buffers in, progress lines + float32 buffers out."""
import json
import subprocess

import numpy as np

from colorcore import protocol as P
from testutil_engine import colorcore_cmd, engine_env


def write_job(folder, image, scribbles=None, mask=None, **extra):
    h, w = image.shape[:2]
    rgba = np.dstack([image, np.ones((h, w), np.float32)]).astype("<f4")
    rgba.tofile(folder / P.IMAGE_FILE)
    job = {"version": P.VERSION, "mode": "scribble", "backend": "variational", "width": w, "height": h,
           "image": P.IMAGE_FILE, "scribbles": None, "mask": None, "options": {}, "seed": 1, "alpha": 0.1,
           "uncertainty": True, "output": P.RESULT_FILE, "uncertainty_output": P.UNCERTAINTY_FILE}
    if scribbles is not None:
        scribbles.astype("<f4").tofile(folder / P.SCRIBBLES_FILE)
        job["scribbles"] = P.SCRIBBLES_FILE
    if mask is not None:
        mask.astype("<f4").tofile(folder / P.MASK_FILE)
        job["mask"], job["mode"] = P.MASK_FILE, "partial"
    job.update(extra)
    (folder / "manifest.json").write_text(json.dumps(job))
    return folder / "manifest.json"


def run(manifest):
    return subprocess.run(colorcore_cmd() + ["gimp-run", str(manifest)], capture_output=True, text=True,
                          env=engine_env(COLORCORE_PLUGINS="variational"))


def test_a_scribble_job_round_trips(tmp_path, photo):
    from training.evaluation import gray_of
    img = gray_of(photo)
    scr = np.zeros(img.shape[:2] + (4,), np.float32)
    scr[10:20, 10:20] = [0.9, 0.1, 0.1, 1.0]
    mask = np.zeros(img.shape[:2], np.float32)
    mask[:, :40] = 1
    proc = run(write_job(tmp_path, img, scr, mask))
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("PROGRESS 0.0000") and any(l.startswith("PROGRESS 1.0000") for l in lines)
    result = json.loads(lines[-1].removeprefix("RESULT "))
    assert result["backend"] == "variational" and result["uncertainty_scale"] > 0
    steps = {k: v for k, v in result["info"].items() if k.startswith("seconds_")}   # the engine's own steps
    assert {"seconds_read", "seconds_colorize", "seconds_write", "seconds_backend"} <= set(steps)
    assert all(v >= 0 for v in steps.values()) and steps["seconds_colorize"] >= steps["seconds_backend"]
    rgb = np.fromfile(tmp_path / P.RESULT_FILE, "<f4").reshape(img.shape)
    unc = np.fromfile(tmp_path / P.UNCERTAINTY_FILE, "<f4").reshape(img.shape[:2])
    assert np.array_equal(rgb[:, 40:], img[:, 40:])            # outside the mask: the source, bit for bit
    assert rgb[15, 15, 0] > rgb[15, 15, 1] + 0.1
    assert unc.max() <= 1.0 and unc[:, :40].max() > 0 and unc[:, 40:].max() == 0


def test_errors_are_one_line_with_the_right_exit_code(tmp_path, photo):
    manifest = write_job(tmp_path, photo)   # scribble mode but no scribbles
    proc = run(manifest)
    assert proc.returncode == 2 and proc.stderr.strip().startswith("ERROR ") and "scribble" in proc.stderr
    assert not (tmp_path / P.RESULT_FILE).exists()
    (tmp_path / P.IMAGE_FILE).write_bytes(b"\0" * 12)
    proc = run(manifest)
    assert proc.returncode == 2 and "holds 3 values" in proc.stderr
    manifest.write_text(json.dumps({"version": 99}))
    assert run(manifest).returncode == 2


def test_closing_stdin_stops_the_engine_at_once(tmp_path):
    """The plug-in holds the engine's stdin open; when GIMP cancels or kills the plug-in, it closes."""
    import time
    rng = np.random.default_rng(0)
    img = np.repeat(rng.uniform(0, 1, (1500, 2000, 1)), 3, axis=2).astype(np.float32)
    scr = np.zeros(img.shape[:2] + (4,), np.float32)
    scr[::50, ::50] = [0.9, 0.1, 0.1, 1.0]
    manifest = write_job(tmp_path, img, scr)
    proc = subprocess.Popen(colorcore_cmd() + ["gimp-run", str(manifest), "--exit-with-stdin"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=engine_env(COLORCORE_PLUGINS="variational"))
    assert proc.stdout.readline().startswith("PROGRESS")
    t0 = time.monotonic()
    proc.stdin.close()
    assert proc.wait(10) == 130 and time.monotonic() - t0 < 2
    assert not (tmp_path / P.RESULT_FILE).exists()


def test_with_stdin_watch_a_finished_job_exits_zero(tmp_path, photo):
    scr = np.zeros(photo.shape[:2] + (4,), np.float32)
    scr[5:9, 5:9] = [0.2, 0.3, 0.9, 1.0]
    proc = subprocess.Popen(colorcore_cmd() + ["gimp-run", str(write_job(tmp_path, photo, scr)), "--exit-with-stdin"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=engine_env(COLORCORE_PLUGINS="variational"))
    lines = []
    while not (lines and lines[-1].startswith("RESULT")):
        lines.append(proc.stdout.readline())
        assert lines[-1], "engine ended without RESULT"
    proc.stdin.close()                      # what the plug-in does once it has the result
    assert proc.wait(10) == 0


def test_the_places_are_found_beside_the_writing_and_their_failure_is_the_jobs(tmp_path, photo, monkeypatch):
    """The suggestions run on a thread of their own while the result buffers are written; the RESULT line comes
    after both, and an error in them fails the job with one line, as any engine error does."""
    import io
    from colorcore import bridge, suggest
    from training.evaluation import gray_of
    img = gray_of(photo)
    scr = np.zeros(img.shape[:2] + (4,), np.float32)
    scr[10:20, 10:20] = [0.9, 0.1, 0.1, 1.0]
    monkeypatch.setenv("COLORCORE_PLUGINS", "variational")
    ok = tmp_path / "ok"
    ok.mkdir()
    out = io.StringIO()
    assert bridge.run_manifest(write_job(ok, img, scr, suggest=3, suggest_output=P.SUGGEST_FILE), out=out) == 0
    places = json.loads((ok / P.SUGGEST_FILE).read_text())
    assert 1 <= len(places) <= 3 and out.getvalue().splitlines()[-1].startswith("RESULT ")
    assert json.loads(out.getvalue().splitlines()[-1][7:])["info"]["seconds_suggest"] > 0

    def broken(*a, **k):
        raise RuntimeError("no places today")
    monkeypatch.setattr(suggest, "suggest", broken)
    bad = tmp_path / "bad"
    bad.mkdir()
    out = io.StringIO()
    assert bridge.run_manifest(write_job(bad, img, scr, suggest=3, suggest_output=P.SUGGEST_FILE),
                               out=out) == P.EXIT_FAILED
    assert not any(line.startswith("RESULT") for line in out.getvalue().splitlines())
