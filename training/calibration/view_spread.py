"""An experiment for Auto's score (issue 30): how much the network's test-time views disagree.

Auto's prediction is the mean of four views: the photo and its mirror image, each at the model's size and at 1.2x
(backends/gan/infer.colorize_L with the shipped postprocess's "flip" and "scales"). Where the views disagree, the
network is unsure in a way its error head may not see, and a degraded input (grain, JPEG, a halftone screen)
might make them disagree more. view_spread gives the root mean square distance (ab units) of the views from their
mean, per pixel at the photo's size (upsampled as the score is); training.calibration.auto_samples stores it with
the score, and training.calibration.auto_score_variants tries score + w * spread.
"""
from __future__ import annotations

import cv2
import numpy as np
import torch

from backends.gan import infer
from backends.gan.nets import run_generator


def view_spread(G, L_full: np.ndarray, size: int, post: dict | None) -> np.ndarray:
    """(H, W) float32: the RMS distance of the prediction's views (each scale of the postprocess, the photo and
    its mirror image when it flips) from their mean, before the chroma gain, on the grid of the largest scale."""
    H, W = L_full.shape
    sizes = infer.scale_sizes(size, post)
    multiple = getattr(G, "multiple", 1)
    grid = infer.work_size(H, W, max(sizes), multiple)
    views = []
    with torch.inference_mode(), infer.on_threads_for(grid):
        for s in sizes:
            hw = infer.work_size(H, W, s, multiple)
            L = torch.from_numpy(np.ascontiguousarray(infer.resized(L_full, hw), np.float32))[None, None]
            batch = torch.cat([L, L.flip(-1)]) if post and post.get("flip") else L
            ab, _ = run_generator(G, batch)
            if post and post.get("flip"):
                ab = torch.cat([ab[:1], ab[1:].flip(-1)])
            for v in ab:
                views.append(infer.resized(v.permute(1, 2, 0).numpy().astype(np.float32), grid))
    views = np.stack(views)
    spread = np.sqrt(((views - views.mean(0)) ** 2).sum(-1).mean(0)).astype(np.float32)
    return spread if grid == (H, W) else np.maximum(cv2.resize(spread, (W, H), interpolation=cv2.INTER_LINEAR), 0)
