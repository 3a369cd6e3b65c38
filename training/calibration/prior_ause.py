"""Does the result's own chroma rank the `prior`'s errors better? AUSE of score variants on the calibration slices.

    python -m training.calibration.prior_ause [--per-source 8] [--points 10,100] [--out runs/unc30/prior_ause]

For each calibration photo (training.gan.data.held_out_slices 'calib': never trained on, never benchmarked on; at
256x256 as the benchmarks), clean and aged like an old print (training.aging), the default Scribble backend with the
hint protocol's strokes: per pixel sample the chroma error, the raw score (radius over the run's lambda) and the
result's chroma |ab|. Then the AUSE (bench/uncertainty.py's) of score + w |ab| for each weight w, per source and as a
macro mean: the weight the `gan` score has (backends/gan/infer.chroma_weighted) tried for the prior's.
Photos' samples go to OUT/samples.npz, so --report re-reads them.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

WEIGHTS = (0.0, 0.05, 0.1, 0.2, 0.3, 0.5)
SAMPLE = 3000


def collect(per_source, points, seed=7):
    from colorcore import ColorizeRequest, color, load_registry, run_backend
    from training.aging import age
    from training.evaluation import chroma_error, gray_of, hint_positions, hint_scribbles, load_rgb
    from training.gan import data
    from training.shared_data import shared_data
    prior = load_registry().get("prior")
    cal = prior.calibration()
    rows = []
    slices = data.held_out_slices(shared_data(), "calib", per_source)
    todo = [(s, f) for s, files in slices.items() for f in files]
    for i, (source, path) in enumerate(todo):
        rgb = load_rgb(path)
        for aged in (False, True):
            for k in points:
                rng = np.random.default_rng(seed + i)
                gray = gray_of(rgb)
                if aged:
                    gray, _ = age(gray, np.random.default_rng(seed + i + 1))
                scr = hint_scribbles(rgb, hint_positions(rgb.shape[:2], k, rng))
                res = run_backend(prior, ColorizeRequest(image=gray, mode="scribble", scribbles=scr))
                lam = cal.lam(0.1, res.info.get("calibration_group"))
                err = chroma_error(res.rgb, rgb).ravel()
                score = (res.uncertainty / lam).ravel()
                chroma = np.linalg.norm(color.rgb_to_lab(res.rgb)[..., 1:], axis=-1).ravel()
                pick = rng.choice(err.size, min(SAMPLE, err.size), replace=False)
                rows.append((source, aged, k, err[pick], score[pick], chroma[pick]))
        print(f"\r{i + 1}/{len(todo)} photos", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    return rows


def report(rows):
    from bench.common import macro_mean, mean_sem
    from bench.uncertainty import ause
    sources = sorted({r[0] for r in rows})
    for aged in (False, True):
        for k in sorted({r[2] for r in rows}):
            sel = [r for r in rows if r[1] == aged and r[2] == k]
            line = []
            for w in WEIGHTS:
                per = {s: mean_sem([ause(r[3], r[4] + w * r[5])[0] for r in sel if r[0] == s]) for s in sources}
                line.append(f"w {w:g}: {macro_mean(list(per.values()))[0]:.4f}")
            print(f"{'aged' if aged else 'clean'} @{k} pts  " + "  ".join(line))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--per-source", type=int, default=8)
    p.add_argument("--points", default="10,100")
    p.add_argument("--out", default="runs/unc30/prior_ause")
    p.add_argument("--report", action="store_true")
    args = p.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "samples.npz"
    if args.report:
        z = np.load(path, allow_pickle=False)
        rows = [(str(s), bool(a), int(k), e, sc, c) for s, a, k, e, sc, c in
                zip(z["source"], z["aged"], z["points"], z["err"], z["score"], z["chroma"])]
    else:
        rows = collect(args.per_source, [int(k) for k in args.points.split(",")])
        np.savez_compressed(path, source=[r[0] for r in rows], aged=[r[1] for r in rows], points=[r[2] for r in rows],
                            err=np.stack([r[3] for r in rows]), score=np.stack([r[4] for r in rows]),
                            chroma=np.stack([r[5] for r in rows]))
    report(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
