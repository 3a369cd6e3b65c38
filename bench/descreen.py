"""Halftone screens: found where there is one, never where there is none, and does taking them out help?

    python bench/descreen.py [--backends gan,prior] [--per-source-limit 10] [--limit 10] [--out bench/out/descreen]

Photos: dev_eval and every training source's validation slice (bench/suggest.py's photo_sources), at 256x256, in
hash order. Each is seen three ways: as it is, aged like an old print (training.aging's "print" recipe, seeded per
photo), and printed through a halftone screen alone (training.aging.halftone, period 3.5-5 px). Reported:
  found    the share of each where colorcore.descreen finds a screen (as it is and aged without a screen: the
           false alarms; with a screen: the hits)
  per backend, on the photos with a screen that was found: PSNR (against the photo's colours at the input's
           lightness: the result keeps the input's, so only the colours count) and coverage at alpha 0.1 of the
           engine's run (the screen taken out of the backend's copy) beside the same run with the screen left in
Per source mean ± standard error, and the macro mean over sources (bench.common.macro_mean). Writes a table,
OUT/descreen.json and OUT/descreen.png.
"""
from __future__ import annotations

import argparse
import json
import sys
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.common import grouped_bars, macro_mean, mean_sem, out_dir, print_table, pyplot, save_json  # noqa: E402
from bench.suggest import photo_sources  # noqa: E402
from colorcore import ColorizeRequest, descreen, load_registry, run_backend  # noqa: E402
from colorcore.calibration import coverage  # noqa: E402
from training.aging import CALIBRATION_SEED, age, photo_rng  # noqa: E402
from training.evaluation import (chroma_error, colours_at, gray_of, hint_positions, hint_scribbles,  # noqa: E402
                                 load_rgb, psnr)

ALPHA = 0.1
POINTS = 10   # Scribble backends: the benchmark's hints (6x6 patches of the true colour) at this many places
KINDS = ("clean", "aged", "screened")


@contextmanager
def screen_left_in():
    """The engine as it was before colorcore.descreen: no screen is ever found."""
    with mock.patch.object(descreen, "screen_period", return_value=None):
        yield


def views(rgb, index):
    """The photo's gray as it is, aged by the "print" recipe (None when that ageing drew a screen: such runs are
    not false alarms) and printed through a screen alone, each seeded by the photo's index."""
    gray = gray_of(rgb)
    aged, recipe = age(gray, photo_rng(CALIBRATION_SEED, index))
    screened, _ = age(gray, photo_rng(CALIBRATION_SEED, index), only="halftone")
    return {"clean": gray, "aged": aged if "halftone" not in dict(recipe) else None, "screened": screened}


