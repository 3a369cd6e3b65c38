"""Inference for the `gan` backend: load shipped weights, predict chroma at <= 512 px, guided
upsampling to full resolution, and a raw uncertainty score.

Raw score (Delta E_ab units, before conformal calibration) = sqrt(s_head^2 + s_drop^2) + c |ab|:
s_head is the generator's predicted expected chroma error (its error-scale head), s_drop the
spread of `samples` dropout samples around the deterministic prediction, and c |ab| (with "score_chroma": c in
the postprocess, chosen by training.calibration.gan) a share of the predicted chroma (see chroma_weighted).
With "flip": true in the weights' postprocess, the deterministic prediction is the mean of the photo's and its
mirror image's (mirrored back): a test-time ensemble of two views, tuned and calibrated with it (training.gan.tune).
With "scales" (factors of the size), it is also the mean of the predictions at those sizes. Each size is rounded
per side to the generator's stride (work_size), so the network never sees padding.
"""
from __future__ import annotations

import json
import threading
from contextlib import contextmanager
from pathlib import Path

import cv2
import numpy as np
import torch

from torch import nn

from .nets import AB_SCALE, build_generator, dropout_samples, run_generator

_MODELS: dict = {}   # (path, mtime) -> generator, most recently used last
MAX_MODELS = 4       # every built-in generator at once (about 20 MB each): the warm engine switches for free
_LOAD_LOCK = threading.Lock()


def load_generator(weights_path) -> nn.Module:
    """Build the generator from the JSON beside the weights and load them with weights_only=True; one load at a
    time (the warm engine's preload and a job may ask for the same weights at once: loaded once, not twice)."""
    with _LOAD_LOCK:
        return _load_generator(Path(weights_path))


def _load_generator(weights_path: Path) -> nn.Module:
    key = (str(weights_path.resolve()), weights_path.stat().st_mtime)
    if key in _MODELS:
        _MODELS[key] = _MODELS.pop(key)
        return _MODELS[key]
    meta = json.loads(weights_path.with_suffix(".json").read_text())
    G = build_generator(meta["generator"])
    sd = torch.load(weights_path, map_location="cpu", weights_only=True)
    G.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in sd.items()})
    G.eval()
    # channels-last weights: oneDNN's convolutions on this layout take 0.8x the time on the CPU (a 1 MP Auto run
    # 0.26 -> 0.22 s of network time), within 5e-5 ab of the default layout; dropout draws its masks in the
    # default layout (nets.Up), so the samples are the same ones
    G.to(memory_format=torch.channels_last)
    for old in [k for k in _MODELS if k[0] == key[0]] + list(_MODELS)[:max(0, len(_MODELS) - MAX_MODELS + 1)]:
        _MODELS.pop(old, None)   # an older version of the same file, and the least recently used
    _MODELS[key] = G
    return G


SCORE_CHROMA = "score_chroma"   # postprocess key: the share c of the predicted |ab| in the score (chroma_weighted)
LEGACY_SIZE = 128   # weights that record no size: the first models, trained on 128 px crops of 144 px scenes


def native_size(weights_path) -> int:
    """The longer side (px) the weights predict colours at by default: the whole-photo scale they were trained
    at, recorded as "size" in the JSON beside them (LEGACY_SIZE when absent or when there is no JSON)."""
    meta = Path(weights_path).with_suffix(".json")
    size = json.loads(meta.read_text()).get("size") if meta.is_file() else None
    return int(size) if size else LEGACY_SIZE


def work_size(h: int, w: int, size: int, multiple: int = 1) -> tuple[int, int]:
    """Processing size: longer side = size, aspect kept (at least 8 px a side); with `multiple` (the generator's
    total stride, G.multiple), each side is rounded to the nearest multiple of it instead (at least one). The
    network then sees the whole photo, slightly stretched, rather than the photo plus a strip of replicated border
    it never saw in training: at the 176 px used up to gan v5 that strip cost 0.1-0.2 dB against 160 or 192 px
    (backends/gan/MODEL_CARD.md, v6)."""
    s = size / max(h, w)
    if multiple > 1:
        return (max(multiple, round(h * s / multiple) * multiple), max(multiple, round(w * s / multiple) * multiple))
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


def _as_tensors(L_lo: np.ndarray, mask_lo: np.ndarray | None):
    L = torch.from_numpy(np.ascontiguousarray(L_lo, np.float32))[None, None]
    if mask_lo is None:
        return L, None
    m = torch.from_numpy(np.ascontiguousarray(mask_lo, np.float32))
    return L, (m[None, None] if m.ndim == 2 else m[None])


