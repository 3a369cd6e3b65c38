"""Inference for the `gan` backend: load shipped weights, predict chroma at <= 512 px, guided
upsampling to full resolution, and a raw uncertainty score.

Raw score (Delta E_ab units, before conformal calibration) = sqrt(s_head^2 + s_drop^2):
s_head is the generator's predicted expected chroma error (its error-scale head) and s_drop the
spread of `samples` dropout samples around the deterministic prediction.
With "flip": true in the weights' postprocess, the deterministic prediction is the mean of the photo's and its
mirror image's (mirrored back): a test-time ensemble of two views, tuned and calibrated with it (backends.gan.tune).
"""
from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import torch

from torch import nn

from .nets import AB_SCALE, build_generator, run_generator

_MODELS: dict = {}


def load_generator(weights_path) -> nn.Module:
    """Build the generator from the JSON beside the weights and load them with weights_only=True."""
    weights_path = Path(weights_path)
    key = (str(weights_path.resolve()), weights_path.stat().st_mtime)
    if key in _MODELS:
        return _MODELS[key]
    meta = json.loads(weights_path.with_suffix(".json").read_text())
    G = build_generator(meta["generator"])
    sd = torch.load(weights_path, map_location="cpu", weights_only=True)
    G.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in sd.items()})
    G.eval()
    _MODELS.clear()
    _MODELS[key] = G
    return G


LEGACY_SIZE = 128   # weights that record no size: the first models, trained on 128 px crops of 144 px scenes


def native_size(weights_path) -> int:
    """The longer side (px) the weights predict colours at by default: the whole-photo scale they were trained
    at, recorded as "size" in the JSON beside them (LEGACY_SIZE when absent or when there is no JSON)."""
    meta = Path(weights_path).with_suffix(".json")
    size = json.loads(meta.read_text()).get("size") if meta.is_file() else None
    return int(size) if size else LEGACY_SIZE


def work_size(h: int, w: int, size: int) -> tuple[int, int]:
    """Processing size: longer side = size, aspect kept (at least 8 px a side)."""
    s = size / max(h, w)
    return max(8, round(h * s)), max(8, round(w * s))


def shrink_chroma(ab, s_head, gain: float = 1.0, tau: float = 0.0):
    """Post-processing tuned on the validation split (never on evaluation data): a global chroma gain,
    and optionally a shrink towards gray where the predicted error s_head is large (tau in ab units)."""
    f = gain if tau <= 0 else gain / (1.0 + (s_head / tau) ** 2)
    return ab * f


def mirrored_mean(G: nn.Module, L: torch.Tensor, m: torch.Tensor | None):
    """run_generator's (ab, log error scale), averaged over the photo and its mirror image (mirrored back):
    one batch of two, so the second view costs less than a second call."""
    ab, logs = run_generator(G, torch.cat([L, L.flip(-1)]), None if m is None else torch.cat([m, m.flip(-1)]))
    return (ab[:1] + ab[1:].flip(-1)) / 2, (logs[:1] + logs[1:].flip(-1)) / 2


def predict_lowres(G: nn.Module, L_lo: np.ndarray, samples: int = 0, seed: int | None = 0, post: dict | None = None,
                   mask_lo: np.ndarray | None = None):
    """L_lo (h, w) in 0..100 [+ the condition: a region mask (h, w) for partial-gan, or (C, h, w) channels such as
    hints] -> ab (h, w, 2), raw score (h, w) in ab units."""
    with torch.inference_mode():
        L = torch.from_numpy(np.ascontiguousarray(L_lo, np.float32))[None, None]
        m = None
        if mask_lo is not None:
            m = torch.from_numpy(np.ascontiguousarray(mask_lo, np.float32))
            m = m[None, None] if m.ndim == 2 else m[None]
        ab, logs = mirrored_mean(G, L, m) if post and post.get("flip") else run_generator(G, L, m)
        ab, s_head = ab[0], torch.exp(logs[0, 0]) * AB_SCALE
        shrink = (post.get("gain", 1.0), post.get("tau", 0.0)) if post else None
        if shrink:
            ab = shrink_chroma(ab, s_head, *shrink)
        var = torch.zeros_like(s_head)
        if samples > 0:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(0 if seed is None else int(seed))
                for s0 in range(0, samples, 4):
                    n = min(4, samples - s0)
                    o_ab, o_logs = run_generator(G, L.expand(n, -1, -1, -1), None if m is None else
                                                 m.expand(n, -1, -1, -1), sample=True)
                    if shrink:
                        o_ab = shrink_chroma(o_ab, torch.exp(o_logs) * AB_SCALE, *shrink)
                    var += ((o_ab - ab) ** 2).sum(1).sum(0)
            var /= samples
        score = torch.sqrt(s_head ** 2 + var)
    return ab.permute(1, 2, 0).numpy().astype(np.float32), score.numpy().astype(np.float32)


