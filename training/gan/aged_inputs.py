"""Training on old prints' inputs: a share of each batch's photos seen with their lightness aged like an old print
(training.aging), the colours to learn kept as they were.

Auto's radius covers aged colourful photos of a kind it never saw least (docs/uncertainty.md: aged flowers left out
0.77-0.79 against 0.87 asked), and no change of its score fixed that: its error head learnt on clean inputs only,
and on a faded one it predicts less error while the error grows. Seeing aged inputs with the true colours, the
network and its error head learn what a faded, grainy, halftoned input leaves unknown (train --age-prob).
"""
from __future__ import annotations

import numpy as np


def aged_lightness(rgb, L, rng, prob: float, recipe: str):
    """L (B, 1, H, W) torch, the lightness of the uint8 batch rgb (B, H, W, 3), with each photo picked with
    probability prob replaced by its lightness aged by training.aging's recipe (drawn from rng). Unpicked photos
    keep their L; with prob 0 nothing is drawn from rng (a run without ageing is as before, bit for bit)."""
    if prob <= 0:
        return L
    import torch
    from colorcore import color
    from training.aging import age
    from training.evaluation import gray_of
    picked = np.flatnonzero(rng.random(len(rgb)) < prob)
    if picked.size == 0:
        return L
    L = L.clone()
    for k in picked:
        aged, _ = age(gray_of(rgb[k].astype(np.float32) / 255.0), rng, recipe_name=recipe)
        L[k, 0] = torch.from_numpy(color.lightness(aged)).to(L.device, L.dtype)
    return L
