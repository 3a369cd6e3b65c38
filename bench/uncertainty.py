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
  by size     coverage within each quartile of the radius (size-stratified, as im2im-uq reports it), pooled,
              ± its standard error with the photos as the units; on the macro line the mean over sources of each
              source's own quartiles
  AUSE        area under the sparsification error curve at 10 points (pixels removed largest radius first, the
              mean error of the rest over the photo's mean error, minus the same curve removing the largest
              errors first): 0 = the oracle's order; beside it the same for a random order (what a radius that
              knows nothing scores); per photo, mean ± standard error
  flagged     share of photos the "unlike the calibration photos" check flags
and a reliability plot: pooled coverage against alpha for every calibrated level. --aged measures every photo
again aged like an old print (training/aging.py, seeded per photo); --vividness 0.7,1,1.3 measures `gan` at those
chroma gains. Per source, and the macro mean over sources (bench.common.macro_mean) beside the pooled one.
Writes bench/out/uncertainty/uncertainty.json and uncertainty.png.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.common import macro_mean, mean_sem, out_dir, print_table, pyplot, save_json  # noqa: E402

ALPHA = 0.1
SAMPLE = 3000          # pixels per photo kept for the pooled statistics
OVERALL = "overall"
MACRO = "macro"
SPARSIFICATION = np.linspace(0.0, 0.9, 10)   # AUSE's 10 points: the share of pixels removed


def sparsification_curve(err, order):
    """Mean error of the pixels left after removing each share of SPARSIFICATION in `order` (first removed
    first), over the mean error of all of them."""
    e = np.asarray(err, np.float64)[order]
    tail = np.cumsum(e[::-1])[::-1] / np.arange(len(e), 0, -1)   # mean of e[i:]
    return np.array([tail[int(f * len(e))] for f in SPARSIFICATION]) / max(float(e.mean()), 1e-9)


def ause(err, radius):
    """(AUSE of the radius, AUSE of a random order): the mean gap to the oracle's curve over SPARSIFICATION."""
    oracle = sparsification_curve(err, np.argsort(-err, kind="stable"))
    by_radius = sparsification_curve(err, np.argsort(-radius, kind="stable"))
    return float(np.mean(by_radius - oracle)), float(np.mean(1.0 - oracle))


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


def measure(backend, mode, points, rgb, seed, options=None, aged=False):
    """One photo: pixel samples of (error, radius, raw score) inside the scored area and interval coverage.
    aged: the gray input aged like an old print first (training.aging, seeded by the photo's seed)."""
    from colorcore import ColorizeRequest, run_backend
    from colorcore.calibration import coverage
    from training.evaluation import chroma_error, colours_at, gray_of, hint_positions, hint_scribbles
    gray = gray_of(rgb)
    if aged:
        from training.aging import age
        gray, _ = age(gray, np.random.default_rng(seed + 1))
    rng = np.random.default_rng(seed)
    kw = {}
    if mode == "scribble":
        kw["scribbles"] = hint_scribbles(rgb, hint_positions(rgb.shape[:2], points, rng))
    if mode == "partial":
        kw["mask"] = ellipse_mask(rgb.shape[:2])
    with_intervals = bool((backend.calibration().extra or {}).get("intervals"))
    res = run_backend(backend, ColorizeRequest(image=gray, mode=mode, alpha=ALPHA, intervals=with_intervals,
                                               options=options or {}, **kw))
    err = chroma_error(res.rgb, rgb)
    inside = kw["mask"] > 0.5 if "mask" in kw else np.ones(err.shape, bool)
    e, r = err[inside], res.uncertainty[inside]
    pick = rng.choice(e.size, min(SAMPLE, e.size), replace=False)
    rec = {"err": e[pick], "radius": r[pick], "coverage": coverage(r, e), "mean_radius": float(r.mean()),
           "spearman": spearman(e[pick], r[pick]), "group": res.info.get("calibration_group"),
           "ause": ause(e, r), "flagged": bool(res.info.get("unlike_calibration"))}
    if res.intervals is not None:
        lo, hi = res.intervals
        # the intervals bound the true colour at the input's lightness: an aged photo's own, not the original's
        truth = rgb if not aged else colours_at(rgb, gray)
        within = (truth >= lo - 1 / 510) & (truth <= hi + 1 / 510)   # the truth is 8-bit
        rec["interval_coverage"] = within[inside].mean(axis=0).tolist()
        rec["interval_width"] = (hi - lo)[inside].mean(axis=0).tolist()
    return rec


