"""Hint-protocol benchmark: PSNR against the number of hint points, backends side by side with Levin 2004.

    python bench/hints.py [--backends variational,prior] [--per-source-limit 10] [--limit N]
    python bench/hints.py --data DIR          # one folder only

By default on dev_eval and on the fixed held-out (validation) slice of every training source, the photos no
model here trained on (bench/auto.py's sources: the first N of each in hash order, the SHA-1 of the path; no tile
of a photograph that trains, so no photo_tiles224). Each image is resized to 256x256; for each point count the same
Gaussian-placed 6x6 hints (mean ab of the patch) go to every method. 0 points: Levin and `variational` have
nothing to spread (the gray photo); a backend with a learned prior gives its guess. Prints per source and
the macro mean (every source weighs the same; bench.common.macro_mean) and overall (the photos pooled) the
PSNR ± its standard error and the difference to Levin, checks the targets of the Scribble-prior issue, writes JSON and a
PSNR-vs-points plot (with Zhang et al. 2017's published ImageNet curve for reference) to --out. Also reports the
uncertainty's coverage and mean radius against a constant radius calibrated alike.

Each difference to Levin (and to `variational` in the targets) comes with its paired standard error over the
photos (±): per photo the difference has a spread of 2-4 dB at 1-2 points, so over 10 photos a source's mean moves by
up to a dB from one draw of photos to the next. The JSON keeps every photo's result, so runs over disjoint --points
(one process per core) report as one:

    python bench/hints.py --points 0,2,10,50,200 --out runs/a &  python bench/hints.py --points 1,5,20,100 --out runs/b
    python bench/hints.py --report runs/a/hints.json runs/b/hints.json --out runs/ab
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.common import first_n, macro_mean, mean_sem, out_dir, print_table, pyplot, save_json  # noqa: E402
from colorcore import ColorizeRequest, color, load_registry, run_backend  # noqa: E402
from training.evaluation import (chroma_error, gray_of, hint_positions, hint_scribbles,  # noqa: E402
                                  list_images, load_rgb, psnr)

POINTS = (0, 1, 2, 5, 10, 20, 50, 100, 200)
# Zhang et al. 2017, "Real-Time User-Guided Image Colorization with Learned Deep Priors": PSNR on ImageNet ctest10k
ZHANG_2017 = dict(zip(POINTS, (24.43, 25.37, 26.20, 27.39, 28.42, 29.34, 30.42, 31.13, 31.70)))
# the targets, over Levin on every source: (points, dB)
TARGET_OVER_LEVIN = {1: 1.0, 2: 1.0, 5: 1.0, 10: 1.0, 100: 0.3, 200: 0.3}
OVERALL = "overall"
MACRO = "macro"        # the mean of the sources' means: every source weighs the same (OVERALL pools the photos)
REFERENCE = "levin2004"


def levin(gray, scribbles):
    from backends.variational.strokes import scribble_hints
    from training.levin import levin_colorize
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


def sources(args):
    """{source: [image paths]}: --data alone, or dev_eval and every training source's held-out slice."""
    if args.data:
        return {Path(args.data).name: first_n(list_images(args.data), args.limit, args.data)}
    from bench.auto import eval_sources
    return {k: v for k, v in eval_sources(args).items() if v}


