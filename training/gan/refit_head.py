"""Refit a shipped generator's error head on its own errors, the rest of the network frozen.

    python -m training.gan.refit_head WEIGHTS OUT.pt [--batches 300] [--steps 6000] [--age-prob 0.5] [--seed 22]

The error head is the log-error-scale channel of the generator's last convolution (a 3x3 conv on the last decoder
level's features): Auto's raw score is mostly it. It was trained with the network, on the errors the network made
then. A soup of two networks (training.gan.soup) averages two heads, each of which predicted its own network's
errors, and no head ever saw the soup's. Here the head is refitted to what is shipped:
- the errors are the soup's, of the prediction as the engine makes it at one size: the mean of the photo's and its
  mirror image's, times the postprocess's chroma gain;
- on photos of the shipped split's training part only (training.gan.data.load_splits 'shipped', the trainer's audit
  and source weights), random 160 px crops, a share of them aged like old prints (training.aging);
- by the loss the head was trained with (exponential NLL: its minimiser is the expected error).
Only that channel changes; the colours are the same to the bit (the ab channels and every other weight are copied).
The features are computed once (no gradient through the network), so a refit takes minutes on a CPU.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from backends.gan.nets import AB_SCALE, LOG_SCALE, generator_input, log_scale

CROP = 160
BATCH = 16
FIT_BATCH = 32       # views per optimiser step
HELD_BACK = 8        # one in HELD_BACK views is kept out of the fit, to report the loss on
CACHE_SIZE = 176     # the trainer's cache size: its cache is reused


def views_and_errors(G, rgb, rng, gain: float, age_prob: float, recipe: str):
    """For a uint8 batch (B, CROP, CROP, 3): the last decoder level's features of each photo and of its mirror image
    (2B, C, h, w) and, for each, the error norm (2B, 1, CROP, CROP) of the engine's prediction (the mean of both
    views, times gain) in the generator's ab units; the mirror image's error mirrored so that it lines up."""
    from training.gan.aged_inputs import aged_lightness
    from training.gan.labtorch import uint8_batch_to_lab
    from training.gan.losses import error_norm
    lab = uint8_batch_to_lab(rgb, "cpu")
    L, ab_true = lab[:, :1], lab[:, 1:] / AB_SCALE
    L = aged_lightness(rgb, L, rng, age_prob, recipe)
    n = len(rgb)
    with torch.inference_mode():
        h = G.decode_features(G.encode(generator_input(torch.cat([L, L.flip(-1)]))))
        ab = G.head_output(h, L.shape[-2:])[:, :2]
        e = error_norm((ab[:n] + ab[n:].flip(-1)) / 2 * gain - ab_true)
    return h.half(), torch.cat([e, e.flip(-1)]).half()


def head_logs(h, weight, bias, size):
    """The error head's log scale at `size` from the decoder features, as the generator computes it."""
    out = F.conv2d(h.float(), weight, bias, padding=weight.shape[-1] // 2)
    return log_scale(F.interpolate(out, size=size, mode="bilinear", align_corners=False))


def fit_logs(H, E, weight, bias, steps: int, seed: int, lr: float = 1e-3, log=print):
    """Adam on the head's log-scale filter (weight (1, C, k, k), bias (1,)) against the error norms E, the views in
    H[::HELD_BACK] held back. Returns (weight, bias, {"before": nll, "after": nll} on the held-back views)."""
    from training.gan.losses import scale_nll
    held = torch.arange(0, len(H), HELD_BACK)
    fit = torch.tensor([i for i in range(len(H)) if i % HELD_BACK])
    size = E.shape[-2:]

    def held_nll(w, b):
        with torch.no_grad():
            return float(np.mean([scale_nll(E[i], head_logs(H[i], w, b, size)).item()
                                  for i in held.split(FIT_BATCH)]))
    w = weight.detach().float().clone().requires_grad_(True)
    b = bias.detach().float().clone().requires_grad_(True)
    before = held_nll(w, b)
    opt = torch.optim.Adam([w, b], lr)
    gen = torch.Generator().manual_seed(seed)
    for step in range(steps):
        i = fit[torch.randint(len(fit), (FIT_BATCH,), generator=gen)]
        loss = scale_nll(E[i], head_logs(H[i], w, b, size))
        opt.zero_grad()
        loss.backward()
        opt.step()
        if (step + 1) % 1000 == 0:
            log(f"step {step + 1}: loss {loss.item():.4f}")
    return w.detach(), b.detach(), {"before": round(before, 5), "after": round(held_nll(w, b), 5)}


def with_log_head(state_dict: dict, weight, bias) -> dict:
    """The state dict with the head's log-scale channel replaced (in the dict's own dtype); nothing else changes."""
    sd = dict(state_dict)
    for key, value in (("head.weight", weight), ("head.bias", bias)):
        t = sd[key].clone()
        t[LOG_SCALE] = value.to(t.dtype)
        sd[key] = t
    return sd


def training_photos(cache_dir: Path, log=print):
    """The shipped split's training photos as the trainer caches them: (cache (N, 176, 176, 3) uint8, which of them
    the trainer's audit keeps (not near-gray nor one tint), their paths)."""
    from training.gan import data
    splits = data.load_splits(data.SHIPPED_SPLITS)
    rels = splits["train"]
    path = data.cache_path(cache_dir, "train", rels, CACHE_SIZE)
    cache = data.build_cache(splits["data"], rels, CACHE_SIZE, path, log)
    keep = ~data.colourless(*data.chroma_stats(cache))
    return cache, keep, rels


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("weights", type=Path, help="shipped generator weights (.pt with its .json)")
    p.add_argument("out", type=Path, help="the refitted weights (.pt; the .json is written beside it)")
    p.add_argument("--batches", type=int, default=300, help=f"batches of {BATCH} photos the features come from")
    p.add_argument("--steps", type=int, default=6000)
    p.add_argument("--age-prob", type=float, default=0.5, help="share of the photos aged like an old print")
    p.add_argument("--seed", type=int, default=22)
    p.add_argument("--cache-dir", type=Path, default=Path("runs/cache"))
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args(argv)
    if not args.weights.is_file() or not args.weights.with_suffix(".json").is_file():
        sys.exit(f"{args.weights}: expected shipped generator weights, a .pt with its .json beside it")
    if args.out.resolve() == args.weights.resolve():
        sys.exit("the output would overwrite the weights it is refitted from: name another file")
    from backends.gan import infer
    from training.aging import DEFAULT_RECIPE
    from training.gan import data
    from training.gan.weights_io import save_atomic
    torch.set_num_threads(args.threads)
    G = infer.load_generator(args.weights).eval()
    if not hasattr(G, "decode_features"):
        sys.exit(f"{args.weights}: the refit needs the effunet generator (its decoder features)")
    meta = json.loads(args.weights.with_suffix(".json").read_text())
    gain = float((meta.get("postprocess") or {}).get("gain", 1.0))
    cache, keep, rels = training_photos(args.cache_dir)
    kept = np.flatnonzero(keep)
    prob = data.group_probabilities([rels[i] for i in kept],
                                    data.parse_group_weights(meta.get("train_args", {}).get("group_weights", "")))
    rng = np.random.default_rng(args.seed)
    H, E, t0 = [], [], time.time()
    for b in range(args.batches):
        pick = np.sort(kept[rng.choice(len(kept), BATCH, p=prob)])
        rgb = data.sample_batch(np.asarray(cache[pick]), rng, BATCH, CROP)
        h, e = views_and_errors(G, rgb, rng, gain, args.age_prob, DEFAULT_RECIPE)
        H.append(h)
        E.append(e)
        if b % 50 == 0:
            print(f"features {b}/{args.batches} batches ({time.time() - t0:.0f}s)", flush=True)
    H, E = torch.cat(H), torch.cat(E)
    w, bias, nll = fit_logs(H, E, G.head.weight[LOG_SCALE], G.head.bias[LOG_SCALE], args.steps, args.seed)
    print(f"held-back views' loss: {nll['before']} before, {nll['after']} after")
    sd = torch.load(args.weights, map_location="cpu", weights_only=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    save_atomic(with_log_head(sd, w, bias), args.out)
    source_sha1 = hashlib.sha1(args.weights.read_bytes()).hexdigest()[:12]
    meta["error_head_refit"] = {"from": f"{args.weights} (sha1 {source_sha1})",
                                "photos": "shipped split, training part", "batches": args.batches, "batch": BATCH,
                                "crop": CROP, "steps": args.steps, "age_prob": args.age_prob, "seed": args.seed,
                                "held_back_nll": nll}
    args.out.with_suffix(".json").write_text(json.dumps(meta, indent=1) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
