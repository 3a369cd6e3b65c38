"""Training CLI for the `gan` backend (also reached as `colorcore train gan ...`).

    python -m training.gan.train --data DIR [--val DIR] --out runs/gan/gan.pt [--loss gan|mse] ...
    python -m training.gan.train --task partial --init backends/gan/weights/gan.pt ...   (partial-gan)

Resumable (re-run the same command: it continues from --out), seeded (batch k is drawn from
a generator seeded with (seed, k, rank), so a resumed run sees the same batches), logs JSONL
losses with ETA, validation PSNR / colourfulness, and PNG sample grids next to --out.
CPU: small configs, one thread by default.  CUDA: mixed precision.  torchrun: DDP when
WORLD_SIZE > 1 (gloo on CPU, nccl on CUDA); only rank 0 writes.
"""
from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import numpy as np

from backends.gan.conditions import HINT_CHANNELS, MASK_CHANNELS
from .train_config import parse_args


class Log:
    def __init__(self, path, rank):
        self.path, self.rank = path, rank

    def __call__(self, msg):
        if self.rank == 0:
            line = f"[{time.strftime('%H:%M:%S')}] {msg}"
            print(line, flush=True)
            with open(self.path, "a") as f:
                f.write(line + "\n")


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


def spread_radii(args) -> list[int]:
    """--hint-spread as a list of radii (empty when not given)."""
    return [int(v) for v in args.hint_spread.split(",") if v.strip()]


def generator_config(args, out: Path, in_ch: int) -> dict:
    """The generator to train: a resumed run keeps its architecture, a run started from other weights
    continues theirs (with the mask channel added for partial, and the spread hints with --hint-spread), a fresh
    run takes --arch."""
    from . import weights_io
    if out.exists():
        return dict(weights_io.generator_config_of(out), in_ch=in_ch)
    radii = spread_radii(args)
    spread = {"hint_spread": radii} if radii else {}
    if args.init:
        return {**weights_io.generator_config_of(args.init), "in_ch": in_ch, **spread}
    if args.arch == "effunet":
        return dict(arch="effunet", in_ch=in_ch, dec_widths=[int(w) for w in args.dec_widths.split(",")],
                    dropout=args.dropout, dropout_levels=2, **spread)
    return dict(arch="unet", in_ch=in_ch, widths=[int(w) for w in args.widths.split(",")], dropout=args.dropout,
                dropout_levels=2)


# extra generator input channels after L, per task: a region mask, or hint ab + hint mask
CONDITION_CHANNELS = {"auto": 0, "partial": MASK_CHANNELS, "hints": HINT_CHANNELS}


def task_condition(task, rng, rgb, ab_true, device):
    """The generator's extra input for a batch: None (auto), random selections (partial) or hints drawn from
    the true colours (hints)."""
    import torch
    if task == "partial":
        from .masks import batch_masks
        return torch.from_numpy(batch_masks(rng, rgb)).to(device)
    if task == "hints":
        from .hint_simulation import batch_hints
        return torch.from_numpy(batch_hints(rng, ab_true.float().cpu().numpy())).to(device)
    return None


def build_models(args, out: Path, cond_channels: int, device):
    """Generator, discriminator (gan loss only) and their Adam optimisers; a pretrained encoder learns at
    --encoder-lr-mult times the rate (param group 'lr_mult', applied by the loop's schedule)."""
    import torch
    from backends.gan.nets import PatchD, build_generator
    gen_cfg = generator_config(args, out, 1 + cond_channels)
    G = build_generator(gen_cfg).to(device)
    D = PatchD(in_ch=3 + cond_channels).to(device) if args.loss == "gan" else None
    enc = list(G.encoder.parameters()) if hasattr(G, "encoder") else []
    enc_ids = {id(p_) for p_ in enc}
    rest = [p_ for p_ in G.parameters() if id(p_) not in enc_ids]
    optG = torch.optim.Adam([dict(params=rest, lr_mult=1.0)] +
                            ([dict(params=enc, lr_mult=args.encoder_lr_mult)] if enc else []),
                            lr=args.lr, betas=(0.5, 0.999))
    optD = torch.optim.Adam(D.parameters(), lr=args.lr, betas=(0.5, 0.999)) if D is not None else None
    return G, D, optG, optD, gen_cfg


