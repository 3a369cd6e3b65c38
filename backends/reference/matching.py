"""Dense semantic correspondence between the gray photo and the reference, on the `gan` encoder's features.

Both lightness images go through the encoder the `gan` generator ships (EfficientNet-Lite0, fine-tuned to
colorize: its features describe what a thing is and how it is lit, from lightness alone). Four levels (strides 4,
8, 16, 32) are brought to one grid (stride 8 at MATCH_SIZE px), each level's vector normalised, so the similarity
of two places is the mean of their cosine similarities at every level: texture and shape from the shallow ones,
what the thing is from the deep ones. A lightness term (Welsh et al. 2002's luminance matching) separates
places that look alike but are lit differently.

Every target cell takes the softmax-weighted mean of the reference cells' colours (temperature `temperature`),
which also gives the spread of the colours it mixed. A cell is confident when its best match is mutual (the
reference cell's best match is it, or a neighbour: mutual nearest neighbours) and similar enough; only those
become hints.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

MATCH_SIZE = 320          # longer side (px) of both images when their features are matched: a 40 x 40 grid
LEVELS = (1, 2, 3, 4)     # encoder taps used: strides 4, 8, 16, 32 (24, 40, 112, 320 channels)
GRID_STRIDE = 8
LIGHTNESS_WEIGHT = 0.4    # similarity lost per 100 L of lightness difference (after matching the tones)


@dataclass
class Matches:
    """Per target grid cell (gh, gw): the matched chroma, its spread, confidence in [0, 1], best similarity."""
    ab: np.ndarray          # (gh, gw, 2) softmax mean of the reference colours
    spread: np.ndarray      # (gh, gw) root mean square distance of the mixed colours from that mean (ab units)
    confidence: np.ndarray  # (gh, gw) in [0, 1]; 0 where the best match is not mutual
    similarity: np.ndarray  # (gh, gw) best similarity in [-1, 1]


def grid_size(h, w, size=MATCH_SIZE, multiple=32):
    """(gh, gw) and the padded-free work size (h', w') rounded to the encoder's stride."""
    s = size / max(h, w)
    hh = max(multiple, round(h * s / multiple) * multiple)
    ww = max(multiple, round(w * s / multiple) * multiple)
    return (hh // GRID_STRIDE, ww // GRID_STRIDE), (hh, ww)


def features(encoder, L):
    """L (H, W) in 0..100 -> (gh * gw, C) unit-normalised multi-level features, and the grid shape."""
    import torch
    import torch.nn.functional as F
    (gh, gw), (hh, ww) = grid_size(*L.shape)
    L_w = cv2.resize(np.ascontiguousarray(L, np.float32), (ww, hh), interpolation=cv2.INTER_AREA)
    with torch.inference_mode():
        x = torch.from_numpy(L_w)[None, None] / 50.0 - 1.0
        taps = encoder(x)
        parts = []
        for i in LEVELS:
            f = taps[i]
            f = F.adaptive_avg_pool2d(f, (gh, gw)) if f.shape[-1] > gw else \
                F.interpolate(f, size=(gh, gw), mode="bilinear", align_corners=False)
            parts.append(F.normalize(f, dim=1) / np.sqrt(len(LEVELS)))
        feat = torch.cat(parts, 1)[0].reshape(-1, gh * gw).T.contiguous()
    return feat.numpy(), (gh, gw)


def cell_means(values, grid):
    """values (H, W[, C]) area-averaged onto the grid (gh, gw)."""
    gh, gw = grid
    return cv2.resize(np.ascontiguousarray(values, np.float32), (gw, gh), interpolation=cv2.INTER_AREA)


def tone_matched(L_ref, L_tgt, weight_ref=None):
    """L_ref's tones moved to L_tgt's mean and spread (the reference may be lit or exposed otherwise)."""
    w = np.ones_like(L_ref) if weight_ref is None else weight_ref
    m_r = float((L_ref * w).sum() / max(w.sum(), 1e-6))
    s_r = float(np.sqrt((((L_ref - m_r) ** 2) * w).sum() / max(w.sum(), 1e-6)))
    m_t, s_t = float(L_tgt.mean()), float(L_tgt.std())
    return (L_ref - m_r) * (s_t / max(s_r, 1e-3)) + m_t


def match(encoder, L_tgt, L_ref, ab_ref, alpha_ref, temperature=0.03, mutual_radius=1):
    """Semantic matches of the target's cells in the reference (see the module's docstring)."""
    f_t, g_t = features(encoder, L_tgt)
    f_r, g_r = features(encoder, L_ref)
    usable = cell_means(alpha_ref, g_r).ravel() > 0.5          # transparent reference cells lend nothing
    ab_r = cell_means(ab_ref * alpha_ref[..., None], g_r).reshape(-1, 2) / \
        np.maximum(cell_means(alpha_ref, g_r).reshape(-1, 1), 1e-6)
    Lt = cell_means(L_tgt, g_t).ravel()
    Lr = cell_means(tone_matched(L_ref, L_tgt, alpha_ref), g_r).ravel()
    sim = f_t @ f_r.T - LIGHTNESS_WEIGHT * np.abs(Lt[:, None] - Lr[None, :]) / 100.0
    sim[:, ~usable] = -np.inf
    best_r = np.argmax(sim, axis=1)
    best_s = sim[np.arange(len(best_r)), best_r]
    logits = (sim - best_s[:, None]) / temperature
    p = np.exp(logits)
    p /= p.sum(axis=1, keepdims=True)
    ab = p @ ab_r
    spread = np.sqrt(np.maximum(p @ (ab_r ** 2).sum(1) - (ab ** 2).sum(1), 0.0))
    # mutual nearest neighbours: the reference cell's own best target cell lies within mutual_radius cells
    back = np.argmax(np.where(usable[None, :], sim, -np.inf), axis=0)   # best target cell of each reference cell
    t_idx = np.arange(len(best_r))
    ty, tx = np.divmod(t_idx, g_t[1])
    by, bx = np.divmod(back[best_r], g_t[1])
    mutual = (np.abs(ty - by) <= mutual_radius) & (np.abs(tx - bx) <= mutual_radius)
    # confidence: mutual, and how far the best match stands above the typical one (a flat softmax is unsure)
    peak = p.max(axis=1)
    conf = mutual * np.clip(peak * 4.0, 0.0, 1.0)
    gh, gw = g_t
    return Matches(ab=ab.reshape(gh, gw, 2).astype(np.float32), spread=spread.reshape(gh, gw).astype(np.float32),
                   confidence=conf.reshape(gh, gw).astype(np.float32),
                   similarity=best_s.reshape(gh, gw).astype(np.float32))
