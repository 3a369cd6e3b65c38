"""`colorcore batch` against a shell loop of `colorcore colorize` (issue 32's targets), side by side in one run.

The same N gray photos of about 1 MP (CBSD68 scaled 2.5x to 1202x802), Auto with the default backend:
  loop      one `colorcore colorize` process per photo, one after the other (what a shell loop does)
  batch w1  `colorcore batch --workers 1`
  batch w2  `colorcore batch --workers 2`
  dask 2x1  `colorcore batch --scheduler` on a local Dask cluster: a scheduler and two 1-thread workers
Reported: photos/min, speed-up over the loop, peak memory per worker (the workers' own figure), and whether the
output images equal the loop's (pixels, max difference). Table printed; JSON and a plot under runs/batch/.

    .venv/bin/python -m bench.batch                # 60 photos
    .venv/bin/python -m bench.batch --limit 20     # a shorter run
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))   # `python bench/batch.py` as the other benchmarks run
from bench.common import SHARED_DATA, out_dir, print_table, pyplot, save_json  # noqa: E402
SCALE = 2.5


def prepare(dest: Path, n: int) -> list[Path]:
    """N gray ~1 MP PNGs from CBSD68 (cycled when N > 68), made once."""
    from PIL import Image
    src = sorted((SHARED_DATA / "dev_eval" / "CBSD68").glob("*.png"))
    if not src:
        sys.exit(f"no photos at {SHARED_DATA / 'dev_eval' / 'CBSD68'} (see the shared data README)")
    dest.mkdir(parents=True, exist_ok=True)
    files = []
    for i in range(n):
        path = dest / f"photo{i:03d}.png"
        if not path.exists():
            with Image.open(src[i % len(src)]) as img:
                g = img.convert("L")
                g = g.resize((round(g.width * SCALE), round(g.height * SCALE)), Image.LANCZOS)
                if i >= len(src):
                    g = g.transpose(Image.FLIP_LEFT_RIGHT)
                g.save(path)
        files.append(path)
    return files


def cmd(*args):
    return [sys.executable, "-m", "colorcore", *map(str, args)]


def env():
    e = {k: v for k, v in os.environ.items() if not k.startswith("COLORCORE_")}
    return e


def run_loop(files, out):
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    for f in files:
        subprocess.run(cmd("colorize", f, "-o", out / f.name, "--quiet", "--seed", 0), check=True, env=env(),
                       capture_output=True)
    return time.perf_counter() - t0, None


def run_batch(src, out, *extra):
    t0 = time.perf_counter()
    proc = subprocess.run(cmd("batch", src, out, "--progress", "json", "--seed", 0, *extra), env=env(),
                          capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.exit(f"batch failed ({proc.returncode}): {proc.stderr[-2000:]}")
    peaks = {}
    for line in proc.stdout.splitlines():
        if line.startswith("{"):
            e = json.loads(line)
            if e.get("event") == "item" and e.get("peak_mb"):
                peaks[e["worker"]] = max(peaks.get(e["worker"], 0), e["peak_mb"])
    return seconds, peaks


def run_dask(src, out):
    dask = str(Path(sys.executable).parent / "dask")
    sched = out.parent / "scheduler.json"
    sched.unlink(missing_ok=True)
    # single-threaded Dask workers (one item at a time each, as --workers 2 runs them); torch inside an item uses
    # the thread count colorize uses (colorcore.threads), so the cluster writes colorize's pixels
    e = env()
    procs = [subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", "0", "--dashboard-address", ":0",
                               "--scheduler-file", str(sched)], env=e, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)]
    try:
        while not sched.exists():
            time.sleep(0.2)
        address = json.loads(sched.read_text())["address"]
        procs += [subprocess.Popen([dask, "worker", address, "--nthreads", "1", "--host", "127.0.0.1",
                                    "--dashboard-address", ":0"], env=e, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL, start_new_session=True) for _ in range(2)]
        from distributed import Client
        # the cluster exists before the batch (issue 32), so its start is not timed; both workers must have
        # joined (a fixed 3 s wait could start the batch with one on a busy machine). Their model loading is timed:
        # the batch's worker plugin does it, as --workers 2's workers do it inside their run
        with Client(address, timeout=60) as client:
            client.wait_for_workers(2, timeout=120)
        return run_batch(src, out, "--scheduler", address)
    finally:
        for p in procs:
            os.killpg(p.pid, signal.SIGTERM)
        for p in procs:
            p.wait()


def compare(a: Path, b: Path):
    """(identical files, max pixel difference) of b's PNGs against a's."""
    from PIL import Image
    same, worst = 0, 0
    for f in sorted(a.glob("*.png")):
        x = np.asarray(Image.open(f)).astype(int)
        y = np.asarray(Image.open(b / f.name)).astype(int)
        d = int(np.abs(x - y).max())
        same += d == 0
        worst = max(worst, d)
    return same, worst


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--limit", type=int, default=60, help="photos (default 60)")
    ap.add_argument("--out", default=str(ROOT / "runs" / "batch"))
    ap.add_argument("--skip", nargs="*", default=[], choices=["loop", "w1", "w2", "dask"])
    args = ap.parse_args(argv)
    out = out_dir(args.out)
    src = out / "in"
    files = prepare(src, args.limit)
    for f in src.glob("photo*.png"):   # a shorter run after a longer one: only the first N
        if f not in files:
            f.unlink()
    runs = {"loop": lambda o: run_loop(files, o), "w1": lambda o: run_batch(src, o, "--workers", 1),
            "w2": lambda o: run_batch(src, o, "--workers", 2), "dask": lambda o: run_dask(src, o)}
    results = {}
    for name, fn in runs.items():
        if name in args.skip:
            continue
        target = out / f"out_{name}"
        shutil.rmtree(target, ignore_errors=True)
        seconds, peaks = fn(target)
        results[name] = {"seconds": round(seconds, 2), "photos_per_min": round(60 * len(files) / seconds, 2),
                         "peak_mb_per_worker": peaks}
        print(f"{name}: {seconds:.1f} s", flush=True)
    loop = results.get("loop")
    rows = []
    labels = {"loop": "shell loop of colorize", "w1": "batch --workers 1", "w2": "batch --workers 2",
              "dask": "batch --scheduler (Dask, 2 workers x 1 thread)"}
    for name, r in results.items():
        if loop and name != "loop":
            r["identical"], r["max_diff"] = compare(out / "out_loop", out / f"out_{name}")
        rows.append([labels[name], f"{r['seconds']:.1f}", f"{r['photos_per_min']:.1f}",
                     f"{r['photos_per_min'] / loop['photos_per_min']:.2f}x" if loop else "-",
                     ", ".join(f"{v:.0f}" for v in (r["peak_mb_per_worker"] or {}).values()) or "-",
                     f"{r['identical']}/{len(files)} (max diff {r['max_diff']})" if "identical" in r else "-"])
    print(f"\n{len(files)} photos of {round(481 * SCALE)}x{round(321 * SCALE)}, Auto (default backend), "
          f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
    print_table(["run", "seconds", "photos/min", "vs loop", "peak MB per worker", "same pixels as loop"], rows)
    if "w2" in results and "dask" in results:
        gap = results["dask"]["photos_per_min"] / results["w2"]["photos_per_min"] - 1
        print(f"Dask vs --workers 2: {100 * gap:+.0f} % photos/min")
    save_json(out / "batch.json", {"photos": len(files), "results": results})
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 3))
    ax.barh([labels[n] for n in results], [r["photos_per_min"] for r in results.values()])
    ax.set_xlabel("photos per minute (higher is better)")
    ax.set_title(f"{len(files)} photos of ~1 MP, Auto")
    fig.tight_layout()
    fig.savefig(out / "batch.png", dpi=120)
    print(f"saved {out / 'batch.json'} and {out / 'batch.png'}")


if __name__ == "__main__":
    main()
