"""Benchmark of automatic colorization (issue 4): every method on every validation source, side by side, one run.

    .venv/bin/python bench/auto.py                # full run (all sources, timings, old-photos grid)
    .venv/bin/python bench/auto.py --limit 10 --per-source-limit 5 --no-timing --no-grid   # quick look

Methods: predict-gray (ab = 0), `old gan` (--old-gan-weights; left out when it is the same file as
--gan-weights), `mse-baseline`, the MSE-trained network (--mse-weights: the soup's MSE ingredient, about 15% of
the shipped gan's weights are its own, so gan against it is no longer a like-for-like baseline comparison; the
report says so, from gan's JSON) and `gan`, the new model (--gan-weights). Each
network runs at its own backend option `size`: the "size" its weights' JSON records, else the backend's default;
--gan-size sets it for all.

Sources, each photo resized to 256x256 with only its lightness given to the methods:
  dev_eval   - every image under ../shared/data/dev_eval (CBSD68 + Set5), --limit caps it
  <source>   - the fixed held-out validation slice of every training source (top-level folder of
               training.gan.data.TRAIN_ROOTS, data.held_out_split: never trained on, disjoint from the
               calibration slice, and with no tile of a photograph nor copy of a photo that trains: so no
               photo_tiles224 tile at all, every one of its photographs has tiles in training); --per-source-limit
               caps each. A missing folder is skipped with a note.
               Every cap takes the first N in hash order (SHA-1 of the path; data.hash_order), never the
               alphabetically first (the first 10 pets by name are all cats).
               Settings are chosen on the calibration slice (training.gan.tune); weights up to gan v4 had
               their chroma gain and soup chosen on this slice, so their figures here lean optimistic.
  macro      - the mean of the sources' means, every source weighing the same (bench.common.macro_mean; its
               standard error from the sources' standard errors).
  overall    - all evaluated images of all sources pooled (a source with many photos, or a large gain such as
               faces', carries it: read it beside the macro mean).
Per source, macro and overall, for every method: PSNR on the whole uint8 RGB image (mean ± sem), PSNR vs
predict-gray (± the paired standard error over the photos),
and colourfulness (Hasler & Suesstrunk) as mean predicted over mean ground truth. For `gan`, if its weights have
a calibration: coverage and mean radius at alpha = 0.1 of the calibrated per-pixel radius vs a constant radius
calibrated the same way, Spearman(radius, error), and for a calibration weighted to the training mixture both
radii with the split-proportion lambdas too. On the overall set, the chroma of mse-baseline and gan is scaled by
SWEEP_GAINS and PSNR read off both sweeps at equal colourfulness (each other's, 0.7x and the 0.8x target).
CPU time of gan and mse-baseline through the engine pipeline (warm) at 1 MP and 12 MP. Prints a table with a
`source` column (PSNR, colourfulness) and one row per source of gan's uncertainty, writes <--out>/auto.json
(everything, per source and method) and <--out>/auto.png (per source: PSNR vs gray, colourfulness, coverage;
the overall gain sweep), and a grid of gan results on oldphotos_v1 to docs/gan/oldphotos_grid.jpg.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from bench.common import first_n, macro_mean, mean_sem  # noqa: E402
from training.evaluation import IMAGE_EXTENSIONS, list_images, load_rgb  # noqa: E402
from training.shared_data import ENV as DATA_ENV, shared_data  # noqa: E402

DATA = shared_data()
OUT = REPO / "bench" / "out"
GRID_PICKS = [  # old photos shown in docs/gan/oldphotos_grid.jpg: the first of each folder (faces, people)
    "DeOldify_test_images/*", "BOPBtL_old/*", "RNI6_real_gray/*", "GFPGAN_cropped_faces/*",
    "GFPGAN_whole_imgs/*", "BOPBtL_old_w_scratch/*"]
GRID_EXTRA = [  # ... plus outdoor scenes with sky, water and foliage
    "DeOldify_test_images/AnselAdamsYosemite.jpg", "DeOldify_test_images/1890CliffHouseSF.jpg",
    "DeOldify_test_images/1900sDaytonaBeach.jpg", "DeOldify_test_images/AnselAdamsChurch.jpg"]
# chroma gains swept for both networks: where each sits on the PSNR-colourfulness trade-off, so gan is
# compared with the MSE baseline at equal colourfulness, not only each at its own
SWEEP_GAINS = (0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.4, 1.5)
SWEPT = ("mse-baseline", "gan")
METHODS = ("predict-gray", "old gan", "mse-baseline", "gan")   # the order of the table's rows and the bars
COLOURS = {"predict-gray": "gray", "old gan": "tab:purple", "mse-baseline": "tab:brown", "gan": "tab:blue"}
TARGET_COLOURFULNESS = 0.8      # the target: colourfulness >= 0.8x the truth's at PSNR >= the MSE baseline's
EARLIER_TARGET = 0.7
OVERALL = "overall"
AGED_SEED = 29   # --aged: the prints' seed (training.aging.photo_rng), other than the calibration tools' own
MACRO = "macro"        # the mean of the sources' means: every source weighs the same (OVERALL pools the photos)
MSE_NAME = "mse-baseline"
# uncertainty rows of the table, beside `gan`'s own (radius = lambda x score): the constant radius calibrated the
# same way, and for a calibration weighted to the training mixture both radii with the split-proportion lambdas
CONSTANT = "constant-radius"
SPLIT_GAN, SPLIT_CONSTANT = "gan, split-proportion lambda", "constant, split-proportion lambda"
UNCERTAINTY_ROWS = {"gan": "gan", CONSTANT: "constant", SPLIT_GAN: "gan split-prop. lambda",   # row: column
                    SPLIT_CONSTANT: "constant split-prop. lambda"}


# ---- sources

def held_out_sources(limit=0):
    """The fixed validation slice of every training source, the one training and calibration never use."""
    from training.gan import data
    roots = [DATA / r for r in data.TRAIN_ROOTS]
    for r in roots:
        if not r.is_dir():
            print(f"note: training root {r} not found; its sources are skipped")
    return data.held_out_slices(DATA, "val", limit)


def eval_sources(args):
    """{source: files}: dev_eval first, then each training source's validation slice; each in hash order (the
    first N by the SHA-1 of the path, never the alphabetically first N)."""
    dev = first_n(list_images(DATA / "dev_eval"), args.limit, DATA / "dev_eval")
    if not dev:
        print(f"note: no images under {DATA / 'dev_eval'}; dev_eval is skipped")
    return dict({"dev_eval": dev} if dev else {}, **held_out_sources(args.per_source_limit))


# ---- methods

def weights_size(weights, override=None):
    """Backend option `size` for these weights: the override, else their own (infer.native_size)."""
    from backends.gan.infer import native_size
    return int(override) if override else native_size(weights)


def network_specs(args):
    """{method: (weights, samples)} of the networks compared; `old gan` left out when it is gan's file."""
    specs = {"old gan": (args.old_gan_weights, 1), "mse-baseline": (args.mse_weights, 1),
             "gan": (args.gan_weights, args.samples)}
    if Path(args.old_gan_weights).resolve() == Path(args.gan_weights).resolve():
        print(f"note: --old-gan-weights is the same file as --gan-weights ({args.gan_weights}); "
              f"the `old gan` column is skipped")
        del specs["old gan"]
    return specs


