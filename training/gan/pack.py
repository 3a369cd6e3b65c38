"""Pack training photos into a small folder that can travel to a GPU machine (at most 64 MiB goes there).

    python -m training.gan.pack --out runs/pack [--max-mib 20] [--size 176] [--group-weights ...]

Takes only the *training* split of every source (the held-out validation and calibration slices of
data.split_per_source, by the shipped models' scheme, never travel), leaves out what the audit drops (near-gray, single tint), and
draws photos per source in the proportions of --group-weights until the byte budget is spent. Each photo
is stored as it is cached for training (short side resized, centre square of --size px) in a JPEG of
quality 90, under <out>/<source>/, so the trainer reads the pack as an ordinary --data folder whose
sources keep their names. A pack.json beside records what was taken.
"""
from __future__ import annotations

import argparse
import io
import json
import sys
from pathlib import Path

import numpy as np

from training.shared_data import shared_data

from . import data

REPO = Path(__file__).resolve().parents[2]
DEFAULT_DATA = shared_data()


def parse_args(argv):
    p = argparse.ArgumentParser(prog="python -m training.gan.pack", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True, help="folder to write (must not exist or be empty)")
    p.add_argument("--data", action="append", default=None,
                   help=f"data roots (default: {', '.join(data.TRAIN_ROOTS)} under {DEFAULT_DATA})")
    p.add_argument("--max-mib", type=float, default=20.0,
                   help="byte budget of the whole pack (the working tree travels too: about 40 MiB of it is weights)")
    p.add_argument("--size", type=int, default=176, help="square size of each stored photo (px)")
    p.add_argument("--group-weights", default="", help="share of each source, as for the trainer")
    p.add_argument("--held-out-val", type=int, default=data.HELD_OUT_VAL,
                   help="photos per source held out for validation (as the trainer's --val-per-source)")
    p.add_argument("--held-out-calib", type=int, default=data.HELD_OUT_CALIB,
                   help="photos per source held out for calibration (as the trainer's --calib-per-source)")
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args(argv)


def encode_jpeg(rgb: np.ndarray, quality: int = 90) -> bytes:
    from PIL import Image
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def main(argv=None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    out = Path(args.out)
    if out.exists() and any(out.iterdir()):
        print(f"{out} is not empty; give a new folder (a pack is written once)", file=sys.stderr)
        return 2
    roots = args.data or [str(DEFAULT_DATA / r) for r in data.TRAIN_ROOTS]
    rels, where = data.list_sources(roots)
    # the shipped models' split (data.SHIPPED_SCHEME): a pack continues them, so it must hold none of the photos
    # their benchmarks and calibrations are measured on (data.held_out_split)
    train, _, _ = data.split_per_source(rels, args.held_out_calib, args.held_out_val, data.SHIPPED_SCHEME)
    if not train:
        print(f"no training photos under {', '.join(roots)}", file=sys.stderr)
        return 2
    try:
        shares = data.group_shares(train, data.parse_group_weights(args.group_weights))
    except ValueError as e:
        print(f"--group-weights: {e}", file=sys.stderr)
        return 2
    rng = np.random.default_rng(args.seed)
    shuffled = rng.permutation(train).tolist()
    queues = {g: [r for r in shuffled if data.group_of(r) == g] for g in shares}
    budget = args.max_mib * 2 ** 20
    taken = {g: 0 for g in shares}
    used, audited = 0, 0
    # round-robin by deficit: the next photo comes from the source furthest below its share
    while used < budget and any(queues.values()):
        total = max(1, sum(taken.values()))
        g = min((g for g in queues if queues[g]), key=lambda g: taken[g] / total - shares[g])
        rel = queues[g].pop()
        sq = data.load_square(data.resolve(where, rel), args.size)
        if data.colourless(*data.chroma_stats(sq[None])).item():
            audited += 1
            continue
        blob = encode_jpeg(sq)
        if used + len(blob) > budget:
            break
        inner = Path(rel.split("/", 1)[-1])   # sub-folders flattened into the name: no two photos collide
        dst = out / g / ("__".join(inner.with_suffix("").parts) + ".jpg")
        dst.parent.mkdir(parents=True, exist_ok=True)
        dst.write_bytes(blob)
        used += len(blob)
        taken[g] += 1
    record = dict(size=args.size, mib=round(used / 2 ** 20, 2), photos=taken, dropped_by_audit=audited,
                  shares={g: round(v, 4) for g, v in shares.items()}, roots=[str(r) for r in roots])
    (out / "pack.json").write_text(json.dumps(record, indent=1) + "\n")
    print(json.dumps(record))
    return 0


if __name__ == "__main__":
    sys.exit(main())
