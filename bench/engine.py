"""The engine's speed from the command line, side by side in one run: a process per run (`colorcore colorize`)
against the warm engine (`--engine warm`), and OpenMP's spinning threads against passive ones, each on an idle
machine and with one competing CPU-bound process. (In GIMP: scripts/gimp3/bench_plugin.py.)

    .venv/bin/python bench/engine.py [--repeat 3] [--megapixels 1] [--out runs/engine]

Cases, alternated within each repeat so both see the same machine: Auto on two photos, Scribble three times on
one photo with a stroke more each time (default backends). Times are wall seconds of the whole command, as a
script sees them. Prints a table (median per case and setting), saves JSON and a plot.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.common import SHARED_DATA, grouped_bars, out_dir, print_table, pyplot, save_json  # noqa: E402

PHOTOS = [SHARED_DATA / "oldphotos_v1" / "DeOldify_test_images" / "1892WaterLillies.jpg",
          SHARED_DATA / "dev_eval" / "CBSD68" / "101085.png"]
STROKES = [((60, 125, 50), (0.14, 0.17, 0.02, 0.25)), ((55, 100, 135), (0.60, 0.63, 0.02, 0.20)),
           ((175, 60, 55), (0.55, 0.58, 0.62, 0.72))]
SETTINGS = {   # name -> (extra command-line arguments, environment)
    "one-shot": ([], {}),
    "warm": (["--engine", "warm"], {}),
    "one-shot, spinning threads": ([], {"OMP_WAIT_POLICY": "ACTIVE"}),
}


def inputs(folder: Path, megapixels: float):
    import numpy as np
    from PIL import Image
    w, h = round(1152 * (megapixels ** 0.5)), round(864 * (megapixels ** 0.5))
    photos = []
    for i, src in enumerate(PHOTOS):
        src = src if src.exists() else ROOT / "examples" / "sample" / "cottage.png"
        p = folder / f"photo{i + 1}.png"
        Image.open(src).convert("L").resize((w, h), Image.BICUBIC).save(p)
        photos.append(p)
    strokes = []
    for k in range(len(STROKES)):
        a = np.zeros((h, w, 4), np.uint8)
        for rgb, (y0, y1, x0, x1) in STROKES[:k + 1]:
            a[int(y0 * h):int(y1 * h), int(x0 * w):int(x1 * w)] = list(rgb) + [255]
        p = folder / f"strokes{k + 1}.png"
        Image.fromarray(a).save(p)
        strokes.append(p)
    cases = [(f"auto photo {i + 1}", [str(p)]) for i, p in enumerate(photos)]
    cases += [(f"scribble run {k + 1}", [str(photos[0]), "--scribbles", str(s)]) for k, s in enumerate(strokes)]
    return cases


def timed(argv, env, out):
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "colorcore", "colorize", *argv, "-o", str(out), "--quiet",
                           "--seed", "1"], env=env, capture_output=True, text=True, cwd=ROOT)
    if proc.returncode:
        raise SystemExit(f"colorize failed: {proc.stderr.strip()}")
    return time.perf_counter() - t0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--megapixels", type=float, default=1.0)
    ap.add_argument("--settings", default=",".join(SETTINGS))
    ap.add_argument("--no-busy", action="store_true", help="skip the runs with a competing process")
    ap.add_argument("--out", default=None)
    args = ap.parse_args(argv)
    out = out_dir(args.out or "runs/engine")
    settings = args.settings.split(",")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        runtime = folder / "rt"
        runtime.mkdir(mode=0o700)
        cases = inputs(folder, args.megapixels)
        for load in ("idle", "busy")[:1 if args.no_busy else 2]:
            hog = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if load == "busy" else None
            try:
                for rep in range(args.repeat):
                    for name in settings:
                        extra, env_extra = SETTINGS[name]
                        env = dict(os.environ, XDG_RUNTIME_DIR=str(runtime), **env_extra)
                        for case, case_argv in cases:
                            seconds = timed(case_argv + extra, env, folder / "out.png")
                            rows.append({"load": load, "setting": name, "case": case, "repeat": rep,
                                         "seconds": round(seconds, 3)})
                            print(f"{load:<5} {name:<28} {case:<16} {seconds:6.2f} s", flush=True)
            finally:
                if hog is not None:
                    hog.kill()
        subprocess.run([sys.executable, "-m", "colorcore", "serve", "--stop"], capture_output=True,
                       env=dict(os.environ, XDG_RUNTIME_DIR=str(runtime)))
    med = {}
    for r in rows:
        med.setdefault((r["load"], r["setting"], r["case"]), []).append(r["seconds"])
    table = [[load, setting, case, f"{statistics.median(v):.2f}", f"{min(v):.2f}", len(v)]
             for (load, setting, case), v in med.items()]
    print_table(["load", "setting", "case", "median s", "min s", "runs"], table)
    save_json(out / "engine.json", {"rows": rows, "megapixels": args.megapixels, "cpus": os.cpu_count(),
                                    "loadavg_at_end": os.getloadavg()})
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(9, 4))
    labels = sorted({(load, case) for load, _, case in med})
    grouped_bars(ax, [f"{case}\n{load}" for load, case in labels],
                 {name: [statistics.median(med.get((load, name, case), [float("nan")])) for load, case in labels]
                  for name in settings}, "seconds (whole command)", fontsize=7)
    fig.tight_layout()
    fig.savefig(out / "engine.png", dpi=120)
    print(f"saved {out / 'engine.json'} and {out / 'engine.png'}")


if __name__ == "__main__":
    main()
