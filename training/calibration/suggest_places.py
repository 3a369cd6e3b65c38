"""What makes a good place for one stroke? Measured place by place on the calibration slices.

    python -m training.calibration.suggest_places [--per-source 8] [--grid 8] [--out runs/unc30/places]
    python -m training.calibration.suggest_places --report [--out ...]

For each calibration photo (training.gan.data.held_out_slices 'calib': never trained on, never benchmarked on; at
256x256 as bench/suggest.py): Auto (`gan`) colours it; colorcore.suggest's candidates (the flattest pixel of each
cell of a grid x grid grid) are the places; at each, one true-colour stroke (the hint protocol's 6x6 patch) and
the default Scribble backend (`prior`) give the PSNR a stroke there earns. Beside it, what colorcore.suggest can
know there without the truth (the features below). Every photo's rows are appended to OUT/places.jsonl as it is
measured, so a killed run resumes.

--report ranks the places of each photo by each feature (and by a least-squares mix of them fitted with one
source left out at a time, so no photo's own source tunes its ranking) and prints the PSNR of the top place over
the mean of all the photo's places (about a random place), the oracle's beside it, per source and as a macro mean.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

FEATURES = ("gain_p2", "gain_p1", "size", "radius_here", "chroma_mass", "unsure_share", "centre",
            "alike_p2", "alike_size", "fixed_p2", "chroma_here", "lightness_here")


def place_features(rgb, radius, grid):
    """(ys, xs) at working size, their positions in the input's pixels and a (n, len(FEATURES)) array."""
    import cv2
    from colorcore import suggest as S
    H, W = rgb.shape[:2]
    scale, L, ab, r = S.working(rgb, radius)
    sens = S.rgb_sensitivity(L, ab) * 255.0
    e1 = np.maximum(r, 0) * sens
    ys, xs = S._candidates(L, ab, r > 0, min(grid, *L.shape))
    hold = S.holds(L, ab, ys, xs).reshape(len(ys), -1)
    chroma = np.hypot(ab[..., 0], ab[..., 1]).ravel()
    big = (r > np.median(r)).ravel().astype(np.float32)
    h, w = L.shape
    cy, cx = (ys + 0.5) / h - 0.5, (xs + 0.5) / w - 0.5
    ab_p = cv2.blur(ab, (5, 5))[ys, xs]   # each place's colour in Auto's result
    alike = S.alike(ab, ab_p)   # pixels Auto coloured like the place
    e2 = e1.ravel() ** 2
    feats = np.stack([hold @ e2, hold @ e1.ravel(), hold.sum(1), r[ys, xs],
                      hold @ chroma, (hold @ big) / np.maximum(hold.sum(1), 1e-9), -np.hypot(cy, cx),
                      alike @ e2, alike.sum(1), np.maximum(hold, alike) @ e2, np.hypot(*ab_p.T), L[ys, xs]], axis=1)
    Y = np.array([S.input_pixel(y, scale, H) for y in ys], int)
    X = np.array([S.input_pixel(x, scale, W) for x in xs], int)
    return Y, X, feats


def measure(path, gan, prior, grid):
    from bench.suggest import corner
    from colorcore import ColorizeRequest, run_backend
    from training.evaluation import gray_of, hint_scribbles, load_rgb, psnr
    rgb = load_rgb(path)
    gray = gray_of(rgb)
    auto = run_backend(gan, ColorizeRequest(image=gray, mode="auto"))
    Y, X, feats = place_features(auto.rgb, auto.uncertainty, grid)
    gains = []
    for y, x in zip(Y, X):
        res = run_backend(prior, ColorizeRequest(image=gray, mode="scribble",
                                                 scribbles=hint_scribbles(rgb, [corner(y, x, rgb.shape)])))
        gains.append(psnr(res.rgb, rgb))
    return {"auto": psnr(auto.rgb, rgb), "psnr": gains, "features": feats.tolist(), "y": Y.tolist(),
            "x": X.tolist()}


def refeatured(rows, grid):
    """The rows with their features computed anew by this module's place_features (Auto run again: it is
    deterministic), so features can be added without measuring the places' PSNR again."""
    from colorcore import ColorizeRequest, load_registry, run_backend
    from training.evaluation import gray_of, load_rgb
    gan = load_registry().get("gan")
    kept = []
    for i, r in enumerate(rows):
        auto = run_backend(gan, ColorizeRequest(image=gray_of(load_rgb(r["path"])), mode="auto"))
        Y, X, feats = place_features(auto.rgb, auto.uncertainty, grid)
        if Y.tolist() == r["y"] and X.tolist() == r["x"]:   # else Auto ran with another thread count (its last
            kept.append(dict(r, features=feats.tolist()))    # bits move the flattest pixels): not comparable
        print(f"\r{i + 1}/{len(rows)} photos refeatured", end="", file=sys.stderr, flush=True)
    print(f"\n{len(rows) - len(kept)} of {len(rows)} photos left out: their places moved (another thread count?)",
          file=sys.stderr)
    return kept


