"""Hint-protocol benchmark: PSNR against the number of hint points, backends side by side with Levin 2004.

    python bench/hints.py [--data ../shared/data/dev_eval] [--backends variational] [--limit N]

Each image is resized to 256x256; for each point count the same Gaussian-placed 6x6 hints (mean ab
of the patch) go to every method. Prints a table, writes JSON and a PSNR-vs-points plot to --out.
Also reports the uncertainty's coverage and mean radius against a constant radius calibrated alike.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.common import SHARED_DATA, out_dir, print_table, pyplot, save_json  # noqa: E402
from colorcore import ColorizeRequest, color, load_registry, run_backend  # noqa: E402
from colorcore.evaluation import (POINT_COUNTS, chroma_error, gray_of, hint_positions, hint_scribbles,  # noqa: E402
                                  list_images, load_rgb, psnr)

REFERENCE = "levin2004"


def levin(gray, scribbles):
    from backends.variational.hints import scribble_hints
    from backends.variational.levin import levin_colorize
    L = color.lightness(gray)
    weight, ab = scribble_hints(scribbles)
    return color.with_lightness(L, levin_colorize(L / 100.0, weight > 0, ab))


def constant_radius(backend, group, alpha="0.1"):
    """The baseline radius at alpha=0.1 stored with the backend's calibration (per group if it has groups)."""
    cal = backend.calibration()
    const = cal.extra.get("constant_radius") if cal else None
    if not const:
        return None
    table = const.get("groups", {}).get(group) or const["lambdas"]
    return float(table[alpha])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(SHARED_DATA / "dev_eval"))
    parser.add_argument("--backends", default="variational", help="comma-separated backend names")
    parser.add_argument("--points", default=",".join(map(str, POINT_COUNTS)))
    parser.add_argument("--limit", type=int, help="use only the first N images")
    parser.add_argument("--no-reference", action="store_true", help=f"skip {REFERENCE}")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="bench/out/hints")
    args = parser.parse_args(argv)
    paths = list_images(args.data, args.limit)
    if not paths:
        sys.exit(f"no images under {args.data} (the shared data folder is needed for this benchmark)")
    registry = load_registry()
    backends = [registry.get(n.strip()) for n in args.backends.split(",") if n.strip()]
    methods = [b.name for b in backends] + ([] if args.no_reference else [REFERENCE])
    points = [int(p) for p in args.points.split(",")]
    psnrs = {m: {p: [] for p in points} for m in methods}
    secs = {m: 0.0 for m in methods}
    unc = {b.name: {p: {"covered": [], "radius": [], "const_covered": [], "const_radius": []} for p in points}
           for b in backends}
    for i, path in enumerate(paths):
        rgb = load_rgb(path)
        gray = gray_of(rgb)
        for p in points:
            rng = np.random.default_rng(args.seed * 100003 + i * 1009 + p)
            scribbles = hint_scribbles(rgb, hint_positions(rgb.shape[:2], p, rng))
            for backend in backends:
                t0 = time.perf_counter()
                res = run_backend(backend, ColorizeRequest(image=gray, mode="scribble", scribbles=scribbles))
                secs[backend.name] += time.perf_counter() - t0
                psnrs[backend.name][p].append(psnr(res.rgb, rgb))
                err = chroma_error(res.rgb, rgb)
                u = unc[backend.name][p]
                u["covered"].append(float(np.mean(err <= res.uncertainty)))
                u["radius"].append(float(res.uncertainty.mean()))
                const = constant_radius(backend, res.info.get("calibration_group"))
                if const is not None:
                    u["const_covered"].append(float(np.mean(err <= const)))
                    u["const_radius"].append(const)
            if not args.no_reference:
                t0 = time.perf_counter()
                psnrs[REFERENCE][p].append(psnr(levin(gray, scribbles), rgb))
                secs[REFERENCE] += time.perf_counter() - t0
        print(f"\r{i + 1}/{len(paths)} images", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)

    table = {m: {p: float(np.mean(v)) for p, v in psnrs[m].items()} for m in methods}
    rows = [[m] + [f"{table[m][p]:.2f}" for p in points] + [f"{1000 * secs[m] / (len(paths) * len(points)):.0f}"]
            for m in methods]
    print(f"\nPSNR (dB) on {len(paths)} images of {args.data} at 256x256")
    print_table(["method"] + [f"{p} pts" for p in points] + ["ms/img"], rows)
    if not args.no_reference:
        for b in backends:
            print(f"{b.name} - {REFERENCE}: " + ", ".join(f"{p}: {table[b.name][p] - table[REFERENCE][p]:+.2f}"
                                                         for p in points))
    unc_rows = []
    for b in backends:
        for p in points:
            u = unc[b.name][p]
            cc = f"{np.mean(u['const_covered']):.3f}" if u["const_covered"] else "-"
            cr = f"{np.mean(u['const_radius']):.2f}" if u["const_radius"] else "-"
            unc_rows.append([b.name, p, f"{np.mean(u['covered']):.3f}", f"{np.mean(u['radius']):.2f}", cc, cr])
    print("\nUncertainty at alpha=0.1 (coverage = fraction of pixels whose true chroma is within the radius)")
    print_table(["backend", "points", "coverage", "mean radius", "const coverage", "const radius"], unc_rows)

    out = out_dir(args.out)
    save_json(out / "hints.json", {"data": args.data, "images": len(paths), "psnr": table,
                                   "ms_per_image": {m: 1000 * secs[m] / (len(paths) * len(points)) for m in methods},
                                   "uncertainty": {b: {str(p): {k: float(np.mean(v)) if v else None
                                                                for k, v in d.items()} for p, d in pp.items()}
                                                   for b, pp in unc.items()}})
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    for m in methods:
        ax.plot(points, [table[m][p] for p in points], marker="o", label=m)
    ax.set_xscale("log")
    ax.set_xlabel("hint points")
    ax.set_ylabel("PSNR (dB)")
    ax.set_title(f"Hint propagation, {Path(args.data).name} ({len(paths)} images, 256x256)")
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "hints.png", dpi=110)
    print(f"\nwrote {out / 'hints.json'} and {out / 'hints.png'}")


if __name__ == "__main__":
    main()
