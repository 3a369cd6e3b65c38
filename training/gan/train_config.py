"""Command line of the `gan` trainer (training/gan/train.py): every training setting, with its help."""
from __future__ import annotations

import argparse

from training.aging import DEFAULT_RECIPE, RECIPES

from .data import SPLIT_SCHEMES


def parse_args(argv, doc: str = ""):
    p = argparse.ArgumentParser(prog="colorcore train gan", description=doc,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True, action="append",
                   help="folder of colour photos (searched recursively); give it several times to train on "
                        "several roots: their top-level folders are the sources (groups)")
    p.add_argument("--val", default=None, help="validation folder (default: a held-out part of --data)")
    p.add_argument("--out", required=True, help="training checkpoint path; logs/samples go beside it")
    p.add_argument("--loss", choices=["gan", "mse"], default="gan",
                   help="gan: L1 + adversarial (pix2pix); mse: plain L2 encoder-decoder baseline")
    p.add_argument("--task", choices=["auto", "partial", "hints"], default="auto",
                   help="partial: the generator also gets a region mask (random selections, "
                        "training/gan/masks.py) and the discriminator judges the masked colours; hints: it gets "
                        "sparse colour hints, points and strokes drawn from the photo (training/gan/hint_simulation.py)")
    p.add_argument("--init", default=None,
                   help="shipped generator weights, or a training checkpoint (then its discriminator too), "
                        "to start from (a fresh run only); input channels the weights lack (the mask) start "
                        "at zero, so training starts from that model")
    p.add_argument("--hint-recolour", type=float, default=0.0,
                   help="hints: the share of photos with hints whose true and hint colours are turned by one random "
                        "hue angle and chroma scale (training/gan/hint_simulation.py, recolour), so that only the hints "
                        "tell their colours")
    p.add_argument("--hint-spread", default="",
                   help="hints: comma-separated box radii (px at the crop size, e.g. 3,12,48): the generator also "
                        "sees the hints spread over those ranges (nets.hint_spread); added to a generator started "
                        "with --init at zero weight")
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
    p.add_argument("--val-per-source", type=int, default=None,
                   help="hold out this many photos of every source for validation (fixed: photographs in SHA-1 "
                        "order), instead of --val-count overall. The split must be given: this and "
                        "--calib-per-source, or --val-count and --calib-count")
    p.add_argument("--calib-per-source", type=int, default=None,
                   help="hold out this many photos of every source for calibration, instead of --calib-count")
    p.add_argument("--split-by", choices=list(SPLIT_SCHEMES), default="photo",
                   help="photo: the tiles of one photograph and exact copies of a photo stay on one side of the "
                        "split (data.split); path: every file on its own by the SHA-1 of its path, the split every "
                        "shipped model trained with (--val-per-source 40 --calib-per-source 60: continue those "
                        "with it, or their held-out photos reach training). Either way, validation and "
                        "calibration photos that repeat a photograph, a file or a thumbnail of an earlier side "
                        "are left out (data.hygiene)")
    p.add_argument("--audit", action="store_true",
                   help="never sample near-gray or single-tint (sepia) training photos (data.colourless)")
    p.add_argument("--dropout", type=float, default=0.5)
    p.add_argument("--lr", type=float, default=2e-4)
    p.add_argument("--lambda-l1", type=float, default=100.0)
    p.add_argument("--lambda-adv", type=float, default=1.0)
    p.add_argument("--age-prob", type=float, default=0.0,
                   help="share of training photos whose input lightness is aged like an old print (training/aging.py), "
                        "the colours to learn kept: the network and its error head learn old prints' inputs "
                        "(training/gan/aged_inputs.py); 0 = off")
    p.add_argument("--age-recipe", default=DEFAULT_RECIPE, choices=sorted(RECIPES),
                   help="training.aging's recipe for --age-prob")
    p.add_argument("--rebalance", type=float, default=0.5,
                   help="exponent of the Zhang et al. class-rebalancing weights on the L1 term (0 = off)")
    p.add_argument("--calib-count", type=int, default=None,
                   help="images held out for conformal calibration, over all sources (instead of --calib-per-source)")
    p.add_argument("--val-count", type=int, default=None,
                   help="validation images over all sources (instead of --val-per-source); with --val, how many "
                        "of that folder (default 100)")
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
    args = p.parse_args(argv)
    # an implicit split is refused by the trainer (train_data.prepare_data: split_problem), after the other checks
    if args.val and args.val_count is None:
        args.val_count = 100
    return args


SPLIT_HELP = ("give the held-out split explicitly: --val-per-source N --calib-per-source M (photos of every source, "
              "e.g. --val-per-source 40 --calib-per-source 60, the shipped models' split with --split-by path), or "
              "--val-count N --calib-count M over all photos")


def split_problem(args) -> str | None:
    """Why the split the command line asks for is not explicit (None when it is): nothing is held out by a
    default any more (there was a global 300/100 split when the per-source flags were left out)."""
    per_source = args.calib_per_source is not None and (args.val_per_source is not None or args.val)
    overall = args.calib_count is not None and (args.val_count is not None or args.val)
    mixed = (args.calib_per_source is not None or args.val_per_source is not None) and \
        (args.calib_count is not None or (args.val_count is not None and not args.val))
    if mixed:
        return "give the split per source or overall, not both; " + SPLIT_HELP
    if not (per_source or overall):
        return SPLIT_HELP
    return None
