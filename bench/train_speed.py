"""Training speed of the gan trainer: seconds per step at fp32 and with --precision bf16, side by side.

    .venv/bin/python bench/train_speed.py [--data ../shared/data/train_mix_v1] [--steps 40] [--rounds 2]

Runs the real trainer (training.gan.train) for a few steps on the first 200 photos, alternating the precisions
(`--rounds` times each, so drift in the machine's load hits both alike), for the `gan` loss (generator and
discriminator) and the `mse` loss. Reports the median trainer-logged s/step, skipping each run's first logged
window (warm-up). Prints a table, writes bench/out/train_speed.json and bench/out/train_speed.png.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.common import SHARED_DATA, out_dir, print_table, pyplot, save_json  # noqa: E402

PRECISIONS = ("fp32", "bf16")
LOSSES = ("gan", "mse")


def seconds_per_step(data, loss, precision, steps, work):
    """Median s/step the trainer logs over `steps` steps (its first logged window left out as warm-up)."""
    from training.gan import train
    out = Path(work) / f"{loss}_{precision}" / "ck.pt"
    shutil.rmtree(out.parent, ignore_errors=True)   # a fresh run with a fresh log, not a resume
    args = ["--data", str(data), "--out", str(out), "--loss", loss, "--precision", precision,
            "--steps", str(steps), "--max-images", "200", "--calib-count", "0", "--val-count", "0",
            "--cache-dir", str(Path(work) / "cache"), "--log-every", "10", "--val-every", str(10 * steps),
            "--ckpt-every-s", "1e9", "--threads", "1"]
    if train.main(args) != 0:
        sys.exit(f"training failed; see {out.parent}")
    recs = [json.loads(x) for x in (out.parent / "ck.jsonl").read_text().splitlines()]
    # training time at every 10th step; differences leave out the first window (warm-up) and validation
    elapsed = [r["elapsed_s"] for r in recs if "s_per_step" in r]
    return float(np.median(np.diff(elapsed))) / 10.0


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=str(SHARED_DATA / "train_mix_v1"))
    p.add_argument("--steps", type=int, default=40, help="per run, at least 30")
    p.add_argument("--rounds", type=int, default=2)
    args = p.parse_args(argv)
    if not Path(args.data).is_dir():
        print(f"SKIP: {args.data} not found (pass --data with a folder of colour photos)")
        return 0
    import torch
    from training.gan.train import cpu_has_native_bf16
    res = {loss: {pr: [] for pr in PRECISIONS} for loss in LOSSES}
    with tempfile.TemporaryDirectory() as work:
        for _ in range(args.rounds):
            for loss in LOSSES:
                for pr in PRECISIONS:
                    res[loss][pr].append(seconds_per_step(args.data, loss, pr, args.steps, work))
    rows, summary = [], {}
    for loss in LOSSES:
        fp32, bf16 = (float(np.median(res[loss][pr])) for pr in PRECISIONS)
        summary[loss] = dict(fp32_s_per_step=fp32, bf16_s_per_step=bf16, speedup=fp32 / bf16, runs=res[loss])
        rows.append([loss, f"{fp32:.3f}", f"{bf16:.3f}", f"{fp32 / bf16:.2f}x"])
    print(f"\ntrainer s/step, batch 16 of 128x128 crops, one torch thread, torch {torch.__version__}, "
          f"native bf16: {cpu_has_native_bf16()}")
    print_table(["loss", "fp32 s/step", "bf16 s/step", "bf16 speed-up"], rows)
    out = out_dir(Path(__file__).resolve().parent / "out")
    save_json(out / "train_speed.json", dict(steps=args.steps, rounds=args.rounds,
                                             native_bf16=cpu_has_native_bf16(), torch=torch.__version__,
                                             results=summary))
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5, 3.2))
    x = np.arange(len(LOSSES))
    for k, pr in enumerate(PRECISIONS):
        ax.bar(x + (k - 0.5) * 0.38, [summary[loss][f"{pr}_s_per_step"] for loss in LOSSES], 0.38, label=pr)
    ax.set_xticks(x, LOSSES)
    ax.set_ylabel("s per training step")
    ax.set_title("gan trainer, one CPU thread")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "train_speed.png", dpi=110)
    print(f"wrote {out / 'train_speed.json'}, {out / 'train_speed.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
