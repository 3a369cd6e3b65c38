"""Losses of the `gan` trainer: Zhang et al. class rebalancing of the L1 term, least-squares GAN terms
(pix2pix with LSGAN), and the error-scale head's likelihood."""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F


def ab_prior_weights(cache, gamma=0.5, bins=22, sigma=0.5, seed=0):
    """Zhang et al. 2016 rebalancing weights on a bins x bins grid over ab in [-110, 110]."""
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
    bins = w.shape[0]
    q = ((ab + 110.0) / (220.0 / bins)).long().clamp(0, bins - 1)
    ww = w.to(ab.device)[q[:, 0], q[:, 1]]
    return (ww ** beta).unsqueeze(1)


def discriminator_loss(d_real, d_fake):
    """LSGAN: real patches towards 1, generated ones towards 0."""
    return 0.5 * (F.mse_loss(d_real, torch.ones_like(d_real)) + F.mse_loss(d_fake, torch.zeros_like(d_fake)))


def adversarial_loss(d_fake):
    """LSGAN generator term: its patches judged real."""
    return F.mse_loss(d_fake, torch.ones_like(d_fake))


def error_scale_nll(diff, logs):
    """Exponential NLL of the (detached) ab error norm under the predicted scale exp(logs): its minimiser is
    E|error|, the raw uncertainty score's first term."""
    return scale_nll(error_norm(diff.detach()), logs)


def error_norm(diff):
    """|ab error| (N, 1, H, W) of an ab difference (N, 2, H, W)."""
    return (diff ** 2).sum(1, keepdim=True).add(1e-8).sqrt()


def scale_nll(e, logs):
    """Exponential NLL of the error norm e under the predicted scale exp(logs)."""
    logs = logs.float()
    return (logs + e.float() * torch.exp(-logs)).mean()