def load_networks(args):
    """{method: (backend, options)}; exits with the reason when weights are missing."""
    from backends.gan.plugin import GanBackend
    nets = {}
    for name, (weights, samples) in network_specs(args).items():
        backend = GanBackend(weights)
        if backend.unavailable_reason():
            sys.exit(f"{name}: {backend.unavailable_reason()}")
        nets[name] = (backend, {"size": weights_size(weights, args.gan_size), "samples": samples})
    return nets


def uncertainty_radii(cal, alpha):
    """{row: (lambda, per_pixel)}: the radii checked on gan's score, per pixel (lambda x score) or constant."""
    a = str(alpha)
    radii = {"gan": (float(cal.lam(alpha)), True)}
    if "constant_radius" in cal.extra:
        radii[CONSTANT] = (float(cal.extra["constant_radius"][a]), False)
    plain = cal.extra.get("split_proportions")
    if plain:
        radii[SPLIT_GAN] = (float(plain["lambdas"][a]), True)
        radii[SPLIT_CONSTANT] = (float(plain["constant_radius"][a]), False)
    return radii


def gan_radii(nets, alpha):
    """uncertainty_radii of gan's calibration, or None (with a note) when it has none."""
    cal = nets["gan"][0].calibration()
    if cal is None:
        print(f"note: gan ({nets['gan'][0].weights_path}) has no calibration.json beside it; the uncertainty "
              f"columns are skipped (python -m training.calibration.gan makes one)")
        return None
    return uncertainty_radii(cal, alpha)


