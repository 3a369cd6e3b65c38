"""`colorcore batch` (issue 32): a folder of ~10 small items through the CLI (outputs, manifest, exit status,
the last line, what a 16-bit TIFF's result keeps), resuming after SIGKILL, redoing exactly what changed, OUT
inside IN refused, and a real local Dask cluster losing a worker mid-batch. Small on purpose: 64x48 photos,
the GAN at 32 px with 2 samples, one thread per worker."""
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageCms

from testutil_engine import colorcore_cmd, engine_env

FAST = ["--set", "size=32", "--set", "samples=2"]
ENV = dict(COLORCORE_PLUGINS="gan", OMP_NUM_THREADS="1", COLORCORE_THREADS="1")


def batch(*args, wait=True, **popen):
    cmd = colorcore_cmd() + ["batch", *map(str, args)]
    if not wait:
        return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=engine_env(**ENV),
                                **popen)
    return subprocess.run(cmd, capture_output=True, text=True, env=engine_env(**ENV), timeout=300)


def _gray(rng, h=48, w=64):
    yy, xx = np.mgrid[0:h, 0:w]
    return np.clip(80 + 100 * xx / w + 40 * np.sin(yy / 5) + rng.normal(0, 8, (h, w)), 0, 255)


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    """IN: 6 photos (2 in a sub-folder), a truncated JPEG, an animated GIF, a 16-bit TIFF with 300 DPI, an ICC
    profile and an Artist tag, and a text file that is no image."""
    import tifffile
    root = tmp_path_factory.mktemp("archive")
    src = root / "in"
    (src / "box2").mkdir(parents=True)
    rng = np.random.default_rng(7)
    for i in range(4):
        Image.fromarray(_gray(rng).astype(np.uint8)).save(src / f"plate{i}.jpg", quality=90)
    for i in range(2):
        Image.fromarray(_gray(rng).astype(np.uint8)).save(src / "box2" / f"print{i}.png")
    data = (src / "plate0.jpg").read_bytes()
    (src / "torn.jpg").write_bytes(data[: len(data) // 2])
    frames = [Image.fromarray(_gray(rng).astype(np.uint8)) for _ in range(3)]
    frames[0].save(src / "reel.gif", save_all=True, append_images=frames[1:], duration=80, loop=0)
    g16 = (_gray(rng) * 257).astype(np.uint16)
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    tifffile.imwrite(src / "scan16.tif", g16, photometric="minisblack", resolution=(300, 300),
                     resolutionunit="INCH", iccprofile=icc, extratags=[(315, "s", 0, "Town Archive", True)])
    (src / "notes.txt").write_text("box 2: prints from 1921\n")
    return root


@pytest.fixture(scope="module")
def reference(archive):
    """One uninterrupted run with two workers: the outputs every other run must reproduce."""
    out = archive / "reference"
    proc = batch(archive / "in", out, "--recursive", "--workers", 2, *FAST)
    return out, proc


def outputs(out):
    return sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()
                  and not p.name.startswith("colorcore-batch"))


EXPECTED = ["box2/print0.png", "box2/print1.png", "plate0.png", "plate1.png", "plate2.png", "plate3.png",
            "reel.gif", "scan16.tif"]


def test_a_folder_becomes_its_mirror_with_a_manifest_and_one_summary_line(archive, reference):
    out, proc = reference
    assert proc.returncode == 4, proc.stderr            # some items failed: the documented status
    assert proc.stdout.strip().splitlines()[-1].startswith("8 done, 0 skipped (already done), 2 failed; details: ")
    assert outputs(out) == EXPECTED
    assert Image.open(out / "reel.gif").n_frames == 3
    rows = {r[0]: r[1:] for r in sqlite3.connect(out / "colorcore-batch.sqlite").execute(
        "SELECT rel, status, error, backend, weights, sha256, size FROM items")}
    assert rows["torn.jpg"][0] == "failed" and "damaged or incomplete" in rows["torn.jpg"][1]
    assert rows["notes.txt"][0] == "failed" and "not an image" in rows["notes.txt"][1]
    assert rows["plate1.jpg"][:2] == ("done", None) and rows["plate1.jpg"][2] == "gan"
    assert rows["plate1.jpg"][3].startswith("gan.pt sha256:") and len(rows["plate1.jpg"][4]) == 64
    failures = (out / "colorcore-batch-failures.txt").read_text()
    assert "torn.jpg\t" in failures and "notes.txt\t" in failures


def test_a_16_bit_tiff_scan_gives_a_16_bit_tiff_that_keeps_its_dpi_profile_and_tags(archive, reference):
    import cv2
    out, _ = reference
    res = cv2.imread(str(out / "scan16.tif"), cv2.IMREAD_UNCHANGED)
    assert res.dtype == np.uint16 and res.shape == (48, 64, 3)
    with Image.open(out / "scan16.tif") as img:
        assert img.info["dpi"] == (300, 300)
        assert img.info["icc_profile"] == Image.open(archive / "in" / "scan16.tif").info["icc_profile"]
        tags = img.tag_v2
        assert tags[315] == "Town Archive" and tags[305].startswith("colorcore ")
        assert "colorized: the colours are a guess" in tags[270] and "colorcore:backend: gan" in tags[270]
    with Image.open(out / "plate0.png") as png:   # a PNG says what made it in its text chunks
        assert png.text["Description"] == "colorized: the colours are a guess"
        assert png.text["colorcore:backend"] == "gan" and png.text["colorcore:weights"].startswith("gan.pt")


def test_the_same_command_again_skips_what_is_done_and_a_change_redoes_exactly_that(archive, reference, tmp_path):
    import shutil
    src = tmp_path / "in"
    shutil.copytree(archive / "in", src)
    out = tmp_path / "out"
    first = batch(src, out, "--recursive", "--workers", 2, *FAST)
    assert first.returncode == 4
    again = batch(src, out, "--recursive", *FAST)
    assert again.stdout.strip().splitlines()[-1].startswith("0 done, 8 skipped (already done), 2 failed")
    os.utime(src / "plate2.jpg")   # touched, same content: still done
    Image.fromarray(np.asarray(Image.open(src / "plate1.jpg"))[::-1].copy()).save(src / "plate1.jpg")
    changed = batch(src, out, "--recursive", *FAST)
    assert changed.stdout.strip().splitlines()[-1].startswith("1 done, 7 skipped (already done), 2 failed"), changed.stdout
    option = batch(src, out, "--recursive", "--set", "size=32", "--set", "samples=3", "--pattern", "plate*")
    assert option.returncode == 0, option.stderr
    assert option.stdout.strip().splitlines()[-1].startswith("4 done, 0 skipped (already done), 0 failed")


def test_sigkill_then_the_same_command_gives_every_output_once_and_identical(archive, reference, tmp_path):
    ref_out, _ = reference
    out = tmp_path / "out"
    proc = batch(archive / "in", out, "--recursive", "--workers", 2, "--progress", "lines", *FAST, wait=False)
    deadline = time.time() + 240
    for line in proc.stderr:   # kill it as soon as the first photo is done: the rest is mid-way
        if ": done (" in line or time.time() > deadline:
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    time.sleep(1.5)   # its workers notice their batch is gone and exit
    partial = outputs(out)
    assert len(partial) < len(EXPECTED)
    rerun = batch(archive / "in", out, "--recursive", "--workers", 2, *FAST)
    assert rerun.returncode == 4, rerun.stderr
    assert outputs(out) == EXPECTED                     # each exactly once, nothing else
    assert not [p for p in out.rglob(".colorcore-*")]   # no temporary files left
    for rel in EXPECTED:
        assert (out / rel).read_bytes() == (ref_out / rel).read_bytes(), rel


def test_out_inside_in_is_refused_before_any_work(archive):
    proc = batch(archive / "in", archive / "in" / "coloured")
    assert proc.returncode == 2 and "inside the input" in proc.stderr
    assert not (archive / "in" / "coloured").exists()
    proc = batch(archive / "in", archive)
    assert proc.returncode == 2 and "contains the input" in proc.stderr


def test_a_missing_sidecar_fails_that_photo_alone(archive, tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    for name in ("a.png", "b.png"):
        Image.fromarray(_gray(np.random.default_rng(1)).astype(np.uint8)).save(src / name)
    mask = np.zeros((48, 64), np.uint8)
    mask[:, 32:] = 255
    Image.fromarray(mask).save(src / "a.mask.png")
    proc = batch(src, tmp_path / "out", "--mode", "partial", "--progress", "json", *FAST)
    assert proc.returncode == 4, proc.stderr
    events = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    by_rel = {e["rel"]: e for e in events if e["event"] == "item"}
    assert by_rel["a.png"]["status"] == "done" and "a.mask.png" not in by_rel
    assert by_rel["b.png"]["status"] == "failed" and "needs a mask" in by_rel["b.png"]["error"]
    assert events[-1]["event"] == "summary" and events[-1]["done"] == 1 and events[-1]["failed"] == 1


def _dask(*args):
    return subprocess.Popen([str(Path(sys.executable).parent / "dask"), *map(str, args)], env=engine_env(**ENV),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def _start_scheduler(tmp_path, procs):
    """A local `dask scheduler` (appended to procs, for the caller to stop); its address once it listens."""
    sched_file = tmp_path / "scheduler.json"
    procs.append(_dask("scheduler", "--host", "127.0.0.1", "--port", "0", "--dashboard-address", ":0",
                       "--scheduler-file", sched_file))
    deadline = time.time() + 60
    while not sched_file.exists() and time.time() < deadline:
        time.sleep(0.2)
    return json.loads(sched_file.read_text())["address"]


def test_on_a_dask_cluster_a_worker_lost_mid_batch_loses_nothing(archive, reference, tmp_path):
    pytest.importorskip("distributed", reason="Dask is not installed: pip install 'colorcore[dask]' (the test "
                                              "extra installs it)")
    ref_out, _ = reference
    procs = []
    try:
        address = _start_scheduler(tmp_path, procs)
        workers = [_dask("worker", address, "--nthreads", 1, "--no-nanny", "--host", "127.0.0.1",
                         "--dashboard-address", ":0") for _ in range(2)]
        procs += workers
        out = tmp_path / "out"
        proc = batch(archive / "in", out, "--recursive", "--scheduler", address, "--progress", "lines", *FAST,
                     wait=False)
        for line in proc.stderr:   # the first item is back: kill one worker while the others run
            if ": done (" in line:
                break
        os.kill(workers[0].pid, signal.SIGKILL)
        stdout, stderr = proc.communicate(timeout=300)
        assert proc.returncode == 4, stderr
        assert stdout.strip().splitlines()[-1].startswith("8 done, 0 skipped (already done), 2 failed")
        assert outputs(out) == EXPECTED and not list(out.rglob(".colorcore-*"))
        for rel in EXPECTED:
            assert (out / rel).read_bytes() == (ref_out / rel).read_bytes(), rel
        rows = sqlite3.connect(out / "colorcore-batch.sqlite").execute("SELECT count(*) FROM items").fetchone()
        assert rows == (10,)
    finally:
        for p in procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
            p.wait()


def test_a_dask_worker_its_nanny_started_reuses_large_arrays_memory(tmp_path):
    """Issue 32: the nanny starts `dask worker` with MALLOC_TRIM_THRESHOLD_=65536, which made every array over
    128 KB a fresh mmap whose pages the kernel faults in and zeroes: about 290,000 page faults and twice the
    CPU per 1 MP item, two Dask workers as slow as one local worker. Once the batch's plugin has set the worker
    up, 20 arrays of 2 MB in a row cost the page faults of about one, as in a `--workers` worker."""
    pytest.importorskip("distributed", reason="Dask is not installed: pip install 'colorcore[dask]'")
    from distributed import Client
    from colorcore.batch_dask import WarmBackend

    def faults_of_20_arrays():   # nested: cloudpickle sends it by value, the worker needs no test module
        import resource
        n0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        for _ in range(20):
            a = np.ones(1 << 18)   # 2 MB: under 4 MB numpy asks for huge pages, which would hide the faults
            del a
        return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - n0, os.environ.get("MALLOC_TRIM_THRESHOLD_")

    procs = []
    try:
        address = _start_scheduler(tmp_path, procs)
        procs.append(_dask("worker", address, "--nthreads", 1, "--host", "127.0.0.1", "--dashboard-address", ":0"))
        with Client(address, timeout=60) as client:
            client.wait_for_workers(1, timeout=120)
            client.register_plugin(WarmBackend(None))
            faults, trim = client.submit(faults_of_20_arrays, pure=False).result(timeout=120)
        pages = 20 * (2 << 20) // os.sysconf("SC_PAGE_SIZE")
        assert faults < pages // 4, (f"{faults} page faults for {pages} pages of arrays in a row (the nanny's "
                                     f"MALLOC_TRIM_THRESHOLD_={trim}); the plugin should have undone it")
    finally:
        for p in procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
            p.wait()


def test_a_batch_writes_the_pixels_colorize_writes(tmp_path):
    """Two workers or one, a batch item comes out as `colorcore colorize` makes it on this machine: workers use
    colorize's thread count (torch's last bits depend on it), not one thread each. No thread setting here."""
    rng = np.random.default_rng(11)
    src = tmp_path / "in"
    src.mkdir()
    for i in range(3):
        Image.fromarray(_gray(rng, 96, 128).astype(np.uint8)).save(src / f"p{i}.png")
    env = engine_env(COLORCORE_PLUGINS="gan")
    proc = subprocess.run(colorcore_cmd() + ["batch", str(src), str(tmp_path / "out"), "--workers", "2",
                                             "--progress", "json"],
                          capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr
    for i in range(3):
        one = subprocess.run(colorcore_cmd() + ["colorize", str(src / f"p{i}.png"), "-o", str(tmp_path / "one.png"),
                                                "--quiet"], capture_output=True, text=True, env=env, timeout=300)
        assert one.returncode == 0, one.stderr
        assert np.array_equal(np.asarray(Image.open(tmp_path / "one.png")),
                              np.asarray(Image.open(tmp_path / "out" / f"p{i}.png"))), f"p{i}.png"
