"""Benchmark of Partial (issue 5): `partial-gan` against `gan` composited through the same mask, one run.

    .venv/bin/python bench/partial.py                 # full run: dev_eval, 3 mask families, timings
    .venv/bin/python bench/partial.py --limit 10 --no-timing   # quick look

On ../shared/data/dev_eval (the first --limit in hash order: SHA-1 of the path) resized to 256x256, the input is the photo's lightness (a gray photo) and
three mask families that training never used (training/gan/masks.py has the training ones):
  strokes  - hand-drawn-like strokes: smooth curves with pressure-varying width
  objects  - object regions: a flood fill of the photo's own colours from a random seed, closed
  ellipses - feathered ellipses (Gaussian edge, sigma 2-8 px)
Both backends run through the engine pipeline (mode partial), so the output is what the user gets.
Reported per family and backend:
  outside max diff - max |output - input| on 8-bit RGB where the mask is 0 (must be 0)
  inside PSNR      - uint8 RGB PSNR over mask > 0 against the reference: the true colours blended
                     through the mask exactly as the pipeline blends (chroma x mask at the input's L)
  band / interior  - mean chroma error (ΔE_ab vs that reference) in the 4-px band just inside the
                     mask boundary (mask >= 0.5) over the mean error deeper inside: a seam shows as > 1
  agreement        - mean ΔE_ab between partial-gan and gan (Auto) deeper than 16 px inside
  coverage, radius - calibrated uncertainty at alpha = 0.1, inside the mask
CPU time at 1 MP and 12 MP (engine warm, half the image selected). Writes bench/out/partial.json,
bench/out/partial.png (plot) and bench/out/partial_examples.png.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from bench.auto import DATA, DATA_ENV, OUT  # noqa: E402
from training.evaluation import list_images, load_rgb  # noqa: E402
from bench.common import first_n, out_dir, print_table, pyplot, save_json  # noqa: E402

FAMILIES = ("strokes", "objects", "ellipses")
BAND_PX = 4
AGREE_PX = 16


# ---- evaluation masks (families not used in training)

def hand_strokes(rng, rgb):
    """1-3 smooth curves (quadratic Bezier through random points) drawn with a pressure-varying brush."""
    h, w = rgb.shape[:2]
    m = np.zeros((h, w), np.uint8)
    for _ in range(rng.integers(1, 4)):
        p0, p1, p2 = (rng.random((3, 2)) * (w, h))
        base = rng.uniform(0.04, 0.12) * min(h, w)
        for t in np.linspace(0, 1, 120):
            q = (1 - t) ** 2 * p0 + 2 * (1 - t) * t * p1 + t ** 2 * p2
            r = base * (0.6 + 0.4 * np.sin(np.pi * t))   # thinner at both ends, like a pen stroke
            cv2.circle(m, (int(q[0]), int(q[1])), max(1, int(r)), 1, -1, cv2.LINE_AA)
    return m.astype(np.float32)


def object_region(rng, rgb):
    """A magic-wand selection: flood fill of colours within a fixed range of a random seed pixel, the
    range widened until the region covers 5-60% of the photo, then closed."""
    h, w = rgb.shape[:2]
    img = cv2.GaussianBlur(cv2.cvtColor((rgb * 255 + 0.5).astype(np.uint8), cv2.COLOR_RGB2LAB), (5, 5), 0)
    for _ in range(40):
        seed = (int(rng.integers(w)), int(rng.integers(h)))
        for tol in range(8, 64, 4):
            ff = np.zeros((h + 2, w + 2), np.uint8)
            cv2.floodFill(img, ff, seed, 0, (tol,) * 3, (tol,) * 3,
                          4 | cv2.FLOODFILL_MASK_ONLY | cv2.FLOODFILL_FIXED_RANGE | (1 << 8))
            area = ff.mean()
            if area > 0.6:
                break
            if area >= 0.05:
                return cv2.morphologyEx(ff[1:-1, 1:-1], cv2.MORPH_CLOSE, np.ones((7, 7), np.uint8)).astype(np.float32)
    raise RuntimeError("no object-like region found")   # never seen on dev_eval; fail loudly, not silently


def feathered_ellipse(rng, rgb):
    h, w = rgb.shape[:2]
    m = np.zeros((h, w), np.float32)
    c = (int(rng.uniform(0.25, 0.75) * w), int(rng.uniform(0.25, 0.75) * h))
    axes = (int(rng.uniform(0.12, 0.4) * w), int(rng.uniform(0.12, 0.4) * h))
    cv2.ellipse(m, c, axes, float(rng.uniform(0, 180)), 0, 360, 1.0, -1, cv2.LINE_AA)
    return np.clip(cv2.GaussianBlur(m, (0, 0), rng.uniform(2, 8)), 0, 1)


MAKERS = {"strokes": hand_strokes, "objects": object_region, "ellipses": feathered_ellipse}


# ---- measures

def bands(mask):
    """(band, interior, deep): inside pixels (mask >= 0.5) within BAND_PX of the boundary, beyond it,
    and beyond AGREE_PX."""
    inside = (mask >= 0.5).astype(np.uint8)
    dist = cv2.distanceTransform(np.pad(inside, 1, constant_values=0), cv2.DIST_L2, 5)[1:-1, 1:-1]
    return (inside > 0) & (dist <= BAND_PX), dist > BAND_PX, dist > AGREE_PX


def photos(args):
    """[(source, path)]: dev_eval, plus --held-out photos of each training source's held-out validation slice."""
    from bench.auto import held_out_sources
    files = [("dev_eval", p) for p in first_n(list_images(DATA / "dev_eval"), args.limit, DATA / "dev_eval")]
    if not files:
        sys.exit(f"no images under {DATA / 'dev_eval'}; set {DATA_ENV} to the shared data folder")
    if args.held_out:
        files += [(src, p) for src, paths in held_out_sources(args.held_out).items() for p in paths]
    return files