def soup_share(meta, name="mse_baseline"):
    """The share of `name`'s weights in a weight soup, from the soup lists of a weights JSON: an entry naming it
    counts its share, an entry naming another soup list of the JSON ("v5_soup") counts its share times that
    list's share of `name`. 0 when the JSON records no soup."""
    def share(key, depth=0):
        total = 0.0
        for e in meta.get(key) or []:
            text = str(e.get("weights", ""))
            if name in text:
                total += float(e.get("share", 0))
            elif depth < 3:
                total += sum(float(e.get("share", 0)) * share(k, depth + 1)
                             for k in meta if k != key and k.endswith("soup") and k in text)
        return total
    return share("soup")


def mse_description(gan_weights):
    """What the MSE network is to the shipped gan: a line for the report (its weights are part of gan's soup,
    so the comparison is not gan against an independent baseline)."""
    meta_path = Path(gan_weights).with_suffix(".json")
    meta = json.loads(meta_path.read_text()) if meta_path.is_file() else {}
    share = soup_share(meta)
    if share <= 0:
        return 0.0, f"{MSE_NAME}: the MSE-trained network (same architecture, data and CPU time as gan)"
    return share, (f"{MSE_NAME} is the soup's MSE ingredient: about {100 * share:.0f}% of gan's weights are this "
                   f"network's ({meta_path.name}: soup/v5_soup), so gan against it is not a comparison with an "
                   f"independent baseline")


# ---- evaluation: one function per image, for every source

def gains_of(method):
    return SWEEP_GAINS if method in SWEPT else (1.0,)


def image_uncertainty(err, score, radii):
    """{row: (coverage, mean radius)} for each radius, and Spearman(score, error), on one image."""
    from scipy.stats import spearmanr
    out = {"spearman": float(spearmanr(score.ravel(), err.ravel())[0])}
    for row, (lam, per_pixel) in radii.items():
        radius = lam * score if per_pixel else np.full_like(err, lam)
        out[row] = (float(np.mean(err <= radius)), float(radius.mean()))
    return out


def evaluate_image(path, nets, radii, size, age_rng=None):
    """One image's record: ground-truth colourfulness, {method: {gain: (PSNR, colourfulness)}} and, with
    radii, gan's uncertainty (image_uncertainty). With age_rng the input is the photo's lightness aged like an old
    print (training.aging) and the truth its colours at that lightness (what a perfect colorizer of the print
    gives); predict-gray is then the aged print itself."""
    from colorcore import ColorizeRequest, color
    from colorcore.pipeline import backend_view
    from training.evaluation import as_old_print, colourfulness, psnr as psnr_uint8
    rgb = load_rgb(path, size)
    if age_rng is not None:   # the truth on the print's lightness: the networks see only that lightness
        rgb = as_old_print(rgb, age_rng)[1]
    lab = color.rgb_to_lab(rgb)
    L, ab_true = lab[..., 0], lab[..., 1:]
    # each network sees the lightness only, through the engine's view of it (a halftone screen blurred out)
    outs = {name: backend.run(backend_view(ColorizeRequest(image=rgb, seed=0, options=dict(options)))[0])
            for name, (backend, options) in nets.items()}
    preds = dict({"predict-gray": np.zeros_like(ab_true)}, **{name: o.ab for name, o in outs.items()})
    methods = {}
    for m in (m for m in METHODS if m in preds):
        pred = {g: color.with_lightness(L, preds[m] * g) for g in gains_of(m)}
        methods[m] = {g: (psnr_uint8(p, rgb), colourfulness(p)) for g, p in pred.items()}
    rec = {"gt_colour": colourfulness(rgb), "methods": methods}
    if radii:
        rec["uncertainty"] = image_uncertainty(np.linalg.norm(outs["gan"].ab - ab_true, axis=-1),
                                               outs["gan"].score, radii)
    return rec


