"""Where to paint: does one stroke at a suggested place help more than one at a random place?

    python bench/suggest.py [--split val] [--per-source-limit 10] [--limit 10] [--out runs/unc30/suggest]
    python bench/suggest.py --split calib ...     # where colorcore/suggest.py's constants are chosen

The user's workflow: Auto (`gan`) colours the photo and its uncertainty layer; colorcore.suggest ranks the places
(`--suggest N`); the user paints k = 1, 2, 3 strokes of the true colour at the first k and runs the default
Scribble backend (`prior`). Strokes follow the hint protocol (training/evaluation.py: 6x6 patches carrying the
ground truth's mean ab, photos at 256x256, PSNR on the whole image). Beside the suggestions:
  random   k places drawn uniformly over the photo (RANDOM_DRAWS draws per photo and k, their PSNRs averaged)
  region   the plain region-size rule: k-means (REGION_RULE_CLUSTERS regions) of (lightness, Auto's a, b, position),
           one stroke at the medoid of each of the k largest clusters
Per source and k: mean PSNR ± standard error, the paired gain over random (± its paired standard error), and the
macro mean over sources (bench.common.macro_mean). Photos: dev_eval and every training source's validation
slice ('val', the benchmark's), or the calibration slices ('calib', never reported as results), each in hash order.
Every photo's result is appended to OUT/photos.jsonl as it is measured, so a killed run resumes where it stopped.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.common import SHARED_DATA, first_n, macro_mean, mean_sem, out_dir, print_table, save_json  # noqa: E402
from colorcore import ColorizeRequest, color, load_registry, run_backend  # noqa: E402
from training.evaluation import PATCH, chroma_error, gray_of, hint_scribbles, list_images, load_rgb, psnr  # noqa: E402

KS = (1, 2, 3)
RANDOM_DRAWS = 3
METHODS = ("suggest", "random", "region")
REGION_RULE_CLUSTERS = 8   # the plain rule as issue 30 measured it
MACRO = "macro"
TARGET_OVER_RANDOM = 0.5   # dB, macro mean, at every k


def photo_sources(split, per_source, limit):
    from training.gan import data
    slices = data.held_out_slices(SHARED_DATA, split, per_source)
    if split == "val":
        dev = first_n(list_images(SHARED_DATA / "dev_eval"), limit, SHARED_DATA / "dev_eval")
        slices = dict({"dev_eval": dev} if dev else {}, **slices)
    return {k: v for k, v in slices.items() if v}


def corner(y, x, shape, patch=PATCH):
    """The top-left corner of a patch centred (as near as fits) on (y, x)."""
    return (int(np.clip(y - patch // 2, 0, shape[0] - patch)), int(np.clip(x - patch // 2, 0, shape[1] - patch)))


def region_rule(rgb_auto, k, weight=None):
    """The plain region-size rule: one stroke at the medoid of each of the k largest regions of Auto's result
    (colorcore.suggest.region_clusters: k-means of L, a, b and position), as (y, x). With weight (H, W), regions
    rank by their sum of it instead of their size."""
    from colorcore.suggest import region_places
    lab = color.rgb_to_lab(np.asarray(rgb_auto, np.float32))
    return region_places(lab[..., 0], lab[..., 1:], weight, k, clusters=REGION_RULE_CLUSTERS, sigma=0.0)


PLACES_FROM = ("auto", "disagreement", "fix", "oracle-auto", "oracle-prior", "oracle-region", "region-expected")


def suggested(auto, gray, prior, places_from, params, truth):
    """colorcore.suggest's places from Auto's result and radius ("auto", as the product does), or from the `prior`'s
    guess without strokes with its disagreement with Auto as the radius ("disagreement": two colorizers that
    disagree mark where one is wrong; training.calibration.suggest_reach ranked it best of its variants).
    The oracles bound what a better uncertainty layer could give through colorcore.suggest's rule: the radius
    replaced by the true error of Auto's result ("oracle-auto": a perfect layer) or of the `prior`'s strokeless
    guess, the result the strokes actually correct ("oracle-prior"), or the region-size rule with its regions
    ranked by that guess's true squared error in RGB instead of their size ("oracle-region"). They read the truth:
    never a product path. "region-expected": the plain rule's regions ranked by the guess's expected error (its
    disagreement with Auto plus Auto's radius as an expected error; a calibration experiment, not kept)."""
    from colorcore.suggest import expected_square_error, suggest
    if places_from == "auto":
        return suggest(auto.rgb, auto.uncertainty, max(KS), **params)
    if places_from == "oracle-auto":
        return suggest(auto.rgb, chroma_error(auto.rgb, truth), max(KS), **params)
    from training.calibration.suggest_reach import strokeless_prior
    guess, _ = strokeless_prior(prior, gray)
    if places_from == "oracle-prior":
        return suggest(guess, chroma_error(guess, truth), max(KS), **params)
    if places_from == "oracle-region":
        return as_places(region_rule(auto.rgb, max(KS), weight=square_difference(guess, truth)))
    if places_from == "region-expected":   # the prior's guess's expected error, Auto taken as the truth's estimate
        lab = color.rgb_to_lab(np.asarray(auto.rgb, np.float32))
        expected = expected_square_error(lab[..., 0], lab[..., 1:], auto.uncertainty)
        return as_places(region_rule(auto.rgb, max(KS), weight=square_difference(guess, auto.rgb) + expected))
    if places_from == "fix":
        return fix_places(auto, guess, max(KS), **params)
    return suggest(guess, chroma_error(auto.rgb, guess), max(KS), **params)


def as_places(centres):
    return [{"y": y, "x": x} for y, x in centres]


def square_difference(a, b):
    return np.sum((np.asarray(a, np.float32) - np.asarray(b, np.float32)) ** 2, axis=-1)


def fix_places(auto, guess, n, grid=None):
    """An experiment: the places where a stroke of Auto's colour would bring the `prior`'s strokeless guess closest
    to Auto's colours where it reaches (training.calibration.suggest_reach's "Auto as truth, fix @ on_prior"),
    greedily: after each place, the guess moves toward the place's colour as far as the stroke reaches."""
    import cv2
    from colorcore import suggest as S
    from training.calibration.suggest_reach import colour_fix, reach_on
    H, W = auto.rgb.shape[:2]
    scale, L, ab_auto, radius = S.working(auto.rgb, auto.uncertainty)
    ab0 = S.working(guess, np.zeros((H, W), np.float32))[2]
    ys, xs = S._candidates(L, ab_auto, radius > 0, min(grid or S.GRID, *L.shape))
    colours = cv2.blur(ab_auto, (5, 5))[ys, xs]
    reach = reach_on(L, ab0, ys, xs)[1]
    sens = S.rgb_sensitivity(L, ab0) * 255.0
    now = ab0.reshape(-1, 2).astype(np.float32)
    picked = []
    for _ in range(min(n, len(ys))):
        gains = np.sum(reach * colour_fix(now, ab_auto, colours, sens), axis=1)
        gains[picked] = -np.inf
        best = int(np.argmax(gains))
        picked.append(best)
        now = now + reach[best][:, None] * (colours[best] - now)
    return [{"x": S.input_pixel(xs[k], scale, W), "y": S.input_pixel(ys[k], scale, H)} for k in picked]


def measure_photo(path, gan, prior, seed, params, baseline=None, places_from="auto"):
    rgb = load_rgb(path)
    gray = gray_of(rgb)
    auto = run_backend(gan, ColorizeRequest(image=gray, mode="auto"))
    t0 = time.perf_counter()
    places = suggested(auto, gray, prior, places_from, params, rgb)
    secs = time.perf_counter() - t0
    region = None if baseline is not None else region_rule(auto.rgb, max(KS))
    rng = np.random.default_rng(seed)
    H, W = rgb.shape[:2]

    def run(centres):
        corners = [corner(y, x, rgb.shape) for y, x in centres]
        res = run_backend(prior, ColorizeRequest(image=gray, mode="scribble",
                                                 scribbles=hint_scribbles(rgb, corners)))
        return psnr(res.rgb, rgb)

    out = {"auto": psnr(auto.rgb, rgb), "suggest_seconds": secs}
    for k in KS:
        out[f"suggest@{k}"] = run([(p["y"], p["x"]) for p in places[:k]])
        if baseline is not None:   # random and region as measured before (the same photos and seeds)
            out.update({f"{m}@{k}": baseline[f"{m}@{k}"] for m in ("random", "region")})
            continue
        out[f"region@{k}"] = run(region[:k])
        draws = [run(list(zip(rng.integers(0, H, k), rng.integers(0, W, k)))) for _ in range(RANDOM_DRAWS)]
        out[f"random@{k}"] = float(np.mean(draws))
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--split", choices=("val", "calib"), default="val")
    p.add_argument("--per-source-limit", type=int, default=10)
    p.add_argument("--limit", type=int, default=10, help="dev_eval photos (val split)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                   help="a colorcore.suggest.suggest parameter (rule, clusters, region_sigma, reach, power, grid, "
                        "support), for choosing them on calib; rule=reach: the rule shipped before the 23rd session")
    p.add_argument("--places-from", choices=PLACES_FROM, default="auto",
                   help="auto: the places from Auto's result and radius (the product's); disagreement: from the "
                        "prior's guess without strokes, radius = its disagreement with Auto; fix: where a stroke of "
                        "Auto's colour would bring that guess closest to Auto's colours (fix_places; both experiments, "
                        "worse than auto on the calibration photos); region-expected: see suggested(); oracle-auto, "
                        "oracle-prior, oracle-region: the true error in place of the radius (upper bounds that read "
                        "the truth, never suggestions)")
    p.add_argument("--report", action="store_true", help="run nothing: report OUT/photos.jsonl")
    p.add_argument("--baseline", metavar="PHOTOS.jsonl",
                   help="take random and region from this earlier run's photos (same split, seed and photos): "
                        "only the suggestions run (for choosing suggest's parameters on calib)")
    p.add_argument("--out", default="runs/unc30/suggest")
    args = p.parse_args(argv)
    out = out_dir(args.out)
    params = {k: (v if k in ("support", "rule") else int(v) if k in ("grid", "clusters") else float(v))
              for k, v in (kv.split("=", 1) for kv in args.set)}
    log = out / "photos.jsonl"
    done = {}
    if log.exists():
        for line in log.read_text().splitlines():
            row = json.loads(line)
            done[row["path"]] = row
    baseline = {}
    if args.baseline:
        baseline = {r["path"]: r for r in map(json.loads, Path(args.baseline).read_text().splitlines())}
    if not args.report:
        groups = photo_sources(args.split, args.per_source_limit, args.limit)
        reg = load_registry()
        gan, prior = reg.get("gan"), reg.get("prior")
        for b in (gan, prior):
            if b.unavailable_reason():
                sys.exit(b.unavailable_reason())
        total = sum(len(v) for v in groups.values())
        n = 0
        for source, paths in groups.items():
            for i, path in enumerate(paths):
                n += 1
                if str(path) in done:
                    continue
                row = dict(measure_photo(path, gan, prior, args.seed * 100003 + i, params,
                                         baseline.get(str(path)) if args.baseline else None, args.places_from),
                           path=str(path), source=source)
                done[row["path"]] = row
                with log.open("a") as f:
                    f.write(json.dumps(row) + "\n")
                print(f"\r{n}/{total} photos", end="", file=sys.stderr, flush=True)
        print(file=sys.stderr)
    report(list(done.values()), out, args, params)


def report(rows, out, args, params):
    sources = sorted({r["source"] for r in rows}, key=lambda s: (s != "dev_eval", s))
    per = {s: [r for r in rows if r["source"] == s] for s in sources}
    stats, gains = {}, {}
    for s in sources:
        stats[s] = {f"{m}@{k}": mean_sem([r[f"{m}@{k}"] for r in per[s]]) for m in METHODS for k in KS}
        gains[s] = {f"{m}@{k}": mean_sem([r[f"{m}@{k}"] - r[f"random@{k}"] for r in per[s]])
                    for m in ("suggest", "region") for k in KS}
    stats[MACRO] = {key: macro_mean([stats[s][key] for s in sources]) for key in stats[sources[0]]}
    gains[MACRO] = {key: macro_mean([gains[s][key] for s in sources]) for key in gains[sources[0]]}
    header = ["source", "photos"] + [f"{m} - random @{k}" for m in ("suggest", "region") for k in KS]
    table = [[s, len(per.get(s, rows))] + ["%+.2f ±%.2f" % gains[s][f"{m}@{k}"] for m in ("suggest", "region")
                                           for k in KS] for s in sources + [MACRO]]
    print(f"\nPSNR gain over random places (dB, paired ± standard error), prior backend, {args.split} split")
    print_table(header, table)
    print("\nPSNR (dB ± standard error), macro mean")
    print_table(["method"] + [f"k={k}" for k in KS],
                [[m] + ["%.2f ±%.2f" % stats[MACRO][f"{m}@{k}"] for k in KS] for m in METHODS])
    checks = []
    for k in KS:
        g = gains[MACRO][f"suggest@{k}"]
        checks.append(f"{'met ' if g[0] >= TARGET_OVER_RANDOM else 'MISSED'} k={k}: suggest >= random + "
                      f"{TARGET_OVER_RANDOM} dB (macro {g[0]:+.2f} ±{g[1]:.2f})")
        worst = min(sources, key=lambda s: gains[s][f"suggest@{k}"][0])
        w = gains[worst][f"suggest@{k}"]
        checks.append(f"{'met ' if w[0] >= 0 else 'MISSED'} k={k}: never below random on a source "
                      f"(worst {worst}: {w[0]:+.2f} ±{w[1]:.2f})")
    print("\ntargets:")
    for c in checks:
        print("  " + c)
    secs = np.mean([r["suggest_seconds"] for r in rows])
    print(f"\nsuggest: {1000 * secs:.0f} ms per 256x256 photo")
    save_json(out / "suggest.json", {"split": args.split, "params": params, "photos": {s: len(per[s]) for s in sources},
                                     "psnr": stats, "gain_over_random": gains, "targets": checks,
                                     "suggest_ms": 1000 * secs})
    print(f"wrote {out / 'suggest.json'}")


if __name__ == "__main__":
    main()
