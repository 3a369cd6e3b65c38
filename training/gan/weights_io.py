"""Weights on disk for the `gan` backends: training checkpoints, compact checkpoints (a run continued on
another machine), shipped weights, and starting a generator from any of them.

- training checkpoint (train.py --out): G, D, both optimisers, step, time, config; fp32; resumable exactly.
- compact checkpoint: G and D in fp16 with step, time and config, no optimiser state (~5x smaller): kept in
  the repository so a later session, or a GPU machine, continues with `--init COMPACT` (fresh optimiser).
- shipped weights: the generator alone in fp16 + a JSON config beside it (save_weights).
All loads use weights_only=True.
"""
from __future__ import annotations

import json
import os
from pathlib import Path


def save_atomic(obj, path):
    import torch
    tmp = str(path) + ".tmp"
    torch.save(obj, tmp)
    os.replace(tmp, path)


def save_weights(state_dict: dict, generator_config: dict, path, meta: dict | None = None) -> Path:
    """Write shipped weights: fp16 generator state_dict (loadable with weights_only=True) + JSON config."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sd = {k: (v.detach().cpu().half() if v.is_floating_point() else v.detach().cpu()) for k, v in state_dict.items()}
    save_atomic(sd, path)
    info = {"generator": dict(generator_config)}
    info.update(meta or {})
    path.with_suffix(".json").write_text(json.dumps(info, indent=1) + "\n")
    return path


# training arguments copied into the shipped weights' JSON (the model card's record of the run)
RECORDED_ARGS = ("task", "hint_recolour", "init", "group_weights", "lambda_mask", "steps", "batch", "crop",
                 "cache_size", "widths", "arch", "dec_widths", "encoder_lr_mult", "val_per_source",
                 "calib_per_source", "audit", "dropout", "lr", "lambda_l1", "lambda_adv", "rebalance", "seed",
                 "threads", "calib_count", "val_count", "device", "precision")


def export_generator(ckpt_path, out_path, extra_info=None):
    """Shipped weights from a training checkpoint: fp16 generator state_dict + JSON config beside it."""
    import torch
    ck = torch.load(ckpt_path, map_location="cpu", weights_only=True)
    cfg = ck["config"]
    a = cfg["args"]
    # size: colours are predicted, by default, at the size of the crops the network was trained on (whole crops,
    # no border): on the calibration photos 160-px crops predicted best at 160 px, better than at their cache
    # size 176 or at 192 (backends/gan/MODEL_CARD.md, v6); tune --sizes can choose another
    meta = dict(loss=a["loss"], step=int(ck["step"]), train_seconds=round(float(ck["elapsed"]), 1),
                size=int(a["crop"]),
                train_args={k: a[k] for k in RECORDED_ARGS if k in a},
                data="+".join(os.path.basename(os.path.normpath(d)) for d in data_roots(a["data"])))
    meta.update(extra_info or {})
    return save_weights(ck["G"], cfg["generator"], out_path, meta)


def data_roots(data) -> list[str]:
    """--data as recorded: a list of roots (older checkpoints recorded one string)."""
    return [data] if isinstance(data, str) else list(data)


def _fp16(sd: dict | None) -> dict | None:
    return None if sd is None else {k: v.half() if v.is_floating_point() else v for k, v in sd.items()}


def compact_checkpoint(ckpt_path, out_path) -> str:
    """A training checkpoint without optimiser state, G and D in fp16: what `--init` needs to continue."""
    import torch
    ck = torch.load(ckpt_path, map_location="cpu", weights_only=True)
    save_atomic({"G": _fp16(ck["G"]), "D": _fp16(ck.get("D")), "step": int(ck["step"]),
                 "elapsed": float(ck["elapsed"]), "config": ck["config"]}, out_path)
    return str(out_path)


def generator_config_of(weights_path) -> dict:
    """The generator config a checkpoint (its 'config') or shipped weights (the JSON beside) were made with."""
    import json
    from pathlib import Path
    import torch
    path = Path(weights_path)
    beside = path.with_suffix(".json")
    if beside.is_file():
        return json.loads(beside.read_text())["generator"]
    ck = torch.load(path, map_location="cpu", weights_only=True)
    if "config" not in ck:
        raise ValueError(f"{path} has no generator config (no 'config' inside, no {beside.name} beside)")
    return ck["config"]["generator"]


def init_generator(G, weights_path, D=None):
    """Load shipped generator weights (or a training checkpoint's G, and D when given) into G.

    Input channels the weights lack start at zero. Returns whether D was loaded too."""
    import torch
    sd = torch.load(weights_path, map_location="cpu", weights_only=True)
    loaded_d = False
    if "G" in sd:   # a training checkpoint: its discriminator is reused when it has the same shape
        own_d = D.state_dict() if D is not None else {}
        theirs = sd.get("D")
        if theirs is not None and own_d and set(theirs) == set(own_d):
            first = "net.0.weight"   # D sees (L, condition channels..., a, b): new condition channels start at 0
            if first in theirs and theirs[first].shape[0] == own_d[first].shape[0] \
                    and theirs[first].shape[1] < own_d[first].shape[1]:
                old, new = theirs[first], torch.zeros_like(own_d[first])
                new[:, :1], new[:, -2:] = old[:, :1], old[:, -2:]
                new[:, 1:old.shape[1] - 2] = old[:, 1:-2]
                theirs = dict(theirs, **{first: new})
            if all(theirs[k].shape == v.shape for k, v in own_d.items()):
                D.load_state_dict(theirs)
                loaded_d = True
        sd = sd["G"]
    own = G.state_dict()
    for k, v in sd.items():
        v = v.float() if v.is_floating_point() else v
        own[k] = widen_stem(k, v, own[k].shape).to(own[k].dtype)
    G.load_state_dict(own)
    return loaded_d


STEM_KEYS = ("stem.0.weight", "encoder._conv_stem.weight")   # the first conv of UNetG / EffUNetG


def widen_stem(key, value, shape):
    """The first layer's weights for `shape`: input channels they lack (a mask, hints) added at zero, so the
    wider network computes exactly what the narrower one did until it learns to use them."""
    import torch
    if key in STEM_KEYS and value.shape[1] < shape[1]:
        return torch.cat([value, torch.zeros(value.shape[0], shape[1] - value.shape[1], *value.shape[2:],
                                             dtype=value.dtype)], 1)
    return value