def evaluate(sources, nets, radii, size, aged=False):
    """{source: [record per image]}; aged: every input aged like an old print, photo k of the run seeded
    photo_rng(AGED_SEED, k)."""
    from training.aging import photo_rng
    records = {}
    t0, k = time.time(), 0
    for source, files in sources.items():
        print(f"  {source}: {len(files)} images ({time.time() - t0:.0f}s)", flush=True)
        records[source] = []
        for f in files:
            records[source].append(evaluate_image(f, nets, radii, size, photo_rng(AGED_SEED, k) if aged else None))
            k += 1
    return records


# ---- results (pure: records in, numbers out)

def summarise(records):
    """Means over a set of image records: per method PSNR (mean ± sem) at gain 1, PSNR vs predict-gray,
    colourfulness ratio (mean predicted / mean ground-truth colourfulness), the gain sweep
    [(gain, PSNR, colourfulness ratio), ...] of swept methods; the uncertainty rows when the records have them."""
    gt = float(np.mean([r["gt_colour"] for r in records]))
    res = {}
    for m, by_gain in records[0]["methods"].items():
        psnr = np.array([[r["methods"][m][g][0] for r in records] for g in by_gain])
        colour = np.array([[r["methods"][m][g][1] for r in records] for g in by_gain]).mean(1) / gt
        one = list(by_gain).index(1.0)
        mean, sem = mean_sem(psnr[one])
        res[m] = dict(psnr=mean, psnr_sem=sem, colourfulness_ratio=float(colour[one]))
        if len(by_gain) > 1:
            res[m]["gain_sweep"] = [(float(g), float(p), float(c)) for g, p, c in zip(by_gain, psnr.mean(1), colour)]
    if "predict-gray" in res:
        gray = np.array([r["methods"]["predict-gray"][1.0][0] for r in records])
        for m in res:
            res[m]["psnr_vs_gray"] = res[m]["psnr"] - res["predict-gray"]["psnr"]
            # paired over the photos: each photo's own gain, so the photos' spread in PSNR cancels
            diff = np.array([r["methods"][m][1.0][0] for r in records]) - gray
            res[m]["psnr_vs_gray_sem"] = mean_sem(diff)[1]
    if "uncertainty" in records[0]:
        summarise_uncertainty([r["uncertainty"] for r in records], res)
    return res


def summarise_uncertainty(unc, res):
    """Adds coverage and mean radius of every radius row, and gan's mean Spearman, to res."""
    for row in (k for k in unc[0] if k != "spearman"):
        cov, rad = np.mean([u[row] for u in unc], axis=0)
        res.setdefault(row, {}).update(coverage=float(cov), mean_radius=float(rad))
    res["gan"]["spearman"] = float(np.nanmean([u["spearman"] for u in unc]))


def summarise_sources(records):
    """{source: summary} for every source, MACRO: the mean of the sources' summaries (every source weighs the
    same; bench.common.macro_mean), and OVERALL: all sources' images pooled (a source with many photos or a large
    gain, faces, carries it)."""
    out = {s: summarise(recs) for s, recs in records.items() if recs}
    per_source = list(out.values())
    out[MACRO] = summarise_macro(per_source)
    out[OVERALL] = summarise([r for recs in records.values() for r in recs])
    return out


def summarise_macro(per_source):
    """The macro mean of per-source summaries: PSNR and PSNR vs gray with their standard errors from the sources'
    (macro_mean), the other numbers (colourfulness ratio, coverage, radius, Spearman) as plain means of the
    sources'; no gain sweep (it stays pooled)."""
    out = {}
    for m in per_source[0]:
        rows = [s[m] for s in per_source]
        res = out[m] = {}
        for key in ("psnr", "psnr_vs_gray"):
            if key in rows[0]:
                res[key], res[key + "_sem"] = macro_mean([(r[key], r[key + "_sem"]) for r in rows])
        for key in ("colourfulness_ratio", "coverage", "mean_radius", "spearman"):
            if key in rows[0]:
                res[key] = float(np.mean([r[key] for r in rows]))
    return out


