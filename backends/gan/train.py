"""Training CLI for the `gan` backend (also reached as `colorcore train gan ...`).

    python -m backends.gan.train --data DIR [--val DIR] --out runs/gan/gan.pt [--loss gan|mse] ...
    python -m backends.gan.train --task partial --init backends/gan/weights/gan.pt ...   (partial-gan)

Resumable (re-run the same command: it continues from --out), seeded (batch k is drawn from
a generator seeded with (seed, k, rank), so a resumed run sees the same batches), logs JSONL
losses with ETA, validation PSNR / colourfulness, and PNG sample grids next to --out.
CPU: small configs, one thread by default.  CUDA: mixed precision.  torchrun: DDP when
WORLD_SIZE > 1 (gloo on CPU, nccl on CUDA); only rank 0 writes.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import sys
import time
from pathlib import Path

import numpy as np


def parse_args(argv):
    p = argparse.ArgumentParser(prog="colorcore train gan", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True, action="append",
                   help="folder of colour photos (searched recursively); give it several times to train on "
                        "several roots: their top-level folders are the sources (groups)")
    p.add_argument("--val", default=None, help="validation folder (default: a held-out part of --data)")
    p.add_argument("--out", required=True, help="training checkpoint path; logs/samples go beside it")
    p.add_argument("--loss", choices=["gan", "mse"], default="gan",
                   help="gan: L1 + adversarial (pix2pix); mse: plain L2 encoder-decoder baseline")
    p.add_argument("--task", choices=["auto", "partial"], default="auto",
                   help="partial: the generator also gets a region mask (random selections, "
                        "backends/partial_gan/masks.py) and the discriminator judges the masked colours")
    p.add_argument("--init", default=None,
                   help="shipped generator weights, or a training checkpoint (then its discriminator too), "
                        "to start from (a fresh run only); input channels the weights lack (the mask) start "
                        "at zero, so training starts from that model")
    p.add_argument("--lambda-mask", type=float, default=2.0,
                   help="partial: extra L1 weight inside the mask (the L1 term covers the whole image)")
    p.add_argument("--steps", type=int, default=4000)
    p.add_argument("--batch", type=int, default=16, help="per process")
    p.add_argument("--crop", type=int, default=128)
    p.add_argument("--cache-size", type=int, default=144, help="images cached at this square size")
    p.add_argument("--cache-dir", default=None, help="default: <out dir>/../cache")
    p.add_argument("--group-weights", default="",
                   help="sample the top-level folders of --data with these probabilities, e.g. "
                        "'bsds_trainTest320=0.2' (folders not named share the rest by size; default: uniform)")
    p.add_argument("--max-images", type=int, default=0, help="use at most this many training images (0 = all)")
    p.add_argument("--arch", choices=["unet", "effunet"], default="unet",
                   help="unet: the small U-Net learned from scratch; effunet: EfficientNet-Lite0 encoder "
                        "(ImageNet-pretrained for a fresh run without --init) with a light decoder")
    p.add_argument("--widths", default="24,48,96,160,224", help="unet: encoder widths")
    p.add_argument("--dec-widths", default="192,96,64,32", help="effunet: decoder widths (strides 16..2)")
    p.add_argument("--encoder-lr-mult", type=float, default=1.0,
                   help="effunet: the encoder's learning rate as a fraction of --lr (pretrained features "
                        "move more slowly than the new decoder)")
    p.add_argument("--val-per-source", type=int, default=0,
                   help="hold out this many photos of every source for validation (fixed by SHA-1 order), "
                        "instead of --val-count overall")
    p.add_argument("--calib-per-source", type=int, default=0,
                   help="hold out this many photos of every source for calibration, instead of --calib-count")
    p.add_argument("--audit", action="store_true",
                   help="never sample near-gray or single-tint (sepia) training photos (data.colourless)")
    p.add_argument("--dropout", type=float, default=0.5)
    p.add_argument("--lr", type=float, default=2e-4)
    p.add_argument("--lambda-l1", type=float, default=100.0)
    p.add_argument("--lambda-adv", type=float, default=1.0)
    p.add_argument("--rebalance", type=float, default=0.5,
                   help="exponent of the Zhang et al. class-rebalancing weights on the L1 term (0 = off)")
    p.add_argument("--calib-count", type=int, default=300, help="images held out for conformal calibration")
    p.add_argument("--val-count", type=int, default=100)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda")
    p.add_argument("--precision", choices=["auto", "fp32", "bf16"], default="auto",
                   help="auto: fp16 mixed precision on CUDA, fp32 on CPU; bf16: bfloat16 autocast on either "
                        "(about 2x faster on CPUs with AVX512-BF16 or AMX; weights stay fp32)")
    p.add_argument("--time-budget-min", type=float, default=0.0, help="stop after this much training time")
    p.add_argument("--ckpt-every-s", type=float, default=180.0)
    p.add_argument("--val-every", type=int, default=500)
    p.add_argument("--log-every", type=int, default=20)
    return p.parse_args(argv)


class Log:
    def __init__(self, path, rank):
        self.path, self.rank = path, rank

    def __call__(self, msg):
        if self.rank == 0:
            line = f"[{time.strftime('%H:%M:%S')}] {msg}"
            print(line, flush=True)
            with open(self.path, "a") as f:
                f.write(line + "\n")


def ab_prior_weights(cache, gamma=0.5, bins=22, sigma=0.5, seed=0):
    """Zhang et al. 2016 rebalancing weights on a bins x bins grid over ab in [-110, 110]."""
    import torch
    from scipy.ndimage import gaussian_filter
    from .labtorch import uint8_batch_to_lab
    rng = np.random.default_rng(seed)
    idx = np.sort(rng.choice(cache.shape[0], min(2000, cache.shape[0]), replace=False))
    hist = np.zeros((bins, bins))
    for s in range(0, len(idx), 250):
        lab = uint8_batch_to_lab(np.asarray(cache[idx[s:s + 250], ::4, ::4]))
        ab = lab[:, 1:].permute(0, 2, 3, 1).reshape(-1, 2).numpy()
        q = np.clip(((ab + 110.0) / (220.0 / bins)).astype(int), 0, bins - 1)
        np.add.at(hist, (q[:, 0], q[:, 1]), 1)
    p = gaussian_filter(hist / hist.sum(), sigma)
    support = p > 1e-6
    w = np.zeros_like(p)
    w[support] = 1.0 / ((1 - gamma) * p[support] + gamma / support.sum())
    w /= (p * w).sum()
    w[~support] = w[support].max()
    return torch.tensor(w, dtype=torch.float32)


def lookup_weights(ab, w, beta):
    """Per-pixel rebalancing weight (N, 1, H, W) for ab in Lab units."""
    import torch
    bins = w.shape[0]
    q = ((ab + 110.0) / (220.0 / bins)).long().clamp(0, bins - 1)
    ww = w.to(ab.device)[q[:, 0], q[:, 1]]
    return (ww ** beta).unsqueeze(1)


def lr_at(args, step, elapsed):
    frac = step / max(args.steps, 1)
    if args.time_budget_min > 0:
        frac = max(frac, elapsed / (args.time_budget_min * 60.0))
    return args.lr * max(0.01, min(1.0, 2.0 * (1.0 - frac)))


def cpu_has_native_bf16() -> bool:
    """Whether oneDNN runs bfloat16 natively here (AVX512-BF16 or AMX), which is what makes bf16 pay off."""
    import torch
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def model_input(L, mask=None):
    """Generator input: scaled L, plus the region mask for partial-gan."""
    import torch
    from .nets import l_to_input
    x = l_to_input(L)
    return x if mask is None else torch.cat([x, mask.to(x)], 1)


def predict_ab(G, L, sample=False, mask=None):
    """L (N,1,H,W) in 0..100 -> ab (N,2,H,W) in Lab units, log scale (N,1,H,W)."""
    from .nets import AB_SCALE, pad_to_multiple
    x, (h, w) = pad_to_multiple(model_input(L, mask), G.multiple)
    out = G(x, sample=sample)[..., :h, :w]
    return out[:, :2] * AB_SCALE, out[:, 2:3]


def evaluate(G, lab_val, device, masks=None):
    """Validation PSNR (uint8 RGB), colourfulness ratio, mean ab error.  With masks (partial-gan):
    the prediction and the truth are both composited through the mask (gray outside)."""
    import torch
    from .labtorch import lab_to_rgb
    from colorcore.evaluation import colourfulness, psnr as psnr_uint8
    G.eval()
    ps, cp, ct, err = [], [], [], []
    with torch.no_grad():
        for s in range(0, lab_val.shape[0], 25):
            lab = lab_val[s:s + 25].to(device)
            m = masks[s:s + 25].to(device) if masks is not None else None
            ab, _ = predict_ab(G, lab[:, :1], mask=m)
            if m is not None:
                ab, lab = ab * m, torch.cat([lab[:, :1], lab[:, 1:] * m], 1)
            pred = lab_to_rgb(torch.cat([lab[:, :1], ab], 1).float()).cpu().permute(0, 2, 3, 1).numpy()
            true = lab_to_rgb(lab).cpu().permute(0, 2, 3, 1).numpy()
            err.append((ab - lab[:, 1:]).norm(dim=1).mean().item())
            for a, b in zip(pred, true):
                ps.append(psnr_uint8(a, b))
                cp.append(colourfulness(a))
                ct.append(colourfulness(b))
    G.train()
    return dict(val_psnr=float(np.mean(ps)), val_colourfulness_ratio=float(np.mean(cp) / max(np.mean(ct), 1e-6)),
                val_ab_err=float(np.mean(err)))


def save_grid(G, lab_val, device, path, masks=None):
    import torch
    from PIL import Image
    from .labtorch import lab_to_rgb
    G.eval()
    with torch.no_grad():
        lab = lab_val[:8].to(device)
        m = masks[:8].to(device) if masks is not None else None
        ab, _ = predict_ab(G, lab[:, :1], mask=m)
        if m is not None:
            ab = ab * m
        gray = torch.cat([lab[:, :1], torch.zeros_like(ab)], 1)
        rows = [lab_to_rgb(t.float()) for t in (gray, torch.cat([lab[:, :1], ab], 1), lab)]
    G.train()
    grid = torch.cat([torch.cat(list(r), 2) for r in rows], 1)  # (3, 3H, 8W)
    Image.fromarray((grid.permute(1, 2, 0).cpu().numpy() * 255 + 0.5).astype(np.uint8)).save(path)


def main(argv=None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    import torch
    import torch.nn.functional as F
    from . import data
    from .labtorch import uint8_batch_to_lab
    from .nets import PatchD, AB_SCALE, build_generator
    from . import weights_io
    from .weights_io import init_generator, save_atomic

    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if args.device == "auto":
        args.device = "cuda" if torch.cuda.is_available() else "cpu"
    device = torch.device(f"cuda:{local_rank}" if args.device == "cuda" else "cpu")
    if device.type == "cuda":
        torch.cuda.set_device(device)
    else:
        torch.set_num_threads(max(1, args.threads))
    # GAN_FORCE_DDP=1 exercises the DDP path with one process (tests)
    use_ddp = world > 1 or os.environ.get("GAN_FORCE_DDP") == "1"
    if use_ddp:
        import torch.distributed as dist
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    amp_dtype = {"auto": torch.float16 if device.type == "cuda" else None, "fp32": None,
                 "bf16": torch.bfloat16}[args.precision]

    def autocast():
        return torch.autocast(device.type, dtype=amp_dtype, enabled=amp_dtype is not None)

    out = Path(args.out)
    run_dir = out.parent
    run_dir.mkdir(parents=True, exist_ok=True)
    log = Log(run_dir / (out.stem + ".log"), rank)
    cache_dir = Path(args.cache_dir) if args.cache_dir else run_dir.parent / "cache"

    # ---- data: deterministic split, uint8 caches
    try:
        rels, where = data.list_sources(args.data)
    except ValueError as e:
        log(f"--data: {e}")
        return 2
    if not rels:
        log(f"no images found under {', '.join(args.data)}")
        return 2
    n_val = 0 if args.val else args.val_count
    if args.val_per_source or args.calib_per_source:
        train_rels, val_rels, calib_rels = data.split_per_source(
            rels, args.calib_per_source, 0 if args.val else args.val_per_source)
    else:
        train_rels, val_rels, calib_rels = data.split(rels, args.calib_count, n_val)
    if args.max_images:
        train_rels = train_rels[:args.max_images]
    if not train_rels:
        log(f"no training photos left: {len(rels)} found under {', '.join(args.data)}, {len(calib_rels)} held out for "
            f"calibration and {len(val_rels)} for validation; add photos or lower --calib-count/--val-count")
        return 2
    val_root = args.val or where
    if args.val:
        val_rels = data.list_images(args.val)[:args.val_count]
    splits_file = run_dir / (out.stem + ".splits.json")
    if rank == 0:
        roots = {g: str(Path(r).resolve()) for g, r in where.items()}
        splits_file.write_text(json.dumps({"data": roots, "train": train_rels,
                                           "val_root": str(Path(args.val).resolve()) if args.val else roots,
                                           "val": val_rels, "calib": calib_rels}))

    def cache_for(name, root, r):
        h = hashlib.sha1(json.dumps(r).encode()).hexdigest()[:10]
        path = cache_dir / f"{name}_{h}_{args.cache_size}.npy"
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
        log(f"--group-weights: {e}")
        return 2
    sample_p = np.zeros(len(train_rels))
    sample_p[keep] = p_kept
    if not args.group_weights and keep.all():
        sample_p = None   # uniform, as before (the same batches as runs made without the audit)
    crop = min(args.crop, args.cache_size)
    crop -= crop % 32
    val_cache = cache_for("val", val_root, val_rels) if val_rels else train_cache[:16]
    val_rgb = data.centre_crops(np.asarray(val_cache), crop)
    lab_val = uint8_batch_to_lab(val_rgb)
    partial = args.task == "partial"
    if partial:
        from backends.partial_gan.masks import batch_masks
        val_masks = torch.from_numpy(batch_masks(np.random.default_rng([args.seed, 7]), val_rgb))
    else:
        val_masks = None
    if amp_dtype == torch.bfloat16 and device.type == "cpu" and not cpu_has_native_bf16():
        log("warning: this CPU has no native bfloat16 (AVX512-BF16 or AMX), so --precision bf16 is emulated "
            "and slower than fp32; leave it out")
    log(f"{len(train_rels)} train, {len(val_rels)} val, {len(calib_rels)} calibration images (held out); "
        f"device {device}, world {world}, precision {amp_dtype or torch.float32}")

    # ---- models
    torch.manual_seed(args.seed)
    widths = tuple(int(w) for w in args.widths.split(","))
    in_ch = 2 if partial else 1
    gen_cfg = (dict(arch="effunet", in_ch=in_ch, dec_widths=[int(w) for w in args.dec_widths.split(",")],
                    dropout=args.dropout, dropout_levels=2) if args.arch == "effunet" else
               dict(arch="unet", in_ch=in_ch, widths=list(widths), dropout=args.dropout, dropout_levels=2))
    if out.exists() or args.init:
        # a resumed run keeps its architecture; a run started from other weights continues theirs (the mask
        # channel added)
        gen_cfg = dict(weights_io.generator_config_of(out if out.exists() else args.init), in_ch=in_ch)
    G = build_generator(gen_cfg).to(device)
    D = PatchD(in_ch=4 if partial else 3).to(device) if args.loss == "gan" else None
    enc = list(G.encoder.parameters()) if hasattr(G, "encoder") else []
    enc_ids = {id(p_) for p_ in enc}
    rest = [p_ for p_ in G.parameters() if id(p_) not in enc_ids]
    optG = torch.optim.Adam([dict(params=rest, lr_mult=1.0)] +
                            ([dict(params=enc, lr_mult=args.encoder_lr_mult)] if enc else []),
                            lr=args.lr, betas=(0.5, 0.999))
    optD = torch.optim.Adam(D.parameters(), lr=args.lr, betas=(0.5, 0.999)) if D is not None else None
    # loss scaling only for fp16; bf16 has fp32's exponent range
    scalerG = torch.amp.GradScaler("cuda", enabled=amp_dtype == torch.float16)
    scalerD = torch.amp.GradScaler("cuda", enabled=amp_dtype == torch.float16)
    prior_w = ab_prior_weights(train_cache, seed=args.seed) if args.rebalance > 0 and args.loss == "gan" else None

    step, elapsed = 0, 0.0
    config = dict(generator=G.config, discriminator=D.config if D is not None else None, args=vars(args),
                  splits_file=str(splits_file))
    if out.exists():
        ck = torch.load(out, map_location=device, weights_only=True)
        G.load_state_dict(ck["G"])
        optG.load_state_dict(ck["optG"])
        if D is not None:
            D.load_state_dict(ck["D"])
            optD.load_state_dict(ck["optD"])
        if ck.get("prior_w") is not None:
            prior_w = ck["prior_w"]
        step, elapsed = int(ck["step"]), float(ck["elapsed"])
        log(f"resumed from {out} at step {step} ({elapsed / 60:.1f} min trained)")
    elif args.init:
        with_d = init_generator(G, args.init, D)
        log(f"generator{' and discriminator' if with_d else ''} initialised from {args.init}")
    elif gen_cfg.get("arch") == "effunet":
        from .effnet import load_imagenet_weights
        log(f"encoder initialised from ImageNet EfficientNet-Lite0 ({load_imagenet_weights(G.encoder)} tensors)")
    if step >= args.steps:
        log(f"already trained {step} >= {args.steps} steps")
        return 0

    Gm, Dm = G, D
    if use_ddp:
        from torch.nn.parallel import DistributedDataParallel as DDP
        if device.type == "cuda":
            G = torch.nn.SyncBatchNorm.convert_sync_batchnorm(G)
        Gm = DDP(G, device_ids=[local_rank] if device.type == "cuda" else None)
        if D is not None:
            Dm = DDP(D, device_ids=[local_rank] if device.type == "cuda" else None)

    def checkpoint():
        if rank != 0:
            return
        save_atomic({"G": G.state_dict(), "optG": optG.state_dict(),
                     "D": D.state_dict() if D is not None else None,
                     "optD": optD.state_dict() if optD is not None else None,
                     "prior_w": prior_w, "step": step, "elapsed": elapsed, "config": config}, out)

    metrics_path = run_dir / (out.stem + ".jsonl")
    t_last_ckpt = time.time()
    t_start_session = time.time()
    step_times = []
    G.train()
    if D is not None:
        D.train()
    acc = {}
    while step < args.steps and not (args.time_budget_min > 0 and elapsed >= args.time_budget_min * 60):
        t0 = time.time()
        lr = lr_at(args, step, elapsed)
        for o in (optG, optD):
            if o is not None:
                for g in o.param_groups:
                    g["lr"] = lr * g.get("lr_mult", 1.0)
        rng = np.random.default_rng([args.seed, step, rank])
        torch.manual_seed(args.seed * 1_000_003 + step * 101 + rank)
        rgb = data.sample_batch(train_cache, rng, args.batch, crop, sample_p)
        lab = uint8_batch_to_lab(rgb, device)
        L, ab_true = lab[:, :1], lab[:, 1:] / AB_SCALE
        m = torch.from_numpy(batch_masks(rng, rgb)).to(device) if partial else None
        x = model_input(L, m)
        # partial: the discriminator judges the colours inside the selection (gray outside) and sees the mask
        d_ab = (lambda ab: ab * m) if partial else (lambda ab: ab)
        with autocast():
            out_g = Gm(x)
            ab_fake, logs = out_g[:, :2], out_g[:, 2:3]
        logs_d = {}
        if D is not None:
            with autocast():
                d_out = Dm(torch.cat([x, x]), torch.cat([d_ab(ab_true), d_ab(ab_fake.detach())]))
                d_real, d_fake = d_out.float().chunk(2)
                loss_d = 0.5 * (F.mse_loss(d_real, torch.ones_like(d_real)) +
                                F.mse_loss(d_fake, torch.zeros_like(d_fake)))
            optD.zero_grad(set_to_none=True)
            scalerD.scale(loss_d).backward()
            scalerD.step(optD)
            scalerD.update()
            logs_d["loss_d"] = loss_d.item()
        with autocast():
            diff = ab_fake.float() - ab_true
            if args.loss == "gan":
                w = lookup_weights(ab_true * AB_SCALE, prior_w, args.rebalance) if prior_w is not None else 1.0
                if partial:
                    w = w * (1.0 + args.lambda_mask * m)
                loss_rec = (w * diff.abs()).mean()
                for p_ in D.parameters():
                    p_.requires_grad_(False)
                g_fake = D(x, d_ab(ab_fake)).float()   # unwrapped D: no gradient all-reduce for the G step
                for p_ in D.parameters():
                    p_.requires_grad_(True)
                loss_adv = F.mse_loss(g_fake, torch.ones_like(g_fake))
            else:
                loss_rec = (diff ** 2).mean()
                loss_adv = torch.zeros((), device=device)
            # error-scale head: exponential NLL of the (detached) ab error norm; minimiser = E|error|
            e = (diff.detach() ** 2).sum(1, keepdim=True).add(1e-8).sqrt()
            logs_f = logs.float()
            loss_unc = (logs_f + e * torch.exp(-logs_f)).mean()
            loss_g = args.lambda_l1 * loss_rec + args.lambda_adv * loss_adv + loss_unc
        optG.zero_grad(set_to_none=True)
        scalerG.scale(loss_g).backward()
        scalerG.step(optG)
        scalerG.update()
        step += 1
        dt = time.time() - t0
        elapsed += dt
        step_times.append(dt)
        for k, v in dict(loss_rec=loss_rec.item(), loss_adv=loss_adv.item(), loss_unc=loss_unc.item(),
                         **logs_d).items():
            acc.setdefault(k, []).append(v)

        if step % args.log_every == 0 or step == args.steps:
            recent = float(np.mean(step_times[-50:]))
            left = (args.steps - step) * recent
            if args.time_budget_min > 0:
                left = min(left, args.time_budget_min * 60 - elapsed)
            rec = dict(step=step, elapsed_s=round(elapsed, 1), lr=lr, s_per_step=round(recent, 3),
                       eta_min=round(left / 60, 1), **{k: float(np.mean(v)) for k, v in acc.items()})
            acc = {}
            log(" ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in rec.items()))
            if rank == 0:
                with open(metrics_path, "a") as f:
                    f.write(json.dumps(rec) + "\n")
        if rank == 0 and (step % args.val_every == 0 or step == args.steps):
            ev = evaluate(G, lab_val, device, val_masks)
            ev.update(step=step, elapsed_s=round(elapsed, 1), kind="val")
            log(f"validation step {step}: " + json.dumps(ev))
            with open(metrics_path, "a") as f:
                f.write(json.dumps(ev) + "\n")
            save_grid(G, lab_val, device, run_dir / f"{out.stem}_samples_{step:06d}.png", val_masks)
        if time.time() - t_last_ckpt >= args.ckpt_every_s:
            checkpoint()
            t_last_ckpt = time.time()
    checkpoint()
    log(f"done: step {step}, {elapsed / 60:.1f} min of training "
        f"({(time.time() - t_start_session) / 60:.1f} min this session)")
    if use_ddp:
        torch.distributed.barrier()
        torch.distributed.destroy_process_group()
    return 0


if __name__ == "__main__":
    sys.exit(main())