def _shrink_of(post: dict | None):
    return (post.get("gain", 1.0), post.get("tau", 0.0)) if post else None


ONE_THREAD_PIXELS = 256 * 256   # network inputs up to this size run on one thread (see on_threads_for)


@contextmanager
def on_threads_for(hw):
    """torch on one thread for a network input of at most ONE_THREAD_PIXELS, else on the engine's count. The
    engine's OpenMP threads wait passively (colorcore.threads), and waking them costs more than they save on the
    many small convolutions of a 160 px input: a 1 MP Auto run's network time, 2 threads 0.31-0.62 s, 1 thread
    0.28-0.35 s, alternately on the idle 2-core machine. The rule follows the size alone, so a photo comes out the
    same however busy the machine is."""
    n = torch.get_num_threads()
    if hw[0] * hw[1] > ONE_THREAD_PIXELS or n == 1:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(n)


def mean_prediction(G: nn.Module, L_lo: np.ndarray, post: dict | None = None, mask_lo: np.ndarray | None = None):
    """The deterministic prediction at L_lo's size, before the chroma gain (flip-averaged if the postprocess
    says so): ab (h, w, 2) and the error-scale head s_head (h, w) in ab units."""
    with torch.inference_mode(), on_threads_for(L_lo.shape[:2]):
        L, m = _as_tensors(L_lo, mask_lo)
        ab, logs = mirrored_mean(G, L, m) if post and post.get("flip") else run_generator(G, L, m)
        ab, s_head = ab[0], torch.exp(logs[0, 0]) * AB_SCALE
    return ab.permute(1, 2, 0).numpy().astype(np.float32), s_head.numpy().astype(np.float32)


def postprocessed(ab: np.ndarray, s_head: np.ndarray, post: dict | None) -> np.ndarray:
    """ab (h, w, 2) after the postprocess's chroma gain and shrink."""
    shrink = _shrink_of(post)
    return shrink_chroma(ab, s_head[..., None], *shrink).astype(np.float32) if shrink else ab


def dropout_variance(G: nn.Module, L_lo: np.ndarray, ab: np.ndarray, samples: int, seed: int | None = 0,
                     post: dict | None = None, mask_lo: np.ndarray | None = None) -> np.ndarray:
    """Mean squared distance (h, w) of `samples` dropout samples from the prediction ab (h, w, 2)."""
    with torch.inference_mode(), on_threads_for(L_lo.shape[:2]):
        L, m = _as_tensors(L_lo, mask_lo)
        centre = torch.from_numpy(np.ascontiguousarray(ab.transpose(2, 0, 1)))[None]
        shrink = _shrink_of(post)
        var = torch.zeros(L.shape[-2:])
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0 if seed is None else int(seed))
            for o_ab, o_logs in dropout_samples(G, L, m, samples):
                if shrink:
                    o_ab = shrink_chroma(o_ab, torch.exp(o_logs) * AB_SCALE, *shrink)
                var += ((o_ab - centre) ** 2).sum(1).sum(0)
    return (var / max(samples, 1)).numpy().astype(np.float32)


def predict_lowres(G: nn.Module, L_lo: np.ndarray, samples: int = 0, seed: int | None = 0, post: dict | None = None,
                   mask_lo: np.ndarray | None = None):
    """L_lo (h, w) in 0..100 [+ the condition: a region mask (h, w) for partial-gan, or (C, h, w) channels such as
    hints] -> ab (h, w, 2), raw score (h, w) in ab units."""
    ab, s_head = mean_prediction(G, L_lo, post, mask_lo)
    ab = postprocessed(ab, s_head, post)
    var = dropout_variance(G, L_lo, ab, samples, seed, post, mask_lo) if samples > 0 else 0.0
    return ab, np.sqrt(s_head ** 2 + var).astype(np.float32)


def chroma_weighted(score: np.ndarray, ab: np.ndarray, weight: float) -> np.ndarray:
    """score + weight * |ab|: a near-gray guess can only be wrong by as much colour as the truth has, a saturated
    one whose hue is wrong by its own chroma and the truth's. The error head learnt its scale on photos the
    generator was trained on, where saturated guesses are mostly right, so it under-weights this; on held-out
    photos adding it ranks the errors better (backends/gan/MODEL_CARD.md, "uncertainty score")."""
    if not weight:
        return score
    chroma = np.square(ab[..., 0])   # |ab| as np.linalg.norm gives it, bit for bit, 17x faster (1 MP: 0.023 s)
    chroma += np.square(ab[..., 1])
    return (score + weight * np.sqrt(chroma, out=chroma)).astype(np.float32)