def psnr_at_colourfulness(curve, target):
    """PSNR where a gain sweep [(gain, psnr, colourfulness ratio), ...] reaches the colourfulness `target`,
    linear between sweep points; None outside the swept range."""
    curve = sorted(curve, key=lambda k: k[2])
    colour = [c for _, _, c in curve]
    if not colour[0] <= target <= colour[-1]:
        return None
    return float(np.interp(target, colour, [p for _, p, _ in curve]))


def equal_colourfulness(res):
    """[(label, colourfulness, {method: PSNR or None})]: each swept network's PSNR at gan's and the MSE
    baseline's own colourfulness and at the 0.7x and 0.8x targets."""
    targets = [("gan as shipped", res["gan"]["colourfulness_ratio"]),
               ("MSE as trained", res[MSE_NAME]["colourfulness_ratio"]),
               ("the earlier 0.7x target", EARLIER_TARGET), ("the 0.8x target", TARGET_COLOURFULNESS)]
    return [(label, c, {m: psnr_at_colourfulness(res[m]["gain_sweep"], c) for m in SWEPT}) for label, c in targets]


# ---- timing and old photos (gan and mse-baseline, at --gan-weights and --mse-weights)

def timing(args):
    from colorcore import ColorizeRequest, run_backend
    from backends.gan.plugin import GanBackend
    import cv2
    import torch
    src = load_rgb(list_images(DATA / "dev_eval")[0], size=None)
    out = {}
    for name, weights, samples in (("gan", args.gan_weights, args.samples), ("mse-baseline", args.mse_weights, 1)):
        backend = GanBackend(weights)
        options = {"size": weights_size(weights, args.gan_size), "samples": samples}
        for label, (h, w), reps in (("1MP", (1000, 1000), 3), ("12MP", (3000, 4000), 2)):
            img = cv2.resize(src, (w, h), interpolation=cv2.INTER_CUBIC).clip(0, 1)
            gray = np.repeat(img.mean(-1, keepdims=True), 3, -1).astype(np.float32)
            req = ColorizeRequest(image=gray, seed=0, options=dict(options))
            run_backend(backend, req)  # warm
            ts = []
            for _ in range(reps):
                t = time.perf_counter()
                r = run_backend(backend, req)
                ts.append(time.perf_counter() - t)
            out[f"{name}_{label}_s"] = float(np.median(ts))
            out[f"{name}_{label}_backend_s"] = float(r.info["seconds_backend"])
    out["torch_threads"] = torch.get_num_threads()
    out["loadavg_1min"] = os.getloadavg()[0]
    return out


def oldphotos_grid(args, path):
    """Input | gan result pairs for a fixed pick of old photos, as one small JPEG."""
    from PIL import Image
    from colorcore import ColorizeRequest, run_backend
    from backends.gan.plugin import GanBackend
    backend = GanBackend(args.gan_weights)
    options = {"size": weights_size(args.gan_weights, args.gan_size)}
    root = DATA / "oldphotos_v1"
    picks = []
    for pattern in GRID_PICKS:
        found = [p for p in sorted(root.glob(pattern)) if p.suffix.lower() in IMAGE_EXTENSIONS]
        picks += found[:args.grid_per_folder]
    picks += [root / p for p in GRID_EXTRA if (root / p).is_file()]
    cells = []
    cell_h = 170
    for p in picks:
        with Image.open(p) as im:
            im = im.convert("RGB")
            im.thumbnail((640, 640))
            rgb = np.asarray(im, np.float32) / 255.0
        r = run_backend(backend, ColorizeRequest(image=rgb, seed=0, options=dict(options)))
        pair = np.concatenate([rgb, np.ones((rgb.shape[0], 4, 3), np.float32), r.rgb], 1)
        im = Image.fromarray((pair * 255 + 0.5).astype(np.uint8))
        im = im.resize((max(1, round(im.width * cell_h / im.height)), cell_h), Image.LANCZOS)
        cells.append(im)
    # pack cells into rows of ~1400 px
    rows, row, width = [], [], 0
    for c in cells:
        if row and width + c.width > 1400:
            rows.append(row)
            row, width = [], 0
        row.append(c)
        width += c.width + 6
    if row:
        rows.append(row)
    W = max(sum(c.width + 6 for c in r) for r in rows)
    grid = Image.new("RGB", (W, len(rows) * (cell_h + 6)), (255, 255, 255))
    for y, r in enumerate(rows):
        x = 0
        for c in r:
            grid.paste(c, (x, y * (cell_h + 6)))
            x += c.width + 6
    path.parent.mkdir(parents=True, exist_ok=True)
    for q in (85, 75, 65, 55):
        grid.save(path, quality=q, optimize=True)
        if path.stat().st_size < 290_000:
            break
    full = OUT / "oldphotos_grid_full.png"
    full.parent.mkdir(parents=True, exist_ok=True)
    grid.save(full)
    return [str(p.relative_to(root)) for p in picks]