def measure(backend, rgb, gray, index):
    """(PSNR, coverage) of one engine run on gray: against the photo's colours at gray's lightness (the result
    keeps the input's lightness, screen and all: only the colours are the backend's)."""
    truth = colours_at(rgb, gray)
    scribbles = None
    if "scribble" in backend.modes and "auto" not in backend.modes:
        rng = np.random.default_rng(index)
        scribbles = hint_scribbles(rgb, hint_positions(rgb.shape[:2], POINTS, rng))
    res = run_backend(backend, ColorizeRequest(image=gray, mode="scribble" if scribbles is not None else "auto",
                                               scribbles=scribbles, alpha=ALPHA))
    return float(psnr(res.rgb, truth)), float(coverage(res.uncertainty, chroma_error(res.rgb, truth)))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--backends", default="gan,prior")
    p.add_argument("--per-source-limit", type=int, default=10)
    p.add_argument("--limit", type=int, default=10, help="dev_eval photos")
    p.add_argument("--out", default="bench/out/descreen")
    p.add_argument("--report", action="store_true", help="run nothing: report OUT/descreen.json's measurements again")
    args = p.parse_args(argv)
    out = out_dir(args.out)
    if args.report:
        raw = json.loads((out / "descreen.json").read_text())["measured"]
        return report(raw["found"], raw["runs"], out)
    reg = load_registry()
    backends = [reg.get(n) for n in args.backends.split(",") if n]
    for b in backends:
        if b.unavailable_reason():
            sys.exit(f"backend {b.name}: {b.unavailable_reason()}")
    groups = photo_sources("val", args.per_source_limit, args.limit)
    found = {s: {k: [] for k in KINDS} for s in groups}
    runs = {b.name: {s: {"with": [], "without": []} for s in groups} for b in backends}
    total, n = sum(len(v) for v in groups.values()), 0
    for source, paths in groups.items():
        for i, path in enumerate(paths):
            rgb = load_rgb(path)
            for kind, gray in views(rgb, i).items():
                if gray is None:
                    continue
                period = descreen.screen_period(gray)
                found[source][kind].append(period is not None)
                if kind != "screened" or period is None:
                    continue
                for b in backends:
                    runs[b.name][source]["with"].append(measure(b, rgb, gray, i))
                    with screen_left_in():
                        runs[b.name][source]["without"].append(measure(b, rgb, gray, i))
            n += 1
            print(f"\r{n}/{total} photos", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    report(found, runs, out)


def report(found, runs, out):
    sources = list(found)
    print("\nshare of photos where a screen is found")
    rows = [[s] + ["%.2f (%d)" % (np.mean(found[s][k]), len(found[s][k])) if found[s][k] else "-" for k in KINDS]
            for s in sources]
    print_table(["source", "as it is (false alarms)", "aged, no screen (false alarms)", "screened (hits)"], rows)
    result = {"found": {s: {k: float(np.mean(v)) if v else None for k, v in found[s].items()} for s in sources},
              "measured": {"found": found, "runs": runs}}   # every photo's, for --report
    plt = pyplot()
    fig, axes = plt.subplots(1, 2 * len(runs), figsize=(6 * len(runs), 3.6), squeeze=False)
    for j, (name, per) in enumerate(runs.items()):
        stats = {}
        for s in sources:
            w, wo = np.asarray(per[s]["with"]).reshape(-1, 2), np.asarray(per[s]["without"]).reshape(-1, 2)
            if len(w):
                stats[s] = {"psnr": (mean_sem(wo[:, 0]), mean_sem(w[:, 0]), mean_sem(w[:, 0] - wo[:, 0])),
                            "coverage": (mean_sem(wo[:, 1]), mean_sem(w[:, 1]), mean_sem(w[:, 1] - wo[:, 1]))}
        kept = list(stats)
        stats["macro"] = {m: tuple(macro_mean([stats[s][m][c] for s in kept]) for c in range(3))
                          for m in ("psnr", "coverage")}
        print(f"\n{name} on the screened photos (a screen found): left in -> taken out (the engine), paired change")
        fmt = lambda v: "%.3f ±%.3f" % v  # noqa: E731
        print_table(["source", "PSNR left in", "PSNR taken out", "change", "coverage left in", "coverage taken out",
                     "change"],
                    [[s] + [fmt(v) for m in ("psnr", "coverage") for v in stats[s][m]] for s in kept + ["macro"]])
        result[name] = stats
        for k, metric in enumerate(("psnr", "coverage")):
            ax = axes[0][2 * j + k]
            grouped_bars(ax, [s.split("_")[0][:9] for s in kept] + ["macro"],
                         {"screen left in": [stats[s][metric][0][0] for s in kept + ["macro"]],
                          "taken out": [stats[s][metric][1][0] for s in kept + ["macro"]]},
                         f"{name}: {'PSNR (dB)' if metric == 'psnr' else 'coverage at alpha 0.1'}", fontsize=7)
            ax.tick_params(axis="x", labelrotation=45)
            ax.legend(fontsize=7, loc="lower left")
            if metric == "coverage":
                ax.axhline(1 - ALPHA, color="k", lw=0.8, ls="--")
                ax.set_ylim(0.5, 1.0)
            else:
                ax.set_ylim(15, 30)
    fig.tight_layout()
    fig.savefig(out / "descreen.png", dpi=110)
    save_json(out / "descreen.json", result)
    print(f"\nwrote {out / 'descreen.json'} and {out / 'descreen.png'}")


if __name__ == "__main__":
    main()