def main(argv=None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv, __doc__)
    try:
        radii = spread_radii(args)
    except ValueError:
        print(f"--hint-spread: expected comma-separated radii in px such as 3,12,48; got {args.hint_spread!r}")
        return 2
    if not 0.0 <= args.age_prob <= 1.0:
        print(f"--age-prob: the share of photos to age, between 0 and 1; got {args.age_prob}")
        return 2
    if radii and (args.task != "hints" or (args.arch != "effunet" and not args.init)):
        print("--hint-spread is for --task hints with the effunet generator (--arch effunet, or --init from one)")
        return 2
    import torch
    from . import data
    from .aged_inputs import aged_lightness
    from .labtorch import uint8_batch_to_lab
    from .train_data import SetupError, prepare_data
    from .losses import (ab_prior_weights, adversarial_loss, discriminator_loss, error_scale_nll,
                         lookup_weights)
    from backends.gan.nets import AB_SCALE, generator_forward, generator_input
    from .validation import evaluate, save_grid
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

    try:
        td = prepare_data(args, out, rank, use_ddp, log)
    except SetupError as e:
        log(str(e))
        return 2
    partial = args.task == "partial"
    train_cache, sample_p, lab_val, val_masks, crop = td.cache, td.sample_p, td.lab_val, td.val_masks, td.crop
    splits_file = td.splits_file
    if amp_dtype == torch.bfloat16 and device.type == "cpu" and not cpu_has_native_bf16():
        log("warning: this CPU has no native bfloat16 (AVX512-BF16 or AMX), so --precision bf16 is emulated "
            "and slower than fp32; leave it out")
    log(f"{td.n_train} train, {td.n_val} val, {td.n_calib} calibration images (held out); "
        f"device {device}, world {world}, precision {amp_dtype or torch.float32}")

    torch.manual_seed(args.seed)
    G, D, optG, optD, gen_cfg = build_models(args, out, CONDITION_CHANNELS[args.task], device)
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
        from backends.gan.effnet import load_imagenet_weights
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
        L = aged_lightness(rgb, L, rng, args.age_prob, args.age_recipe)   # as before with --age-prob 0
        m = task_condition(args.task, rng, rgb, ab_true, device)
        if args.task == "hints" and args.hint_recolour > 0:
            from .hint_simulation import recolour
            ab_true, m, _ = recolour(rng, ab_true, m, args.hint_recolour)
        x = generator_input(L, m)   # the discriminator's condition: what the generator sees
        # partial: the discriminator judges the colours inside the selection (gray outside) and sees the mask
        d_ab = (lambda ab: ab * m) if partial else (lambda ab: ab)
        with autocast():
            out_g = generator_forward(Gm, L, m)
            ab_fake, logs = out_g[:, :2], out_g[:, 2:3]
        logs_d = {}
        if D is not None:
            with autocast():
                d_out = Dm(torch.cat([x, x]), torch.cat([d_ab(ab_true), d_ab(ab_fake.detach())]))
                d_real, d_fake = d_out.float().chunk(2)
                loss_d = discriminator_loss(d_real, d_fake)
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
                loss_adv = adversarial_loss(g_fake)
            else:
                loss_rec = (diff ** 2).mean()
                loss_adv = torch.zeros((), device=device)
            loss_unc = error_scale_nll(diff, logs)
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
            ev = evaluate(G, lab_val, device, val_masks, composite=partial)
            ev.update(step=step, elapsed_s=round(elapsed, 1), kind="val")
            log(f"validation step {step}: " + json.dumps(ev))
            with open(metrics_path, "a") as f:
                f.write(json.dumps(ev) + "\n")
            save_grid(G, lab_val, device, run_dir / f"{out.stem}_samples_{step:06d}.png", val_masks, composite=partial)
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