def evaluate(args, backends):
    from colorcore import ColorizeRequest, color, run_backend
    from training.evaluation import to_uint8
    files = photos(args)
    stats = {}
    agree = {f: [] for f in FAMILIES}
    examples = []
    t0 = time.time()
    for i, (source, path) in enumerate(files):
        gt = load_rgb(path, args.size)
        lab = color.rgb_to_lab(gt)
        L, ab_true = lab[..., 0], lab[..., 1:]
        gray = color.with_lightness(L, np.zeros_like(ab_true))
        gray8 = to_uint8(gray)
        for fam in FAMILIES:
            rng = np.random.default_rng([args.seed, i, FAMILIES.index(fam)])
            mask = MAKERS[fam](rng, gt)
            ref = color.with_lightness(L, ab_true * mask[..., None])   # the true colours blended as the pipeline blends
            ref8 = to_uint8(ref)
            ref_ab = color.rgb_to_lab(ref8.astype(np.float32) / 255)[..., 1:]
            band, inner, deep = bands(mask)
            out_ab, out_rgb8 = {}, {}
            for name, backend in backends.items():
                res = run_backend(backend, ColorizeRequest(image=gray, mode="partial", mask=mask, seed=0,
                                                           options={"size": args.gan_size, "samples": args.samples}))
                out8 = out_rgb8[name] = to_uint8(res.rgb)
                ab = out_ab[name] = color.rgb_to_lab(out8.astype(np.float32) / 255)[..., 1:]
                record = photo_record(out8, gray8, ref8, np.linalg.norm(ab - ref_ab, axis=-1), mask, band, inner,
                                      res)
                keys = (("overall", fam, name), (source, fam, name)) if args.held_out else (("overall", fam, name),)
                for key in keys:   # one photo's numbers, counted in the pooled cell and in its source's
                    add_photo(stats.setdefault(key, empty_stats()), record)
            if i < 6 and fam == FAMILIES[i % 3]:   # example rows: input with the selection outlined, outputs, truth
                examples.append([outlined(gray, mask)] + [out_rgb8[n] for n in backends] + [to_uint8(gt)])
            if "gan" in out_ab and "partial-gan" in out_ab and deep.any():
                agree[fam].append(float(np.linalg.norm(out_ab["gan"] - out_ab["partial-gan"], axis=-1)[deep].mean()))
        if i % 10 == 0:
            print(f"  {i}/{len(files)} images ({time.time() - t0:.0f}s)", flush=True)
    res, per_source = {}, {}
    for (source, fam, name), s in stats.items():
        (res if source == "overall" else per_source.setdefault(source, {})).setdefault(fam, {})[name] = summary(s)
    for fam in FAMILIES:
        if agree[fam]:
            res[fam]["agreement_deltaE"] = float(np.mean(agree[fam]))
    return res, per_source, len(files), examples