# ---- plot

def bars_per_source(ax, results, methods, key):
    """Grouped bars: one group per source, one bar per method, of results[source][method][key]."""
    sources = list(results)
    width = 0.8 / len(methods)
    for k, m in enumerate(methods):
        x = np.arange(len(sources)) + (k - (len(methods) - 1) / 2) * width
        ax.bar(x, [results[s][m][key] for s in sources], width, color=COLOURS[m], label=m)
    ax.set_xticks(np.arange(len(sources)), sources, rotation=30, ha="right", fontsize=8)


def plot_coverage(ax, results, alpha):
    if CONSTANT not in results[OVERALL] or "coverage" not in results[OVERALL].get("gan", {}):
        ax.text(0.5, 0.5, "gan has no calibration:\nno uncertainty", ha="center", va="center")
        ax.axis("off")
        return
    sources = list(results)
    lowest = 1.0
    for k, (row, c) in enumerate((("gan", "tab:blue"), (CONSTANT, "gray"))):
        cov = [results[s][row]["coverage"] for s in sources]
        lowest = min(lowest, *cov)
        ax.bar(np.arange(len(sources)) + (k - 0.5) * 0.4, cov, 0.4, color=c,
               label=f"{row} (overall mean radius {results[OVERALL][row]['mean_radius']:.1f})")
    ax.axhline(1 - alpha, ls="--", c="k", lw=1, label=f"1 - alpha = {1 - alpha:g}")
    ax.set_ylim(max(0.0, lowest - 0.05), 1.0)
    ax.set_xticks(np.arange(len(sources)), sources, rotation=30, ha="right", fontsize=8)
    ax.set_title(f"gan uncertainty: coverage at alpha={alpha} per source")
    ax.legend(fontsize=8)


def plot_sweep(ax, overall):
    for m in SWEPT:
        curve = overall[m]["gain_sweep"]
        ax.plot([k[2] for k in curve], [k[1] for k in curve], "o-", c=COLOURS[m], ms=3, label=f"{m} x gain")
    for m in (m for m in METHODS[1:] if m in overall):
        ax.plot(overall[m]["colourfulness_ratio"], overall[m]["psnr"], "*", c=COLOURS[m], ms=12,
                label=None if m in SWEPT else m)
    # the targets: colourfulness >= 0.8x and PSNR >= the MSE baseline as trained
    base = overall["mse-baseline"]["psnr"]
    ax.axvline(TARGET_COLOURFULNESS, ls="--", c="k", lw=1)
    ax.axhline(base, ls=":", c=COLOURS["mse-baseline"], lw=1)
    ax.fill_between([TARGET_COLOURFULNESS, ax.get_xlim()[1]], base, ax.get_ylim()[1],
                    color="tab:green", alpha=0.12, label="both targets")
    ax.set_ylabel("PSNR dB")
    ax.set_xlabel("colourfulness / ground truth")
    ax.set_title("overall: chroma gain sweep (star: as shipped)")
    ax.legend(fontsize=8)