def summarise(records, cal):
    err = np.concatenate([r["err"] for r in records])
    rad = np.concatenate([r["radius"] for r in records])
    pooled = float(np.mean(err <= rad))
    const = float(np.quantile(err, pooled))
    coverage, coverage_sem = mean_sem([r["coverage"] for r in records])
    edges = np.quantile(rad, [0.25, 0.5, 0.75])
    quartile = np.searchsorted(edges, rad, side="right")
    photo = np.repeat(np.arange(len(records)), [len(r["err"]) for r in records])
    out = {"photos": len(records), "coverage": coverage, "coverage_sem": coverage_sem,
           "mean_radius": float(np.mean([r["mean_radius"] for r in records])),
           "spearman": float(np.mean([r["spearman"] for r in records])),
           "efficiency": const / max(float(rad.mean()), 1e-9),
           "by_size": [float(np.mean(err[quartile == q] <= rad[quartile == q])) if np.any(quartile == q) else None
                       for q in range(4)],
           "by_size_sem": [quartile_sem(err[quartile == q] <= rad[quartile == q], photo[quartile == q], len(records))
                           for q in range(4)],
           "ause": mean_sem([r["ause"][0] for r in records]),
           "ause_random": mean_sem([r["ause"][1] for r in records]),
           "flagged": float(np.mean([r["flagged"] for r in records]))}
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


def quartile_sem(covered, photo, n_photos):
    """Standard error of a pooled share (the pixels of one radius quartile, drawn from many photos) with the photos
    as the independent units: the ratio estimator's sqrt(n/(n-1) * sum_i (c_i - p m_i)^2) / sum_i m_i, c_i the
    photo's covered pixels in the quartile and m_i all its pixels there (photos without any count as 0, 0)."""
    if n_photos < 2 or not len(covered):
        return 0.0
    m = np.bincount(photo, minlength=n_photos).astype(float)
    c = np.bincount(photo, weights=np.asarray(covered, float), minlength=n_photos)
    p = c.sum() / m.sum()
    return float(np.sqrt(n_photos / (n_photos - 1) * np.sum((c - p * m) ** 2)) / m.sum())


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
    parser.add_argument("--aged", action="store_true", help="also measure every photo aged like an old print")
    parser.add_argument("--vividness", default="", help="comma-separated `gan` vividness values to measure too")
    parser.add_argument("--flag-rates", action="store_true",
                        help="only measure how often the 'unlike the calibration photos' check flags `gan`'s runs: "
                             "clean photos, each ageing transform alone, a print's worth of them, and pure noise")
    parser.add_argument("--out", default="bench/out/uncertainty")
    args = parser.parse_args(argv)
    from bench.auto import eval_sources
    from training.evaluation import load_rgb
    from colorcore import load_registry
    sources = {k: v for k, v in eval_sources(args).items() if v}
    if not sources:
        sys.exit("no photos found (the shared data folder is needed for this benchmark)")
    registry = load_registry()
    if args.flag_rates:
        return flag_rates(registry.get("gan"), sources, out_dir(args.out))
    runs = []
    for name in (n.strip() for n in args.backends.split(",") if n.strip()):
        b = registry.get(name)
        if b.unavailable_reason() or b.calibration() is None:
            print(f"note: {name} skipped: {b.unavailable_reason() or 'no calibration'}", file=sys.stderr)
            continue
        runs += [(label, b, mode, pts, None) for label, mode, pts in runs_for(b)]
        if name == "gan":
            runs += [(f"gan vividness {v:g}", b, "auto", 0, {"vividness": v})
                     for v in (float(x) for x in args.vividness.split(",") if x.strip()) if v != 1.0]
    runs = [(label + (" [aged]" if aged else ""), b, mode, pts, opts, aged)
            for label, b, mode, pts, opts in runs for aged in ((False, True) if args.aged else (False,))]
    results, total = {}, sum(len(v) for v in sources.values())
    for label, b, mode, pts, opts, aged in runs:
        per_source = {}
        for k, (source, paths) in enumerate(sources.items()):
            per_source[source] = [measure(b, mode, pts, load_rgb(p, 256), seed=1009 * i + 7 * k, options=opts,
                                          aged=aged)
                                  for i, p in enumerate(paths)]
            print(f"\r{label}: {source} done", end="", file=sys.stderr, flush=True)
        print(file=sys.stderr)
        cal = b.calibration()
        results[label] = {s: summarise(recs, cal) for s, recs in per_source.items()}
        results[label][OVERALL] = summarise([r for recs in per_source.values() for r in recs], cal)
        results[label][MACRO] = {k: macro_mean([(s[k], s[k + "_sem"]) if k == "coverage" else s[k]
                                                for src, s in results[label].items() if src in per_source])
                                 for k in ("coverage", "ause", "ause_random")}
        # by size, each source's own quartiles: the mean over sources ± its standard error
        results[label][MACRO]["by_size"] = [macro_mean([(s["by_size"][q], s["by_size_sem"][q])
                                                        for src, s in results[label].items()
                                                        if src in per_source and s["by_size"][q] is not None])
                                            for q in range(4)]
    header = ["backend", "source", "photos", "coverage", "radius", "spearman", "efficiency", "R in", "G in", "B in",
              "width R/G/B", "by radius quartile", "AUSE (random)", "flagged"]
    rows = []
    for label, by_source in results.items():
        for source, s in by_source.items():
            if source == MACRO:
                rows.append([label, source, "", "%.3f ±%.3f" % s["coverage"]] + [""] * 7
                            + ["/".join("%.2f±%.2f" % tuple(v) for v in s["by_size"]),
                               "%.3f ±%.3f (%.3f)" % (*s["ause"], s["ause_random"][0]), ""])
                continue
            ic, iw = s.get("interval_coverage"), s.get("interval_width")
            rows.append([label, source, s["photos"], f"{s['coverage']:.3f} ±{s['coverage_sem']:.3f}",
                         f"{s['mean_radius']:.1f}",
                         f"{s['spearman']:.2f}", f"{s['efficiency']:.2f}"]
                        + ([f"{v:.3f}" for v in ic] if ic else ["-"] * 3)
                        + ["/".join(f"{255 * v:.0f}" for v in iw) if iw else "-"]
                        + ["/".join("-" if v is None else f"{v:.2f}±{e:.2f}"
                                    for v, e in zip(s["by_size"], s["by_size_sem"])),
                           "%.3f ±%.3f (%.3f)" % (*s["ause"], s["ause_random"][0]), f"{s['flagged']:.2f}"])
    print(f"\nUncertainty at alpha = {ALPHA} on dev_eval and the held-out slices ({total} photos at 256x256; "
          "width in 8-bit levels)")
    print_table(header, rows)
    out = out_dir(args.out)
    save_json(out / "uncertainty.json", {"alpha": ALPHA, "sources": {k: len(v) for k, v in sources.items()},
                                         "results": results})
    plot(results, out / "uncertainty.png")
    print(f"wrote {out / 'uncertainty.json'} and {out / 'uncertainty.png'}")
    return 0


