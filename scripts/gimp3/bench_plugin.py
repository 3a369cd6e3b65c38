#!/usr/bin/env python3
"""Time Filters > Colorize in a real GIMP 3: procedure call -> finished layers, at 1 MP and 12 MP, with the
one-shot engine (a process per run) and the warm engine (colorcore serve) side by side in one run, split into
engine start, engine work and pixel transfer (as logged by the plug-in itself).

    sudo .venv/bin/python scripts/gimp3/bench_plugin.py [--sizes 1,12] [--busy] [--json runs/plugin_timings.json]

Each engine mode is one GIMP session over the same cases: Auto on two different photos, Scribble three times on
one photo with a stroke more each time (the default backend), Partial; and a warm session whose first run, Auto,
comes after a dialog: the engine starts as the dialog opens (as in interactive use; the first size only).
--busy adds a warm session with one competing CPU-bound process on the machine (Auto only, against the idle
warm session's Auto).
Uses the same GIMP 3 root and engine venv as tests/e2e (scripts/gimp3/setup.sh, install.py).
Needs root. A "null" engine (tests/e2e/fake_engine.py: reads and writes the buffers, no model) gives
the floor: interpreter start + transfer without the real engine's imports.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "e2e"))
sys.path.insert(0, str(REPO))
import conftest as E  # noqa: E402
from colorcore.protocol import default_backend  # noqa: E402
from training.shared_data import shared_data  # noqa: E402

OLD = shared_data(REPO) / "oldphotos_v1" / "DeOldify_test_images"
PHOTOS = [OLD / "1892WaterLillies.jpg", shared_data(REPO) / "dev_eval" / "CBSD68" / "101085.png"]
SIZES = {1: (1152, 864), 12: (4000, 3000)}
THINK_S = 8   # seconds between the first run and the next (see cases_for)
STROKES = [((60, 125, 50), (0.14, 0.17, 0.02, 0.25)), ((55, 100, 135), (0.60, 0.63, 0.02, 0.20)),
           ((175, 60, 55), (0.55, 0.58, 0.62, 0.72))]


def cases_for(work, mp, avail, null, auto_only=False, paint=0.0):
    """One session's cases at one size (see the module docstring); paint: seconds between adding a Scribble run's
    stroke and the run (a user painting it)."""
    from PIL import Image
    import numpy as np
    w, h = SIZES[mp]
    photos = []
    for i, src in enumerate(PHOTOS):
        src = src if src.exists() else REPO / "examples" / "sample" / "cottage.png"
        p = work / ("photo%d_%dmp.png" % (i, mp))
        img = Image.open(src).convert("RGB").resize((w, h), Image.BICUBIC)
        img.save(p, compress_level=1)
        photos.append(str(p))
    layers = []
    for k in range(len(STROKES)):
        a = np.zeros((h, w, 4), np.uint8)
        for rgb, (y0, y1, x0, x1) in STROKES[:k + 1]:
            a[int(y0 * h):int(y1 * h), int(x0 * w):int(x1 * w)] = list(rgb) + [255]
        sp = work / ("strokes%d_%dmp.png" % (k + 1, mp))
        Image.fromarray(a).save(sp, compress_level=1)
        layers.append(str(sp))
    cases = [] if auto_only else [dict(name="null_%dmp" % mp, proc=E.PROCS[0], ops=[["load", photos[0]]],
                                       args={"engine-python": str(null)})]
    if avail["auto"]:   # after the first run a user looks at the result (THINK_S) while the warm engine
        # loads the other backends (serve.preload, ~6 s on 2 cores): later runs are timed as they then run
        cases += [dict(name="auto_%dmp_photo%d" % (mp, i + 1), proc=E.PROCS[0],
                       ops=([["pause", THINK_S]] if i else []) + [["load", p]],
                       args={"backend": avail["auto"], "seed": 1}) for i, p in enumerate(photos)]
    if auto_only:
        return cases
    if avail["scribble"]:
        cases += [dict(name="scribble_%dmp_run%d" % (mp, k + 1), proc=E.PROCS[1],
                       ops=[["load", photos[0]], ["scribble", lay, "Scribbles", 0, 0]]
                       + ([["pause", paint]] if paint else []),
                       args={"backend": avail["scribble"], "seed": 1}) for k, lay in enumerate(layers)]
    if avail["partial"]:
        sel = [["select_ellipse", int(w * 0.1), int(h * 0.1), int(w * 0.8), int(h * 0.8)], ["feather", 20]]
        cases.append(dict(name="partial_%dmp" % mp, proc=E.PROCS[2], ops=[["load", photos[0]]] + sel,
                          args={"backend": avail["partial"], "seed": 1}))
    return cases


def run_session(g, work, drv, cases, env, label):
    """One GIMP session over the cases; its rows, named by case and labelled with the session."""
    sub = work / label
    sub.mkdir()
    shutil.copy(drv, sub / drv.name)
    rc, log, report = g.run_driver(sub / drv.name, sub, {"cases": cases}, extra_env=env, timeout=1800)
    tfile = sub / "out" / "timing.jsonl"
    rows = [json.loads(l) for l in tfile.read_text().splitlines() if l.strip()] if tfile.exists() else []
    names = [c["name"] for c in cases if (report or {}).get("cases", {}).get(c["name"], {}).get("status") == "success"]
    for n, r in zip(names, rows):
        r["case"], r["session"] = n, label
        r["seconds"] = report["cases"][n]["seconds"]   # procedure call -> finished layers, as GIMP saw it
        if n.startswith("null"):
            r["backend"] = "null engine"
    if report is None or len(names) != len(cases):
        print("session %s: rc %s, statuses %s\n%s" % (label, rc, {k: v.get("status") for k, v in
                                                                 (report or {}).get("cases", {}).items()}, log[-3000:]))
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1,12")
    ap.add_argument("--modes", default="one-shot,warm")
    ap.add_argument("--busy", action="store_true", help="also a warm session with a competing CPU-bound process")
    ap.add_argument("--json", help="write the rows here")
    ap.add_argument("--paint", type=float, default=0.0,
                    help="seconds between a Scribble run's stroke and the run (a user painting; GIMP renders the "
                         "image meanwhile): 0 times the run at once")
    args = ap.parse_args()
    reason = E.skip_reason()
    if reason:
        sys.exit("cannot run: " + reason)
    out = subprocess.run(["bash", str(REPO / "scripts/gimp3/setup.sh")], capture_output=True, text=True)
    root = [l for l in out.stdout.splitlines() if l.startswith("ROOT=")][-1][5:]
    base_py, base_prefix = E.self_contained_python()
    venv = str(E.CACHE / ("engine-venv-" + os.path.basename(base_prefix)))
    profile = "/gimptest/bench-%d" % os.getpid()
    host_profile = Path(root + profile)
    shutil.copytree(Path(root) / "gimptest" / "profile-template", host_profile, symlinks=True)
    work = Path(tempfile.mkdtemp(prefix="colorize-bench-"))
    hog = None
    try:
        subprocess.run([base_py, str(REPO / "install.py"), "--venv", venv, "--gimp-dir",
                        str(host_profile / "plug-ins"), "--python", base_py], check=True, capture_output=True)
        g = E.Gimp3(root, profile, venv, base_py, base_prefix)
        backends = g.backends()
        # each mode's default, the dialogs' rule (Partial's is partial-gan, which needs no strokes)
        avail = {m: default_backend(backends, m) for m in ("auto", "scribble", "partial")}
        shutil.copy(REPO / "tests/e2e/fake_engine.py", work / "fake_engine.py")
        null = work / "null-engine.sh"
        null.write_text('#!/bin/sh\nexec %s %s "$@"\n' % (g.engine_py, work / "fake_engine.py"))
        null.chmod(0o755)
        sizes = [int(s) for s in args.sizes.split(",")]
        cases = [c for mp in sizes for c in cases_for(work, mp, avail, null, paint=args.paint)]
        # the driver dumps pixels for the tests; the benchmark does not need them
        drv = work / "bench_driver.py"
        drv.write_text((E.HERE / "gimp_driver.py").read_text().replace(
            "def _dump(drawable, path):", "def _dump(drawable, path):\n    return\n\n\ndef _unused(drawable, path):")
            .replace("def _dump_mask(mask, source, path):", "def _dump_mask(mask, source, path):\n    return\n\n\n"
                     "def _unused_mask(mask, source, path):"))
        # the photos lie in `work`, each session's report in a folder of its own inside it: GIMP sees all of it
        os.environ["COLORCORE_E2E_BINDS"] = ":".join(filter(None, [os.environ.get("COLORCORE_E2E_BINDS"), str(work)]))
        rows = []
        for mode in args.modes.split(","):
            rows += run_session(g, work, drv, cases, {"COLORIZE_ENGINE_MODE": mode}, mode)
        if "warm" in args.modes.split(",") and avail["auto"]:
            # an interactive first run: the plug-in starts the engine as its dialog opens, and the user takes
            # THINK_S to choose the settings (the driver makes the plug-in's own call, then waits)
            first = [dict(c, name=c["name"] + "_after_dialog", ops=c["ops"] + [["dialog", THINK_S]])
                     for c in cases if c["name"].startswith("auto_") and c["name"].endswith("_photo1")][:1]
            rows += run_session(g, work, drv, first, {"COLORIZE_ENGINE_MODE": "warm"}, "warm+dialog")
        if args.busy:
            hog = subprocess.Popen([sys.executable, "-c", "while True: pass"])
            busy = [c for mp in sizes for c in cases_for(work, mp, avail, null, auto_only=True)]
            rows += run_session(g, work, drv, busy, {"COLORIZE_ENGINE_MODE": "warm"}, "warm+busy")
        print("%-20s %-10s %-12s %5s %7s %7s %6s %8s %7s" % ("case", "engine", "backend", "MP", "call", "start",
                                                             "work", "transfer", "total"))
        for r in rows:
            print("%-20s %-10s %-12s %5.2f %7.2f %7.2f %6.2f %8.2f %7.2f" % (
                r.get("case", "?"), r["session"], r["backend"], r["megapixels"], r["seconds"], r["engine_start"],
                r["engine_work"], r["transfer"], r["total"]))
        if args.json:
            Path(args.json).write_text(json.dumps({"rows": rows, "machine": os.uname().nodename,
                                                   "cpus": os.cpu_count(), "load": os.getloadavg()}, indent=1))
    finally:
        if hog is not None:
            hog.kill()
        shutil.rmtree(host_profile, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