def empty_stats():
    return dict(outside=0, sq=[], n=[], band=[], inner=[], cov=[], rad=[])


def photo_record(out8, gray8, ref8, err, mask, band, inner, res):
    """One photo's numbers for one family and backend: err is its chroma error (Delta E_ab) against the reference."""
    sel = mask > 0
    d = (out8.astype(np.float64) - ref8)[sel]
    record = dict(outside=int(np.abs(out8.astype(int) - gray8)[~sel].max(initial=0)), sq=float((d ** 2).sum()),
                  n=d.size, band=err[band], inner=err[inner])
    if res.uncertainty is not None:
        record.update(cov=float(np.mean(err[mask >= 0.5] <= res.uncertainty[mask >= 0.5])),
                      rad=float(res.uncertainty[mask >= 0.5].mean()))
    return record


def add_photo(s, record):
    """Count one photo_record in a (source, family, backend) cell."""
    s["outside"] = max(s["outside"], record["outside"])
    for key in ("sq", "n", "band", "inner", "cov", "rad"):
        if key in record:
            s[key].append(record[key])


def summary(s):
    mse = sum(s["sq"]) / max(sum(s["n"]), 1)
    band_e = float(np.concatenate(s["band"]).mean())
    inner_e = float(np.concatenate(s["inner"]).mean())
    return dict(outside_max_diff=s["outside"], inside_psnr=float(10 * np.log10(255.0 ** 2 / max(mse, 1e-12))),
                band_error=band_e, interior_error=inner_e, band_ratio=band_e / inner_e,
                coverage=float(np.mean(s["cov"])) if s["cov"] else None,
                mean_radius=float(np.mean(s["rad"])) if s["rad"] else None)