def resized(a: np.ndarray, hw: tuple[int, int]) -> np.ndarray:
    """a (h, w[, c]) at hw: area-averaged when shrinking, bilinear when enlarging (INTER_AREA enlarges in blocks)."""
    if a.shape[:2] == hw:
        return a
    interp = cv2.INTER_AREA if hw[0] < a.shape[0] else cv2.INTER_LINEAR
    return cv2.resize(a, (hw[1], hw[0]), interpolation=interp)


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


def scale_sizes(size: int, post: dict | None) -> list[int]:
    """The prediction sizes of the postprocess's multi-scale ensemble ("scales": factors of size), else [size]."""
    scales = post.get("scales") if post else None
    return [max(16, round(size * f)) for f in scales] if scales else [size]


def colorize_L(G: nn.Module, L_full: np.ndarray, size: int = 256, samples: int = 8, seed: int | None = 0,
               progress=None, post: dict | None = None, mask: np.ndarray | None = None):
    """Full-resolution L (H, W) [+ region mask (H, W) if the generator takes one] -> ab (H, W, 2), raw score.

    With "scales" in the postprocess, the prediction is the mean of those taken at several sizes (a test-time
    ensemble of views at different scales, each seeing objects at another size), averaged on the grid of the
    largest; the dropout spread is measured at `size` around that mean."""
    H, W = L_full.shape
    sizes = scale_sizes(size, post)
    multiple = getattr(G, "multiple", 1)
    grid = work_size(H, W, max(sizes), multiple)
    mask = None if mask is None else np.asarray(mask, np.float32)
    inputs = {}   # (h, w) -> (L, mask) at that size: each full-resolution resize is done once

    def inputs_at(hw):
        if hw not in inputs:
            inputs[hw] = (resized(L_full, hw), None if mask is None else resized(mask, hw))
        return inputs[hw]
    if progress:
        progress(0.1, "predicting colours")
    views = []
    for s in sizes:
        L_s, mask_s = inputs_at(work_size(H, W, s, multiple))
        ab_s, head_s = mean_prediction(G, L_s, post, mask_s)
        views.append((resized(ab_s, grid), resized(head_s, grid)))
    ab_lo = np.mean([v[0] for v in views], axis=0) if len(views) > 1 else views[0][0]
    s_head = np.mean([v[1] for v in views], axis=0) if len(views) > 1 else views[0][1]
    ab_lo = postprocessed(ab_lo, s_head, post)
    var = 0.0
    if samples > 0:
        hw = work_size(H, W, size, multiple)
        L_n, mask_n = inputs_at(hw)
        var = resized(dropout_variance(G, L_n, resized(ab_lo, hw), samples, seed, post, mask_n), grid)
    score_lo = np.sqrt(s_head ** 2 + var).astype(np.float32)
    weight = post.get(SCORE_CHROMA, 0.0) if post else 0.0
    if progress:
        progress(0.8, "upsampling chroma")
    if grid == (H, W):
        return ab_lo, chroma_weighted(score_lo, ab_lo, weight)
    ab = guided_upsample(inputs_at(grid)[0], ab_lo, L_full)
    score = np.maximum(cv2.resize(score_lo, (W, H), interpolation=cv2.INTER_LINEAR), 0.0)
    return ab, chroma_weighted(score, ab, weight)


def with_vividness(post: dict | None, vividness: float = 1.0) -> dict | None:
    """The postprocess with its chroma gain multiplied by `vividness` (the `vividness` option: 1 = as tuned).
    The gain applies before the dropout spread is measured and before the score's chroma share, so the raw score
    follows the colour shown."""
    if vividness == 1.0:
        return post
    post = dict(post or {"gain": 1.0, "tau": 0.0})
    post["gain"] = float(post.get("gain", 1.0)) * float(vividness)
    return post


def load_postprocess(weights_path) -> dict | None:
    """The chroma post-processing stored in the JSON beside the weights (written by training.gan.tune)."""
    meta = json.loads(Path(weights_path).with_suffix(".json").read_text())
    post = meta.get("postprocess")
    if not post:
        return None
    return {"gain": float(post.get("gain", 1.0)), "tau": float(post.get("tau", 0.0)),
            "flip": bool(post.get("flip", False)), "scales": [float(f) for f in post.get("scales") or []],
            SCORE_CHROMA: float(post.get(SCORE_CHROMA, 0.0))}
