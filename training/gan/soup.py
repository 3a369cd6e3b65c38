"""Average the weights of several shipped generators of one lineage (a "model soup", Wortsman et al. 2022).

    python -m training.gan.soup OUT.pt A.pt B.pt [...] [--mix 0.5,0.3,0.2]

Snapshots of one run (a model and its continuation) lie in one basin of the loss, so the mean of their weights
is a model about as good as the mean of their predictions, at the cost of one. Measured here on the 280
validation photos, at 0.80x colourfulness: `gan` v3 23.40 dB, its 125-minute continuation 23.34, the mean of their
predictions 23.54, the soup of the two 23.53 (backends/gan/MODEL_CARD.md). Networks fine-tuned from one another
mix too: `partial-gan` (started from `gan`, plus a mask channel) with the `gan` it started from. The networks
must share one config apart from their input channels; the soup has the first one's (give the widest first),
and input channels a snapshot lacks count as zero weights, as they started when it was fine-tuned
(weights_io.widen_stem). --mix weights the snapshots (default: equal). The JSON beside OUT is the first one's,
with the ingredients recorded and its postprocess dropped (tune again).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def soup(paths, out, mix=None):
    import torch
    from .weights_io import save_weights
    from .weights_io import widen_stem
    mix = [1.0 / len(paths)] * len(paths) if mix is None else [float(m) for m in mix]
    if len(mix) != len(paths) or min(mix) < 0 or abs(sum(mix) - 1.0) > 1e-6:
        raise SystemExit(f"soup: --mix needs {len(paths)} non-negative weights that sum to 1; got {mix}")
    metas = [json.loads(Path(p).with_suffix(".json").read_text()) for p in paths]
    shape_free = [{k: v for k, v in m["generator"].items() if k != "in_ch"} for m in metas]
    if any(c != shape_free[0] for c in shape_free) or any(m["generator"].get("in_ch", 1) >
                                                         metas[0]["generator"].get("in_ch", 1) for m in metas):
        raise SystemExit("soup: the generators differ in their config (or a later one has more input channels "
                         "than the first); only snapshots of one network mix")
    sds = [torch.load(p, map_location="cpu", weights_only=True) for p in paths]
    first = sds[0]
    mean = {k: sum(w * widen_stem(k, sd[k].float(), v.shape) for w, sd in zip(mix, sds))
            if v.is_floating_point() else v for k, v in first.items()}
    meta = {k: v for k, v in metas[0].items() if k not in ("generator", "postprocess")}
    meta["soup"] = [{"weights": str(p), "share": round(w, 4), "step": m.get("step"),
                     "train_seconds": m.get("train_seconds")} for p, w, m in zip(paths, mix, metas)]
    return save_weights(mean, metas[0]["generator"], out, meta)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("out")
    p.add_argument("weights", nargs="+", help="shipped generator weights (.pt with its .json beside it)")
    p.add_argument("--mix", default=None, help="comma-separated shares, one per snapshot, summing to 1")
    args = p.parse_args(argv)
    if len(args.weights) < 2:
        p.error("a soup needs at least two snapshots")
    print(soup(args.weights, args.out, args.mix.split(",") if args.mix else None))
    return 0


if __name__ == "__main__":
    sys.exit(main())
