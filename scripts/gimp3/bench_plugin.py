#!/usr/bin/env python3
"""Time Filters > Colorize in a real GIMP 3: procedure call -> finished layers, at 1 MP and 12 MP,
split into engine start, engine work and pixel transfer (as logged by the plug-in itself).

    sudo .venv/bin/python scripts/gimp3/bench_plugin.py [--sizes 1,12] [--json docs/gimp/timings.json]

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
from training.shared_data import shared_data  # noqa: E402

PHOTO = shared_data(REPO) / "oldphotos_v1" / "DeOldify_test_images" / "1892WaterLillies.jpg"
SIZES = {1: (1152, 864), 12: (4000, 3000)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1,12")
    ap.add_argument("--json", help="write the rows here")
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()
    from PIL import Image
    import numpy as np
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
    try:
        subprocess.run([base_py, str(REPO / "install.py"), "--venv", venv, "--gimp-dir",
                        str(host_profile / "plug-ins"), "--python", base_py], check=True, capture_output=True)
        g = E.Gimp3(root, profile, venv, base_py, base_prefix)
        backends = g.backends()
        avail = {m: next((b["name"] for b in backends if m in b["modes"] and b.get("available", True)), None)
                 for m in ("auto", "scribble", "partial")}
        shutil.copy(REPO / "tests/e2e/fake_engine.py", work / "fake_engine.py")
        null = work / "null-engine.sh"
        null.write_text('#!/bin/sh\nexec %s %s "$@"\n' % (g.engine_py, work / "fake_engine.py"))
        null.chmod(0o755)
        src = Image.open(PHOTO if PHOTO.exists() else REPO / "examples" / "sample" / "cottage.png").convert("RGB")
        cases = []
        for mp in [int(s) for s in args.sizes.split(",")]:
            w, h = SIZES[mp]
            p = work / ("photo_%dmp.png" % mp)
            src.resize((w, h), Image.BICUBIC).save(p, compress_level=1)
            a = np.zeros((h, w, 4), np.uint8)
            for rgb, (y0, y1, x0, x1) in [((60, 125, 50), (0.14, 0.17, 0.02, 0.25)),
                                          ((55, 100, 135), (0.60, 0.63, 0.02, 0.20)),
                                          ((175, 60, 55), (0.55, 0.58, 0.62, 0.72))]:
                a[int(y0 * h):int(y1 * h), int(x0 * w):int(x1 * w)] = list(rgb) + [255]
            sp = work / ("scr_%dmp.png" % mp)
            Image.fromarray(a).save(sp, compress_level=1)
            base = [["load", str(p)], ["scribble", str(sp), "Scribbles", 0, 0]]
            sel = [["select_ellipse", int(w * 0.1), int(h * 0.1), int(w * 0.8), int(h * 0.8)], ["feather", 20]]
            for r in range(args.repeat):
                cases.append(dict(name="null_%dmp_%d" % (mp, r), proc=E.PROCS[0], ops=base[:1],
                                  args={"engine-python": str(null)}))
                if avail["auto"]:
                    cases.append(dict(name="auto_%dmp_%d" % (mp, r), proc=E.PROCS[0], ops=base[:1],
                                      args={"backend": avail["auto"], "seed": 1}))
                if avail["scribble"]:
                    cases.append(dict(name="scribble_%dmp_%d" % (mp, r), proc=E.PROCS[1], ops=base,
                                      args={"backend": avail["scribble"], "seed": 1}))
                if avail["partial"]:
                    cases.append(dict(name="partial_%dmp_%d" % (mp, r), proc=E.PROCS[2], ops=base + sel,
                                      args={"backend": avail["partial"], "seed": 1}))
        # the driver dumps pixels for the tests; the benchmark does not need them
        drv = work / "bench_driver.py"
        drv.write_text((E.HERE / "gimp_driver.py").read_text().replace(
            "def _dump(drawable, path):", "def _dump(drawable, path):\n    return\n\n\ndef _unused(drawable, path):")
            .replace("def _dump_mask(mask, source, path):", "def _dump_mask(mask, source, path):\n    return\n\n\n"
                     "def _unused_mask(mask, source, path):"))
        t0 = time.time()
        rc, log, report = g.run_driver(drv, work, {"cases": cases}, timeout=1800)
        wall = time.time() - t0
        rows = [json.loads(l) for l in (work / "out" / "timing.jsonl").read_text().splitlines() if l.strip()]
        names = [c["name"] for c in cases if report["cases"].get(c["name"], {}).get("status") == "success"]
        for n, r in zip(names, rows):
            r["case"] = n
            if n.startswith("null"):
                r["backend"] = "null engine"
        print("%-16s %-12s %6s %7s %7s %9s %7s %8s" % ("case", "backend", "MP", "start", "work", "transfer",
                                                        "total", "start+tr"))
        for r in rows:
            print("%-16s %-12s %6.2f %7.2f %7.2f %9.2f %7.2f %8.2f" % (
                r.get("case", "?"), r["backend"], r["megapixels"], r["engine_start"], r["engine_work"],
                r["transfer"], r["total"], r["engine_start_plus_transfer"]))
        print("GIMP session wall time %.1f s (rc %d); statuses: %s" % (
            wall, rc, {k: v["status"] for k, v in report["cases"].items()}))
        if args.json:
            Path(args.json).write_text(json.dumps({"rows": rows, "machine": os.uname().nodename,
                                                   "cpus": os.cpu_count()}, indent=1))
    finally:
        shutil.rmtree(host_profile, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
