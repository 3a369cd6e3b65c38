"""Speed benchmark: backends over image sizes, ms per megapixel and peak memory, side by side with the
Levin 2004 exact solve (where it fits) in the same run.

    python bench/speed.py [--backends variational] [--sizes 256x256,1000x1000,4000x3000] [--strokes 200]
    python bench/speed.py --memory [--megapixels 12,48,100]

--memory: the whole `colorcore colorize` command (read, colorize, write the result and the uncertainty) on
synthetic 8-bit gray scans of those sizes, for Auto, Scribble (--strokes strokes) and Partial (an ellipse),
each in its own process, whose peak resident memory is read from the kernel (wait4) when it ends.

Each measurement runs in a fresh subprocess so its peak memory (ru_maxrss) is its own; the photo is
synthetic (smooth regions, edges, grain) with `--strokes` random scribble strokes. Prints a table,
writes JSON and a bar plot.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.common import grouped_bars, out_dir, print_table, pyplot, save_json  # noqa: E402

LEVIN = "levin2004"
LEVIN_MAX_PIXELS = 1_100_000   # its direct solve needs minutes and GBs beyond this


def synthetic(w, h, strokes, seed=0):
    import cv2
    import numpy as np
    rng = np.random.default_rng(seed)
    small = rng.uniform(0.15, 0.85, (12, 16)).astype(np.float32)
    gray = cv2.resize(small, (w, h), interpolation=cv2.INTER_NEAREST)      # regions with hard edges
    gray = cv2.GaussianBlur(gray, (0, 0), max(w, h) / 800) + rng.normal(0, 0.02, (h, w)).astype(np.float32)
    image = np.repeat(np.clip(gray, 0, 1)[..., None], 3, axis=2)
    scribbles = np.zeros((h, w, 4), np.float32)
    thick = max(1, w // 400)
    for _ in range(strokes):
        x0, y0 = int(rng.integers(0, w)), int(rng.integers(0, h))
        x1, y1 = np.clip([x0 + rng.integers(-w // 20, w // 20), y0 + rng.integers(-h // 20, h // 20)], 0,
                         [w - 1, h - 1])
        rgb = rng.uniform(0, 1, 3).tolist()
        cv2.line(scribbles, (x0, y0), (int(x1), int(y1)), rgb + [1.0], thick)
    return image, scribbles


def measure(method, w, h, strokes, repeats):
    """Runs in a child process: time `repeats` runs (after one warm-up) and report peak memory."""
    import resource
    import time
    import numpy as np
    from colorcore import ColorizeRequest, load_registry, run_backend
    image, scribbles = synthetic(w, h, strokes)
    if method == LEVIN:
        from bench.hints import levin
        run = lambda: levin(image, scribbles)  # noqa: E731
    else:
        backend = load_registry().get(method)
        mode = "scribble" if "scribble" in backend.modes else backend.modes[0]
        req = ColorizeRequest(image=image, mode=mode, scribbles=scribbles if mode == "scribble" else None)
        run = lambda: run_backend(backend, req)  # noqa: E731
    run()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        run()
        times.append(time.perf_counter() - t0)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": float(np.median(times)), "peak_mb": peak_mb}))


def write_scan(folder, mp, strokes, seed=0):
    """A synthetic gray scan of about `mp` megapixels (4:3), its scribbles and an elliptical mask, as PNG files
    (built band by band, so a 100 MP scan needs little memory here)."""
    import cv2
    import numpy as np
    rng = np.random.default_rng(seed)
    w = int(round((mp * 1e6 * 4 / 3) ** 0.5))
    h = int(round(mp * 1e6 / w))
    small = cv2.GaussianBlur(rng.uniform(40, 215, (60, 80)).astype(np.float32), (0, 0), 1.5)
    gray = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR).astype(np.uint8)
    for y in range(0, h, 1000):   # grain
        band = gray[y:y + 1000]
        band[...] = np.clip(band + rng.normal(0, 4, band.shape), 0, 255).astype(np.uint8)
    paths = {"image": folder / f"scan_{mp:g}mp.png", "scribbles": folder / f"hints_{mp:g}mp.png",
             "mask": folder / f"mask_{mp:g}mp.png"}
    cv2.imwrite(str(paths["image"]), gray)
    del gray
    hints = np.zeros((h, w, 4), np.uint8)
    thick = max(2, w // 800)
    for _ in range(strokes):
        x0, y0 = int(rng.integers(0, w)), int(rng.integers(0, h))
        x1, y1 = x0 + int(rng.integers(-w // 20, w // 20)), y0 + int(rng.integers(-h // 20, h // 20))
        cv2.line(hints, (x0, y0), (x1, y1), [int(v) for v in rng.integers(0, 256, 3)] + [255], thick)
    cv2.imwrite(str(paths["scribbles"]), hints)
    del hints
    mask = np.zeros((h, w), np.uint8)
    cv2.ellipse(mask, (w // 2, h // 2), (w // 3, h // 3), 0, 0, 360, 255, -1)
    cv2.imwrite(str(paths["mask"]), mask)
    return paths, (w, h)


def peak_of_command(cmd):
    """Run `cmd`; (seconds, peak resident MB of that process, return code, stderr tail)."""
    import os
    import time
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read()
    return time.perf_counter() - t0, usage.ru_maxrss / 1024, proc.returncode, err.strip().splitlines()[-1:] or [""]


def memory_bench(args):
    import tempfile
    runs = {"Auto": lambda p: [], "Scribble": lambda p: ["--scribbles", str(p["scribbles"])],
            "Partial": lambda p: ["--mask", str(p["mask"])]}
    results = []
    with tempfile.TemporaryDirectory(prefix="colorcore-memory-") as tmp:
        folder = Path(tmp)
        for mp in [float(v) for v in args.megapixels.split(",")]:
            paths, (w, h) = write_scan(folder, mp, args.strokes)
            for mode, extra in runs.items():
                cmd = [sys.executable, "-m", "colorcore", "colorize", str(paths["image"]), *extra(paths),
                       "-o", str(folder / "out.png"), "--uncertainty", str(folder / "unc.png"), "--quiet",
                       "--max-megapixels", str(mp + 1)]
                seconds, peak, rc, err = peak_of_command(cmd)
                results.append({"mode": mode, "size": f"{w}x{h}", "megapixels": w * h / 1e6, "seconds": seconds,
                                "peak_mb": peak, "bytes_per_pixel": peak * 2**20 / (w * h), "returncode": rc,
                                "error": err[0] if rc else ""})
                print(f"{mode} {w}x{h}: {seconds:.1f} s, peak {peak:.0f} MB (rc {rc}) {err[0] if rc else ''}",
                      flush=True)
            for p in paths.values():
                p.unlink()
    rows = [[r["mode"], r["size"], f"{r['megapixels']:.0f}", f"{r['seconds']:.1f}", f"{r['peak_mb'] / 1024:.2f}",
             f"{r['bytes_per_pixel']:.0f}", r["returncode"]] for r in results]
    print("\nwhole `colorcore colorize` (read, colorize, write result and uncertainty), one process per row")
    print_table(["mode", "size", "MP", "seconds", "peak GB", "bytes/pixel", "exit"], rows)
    out = out_dir(args.out)
    save_json(out / "memory.json", {"results": results, "strokes": args.strokes})
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    for mode in runs:
        pts = [(r["megapixels"], r["peak_mb"] / 1024) for r in results if r["mode"] == mode]
        ax.plot(*zip(*pts), marker="o", label=mode)
    ax.axhline(6, color="gray", linestyle="--", label="6 GB target")
    ax.set_xlabel("megapixels")
    ax.set_ylabel("peak resident memory (GB)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "memory.png", dpi=110)
    print(f"wrote {out / 'memory.json'} and {out / 'memory.png'}")
    return 0 if all(r["returncode"] == 0 for r in results) else 1


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="variational")
    parser.add_argument("--sizes", default="256x256,1000x1000,4000x3000")
    parser.add_argument("--strokes", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-reference", action="store_true")
    parser.add_argument("--out", default="bench/out/speed")
    parser.add_argument("--memory", action="store_true", help="peak memory of whole CLI runs on large scans")
    parser.add_argument("--megapixels", default="12,48,100", help="--memory: scan sizes")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.memory:
        return memory_bench(args)
    if args.child:
        method, w, h, strokes = args.child
        return measure(method, int(w), int(h), int(strokes), args.repeats)
    methods = [m for m in args.backends.split(",") if m] + ([] if args.no_reference else [LEVIN])
    sizes = [tuple(int(v) for v in s.split("x")) for s in args.sizes.split(",")]
    results, rows = [], []
    for w, h in sizes:
        for method in methods:
            if method == LEVIN and w * h > LEVIN_MAX_PIXELS:
                continue
            proc = subprocess.run([sys.executable, __file__, "--child", method, str(w), str(h), str(args.strokes),
                                   "--repeats", str(args.repeats)], capture_output=True, text=True)
            if proc.returncode != 0:
                print(proc.stderr, file=sys.stderr)
                continue
            r = json.loads(proc.stdout.strip().splitlines()[-1])
            r.update(method=method, size=f"{w}x{h}", megapixels=w * h / 1e6)
            results.append(r)
    for r in results:
        ref = next((x for x in results if x["method"] == LEVIN and x["size"] == r["size"]), None)
        speedup = f"{ref['seconds'] / r['seconds']:.1f}x" if ref and r["method"] != LEVIN else "-"
        rows.append([r["method"], r["size"], f"{r['seconds']:.3f}", f"{1000 * r['seconds'] / r['megapixels']:.0f}",
                     f"{r['peak_mb']:.0f}", speedup])
    print(f"\nmedian of {args.repeats} warm runs, {args.strokes} random strokes, one process per row")
    print_table(["method", "size", "seconds", "ms/MP", "peak MB", f"speed-up vs {LEVIN}"], rows)
    out = out_dir(args.out)
    save_json(out / "speed.json", {"results": results, "strokes": args.strokes})
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    labels = sorted({r["size"] for r in results}, key=lambda s: int(s.split("x")[0]) * int(s.split("x")[1]))
    grouped_bars(ax, labels, {method: [next((r["seconds"] for r in results if r["method"] == method and
                                             r["size"] == s), 0) for s in labels] for method in methods}, "seconds")
    ax.set_yscale("log")
    fig.tight_layout()
    fig.savefig(out / "speed.png", dpi=110)
    print(f"wrote {out / 'speed.json'} and {out / 'speed.png'}")


if __name__ == "__main__":
    sys.exit(main())
