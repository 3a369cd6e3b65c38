"""Uncertainty benchmark: is the radius honest on photos it never saw, does it point at the errors, is it sharper
than one constant radius, and do the per-channel RGB intervals hold? Every backend, one run.

    python bench/uncertainty.py [--per-source-limit 10] [--limit 20] [--backends gan,variational,prior]

Photos: dev_eval and the fixed held-out (validation) slice of every training source (bench/auto.py's sources),
at 256x256. Each backend runs as a user runs it: `gan` in Auto; `partial-gan` (and `gan`'s compositing) in
Partial with an ellipse selection, scored inside it; `variational` and `prior` in Scribble with 10 and with 100
hint points (the hint protocol of bench/hints.py). Per backend and source, at alpha = 0.1:
  coverage    share of pixels whose true chroma lies within the radius (promised: 0.9), the mean over photos
              ± its standard error: photos differ, so 20 photos a source pin a source's coverage only to 0.01-0.06
  radius      mean radius (Delta E)
  spearman    rank correlation of the chroma error and the radius, per photo, averaged
  efficiency  (the constant radius that gives the same pooled coverage on these very photos) / (mean radius):
              above 1 means the radius puts its width where the errors are
  R, G, B     share of true channel values inside the RGB interval (promised: 0.9), and the mean width
and a reliability plot: pooled coverage against alpha for every calibrated level.
Writes bench/out/uncertainty/uncertainty.json and uncertainty.png.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.common import mean_sem, out_dir, print_table, pyplot, save_json  # noqa: E402

ALPHA = 0.1
SAMPLE = 3000          # pixels per photo kept for the pooled statistics
OVERALL = "overall"


def runs_for(backend):
    """(label, mode, hint points) for each way the backend is measured."""
    if backend.needs_scribbles:
        return [(f"{backend.name} @10 pts", "scribble", 10), (f"{backend.name} @100 pts", "scribble", 100)]
    if backend.takes_mask:
        return [(backend.name, "partial", 0)]
    return [(backend.name, "auto", 0)]


def ellipse_mask(shape):
    import cv2
    m = np.zeros(shape, np.float32)
    cv2.ellipse(m, (shape[1] // 2, shape[0] // 2), (shape[1] // 3, shape[0] // 3), 0, 0, 360, 1.0, -1)
    return m


def spearman(a, b):
    ra, rb = np.argsort(np.argsort(a)), np.argsort(np.argsort(b))
    c = np.corrcoef(ra, rb)[0, 1]
    return float(c) if np.isfinite(c) else 0.0


def measure(backend, mode, points, rgb, seed):
    """One photo: pixel samples of (error, radius, raw score) inside the scored area and interval coverage."""
    from colorcore import ColorizeRequest, run_backend
    from training.evaluation import chroma_error, gray_of, hint_positions, hint_scribbles
    gray = gray_of(rgb)
    rng = np.random.default_rng(seed)
    kw = {}
    if mode == "scribble":
        kw["scribbles"] = hint_scribbles(rgb, hint_positions(rgb.shape[:2], points, rng))
    if mode == "partial":
        kw["mask"] = ellipse_mask(rgb.shape[:2])
    with_intervals = bool((backend.calibration().extra or {}).get("intervals"))
    res = run_backend(backend, ColorizeRequest(image=gray, mode=mode, alpha=ALPHA, intervals=with_intervals, **kw))
    err = chroma_error(res.rgb, rgb)
    inside = kw["mask"] > 0.5 if "mask" in kw else np.ones(err.shape, bool)
    e, r = err[inside], res.uncertainty[inside]
    pick = rng.choice(e.size, min(SAMPLE, e.size), replace=False)
    rec = {"err": e[pick], "radius": r[pick], "coverage": float(np.mean(e <= r)), "mean_radius": float(r.mean()),
           "spearman": spearman(e[pick], r[pick]), "group": res.info.get("calibration_group")}
    if res.intervals is not None:
        lo, hi = res.intervals
        within = (rgb >= lo - 1 / 510) & (rgb <= hi + 1 / 510)   # the truth is 8-bit
        rec["interval_coverage"] = within[inside].mean(axis=0).tolist()
        rec["interval_width"] = (hi - lo)[inside].mean(axis=0).tolist()
    return rec


def summarise(records, cal):
    err = np.concatenate([r["err"] for r in records])
    rad = np.concatenate([r["radius"] for r in records])
    pooled = float(np.mean(err <= rad))
    const = float(np.quantile(err, pooled))
    coverage, coverage_sem = mean_sem([r["coverage"] for r in records])
    out = {"photos": len(records), "coverage": coverage, "coverage_sem": coverage_sem,
           "mean_radius": float(np.mean([r["mean_radius"] for r in records])),
           "spearman": float(np.mean([r["spearman"] for r in records])),
           "efficiency": const / max(float(rad.mean()), 1e-9)}
    if all("interval_coverage" in r for r in records):
        out["interval_coverage"] = np.mean([r["interval_coverage"] for r in records], axis=0).tolist()
        out["interval_width"] = np.mean([r["interval_width"] for r in records], axis=0).tolist()
    if cal is not None:   # reliability: the raw score is radius / lambda(0.1); each level's radius is lambda * score
        out["reliability"] = {}
        for a in sorted(cal.lambdas):
            cov = [np.mean(r["err"] <= r["radius"] / cal.lam(ALPHA, r["group"]) * cal.lam(a, r["group"]))
                   for r in records if _has(cal, a, r["group"]) and _has(cal, ALPHA, r["group"])]
            if cov:
                out["reliability"][str(a)] = float(np.mean(cov))
    return out


def _has(cal, alpha, group):
    try:
        cal.check_alpha(alpha, group)
        return True
    except Exception:
        return False


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="gan,partial-gan,variational,prior")
    parser.add_argument("--limit", type=int, default=20, help="dev_eval photos (0 = all)")
    parser.add_argument("--per-source-limit", type=int, default=10, help="photos per held-out slice (0 = all)")
    parser.add_argument("--out", default="bench/out/uncertainty")
    args = parser.parse_args(argv)
    from bench.auto import eval_sources, load_rgb
    from colorcore import load_registry
    sources = {k: v for k, v in eval_sources(args).items() if v}
    if not sources:
        sys.exit("no photos found (the shared data folder is needed for this benchmark)")
    registry = load_registry()
    runs = []
    for name in (n.strip() for n in args.backends.split(",") if n.strip()):
        b = registry.get(name)
        if b.unavailable_reason() or b.calibration() is None:
            print(f"note: {name} skipped: {b.unavailable_reason() or 'no calibration'}", file=sys.stderr)
            continue
        runs += [(label, b, mode, pts) for label, mode, pts in runs_for(b)]
    results, total = {}, sum(len(v) for v in sources.values())
    for label, b, mode, pts in runs:
        per_source = {}
        for k, (source, paths) in enumerate(sources.items()):
            per_source[source] = [measure(b, mode, pts, load_rgb(p, 256), seed=1009 * i + 7 * k)
                                  for i, p in enumerate(paths)]
            print(f"\r{label}: {source} done", end="", file=sys.stderr, flush=True)
        print(file=sys.stderr)
        cal = b.calibration()
        results[label] = {s: summarise(recs, cal) for s, recs in per_source.items()}
        results[label][OVERALL] = summarise([r for recs in per_source.values() for r in recs], cal)
    header = ["backend", "source", "photos", "coverage", "radius", "spearman", "efficiency", "R in", "G in", "B in",
              "width R/G/B"]
    rows = []
    for label, by_source in results.items():
        for source, s in by_source.items():
            ic, iw = s.get("interval_coverage"), s.get("interval_width")
            rows.append([label, source, s["photos"], f"{s['coverage']:.3f} ±{s['coverage_sem']:.3f}",
                         f"{s['mean_radius']:.1f}",
                         f"{s['spearman']:.2f}", f"{s['efficiency']:.2f}"]
                        + ([f"{v:.3f}" for v in ic] if ic else ["-"] * 3)
                        + ["/".join(f"{255 * v:.0f}" for v in iw) if iw else "-"])
    print(f"\nUncertainty at alpha = {ALPHA} on dev_eval and the held-out slices ({total} photos at 256x256; "
          "width in 8-bit levels)")
    print_table(header, rows)
    out = out_dir(args.out)
    save_json(out / "uncertainty.json", {"alpha": ALPHA, "sources": {k: len(v) for k, v in sources.items()},
                                         "results": results})
    plot(results, out / "uncertainty.png")
    print(f"wrote {out / 'uncertainty.json'} and {out / 'uncertainty.png'}")
    return 0


def plot(results, path):
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    for label, by_source in results.items():
        rel = by_source[OVERALL].get("reliability") or {}
        if rel:
            alphas = sorted(float(a) for a in rel)
            ax.plot(alphas, [rel[str(a)] for a in alphas], marker="o", label=label)
    xs = np.linspace(0.02, 0.3, 10)
    ax.plot(xs, 1 - xs, "k--", lw=1, label="promised (1 - alpha)")
    ax.set_xlabel("alpha")
    ax.set_ylabel("coverage on held-out photos")
    ax.set_title("Reliability: coverage against alpha")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    sys.exit(main())