def timing(args, backends):
    from colorcore import ColorizeRequest, run_backend
    import torch
    out = {}
    for name, backend in backends.items():
        for label, (h, w) in (("1MP", (1000, 1000)), ("12MP", (3000, 4000))):
            img = np.repeat(np.linspace(0, 1, w, dtype=np.float32)[None, :, None], h, 0).repeat(3, 2)
            img = np.ascontiguousarray(img + 0.05 * np.sin(np.arange(h, dtype=np.float32) / 17)[:, None, None]).clip(0, 1)
            mask = np.zeros((h, w), np.float32)
            mask[:, : w // 2] = 1
            req = ColorizeRequest(image=img, mode="partial", mask=mask, seed=0,
                                  options={"size": args.gan_size, "samples": args.samples})
            run_backend(backend, req)   # warm
            ts = []
            for _ in range(2):
                t = time.perf_counter()
                run_backend(backend, req)
                ts.append(time.perf_counter() - t)
            out[f"{name}_{label}_s"] = float(min(ts))
    out["torch_threads"] = torch.get_num_threads()
    return out


def plot(res, path):
    plt = pyplot()
    fig, ax = plt.subplots(1, 2, figsize=(10, 3.6))
    x = np.arange(len(FAMILIES))
    for k, (name, c) in enumerate((("gan", "tab:gray"), ("partial-gan", "tab:blue"))):
        ax[0].bar(x + (k - 0.5) * 0.38, [res[f][name]["inside_psnr"] for f in FAMILIES], 0.38, label=name, color=c)
        ax[1].bar(x + (k - 0.5) * 0.38, [res[f][name]["band_ratio"] for f in FAMILIES], 0.38, label=name, color=c)
    lo = min(res[f][n]["inside_psnr"] for f in FAMILIES for n in ("gan", "partial-gan"))
    ax[0].set_ylim(lo - 2, lo + 4)
    ax[0].set_title("inside-mask PSNR (dB)")
    ax[1].axhline(1.1, ls="--", c="k", lw=1)
    ax[1].set_title(f"seam: error in {BAND_PX}-px band / interior")
    for a in ax:
        a.set_xticks(x, FAMILIES)
        a.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def outlined(gray, mask):
    """uint8 gray input with the selection boundary (mask = 0.5) drawn in red."""
    from training.evaluation import to_uint8
    out = to_uint8(gray)
    edge = cv2.morphologyEx((mask >= 0.5).astype(np.uint8), cv2.MORPH_GRADIENT, np.ones((2, 2), np.uint8)) > 0
    out[edge] = (255, 40, 40)
    return out


def save_examples(examples, path):
    """One row per example: input + selection | gan composited | partial-gan | ground truth."""
    from PIL import Image
    Image.fromarray(np.concatenate([np.concatenate(r, 1) for r in examples], 0)).save(path)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--limit", type=int, default=0)
    p.add_argument("--size", type=int, default=256)
    p.add_argument("--gan-size", type=int, default=0,
                   help="prediction size of both backends (0: each one's own, recorded with its weights)")
    p.add_argument("--samples", type=int, default=8)
    p.add_argument("--seed", type=int, default=5)
    p.add_argument("--gan-weights", default=None)
    p.add_argument("--partial-weights", default=None)
    p.add_argument("--no-timing", action="store_true")
    p.add_argument("--tag", default="partial", help="output file stem under bench/out/")
    p.add_argument("--held-out", type=int, default=0,
                   help="also this many photos of each training source's held-out validation slice (as bench/auto.py "
                        "uses), reported per source and pooled (default: dev_eval only)")
    args = p.parse_args(argv)
    from backends.gan.plugin import GanBackend
    from backends.partial_gan.plugin import PartialGanBackend
    backends = {"gan": GanBackend(args.gan_weights), "partial-gan": PartialGanBackend(args.partial_weights)}
    for b in backends.values():
        if b.unavailable_reason():
            sys.exit(f"{b.name}: {b.unavailable_reason()}")
    res, per_source, n, examples = evaluate(args, backends)
    out_dir(OUT)
    rows = []
    for fam in FAMILIES:
        for name in backends:
            r = res[fam][name]
            rows.append([fam, name, r["outside_max_diff"], f"{r['inside_psnr']:.2f}", f"{r['band_error']:.2f}",
                         f"{r['interior_error']:.2f}", f"{r['band_ratio']:.3f}",
                         f"{r['coverage']:.3f}" if r["coverage"] is not None else "",
                         f"{r['mean_radius']:.1f}" if r["mean_radius"] is not None else "",
                         f"{res[fam].get('agreement_deltaE', float('nan')):.2f}" if name == "partial-gan" else ""])
    what = "dev_eval" + (f" + {args.held_out} held-out photos of each training source" if args.held_out else "")
    print(f"\n{what}: {n} images at {args.size}x{args.size}, backend size {args.gan_size}, seed {args.seed}")
    print_table(["masks", "backend", "outside max diff", "inside PSNR", "band ΔE", "interior ΔE", "band/interior",
                 "coverage@0.1", "radius", "ΔE to gan (deep)"], rows)
    if per_source:
        macro = {f: {name: float(np.mean([r[f][name]["inside_psnr"] for r in per_source.values()]))
                     for name in backends} for f in FAMILIES}
        print("\ninside PSNR per source (" + " / ".join(FAMILIES) + "); macro: the mean of the sources', each "
              "weighing the same; overall: every photo pooled")
        print_table(["source"] + list(backends),
                    [[src] + [" / ".join(f"{r[f][name]['inside_psnr']:.2f}" for f in FAMILIES) for name in backends]
                     for src, r in per_source.items()]
                    + [[f"macro ({len(per_source)} sources)"]
                       + [" / ".join(f"{macro[f][name]:.2f}" for f in FAMILIES) for name in backends]]
                    + [["overall (pooled)"]
                       + [" / ".join(f"{res[f][name]['inside_psnr']:.2f}" for f in FAMILIES) for name in backends]])
        per_source = dict(per_source, macro={f: {n: {"inside_psnr": v} for n, v in d.items()}
                                             for f, d in macro.items()})
    result = dict(results=res, per_source=per_source, images=n, size=args.size, gan_size=args.gan_size,
                  samples=args.samples, seed=args.seed)
    if not args.no_timing:
        result["timing"] = timing(args, backends)
        print_table(["timing", "seconds"], [[k, f"{v:.3f}"] for k, v in result["timing"].items()])
    save_json(OUT / f"{args.tag}.json", result)
    plot(res, OUT / f"{args.tag}.png")
    save_examples(examples, OUT / f"{args.tag}_examples.png")
    print(f"wrote {OUT / (args.tag + '.json')}, {args.tag}.png, {args.tag}_examples.png")


if __name__ == "__main__":
    main()