def run_method(method, backends, gray, scribbles, points):
    """One method on one image and hint set -> (rgb, result or None)."""
    if method == REFERENCE:
        return (gray if points == 0 else levin(gray, scribbles)), None
    backend = backends[method]
    if points == 0:   # the pipeline refuses an empty scribble layer; a learned prior still has a guess
        if not getattr(backend, "guesses_without_hints", False):
            return gray, None
        req = ColorizeRequest(image=gray, mode="scribble", scribbles=scribbles, options=backend.validate_options({}))
        return color.with_lightness(req.lightness(), backend.run(req).ab), None
    res = run_backend(backend, ColorizeRequest(image=gray, mode="scribble", scribbles=scribbles))
    return res.rgb, res


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="one folder of colour photos instead of dev_eval + the held-out slices")
    parser.add_argument("--backends", default="variational,prior", help="comma-separated backend names")
    parser.add_argument("--points", default=",".join(map(str, POINTS)))
    parser.add_argument("--limit", type=int, default=0, help="at most N dev_eval (or --data) images (0 = all)")
    parser.add_argument("--per-source-limit", type=int, default=10, help="images per held-out slice (0 = all)")
    parser.add_argument("--no-reference", action="store_true", help=f"skip {REFERENCE}")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--report", nargs="+", metavar="JSON",
                        help="run nothing: report the photos' results saved in these hints.json files as one run "
                             "(the same photos and seed, each file its own --points)")
    parser.add_argument("--out", default="bench/out/hints")
    args = parser.parse_args(argv)
    results = merged(args.report) if args.report else measure(args)
    report(results, out_dir(args.out))