def flag_rates(backend, sources, out):
    """The novelty check measured: per condition, the share of photos flagged and the mean distance to the
    calibration photos over the flagging limit (1 = flagged), ± its standard error."""
    from colorcore import ColorizeRequest, run_backend
    from training.aging import AGEING, age
    from training.evaluation import gray_of, load_rgb
    conditions = ["clean"] + list(AGEING) + ["aged (a print's worth)", "pure noise"]
    seen = {c: [] for c in conditions}
    for k, paths in enumerate(sources.values()):
        for i, path in enumerate(paths):
            gray = gray_of(load_rgb(path, 256))
            for c in conditions:
                rng = np.random.default_rng(1009 * i + 7 * k + 1)
                if c == "pure noise":
                    img = np.repeat(rng.random(gray.shape[:2], np.float32)[..., None], 3, axis=2)
                elif c == "clean":
                    img = gray
                else:
                    img, _ = age(gray, rng, only=None if c.startswith("aged") else c)
                info = run_backend(backend, ColorizeRequest(image=img, mode="auto")).info
                seen[c].append((bool(info.get("unlike_calibration")),
                                info["calibration_distance"] / info["calibration_distance_limit"]))
    rows = [[c, len(v), f"{np.mean([f for f, _ in v]):.2f}", "%.2f ±%.2f" % mean_sem([d for _, d in v])]
            for c, v in seen.items()]
    print(f"\n'Unlike the calibration photos' ({backend.name}): share flagged and distance / limit")
    print_table(["input", "photos", "flagged", "distance / limit"], rows)
    save_json(out / "flag_rates.json", {c: {"flagged": float(np.mean([f for f, _ in v])),
                                           "distance_over_limit": mean_sem([d for _, d in v])}
                                       for c, v in seen.items()})
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
