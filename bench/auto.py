"""Benchmark of automatic colorization (issue 4), side by side in one run:
predict-gray (ab = 0), the MSE encoder-decoder baseline and the `gan` backend.

    .venv/bin/python bench/auto.py                # full run (dev_eval, timings, old-photos grid)
    .venv/bin/python bench/auto.py --limit 10 --no-timing --no-grid   # quick look

On ../shared/data/dev_eval (CBSD68 + Set5) resized to 256x256: PSNR on the whole uint8 RGB image,
colourfulness (Hasler & Suesstrunk) as a ratio to the ground truth's, and for the uncertainty:
coverage and mean radius at alpha = 0.1 of the calibrated per-pixel radius vs a constant radius
calibrated the same way on the same held-out calibration split, plus Spearman(radius, error); for a
calibration weighted to the training mixture, also both radii with the split-proportion lambdas.
CPU time through the engine pipeline (warm) at 1 MP and 12 MP. Prints a table, writes
bench/out/auto.json and bench/out/auto.png, and a grid of results on oldphotos_v1 to
docs/gan/oldphotos_grid.jpg.
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
DATA = Path(os.environ.get("COLORIZE_DATA", REPO.parent / "shared" / "data"))
OUT = REPO / "bench" / "out"
EXTS = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff"}
GRID_PICKS = [  # old photos shown in docs/gan/oldphotos_grid.jpg: the first of each folder (faces, people)
    "DeOldify_test_images/*", "BOPBtL_old/*", "RNI6_real_gray/*", "GFPGAN_cropped_faces/*",
    "GFPGAN_whole_imgs/*", "BOPBtL_old_w_scratch/*"]
GRID_EXTRA = [  # ... plus outdoor scenes with sky, water and foliage
    "DeOldify_test_images/AnselAdamsYosemite.jpg", "DeOldify_test_images/1890CliffHouseSF.jpg",
    "DeOldify_test_images/1900sDaytonaBeach.jpg", "DeOldify_test_images/AnselAdamsChurch.jpg"]
# chroma gains swept for both networks: where each sits on the PSNR-colourfulness trade-off, so gan is
# compared with the MSE baseline at equal colourfulness, not only each at its own
SWEEP_GAINS = (0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.4, 1.5)


def load_rgb(path, size=None):
    from PIL import Image
    with Image.open(path) as im:
        im = im.convert("RGB")
        if size:
            im = im.resize((size, size), Image.BICUBIC)
        return np.asarray(im, dtype=np.float32) / 255.0


def list_images(folder):
    return sorted(p for p in Path(folder).rglob("*") if p.suffix.lower() in EXTS)


def psnr_at_colourfulness(curve, target):
    """PSNR where a gain sweep [(gain, psnr, colourfulness ratio), ...] reaches the colourfulness `target`,
    linear between sweep points; None outside the swept range."""
    colour = [c for _, _, c in curve]
    if not colour[0] <= target <= colour[-1]:
        return None
    return float(np.interp(target, colour, [p for _, p, _ in curve]))


def evaluate(args):
    from scipy.stats import spearmanr
    from colorcore import ColorizeRequest, color
    from colorcore.evaluation import colourfulness, psnr as psnr_uint8
    from backends.gan.plugin import GanBackend

    files = list_images(DATA / "dev_eval")[:args.limit or None]
    if not files:
        sys.exit(f"no images under {DATA / 'dev_eval'}; set COLORIZE_DATA to the shared data folder")
    gan = GanBackend(args.gan_weights)
    mse = GanBackend(args.mse_weights)
    for b in (gan, mse):
        if b.unavailable_reason():
            sys.exit(b.unavailable_reason())
    cal = gan.calibration()
    if cal is None:
        sys.exit("gan has no calibration.json; run python -m backends.gan.calibrate first")
    const_lam = float(cal.extra["constant_radius"][str(args.alpha)])
    lam = cal.lam(args.alpha)
    # a calibration weighted to the training mixture also stores the split-proportion lambdas: compared too
    plain = cal.extra.get("split_proportions")
    plain_lams = (float(plain["lambdas"][str(args.alpha)]), float(plain["constant_radius"][str(args.alpha)])) \
        if plain else None
    # per-image PSNR and colourfulness at each chroma gain; predict-gray has only gain 1, and the table's rows
    # are the gain-1 entries
    sweep = {m: {g: dict(psnr=[], colour=[]) for g in (SWEEP_GAINS if m != "predict-gray" else (1.0,))}
             for m in ("predict-gray", "mse-baseline", "gan")}
    rows = {m: by_gain[1.0] for m, by_gain in sweep.items()}
    gt_colour, unc = [], dict(cov=[], rad=[], cov_c=[], spearman=[], cov_p=[], rad_p=[], cov_pc=[])
    t0 = time.time()
    for i, f in enumerate(files):
        rgb = load_rgb(f, args.size)
        lab = color.rgb_to_lab(rgb)
        L, ab_true = lab[..., 0], lab[..., 1:]
        gt_colour.append(colourfulness(rgb))
        preds = {"predict-gray": np.zeros_like(ab_true)}
        req = dict(image=rgb, seed=0)  # the backends see only the lightness of the input
        preds["mse-baseline"] = mse.run(ColorizeRequest(options={"size": args.gan_size, "samples": 1}, **req)).ab
        out = gan.run(ColorizeRequest(options={"size": args.gan_size, "samples": args.samples}, **req))
        preds["gan"] = out.ab
        for m, by_gain in sweep.items():
            for g, r in by_gain.items():
                pred_rgb = color.with_lightness(L, preds[m] * g)
                r["psnr"].append(psnr_uint8(pred_rgb, rgb))
                r["colour"].append(colourfulness(pred_rgb))
        err = np.linalg.norm(out.ab - ab_true, axis=-1)
        radius = lam * out.score
        unc["cov"].append(float(np.mean(err <= radius)))
        unc["rad"].append(float(radius.mean()))
        unc["cov_c"].append(float(np.mean(err <= const_lam)))
        if plain_lams:
            unc["cov_p"].append(float(np.mean(err <= plain_lams[0] * out.score)))
            unc["rad_p"].append(float((plain_lams[0] * out.score).mean()))
            unc["cov_pc"].append(float(np.mean(err <= plain_lams[1])))
        unc["spearman"].append(float(spearmanr(out.score.ravel(), err.ravel())[0]))
        if i % 20 == 0:
            print(f"  {i}/{len(files)} images ({time.time() - t0:.0f}s)", flush=True)
    res = {}
    for m, r in rows.items():
        res[m] = dict(psnr=float(np.mean(r["psnr"])), psnr_sem=float(np.std(r["psnr"]) / np.sqrt(len(files))),
                      colourfulness_ratio=float(np.mean(r["colour"]) / np.mean(gt_colour)))
    res["gan"].update(coverage=float(np.mean(unc["cov"])), mean_radius=float(np.mean(unc["rad"])),
                      spearman=float(np.nanmean(unc["spearman"])))
    res["constant-radius"] = dict(coverage=float(np.mean(unc["cov_c"])), mean_radius=const_lam)
    if plain_lams:
        res["gan, split-proportion lambda"] = dict(coverage=float(np.mean(unc["cov_p"])),
                                                   mean_radius=float(np.mean(unc["rad_p"])))
        res["constant, split-proportion lambda"] = dict(coverage=float(np.mean(unc["cov_pc"])),
                                                        mean_radius=plain_lams[1])
    res["gain sweep"] = {m: [(g, float(np.mean(r["psnr"])), float(np.mean(r["colour"]) / np.mean(gt_colour)))
                             for g, r in sweep[m].items()] for m in ("mse-baseline", "gan")}
    return res, len(files)


def timing(args):
    from colorcore import ColorizeRequest, run_backend
    from backends.gan.plugin import GanBackend
    import torch
    src = load_rgb(list_images(DATA / "dev_eval")[0])
    out = {}
    for name, weights, samples in (("gan", args.gan_weights, args.samples), ("mse-baseline", args.mse_weights, 1)):
        backend = GanBackend(weights)
        for label, (h, w), reps in (("1MP", (1000, 1000), 3), ("12MP", (3000, 4000), 2)):
            import cv2
            img = cv2.resize(src, (w, h), interpolation=cv2.INTER_CUBIC).clip(0, 1)
            gray = np.repeat(img.mean(-1, keepdims=True), 3, -1).astype(np.float32)
            req = ColorizeRequest(image=gray, seed=0, options={"size": args.gan_size, "samples": samples})
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
    root = DATA / "oldphotos_v1"
    picks = []
    for pattern in GRID_PICKS:
        found = [p for p in sorted(root.glob(pattern)) if p.suffix.lower() in EXTS]
        picks += found[:args.grid_per_folder]
    picks += [root / p for p in GRID_EXTRA if (root / p).is_file()]
    cells = []
    cell_h = 170
    for p in picks:
        with Image.open(p) as im:
            im = im.convert("RGB")
            im.thumbnail((640, 640))
            rgb = np.asarray(im, np.float32) / 255.0
        r = run_backend(backend, ColorizeRequest(image=rgb, seed=0))
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


def plot(res, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    methods = ["predict-gray", "mse-baseline", "gan"]
    fig, ax = plt.subplots(1, 4, figsize=(16, 3.6))
    ax[0].bar(methods, [res[m]["psnr"] for m in methods], color=["gray", "tab:brown", "tab:blue"])
    ax[0].set_ylim(min(res[m]["psnr"] for m in methods) - 1.5, max(res[m]["psnr"] for m in methods) + 0.8)
    ax[0].set_title("PSNR (dB, uint8 RGB, 256x256)")
    ax[1].bar(methods, [res[m]["colourfulness_ratio"] for m in methods], color=["gray", "tab:brown", "tab:blue"])
    ax[1].axhline(0.7, ls="--", c="k", lw=1)
    ax[1].set_title("colourfulness / ground truth")
    names = ["gan radius", "constant radius"]
    cov = [res["gan"]["coverage"], res["constant-radius"]["coverage"]]
    rad = [res["gan"]["mean_radius"], res["constant-radius"]["mean_radius"]]
    ax[2].bar(names, rad, color=["tab:blue", "gray"])
    for k, (c, r) in enumerate(zip(cov, rad)):
        ax[2].text(k, r, f"coverage {c:.3f}", ha="center", va="bottom")
    ax[2].set_ylim(0, max(rad) * 1.2)
    ax[2].set_title("mean radius at alpha=0.1 (Delta E_ab)")
    for m, c in (("mse-baseline", "tab:brown"), ("gan", "tab:blue")):
        curve = res["gain sweep"][m]
        ax[3].plot([k[2] for k in curve], [k[1] for k in curve], "o-", c=c, ms=3, label=f"{m} x gain")
        ax[3].plot(res[m]["colourfulness_ratio"], res[m]["psnr"], "*", c=c, ms=12)
    # issue 4's targets: colourfulness >= 0.7x and PSNR >= the MSE baseline as trained
    ax[3].axvline(0.7, ls="--", c="k", lw=1)
    ax[3].axhline(res["mse-baseline"]["psnr"], ls=":", c="tab:brown", lw=1)
    ax[3].fill_between([0.7, ax[3].get_xlim()[1]], res["mse-baseline"]["psnr"], ax[3].get_ylim()[1],
                       color="tab:green", alpha=0.12, label="both targets")
    ax[3].set_ylabel("PSNR dB")
    ax[3].set_xlabel("colourfulness / ground truth")
    ax[3].set_title("chroma gain sweep (star: as shipped)")
    ax[3].legend(fontsize=8)
    for a in ax[:3]:
        a.tick_params(axis="x", labelsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def print_sweep(res):
    """PSNR of each network at the other's colourfulness and at 0.7x, read off the gain sweeps."""
    curves = res["gain sweep"]
    targets = [("gan as shipped", res["gan"]["colourfulness_ratio"]),
               ("MSE as trained", res["mse-baseline"]["colourfulness_ratio"]), ("the 0.7x target", 0.7)]
    print(f"gain sweep (chroma x {SWEEP_GAINS[0]}..{SWEEP_GAINS[-1]}), PSNR at equal colourfulness:")
    for label, c in targets:
        cells = []
        for m in ("mse-baseline", "gan"):
            v = psnr_at_colourfulness(curves[m], c)
            cells.append(f"{m} {v:.2f} dB" if v is not None else f"{m} out of range")
        print(f"  at {c:.2f}x ({label}): " + ", ".join(cells))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    w = REPO / "backends" / "gan" / "weights"
    p.add_argument("--gan-weights", default=str(w / "gan.pt"))
    p.add_argument("--mse-weights", default=str(w / "mse_baseline.pt"))
    p.add_argument("--size", type=int, default=256, help="evaluation images are resized to size x size")
    p.add_argument("--gan-size", type=int, default=None, help="backend option `size` (default: the backend's)")
    p.add_argument("--samples", type=int, default=8)
    p.add_argument("--alpha", type=float, default=0.1)
    p.add_argument("--limit", type=int, default=0)
    p.add_argument("--no-timing", action="store_true")
    p.add_argument("--no-grid", action="store_true")
    p.add_argument("--grid-per-folder", type=int, default=2)
    p.add_argument("--grid-out", default=str(REPO / "docs" / "gan" / "oldphotos_grid.jpg"))
    args = p.parse_args(argv)
    if args.gan_size is None:
        from backends.gan.plugin import DEFAULT_SIZE
        args.gan_size = DEFAULT_SIZE
    if not (DATA / "dev_eval").is_dir():
        print(f"SKIP: {DATA / 'dev_eval'} not found (set COLORIZE_DATA)")
        return 0
    OUT.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    res, n = evaluate(args)
    tim = {} if args.no_timing else timing(args)
    picks = [] if args.no_grid else oldphotos_grid(args, Path(args.grid_out))
    report = dict(n_images=n, size=args.size, backend_size=args.gan_size, alpha=args.alpha, samples=args.samples,
                  results=res, timing=tim,
                  grid=picks, gan_weights=args.gan_weights, mse_weights=args.mse_weights,
                  seconds=round(time.time() - t0, 1))
    (OUT / "auto.json").write_text(json.dumps(report, indent=1))
    plot(res, OUT / "auto.png")
    g = res["predict-gray"]["psnr"]
    print(f"\ndev_eval: {n} images at {args.size}x{args.size}, alpha={args.alpha}, backend size={args.gan_size}, "
          f"gan samples={args.samples}")
    print("| method | PSNR dB | vs gray | colourfulness / GT | coverage @0.1 | mean radius | Spearman | "
          "CPU 1 MP s | CPU 12 MP s |")
    print("|---|---|---|---|---|---|---|---|---|")
    for m in res:
        if m == "gain sweep":
            continue
        r = res[m]
        cells = [m,
                 f"{r['psnr']:.2f} ± {r['psnr_sem']:.2f}" if "psnr" in r else "",
                 f"{r['psnr'] - g:+.2f}" if "psnr" in r else "",
                 f"{r['colourfulness_ratio']:.2f}" if "colourfulness_ratio" in r else "",
                 f"{r['coverage']:.3f}" if "coverage" in r else "",
                 f"{r['mean_radius']:.1f}" if "mean_radius" in r else "",
                 f"{r['spearman']:.2f}" if "spearman" in r else "",
                 f"{tim[m + '_1MP_s']:.2f}" if m + "_1MP_s" in tim else "",
                 f"{tim[m + '_12MP_s']:.2f}" if m + "_12MP_s" in tim else ""]
        print("| " + " | ".join(cells) + " |")
    print_sweep(res)
    if tim:
        print(f"(timings through the engine pipeline, warm, median; torch threads {tim['torch_threads']}, "
              f"load average {tim['loadavg_1min']:.1f} on a 2-core CPU)")
    print(f"wrote {OUT / 'auto.json'}, {OUT / 'auto.png'}" + ("" if args.no_grid else f", {args.grid_out}"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