def measure(args):
    """Run every method on every photo and hint set -> the per-photo results (the JSON's "per_photo")."""
    groups = sources(args)
    if not groups:
        sys.exit("no images found (the shared data folder is needed for this benchmark)")
    registry = load_registry()
    backends = {}
    for name in (n.strip() for n in args.backends.split(",") if n.strip()):
        b = registry.get(name)
        if b.unavailable_reason():
            print(f"note: {name} skipped: {b.unavailable_reason()}", file=sys.stderr)
        else:
            backends[name] = b
    methods = list(backends) + ([] if args.no_reference else [REFERENCE])
    points = [int(p) for p in args.points.split(",")]
    psnrs = {g: {m: {p: [] for p in points} for m in methods} for g in groups}
    secs = {m: 0.0 for m in methods}
    unc = {b: {p: {"covered": [], "radius": [], "const_covered": [], "const_radius": []} for p in points}
           for b in backends}
    done, total = 0, sum(len(v) for v in groups.values())
    for source, paths in groups.items():
        for i, path in enumerate(paths):
            rgb = load_rgb(path)
            gray = gray_of(rgb)
            for p in points:
                rng = np.random.default_rng(args.seed * 100003 + i * 1009 + p)
                scribbles = hint_scribbles(rgb, hint_positions(rgb.shape[:2], p, rng))
                for m in methods:
                    t0 = time.perf_counter()
                    out, res = run_method(m, backends, gray, scribbles, p)
                    secs[m] += time.perf_counter() - t0
                    psnrs[source][m][p].append(psnr(out, rgb))
                    if res is None or m not in unc:
                        continue
                    err = chroma_error(res.rgb, rgb)
                    u = unc[m][p]
                    u["covered"].append(float(np.mean(err <= res.uncertainty)))
                    u["radius"].append(float(res.uncertainty.mean()))
                    const = constant_radius(backends[m], res.info.get("calibration_group"))
                    if const is not None:
                        u["const_covered"].append(float(np.mean(err <= const)))
                        u["const_radius"].append(const)
            done += 1
            print(f"\r{done}/{total} images", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    return {"backends": list(backends), "reference": not args.no_reference, "psnr": psnrs, "uncertainty": unc,
            "seconds": secs, "runs": total * len(points)}


def merged(paths):
    """The per-photo results of several hints.json files (runs over disjoint point counts) as one run."""
    runs = []
    for path in paths:
        saved = json.loads(Path(path).read_text()).get("per_photo")
        if saved is None:
            sys.exit(f"{path} holds no per-photo results (written before they were saved); run bench/hints.py again")
        runs.append(saved)
    first = runs[0]
    for path, run in zip(paths[1:], runs[1:]):
        if (run["backends"], run["reference"]) != (first["backends"], first["reference"]) or \
                photos_per_source(run["psnr"]) != photos_per_source(first["psnr"]):
            sys.exit(f"{path} was run on other methods or photos than {paths[0]}; --report merges runs that differ "
                     f"only in --points")
    out = {"backends": first["backends"], "reference": first["reference"],
           "seconds": {m: sum(r["seconds"][m] for r in runs) for m in first["seconds"]},
           "runs": sum(r["runs"] for r in runs), "psnr": {}, "uncertainty": {}}
    for run in runs:   # the point counts of every run side by side (JSON made them strings)
        for source, by_method in run["psnr"].items():
            for m, by_points in by_method.items():
                out["psnr"].setdefault(source, {}).setdefault(m, {}).update({int(p): v for p, v in by_points.items()})
        for b, by_points in run["uncertainty"].items():
            out["uncertainty"].setdefault(b, {}).update({int(p): v for p, v in by_points.items()})
    return out


def photos_per_source(psnrs):
    """{source: number of photos} of per-photo results {source: {method: {points: [psnr, ...]}}}."""
    return {g: len(next(iter(next(iter(by_method.values())).values()))) for g, by_method in psnrs.items()}


def gain(psnrs, method, base, p):
    """(mean, standard error) of method − base over the same photos and hints: paired, so the photos' own
    spread in PSNR cancels."""
    return mean_sem(np.subtract(psnrs[method][p], psnrs[base][p]))


def report(results, out):
    """Tables, the issue's targets, the plot and the JSON, from the per-photo results."""
    psnrs, unc, backends = results["psnr"], results["uncertainty"], results["backends"]
    groups = list(psnrs)
    methods = list(next(iter(psnrs.values())))
    points = sorted(next(iter(next(iter(psnrs.values())).values())))
    reference = results["reference"]
    pooled = {m: {p: [x for g in groups for x in psnrs[g][m][p]] for p in points} for m in methods}
    everywhere = dict(psnrs, **{OVERALL: pooled})
    stats = {g: {m: {p: mean_sem(v) for p, v in everywhere[g][m].items()} for m in methods} for g in everywhere}
    gains = {b: {g: {p: gain(everywhere[g], b, REFERENCE, p) for p in points} for g in everywhere}
             for b in backends} if reference else {}
    # the macro mean: every source weighs the same, its standard error from the sources' (bench.common.macro_mean)
    stats = dict({g: stats[g] for g in groups}, **{MACRO: {m: {p: macro_mean([stats[g][m][p] for g in groups])
                                                              for p in points} for m in methods}},
                 **{OVERALL: stats[OVERALL]})
    for b in gains:
        gains[b] = dict({g: gains[b][g] for g in groups},
                        **{MACRO: {p: macro_mean([gains[b][g][p] for g in groups]) for p in points}},
                        **{OVERALL: gains[b][OVERALL]})
    table = {g: {m: {p: v[0] for p, v in by_p.items()} for m, by_p in by_m.items()} for g, by_m in stats.items()}
    sems = {g: {m: {p: v[1] for p, v in by_p.items()} for m, by_p in by_m.items()} for g, by_m in stats.items()}
    for g in stats:
        if g == MACRO:
            what = f"macro mean of the {len(groups)} sources, each weighing the same"
        else:
            n = len(everywhere[g][methods[0]][points[0]])
            what = f"{'all photos pooled, ' if g == OVERALL else ''}{n} images at 256x256"
        print(f"\nPSNR (dB ± standard error), {g} ({what})")
        rows = [[m] + ["%.2f ±%.2f" % stats[g][m][p] for p in points] for m in methods]
        if reference:
            rows += [[f"{b} - {REFERENCE}"] + ["%+.2f ±%.2f" % gains[b][g][p] for p in points] for b in backends]
        print_table(["method"] + [f"{p} pts" for p in points], rows)
    total = len(pooled[methods[0]][points[0]])
    print("\nms per image and hint set: " + ", ".join(f"{m} {1000 * s / results['runs']:.0f}"
                                                    for m, s in results["seconds"].items()))
    checks = targets(psnrs, backends, points) if reference else {}
    for b, lines in checks.items():
        print(f"\ntargets for {b}:")
        for line in lines:
            print("  " + line)
    unc_rows = []
    for b in backends:
        for p in points:
            u = unc[b][p]
            if not u["covered"]:
                continue
            cc = f"{np.mean(u['const_covered']):.3f}" if u["const_covered"] else "-"
            cr = f"{np.mean(u['const_radius']):.2f}" if u["const_radius"] else "-"
            unc_rows.append([b, p, f"{np.mean(u['covered']):.3f}", f"{np.mean(u['radius']):.2f}", cc, cr])
    print("\nUncertainty at alpha=0.1 (coverage = fraction of pixels whose true chroma is within the radius)")
    print_table(["backend", "points", "coverage", "mean radius", "const coverage", "const radius"], unc_rows)

    save_json(out / "hints.json", {
        "sources": photos_per_source(psnrs), "psnr": table, "psnr_sem": sems, "targets": checks,
        "means": f"{MACRO}: the mean of the sources' means (each source weighs the same; its standard error from the "
                 f"sources'); {OVERALL}: every photo pooled. Subsets: the first N per source by the SHA-1 of the path",
        "gain_over_reference": gains,
        "ms_per_image": {m: 1000 * s / results["runs"] for m, s in results["seconds"].items()},
        "uncertainty": {b: {str(p): {k: float(np.mean(v)) if v else None for k, v in d.items()}
                            for p, d in pp.items()} for b, pp in unc.items()},
        "per_photo": results})
    plot(table, methods, points, out / "hints.png", total)
    print(f"\nwrote {out / 'hints.json'} and {out / 'hints.png'}")


def targets(psnrs, backends, points):
    """Per backend: a line per target, met or not, over every source (the worst source's gain ± its standard
    error: a miss by less than about two of them may be the photos drawn, not the method)."""
    out = {}
    for b in backends:
        lines = []
        for p, need in TARGET_OVER_LEVIN.items():
            if p not in points:
                continue
            gains = {g: gain(psnrs[g], b, REFERENCE, p) for g in psnrs}
            worst = min(gains, key=lambda g: gains[g][0])
            mean, se = gains[worst]
            lines.append(f"{'met ' if mean >= need else 'MISSED'} {p} pts: >= +{need} dB over Levin on every "
                         f"source (worst {worst}: {mean:+.2f} ±{se:.2f})")
        if "variational" in backends and b != "variational":
            gaps = {(g, p): gain(psnrs[g], b, "variational", p) for g in psnrs for p in points}
            (g, p) = min(gaps, key=lambda k: gaps[k][0])
            mean, se = gaps[(g, p)]
            lines.append(f"{'met ' if mean >= 0 else 'MISSED'} never below variational (worst {g}, {p} pts: "
                         f"{mean:+.2f} ±{se:.2f})")
        out[b] = lines
    return out


def plot(table, methods, points, path, total):
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    x = [max(p, 0.5) for p in points]   # 0 points drawn at 0.5 on the log axis
    for m in methods:
        line, = ax.plot(x, [table[OVERALL][m][p] for p in points], marker="o", label=f"{m} (pooled)")
        if MACRO in table:
            ax.plot(x, [table[MACRO][m][p] for p in points], ls=":", color=line.get_color(), label=f"{m} (macro)")
    ax.plot([max(p, 0.5) for p in ZHANG_2017], list(ZHANG_2017.values()), ls="--", color="gray",
            label="Zhang et al. 2017 (ImageNet ctest10k, published)")
    ax.set_xscale("log")
    ax.set_xticks(x, [str(p) for p in points])
    ax.set_xlabel("hint points")
    ax.set_ylabel("PSNR (dB)")
    ax.set_title(f"Hints: dev_eval + held-out slices ({total} images, 256x256)")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    main()
