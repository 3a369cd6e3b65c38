"""The trainer's data: the deterministic split (or fixed held-out slices per source), the uint8 caches,
the audit, the sampling probabilities of the training mix, and the validation batch."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from . import data
from .labtorch import uint8_batch_to_lab


class SetupError(Exception):
    """The data cannot be used as asked; the message says why and what to change."""


@dataclass
class TrainData:
    cache: np.ndarray          # (N, S, S, 3) uint8 training photos (memory-mapped)
    sample_p: np.ndarray | None   # per-photo sampling probability (None: uniform)
    lab_val: torch.Tensor      # (V, 3, crop, crop) validation batch in Lab
    val_masks: torch.Tensor | None   # the condition per validation photo: a selection (partial), hints (hints)
    crop: int
    splits_file: Path
    n_train: int
    n_val: int
    n_calib: int


def prepare_data(args, out: Path, rank: int, use_ddp: bool, log) -> TrainData:
    """Everything the loop needs from the photos; raises SetupError with a readable message."""
    from .train_config import split_problem
    problem = split_problem(args)
    if problem:
        raise SetupError(problem)
    cache_dir = Path(args.cache_dir) if args.cache_dir else out.parent.parent / "cache"
    try:
        rels, where = data.list_sources(args.data)
    except ValueError as e:
        raise SetupError(f"--data: {e}") from None
    if not rels:
        raise SetupError(f"no images found under {', '.join(args.data)}")
    # the split is explicit (train_config.split_problem): per source, or overall; tiles of one photograph and
    # exact copies stay on one side (--split-by photo), and the held-out side is cleaned of repeats (data.hygiene)
    scheme = getattr(args, "split_by", "photo")
    ties = data.content_ties({r: data.resolve(where, r) for r in rels}) if scheme == "photo" else None
    if args.calib_per_source is not None:
        train_rels, val_rels, calib_rels = data.split_per_source(
            rels, args.calib_per_source, 0 if args.val else args.val_per_source, scheme, ties)
    else:
        train_rels, val_rels, calib_rels = data.split(rels, args.calib_count, 0 if args.val else args.val_count,
                                                      scheme, ties)
    calib_rels, val_rels, removed = data.hygiene(train_rels, calib_rels, val_rels, where)
    if removed and rank == 0:
        log("held out but left out, repeating a photo on an earlier side (source: reason count): " + "; ".join(
            f"{g}: " + ", ".join(f"{why} {n}" for why, n in d.items())
            for g, d in data.removed_per_source(removed).items()))
    if args.max_images:
        train_rels = train_rels[:args.max_images]
    if not train_rels:
        raise SetupError(f"no training photos left: {len(rels)} found under {', '.join(args.data)}, {len(calib_rels)} "
                         f"held out for calibration and {len(val_rels)} for validation; add photos or lower "
                         f"--calib-per-source/--val-per-source (or --calib-count/--val-count)")
    val_root = args.val or where
    if args.val:
        val_rels = data.list_images(args.val)[:args.val_count]
    splits_file = out.parent / (out.stem + ".splits.json")
    if rank == 0:
        roots = {g: str(Path(r).resolve()) for g, r in where.items()}
        splits_file.write_text(json.dumps({"data": roots, "scheme": scheme, "train": train_rels,
                                           "val_root": str(Path(args.val).resolve()) if args.val else roots,
                                           "val": val_rels, "calib": calib_rels,
                                           "left_out": {r: list(why) for r, why in removed.items()}}))

    def cache_for(name, root, r):
        path = data.cache_path(cache_dir, name, r, args.cache_size)
        if rank == 0:
            data.build_cache(root, r, args.cache_size, path, log)
        if use_ddp:
            torch.distributed.barrier()
        return data.build_cache(root, r, args.cache_size, path, log)

    train_cache = cache_for("train", where, train_rels)
    # the audit: near-gray and one-tint photos teach a muted model; they are never sampled
    keep = np.ones(len(train_rels), bool)
    if args.audit:
        keep = ~data.colourless(*data.chroma_stats(train_cache))
        groups = np.array([data.group_of(r) for r in train_rels])
        log("audit (dropped/total per source): " + ", ".join(
            f"{g} {int((~keep[groups == g]).sum())}/{int((groups == g).sum())}" for g in sorted(set(groups))))
    kept = [r for r, k in zip(train_rels, keep) if k]
    try:
        p_kept = data.group_probabilities(kept, data.parse_group_weights(args.group_weights))
    except ValueError as e:
        raise SetupError(f"--group-weights: {e}") from None
    sample_p = np.zeros(len(train_rels))
    sample_p[keep] = p_kept
    if not args.group_weights and keep.all():
        sample_p = None   # uniform, as before (the same batches as runs made without the audit)
    crop = min(args.crop, args.cache_size)
    crop -= crop % 32
    val_cache = cache_for("val", val_root, val_rels) if val_rels else train_cache[:16]
    val_rgb = data.centre_crops(np.asarray(val_cache), crop)
    lab_val = uint8_batch_to_lab(val_rgb)
    if args.task == "partial":
        from .masks import batch_masks
        val_masks = torch.from_numpy(batch_masks(np.random.default_rng([args.seed, 7]), val_rgb))
    elif args.task == "hints":   # ten 3x3 points per photo, fixed: validation PSNR with few hints
        from .hint_simulation import fixed_points
        from backends.gan.nets import AB_SCALE
        val_masks = torch.from_numpy(fixed_points(lab_val[:, 1:].numpy() / AB_SCALE, 10, seed=args.seed))
    else:
        val_masks = None
    return TrainData(train_cache, sample_p, lab_val, val_masks, crop, splits_file, len(train_rels), len(val_rels),
                     len(calib_rels))