def plot(results, alpha, path):
    from bench.common import pyplot
    plt = pyplot()
    methods = [m for m in METHODS[1:] if m in results[OVERALL]]
    fig, ax = plt.subplots(2, 2, figsize=(16, 9))
    bars_per_source(ax[0, 0], results, methods, "psnr_vs_gray")
    ax[0, 0].axhline(0, c="k", lw=0.8)
    ax[0, 0].set_title("PSNR vs predict-gray (dB, uint8 RGB, 256x256)")
    ax[0, 0].legend(fontsize=8)
    bars_per_source(ax[0, 1], results, methods, "colourfulness_ratio")
    ax[0, 1].axhline(TARGET_COLOURFULNESS, ls="--", c="k", lw=1, label=f"{TARGET_COLOURFULNESS}x target")
    ax[0, 1].set_title("colourfulness / ground truth")
    ax[0, 1].legend(fontsize=8)
    plot_coverage(ax[1, 0], results, alpha)
    plot_sweep(ax[1, 1], results[OVERALL])
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


# ---- printing

def source_label(s, counts):
    """A table's source cell: 'name (images)', the macro row as 'macro (K sources)', the pooled one as
    'overall, pooled (images)'."""
    if s == MACRO:
        return f"macro mean ({counts.get(MACRO, sum(k not in (MACRO, OVERALL) for k in counts))} sources)"
    if s == OVERALL:
        return f"overall, pooled ({counts[OVERALL]})"
    return f"{s} ({counts[s]})"


def quality_rows(results, counts):
    """[source (images), method, PSNR ± sem, vs gray ± paired sem, colourfulness ratio] per source and method."""
    return [[source_label(s, counts), m, f"{res[m]['psnr']:.2f} ± {res[m]['psnr_sem']:.2f}",
             f"{res[m]['psnr_vs_gray']:+.2f} ± {res[m].get('psnr_vs_gray_sem', 0.0):.2f}",
             f"{res[m]['colourfulness_ratio']:.2f}"]
            for s, res in results.items() for m in METHODS if m in res]


def uncertainty_table(results, counts):
    """(header, rows): per source, coverage / mean radius of each radius row present, and gan's Spearman."""
    present = [r for r in UNCERTAINTY_ROWS if "coverage" in results[OVERALL].get(r, {})]
    header = ["source (images)"] + [f"{UNCERTAINTY_ROWS[r]} coverage / radius" for r in present] + ["gan Spearman"]
    rows = [[source_label(s, counts)] + [f"{res[r]['coverage']:.3f} / {res[r]['mean_radius']:.1f}" for r in present]
            + [f"{res['gan']['spearman']:.2f}"] for s, res in results.items()]
    return header, rows


def print_markdown(header, rows):
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(row) + " |")


def print_sweep(overall):
    """PSNR of each network at the other's colourfulness and at the targets, read off the overall sweeps."""
    print(f"\noverall gain sweep (chroma x {SWEEP_GAINS[0]}..{SWEEP_GAINS[-1]}), PSNR at equal colourfulness:")
    for label, c, psnr in equal_colourfulness(overall):
        cells = [f"{m} {v:.2f} dB" if v is not None else f"{m} out of range" for m, v in psnr.items()]
        print(f"  at {c:.2f}x ({label}): " + ", ".join(cells))


def print_timing(tim):
    print("\n| method | CPU 1 MP s | CPU 12 MP s |\n|---|---|---|")
    for m in SWEPT:
        print(f"| {m} | {tim[m + '_1MP_s']:.2f} | {tim[m + '_12MP_s']:.2f} |")
    print(f"(through the engine pipeline, warm, median; torch threads {tim['torch_threads']}, "
          f"load average {tim['loadavg_1min']:.1f})")