def _box(x, r):
    return cv2.boxFilter(x, -1, (2 * r + 1, 2 * r + 1), normalize=True, borderType=cv2.BORDER_REFLECT)


def guided_upsample(L_lo: np.ndarray, ab_lo: np.ndarray, L_full: np.ndarray, r: int = 2, eps: float = 2e-3):
    """Fast guided filter (He & Sun 2015): linear coefficients of ab on L fitted at low resolution,
    upsampled bilinearly and applied to the full-resolution L, so chroma edges follow the photo's edges."""
    H, W = L_full.shape
    I = (L_lo / 100.0).astype(np.float32)
    mI = _box(I, r)
    vI = _box(I * I, r) - mI * mI
    out = np.empty((H, W, 2), np.float32)
    If = (L_full / 100.0).astype(np.float32)
    for c in range(2):
        p = np.ascontiguousarray(ab_lo[..., c])
        mp = _box(p, r)
        a = (_box(I * p, r) - mI * mp) / (vI + eps)
        b = mp - a * mI
        A = cv2.resize(_box(a, r), (W, H), interpolation=cv2.INTER_LINEAR)
        B = cv2.resize(_box(b, r), (W, H), interpolation=cv2.INTER_LINEAR)
        out[..., c] = A * If + B
    return out


def colorize_L(G: nn.Module, L_full: np.ndarray, size: int = 256, samples: int = 8, seed: int | None = 0,
               progress=None, post: dict | None = None, mask: np.ndarray | None = None):
    """Full-resolution L (H, W) [+ region mask (H, W) if the generator takes one] -> ab (H, W, 2), raw score."""
    H, W = L_full.shape
    h, w = work_size(H, W, size)
    interp = cv2.INTER_AREA if h < H else cv2.INTER_LINEAR
    small = (lambda a: cv2.resize(a, (w, h), interpolation=interp)) if (h, w) != (H, W) else (lambda a: a)
    L_lo = small(L_full)
    mask_lo = small(np.asarray(mask, np.float32)) if mask is not None else None
    if progress:
        progress(0.1, "predicting colours")
    ab_lo, score_lo = predict_lowres(G, L_lo, samples=samples, seed=seed, post=post, mask_lo=mask_lo)
    if progress:
        progress(0.8, "upsampling chroma")
    if (h, w) == (H, W):
        return ab_lo, score_lo
    ab = guided_upsample(L_lo, ab_lo, L_full)
    score = cv2.resize(score_lo, (W, H), interpolation=cv2.INTER_LINEAR)
    return ab, np.maximum(score, 0.0)


def save_weights(state_dict: dict, generator_config: dict, path, meta: dict | None = None) -> Path:
    """Write shipped weights: fp16 generator state_dict (loadable with weights_only=True) + JSON config."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sd = {k: (v.detach().cpu().half() if v.is_floating_point() else v.detach().cpu()) for k, v in state_dict.items()}
    tmp = path.with_name(path.name + ".tmp")
    torch.save(sd, tmp)
    tmp.replace(path)
    info = {"generator": dict(generator_config)}
    info.update(meta or {})
    path.with_suffix(".json").write_text(json.dumps(info, indent=1) + "\n")
    return path


def load_postprocess(weights_path) -> dict | None:
    """The chroma post-processing stored in the JSON beside the weights (written by backends.gan.tune)."""
    meta = json.loads(Path(weights_path).with_suffix(".json").read_text())
    post = meta.get("postprocess")
    return {"gain": float(post.get("gain", 1.0)), "tau": float(post.get("tau", 0.0)),
            "flip": bool(post.get("flip", False))} if post else None
