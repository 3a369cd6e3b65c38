"""Motion between frames, and what can be carried along it: optical flow on the lightness, warping,
where the flow can be trusted (occlusions, scene cuts), hole filling, and the warping error of Lai et al.

Flow convention, everywhere here: `flow` for frame t is *backward*: the pixel p of frame t shows what
frame t-1 shows at p + flow(p) (x first). Warping frame t-1 with it gives frame t's view of it.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from . import color

FLOW_MAX_SIDE = 512   # flow is estimated at most this large (then scaled up): motion is smooth, DIS cost is not


@dataclass(frozen=True)
class Motion:
    """Frame t against frame t-1: the backward flow, a soft trust weight (H, W) in [0, 1] (0 where occluded,
    out of view or inconsistent), and whether t starts a new scene."""

    flow: np.ndarray
    weight: np.ndarray
    reliable: float       # fraction of pixels whose flow passed every check
    residual: float       # median |L_t - warped L_{t-1}| (L units) on the pixels in view
    cut: bool


@dataclass(frozen=True)
class MotionSettings:
    fb_alpha: float = 0.01      # forward-backward check (Sundaram et al. 2010): |f + b|^2 <= a(|f|^2 + |b|^2) + b
    fb_beta: float = 0.5
    photometric: float = 8.0    # L units: a warped pixel further from the frame's own lightness is occluded
    feather: float = 2.0        # px: soft edge of the trust weight, so carried and fresh colour meet without seam
    cut_unreliable: float = 0.1  # a frame with less than this fraction of trusted pixels starts a new scene
    cut_residual: float = 12.0   # ... and so does one whose median warped lightness error (L units) is above this


class FlowEstimator:
    """DIS optical flow (Kroeger et al. 2016, OpenCV) on 8-bit lightness; one instance per clip (it is reused)."""

    def __init__(self, preset=cv2.DISOPTICAL_FLOW_PRESET_MEDIUM):
        self._dis = cv2.DISOpticalFlow_create(preset)

    def __call__(self, L_to, L_from):
        """Backward flow from L_to (frame t) into L_from (frame t-1); both (H, W) lightness in [0, 100]."""
        H, W = L_to.shape
        s = min(1.0, FLOW_MAX_SIDE / max(H, W))
        a, b = (_gray8(L) if s == 1 else cv2.resize(_gray8(L), (max(8, round(W * s)), max(8, round(H * s))),
                                                      interpolation=cv2.INTER_AREA) for L in (L_to, L_from))
        flow = self._dis.calc(a, b, None)
        if s < 1:
            flow = cv2.resize(flow, (W, H), interpolation=cv2.INTER_LINEAR) * np.float32(1 / s)
        return flow


def _gray8(L):
    return np.clip(np.asarray(L, np.float32) * 2.55 + 0.5, 0, 255).astype(np.uint8)


def _maps(flow):
    H, W = flow.shape[:2]
    gx, gy = np.meshgrid(np.arange(W, dtype=np.float32), np.arange(H, dtype=np.float32))
    return gx + flow[..., 0], gy + flow[..., 1]


def warp(image, flow, nearest=False):
    """Sample `image` (frame t-1's, (H, W) or (H, W, C)) at p + flow(p): its content moved to frame t."""
    mx, my = _maps(flow)
    return cv2.remap(np.ascontiguousarray(image), mx, my, cv2.INTER_NEAREST if nearest else cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_REPLICATE)


def in_view(flow):
    """(H, W) bool: p + flow(p) lies inside the previous frame (what entered at the border is not)."""
    mx, my = _maps(flow)
    H, W = flow.shape[:2]
    return (mx >= 0) & (mx <= W - 1) & (my >= 0) & (my <= H - 1)


def motion(L_t, L_prev, estimate, settings=MotionSettings()) -> Motion:
    """Flow from frame t to t-1 and where to trust it: in view, forward-backward consistent, and the warped
    lightness close to the frame's own after removing a global lightness change (a fade is no occlusion)."""
    back = estimate(L_t, L_prev)
    fwd = estimate(L_prev, L_t)
    fwd_at = warp(fwd, back)
    s = settings
    gap = np.sum((back + fwd_at) ** 2, axis=2)
    fb_ok = gap <= s.fb_alpha * (np.sum(back ** 2, axis=2) + np.sum(fwd_at ** 2, axis=2)) + s.fb_beta
    inside = in_view(back)
    diff = L_t - warp(L_prev, back)
    shift = float(np.median(diff[inside])) if inside.any() else 0.0
    err = np.abs(diff - shift)
    residual = float(np.median(err[inside])) if inside.any() else float("inf")
    valid = inside & fb_ok & (err <= s.photometric)
    reliable = float(valid.mean())
    cut = reliable < s.cut_unreliable or residual > s.cut_residual
    weight = valid.astype(np.float32)
    if s.feather > 0 and not cut:   # 0 on the edge of the trusted area, 1 a few px inside it
        weight *= np.clip(cv2.GaussianBlur(weight, (0, 0), s.feather) * 2.0 - 1.0, 0.0, 1.0)
    return Motion(flow=back, weight=np.zeros_like(weight) if cut else weight, reliable=reliable,
                  residual=residual, cut=cut)


def fill(values, weight):
    """Pull-push hole filling: `values` (H, W, C) known with confidence `weight` (H, W) in [0, 1]; returns
    weight * values + (1 - weight) * (the weighted average of the known values around, at the scale needed)."""
    num = values * weight[..., None]
    return _pull_push(num.astype(np.float32), weight.astype(np.float32))


def _pull_push(num, den):
    H, W = den.shape
    if min(H, W) <= 2 or den.min() >= 1.0:
        total = den.sum()
        mean = num.reshape(-1, num.shape[2]).sum(0) / total if total > 0 else np.zeros(num.shape[2], np.float32)
        return (num + (1.0 - den)[..., None] * mean).astype(np.float32)
    size = (max(1, (W + 1) // 2), max(1, (H + 1) // 2))
    coarse = _pull_push(cv2.resize(num, size, interpolation=cv2.INTER_AREA).reshape(size[1], size[0], -1),
                        cv2.resize(den, size, interpolation=cv2.INTER_AREA))
    up = cv2.resize(coarse, (W, H), interpolation=cv2.INTER_LINEAR).reshape(H, W, -1)
    return (num + (1.0 - den)[..., None] * up).astype(np.float32)


def pair_warping_error(prev, cur, flow, valid):
    """Mean squared difference (over valid pixels and the 3 channels) of frame t and frame t-1 warped to t."""
    valid = np.asarray(valid, bool)
    if not valid.any():
        return float("nan")
    d = np.asarray(cur, np.float32) - warp(np.asarray(prev, np.float32), flow)
    return float(np.mean(d[valid] ** 2))


def warping_error(frames, flows=None, valid_masks=None):
    """Warping error of Lai et al. (2018, "Learning Blind Video Temporal Consistency"): the mean over
    consecutive pairs of the mean squared RGB difference (values in [0, 1]) between output t and output t-1
    warped to t along the flow, on non-occluded pixels only.

    frames: (N, H, W, 3) outputs. flows: N-1 backward flows (flows[t-1] maps frame t into frame t-1, see the
    module doc), e.g. the exact motion of a synthetic clip; None estimates them on the frames' lightness (the
    input's, since colorization keeps it). valid_masks: N-1 (H, W) bool masks of non-occluded pixels; None
    uses the pixels whose flow stays in view (given flows) or the forward-backward check (estimated flows)."""
    frames = np.asarray(frames, np.float32)
    if frames.ndim != 4 or len(frames) < 2:
        raise ValueError(f"warping_error needs (N >= 2, H, W, 3) frames; got shape {frames.shape}")
    errors = []
    estimate = FlowEstimator() if flows is None else None
    L_prev = color.lightness(frames[0]) if flows is None else None
    for t in range(1, len(frames)):
        if flows is None:
            L_t = color.lightness(frames[t])
            m = motion(L_t, L_prev, estimate, MotionSettings(feather=0, cut_unreliable=0, cut_residual=np.inf))
            flow, valid, L_prev = m.flow, m.weight > 0, L_t
        else:
            flow = np.asarray(flows[t - 1], np.float32)
            valid = in_view(flow)
        if valid_masks is not None:
            valid = np.asarray(valid_masks[t - 1], bool)
        errors.append(pair_warping_error(frames[t - 1], frames[t], flow, valid))
    errors = [e for e in errors if np.isfinite(e)]
    return float(np.mean(errors)) if errors else float("nan")
