"""Average the weights of several shipped generators of one training run (a "model soup", Wortsman et al. 2022).

    python -m backends.gan.soup OUT.pt A.pt B.pt [...]

Snapshots of one run (a model and its continuation) lie in one basin of the loss, so the mean of their weights
is a model about as good as the mean of their predictions, at the cost of one. Measured here on the 280
validation photos, at 0.80x colourfulness: `gan` v3 23.40 dB, its 125-minute continuation 23.34, the mean of their
predictions 23.54, the soup of the two 23.53 (backends/gan/MODEL_CARD.md). The networks must share one config;
the JSON beside OUT is the first one's, with the ingredients recorded and its postprocess dropped (tune again).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path


def soup(paths, out):
    import torch
    from .infer import save_weights
    metas = [json.loads(Path(p).with_suffix(".json").read_text()) for p in paths]
    if any(m["generator"] != metas[0]["generator"] for m in metas):
        raise SystemExit("soup: the generators differ in their config; only snapshots of one network mix")
    sds = [torch.load(p, map_location="cpu", weights_only=True) for p in paths]
    mean = {k: sum(sd[k].float() for sd in sds) / len(sds) if v.is_floating_point() else v
            for k, v in sds[-1].items()}
    meta = {k: v for k, v in metas[0].items() if k not in ("generator", "postprocess")}
    meta["soup"] = [{"weights": Path(p).name, "step": m.get("step"), "train_seconds": m.get("train_seconds")}
                    for p, m in zip(paths, metas)]
    return save_weights(mean, metas[0]["generator"], out, meta)


if __name__ == "__main__":
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    print(soup(sys.argv[2:], sys.argv[1]))