def standardised(F):
    F = np.asarray(F, np.float64)
    return (F - F.mean(0)) / np.maximum(F.std(0), 1e-12)


def report(rows):
    """Top-1 PSNR over the photo's mean place, per source, for each feature, a LOSO least-squares mix and the
    oracle."""
    from bench.common import macro_mean, mean_sem
    sources = sorted({r["source"] for r in rows})
    def top_gain(r, score):
        p = np.asarray(r["psnr"])
        return float(p[int(np.argmax(score))] - p.mean())
    methods = {}
    for j, name in enumerate(FEATURES):
        methods[name] = {r["path"]: top_gain(r, np.asarray(r["features"])[:, j]) for r in rows}
        methods["-" + name] = {r["path"]: top_gain(r, -np.asarray(r["features"])[:, j]) for r in rows}
    mix = {}
    for s in sources:   # fitted on the other sources: the PSNR above the photo's mean from its standardised features
        train = [r for r in rows if r["source"] != s]
        A = np.concatenate([standardised(r["features"]) for r in train])
        b = np.concatenate([np.asarray(r["psnr"]) - np.mean(r["psnr"]) for r in train])
        coef = np.linalg.lstsq(np.c_[A, np.ones(len(A))], b, rcond=None)[0][:-1]
        for r in rows:
            if r["source"] == s:
                mix[r["path"]] = top_gain(r, standardised(r["features"]) @ coef)
    methods["mix (LOSO)"] = mix
    methods["oracle"] = {r["path"]: float(np.max(r["psnr"]) - np.mean(r["psnr"])) for r in rows}
    print(f"{'ranking':<16}" + "".join(f"{s[:12]:>14}" for s in sources) + f"{'macro':>14}")
    out = {}
    for name, vals in methods.items():
        per = {s: [vals[r["path"]] for r in rows if r["source"] == s] for s in sources}
        stats = {s: mean_sem(v) for s, v in per.items()}
        mac = macro_mean(list(stats.values()))
        out[name] = {"per_source": stats, "macro": mac}
        print(f"{name:<16}" + "".join(f"{m:+8.2f}±{e:4.2f}" for m, e in (stats[s] for s in sources))
              + f"{mac[0]:+8.2f}±{mac[1]:4.2f}")
    coef_all = np.linalg.lstsq(np.c_[np.concatenate([standardised(r["features"]) for r in rows]),
                                     np.ones(sum(len(r["psnr"]) for r in rows))],
                               np.concatenate([np.asarray(r["psnr"]) - np.mean(r["psnr"]) for r in rows]),
                               rcond=None)[0][:-1]
    print("mix on every source:", dict(zip(FEATURES, np.round(coef_all, 3))))
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--per-source", type=int, default=8)
    p.add_argument("--grid", type=int, default=8)
    p.add_argument("--out", default="runs/unc30/places")
    p.add_argument("--report", action="store_true")
    p.add_argument("--refeature", action="store_true", help="with --report: compute the features anew")
    args = p.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    log = out / "places.jsonl"
    rows = [json.loads(l) for l in log.read_text().splitlines() if l.strip()] if log.exists() else []
    if not args.report:
        from colorcore import load_registry
        from training.gan import data
        from training.shared_data import shared_data
        reg = load_registry()
        gan, prior = reg.get("gan"), reg.get("prior")
        done = {r["path"] for r in rows}
        todo = [(s, f) for s, files in data.held_out_slices(shared_data(), "calib", args.per_source).items()
                for f in files if str(f) not in done]
        for i, (source, path) in enumerate(todo):
            row = dict(measure(path, gan, prior, args.grid), source=source, path=str(path))
            rows.append(row)
            with log.open("a") as f:
                f.write(json.dumps(row) + "\n")
            print(f"\r{i + 1}/{len(todo)} photos", end="", file=sys.stderr, flush=True)
        print(file=sys.stderr)
    if args.report and args.refeature:
        rows = refeatured(rows, args.grid)
    report(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