def print_report(report, results):
    nets = ", ".join(f"{m} size {v['size']}" for m, v in report["networks"].items())
    counts = dict(report["n_images"], **{OVERALL: sum(report["n_images"].values()), MACRO: len(report["n_images"])})
    print(f"\n{counts[OVERALL]} images at {report['size']}x{report['size']}, {nets}, gan samples={report['samples']}; "
          f"inputs: {report.get('inputs', 'the photos')}")
    print(f"subsets: the first N of each source by the SHA-1 of the path; macro mean = every source weighs the same "
          f"(its ± from the sources' standard errors), overall = the photos pooled")
    if report.get("mse_baseline"):
        print(report["mse_baseline"])
    print_markdown(["source (images)", "method", "PSNR dB", "vs gray (paired ±)", "colourfulness / GT"],
                   quality_rows(results, counts))
    if "coverage" in results[OVERALL]["gan"]:
        print(f"\nuncertainty of gan at alpha={report['alpha']} (coverage / mean radius in Delta E_ab):")
        print_markdown(*uncertainty_table(results, counts))
    print_sweep(results[OVERALL])
    if report["timing"]:
        print_timing(report["timing"])


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    w, lab = REPO / "backends" / "gan" / "weights", REPO / "training" / "weights"
    p.add_argument("--gan-weights", default=str(w / "gan.pt"), help="the new model")
    p.add_argument("--old-gan-weights", default=str(lab / "unet_v2" / "gan.pt"),
                   help="the model it replaces (skipped when the same file as --gan-weights)")
    p.add_argument("--mse-weights", default=str(lab / "mse_baseline.pt"),
                   help="the MSE-trained network; the shipped gan is a weight soup with it as an ingredient")
    p.add_argument("--size", type=int, default=256, help="evaluation images are resized to size x size")
    p.add_argument("--gan-size", type=int, default=None,
                   help="backend option `size` for every network (default: each one's JSON 'size', "
                        "else the backend's default)")
    p.add_argument("--samples", type=int, default=8)
    p.add_argument("--alpha", type=float, default=0.1)
    p.add_argument("--limit", type=int, default=0, help="at most this many dev_eval images (0 = all)")
    p.add_argument("--per-source-limit", type=int, default=0,
                   help="at most this many images of each training source's validation slice (0 = all)")
    p.add_argument("--aged", action="store_true",
                   help="every input aged like an old print (training.aging), the truth its colours at the aged "
                        "lightness: how well each method colours old prints")
    p.add_argument("--no-timing", action="store_true")
    p.add_argument("--no-grid", action="store_true")
    p.add_argument("--grid-per-folder", type=int, default=2)
    p.add_argument("--grid-out", default=str(REPO / "docs" / "gan" / "oldphotos_grid.jpg"))
    p.add_argument("--out", default=str(OUT), help="folder of auto.json and auto.png")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    sources = eval_sources(args)
    if not sources:
        print(f"SKIP: no evaluation images under {DATA} (set {DATA_ENV})")
        return 0
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    nets = load_networks(args)
    radii = gan_radii(nets, args.alpha)
    results = summarise_sources(evaluate(sources, nets, radii, args.size, args.aged))
    tim = {} if args.no_timing else timing(args)
    picks = [] if args.no_grid else oldphotos_grid(args, Path(args.grid_out))
    report = dict(n_images={s: len(f) for s, f in sources.items() if f}, size=args.size, alpha=args.alpha,
                  inputs="aged like old prints (training.aging), the truth their colours at the aged lightness"
                  if args.aged else "the photos' own lightness",
                  samples=args.samples,
                  networks={m: dict(weights=str(b.weights_path), **o) for m, (b, o) in nets.items()},
                  results=results,
                  equal_colourfulness=[dict(label=lb, colourfulness=c, psnr=p)
                                       for lb, c, p in equal_colourfulness(results[OVERALL])],
                  timing=tim, grid=picks, seconds=round(time.time() - t0, 1),
                  subsets="first N per source by SHA-1 of the path (training.gan.data.hash_order); held-out slices "
                          "cleaned of tiles and copies of training photos (training.gan.data.held_out_split)")
    if MSE_NAME in nets:
        report["mse_share_of_gan"], report["mse_baseline"] = mse_description(args.gan_weights)
    (out / "auto.json").write_text(json.dumps(report, indent=1))
    plot(results, args.alpha, out / "auto.png")
    print_report(report, results)
    print(f"wrote {out / 'auto.json'}, {out / 'auto.png'}" + ("" if args.no_grid else f", {args.grid_out}"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
