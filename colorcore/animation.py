"""Colorize an animation so that colour follows the motion instead of being guessed anew in every frame.

    clip = read_frames("in.gif")
    rgb, uncertainty, info = colorize_clip(clip, "gan")
    write_frames(rgb, "out.gif"); write_frames(uncertainty, "out-uncertainty.gif")

How (frame t after frame t-1): optical flow on the lightness says where each pixel was; the previous output's
chroma (ab) is carried along it where the flow is trusted, the backend's own prediction for frame t fills what
the flow cannot explain (new content, occlusions), and a scene cut starts afresh. The backend runs on *key*
frames: the first, each cut, and then every `key_interval` frames or as soon as more than `new_content` of the
frame holds colour guessed from its neighbours (between key frames, holes are filled from the colour around
them). Pixels that did not change at all (a repeated frame, the still part of a cinemagraph) keep the previous
output exactly, and a wholly repeated frame does not run the backend. Each frame's own lightness is always put
back, so tones never change.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import cv2
import numpy as np

from . import color
from .contract import ColorizeRequest
from .errors import InvalidRequest
from .frames import Clip, clip_from_frames, read_frames, write_frames
from .imageio import uncertainty_scale
from .pipeline import run_backend
from .progress import no_progress
from .protocol import DEFAULT_ALPHA
from .temporal import FlowEstimator, MotionSettings, fill, motion, warp, warping_error

__all__ = ["Clip", "ConsistencySettings", "clip_from_frames", "colorize_clip", "read_frames", "write_frames",
           "warping_error"]


@dataclass(frozen=True)
class ConsistencySettings:
    """How strongly colour follows the motion, and how often the backend is asked again."""

    carry: float = 0.8         # weight of the carried colour where the flow is trusted (1: it is kept as it is);
    #                            bench/animation.py: 0.8 keeps PSNR within 0.2 dB of frame by frame, 1.0 does not
    key_interval: int = 4      # the backend runs at least every this many frames (1: on every frame); bench:
    #                            4 gives the same warping error and PSNR as 1 with about half the backend runs
    new_content: float = 0.2   # ... and as soon as this fraction of a frame holds colour guessed from neighbours
    # (bench/animation.py: 0.05 ran the backend on every frame of real 15 frames/s footage, 2.4 frames/s; 0.2
    # gave the same warping error and PSNR within 0.01 dB at 5.4 frames/s, and 8.3 instead of 4.3 on the photos)
    motion: MotionSettings = field(default_factory=MotionSettings)


def _resolve(backend, mode, scribbles_given):
    if backend is None or isinstance(backend, str):
        from .plugins import load_registry
        from .selection import pick_backend
        return pick_backend(load_registry(), backend, mode, scribbles_given)
    return backend


def _per_frame(value, n, shape, channels, what):
    """None, one (H, W[, C]) array for every frame (scribbles: for the first frame only), or N of them."""
    if value is None:
        return [None] * n
    arr = np.asarray(value, np.float32)
    one = shape + ((channels,) if channels else ())
    if arr.shape == one:
        return [arr] + [None] * (n - 1) if what == "scribbles" else [arr] * n
    if arr.shape == (n,) + one:
        return list(arr)
    raise InvalidRequest(f"{what} must have shape {one} (one for the clip) or {(n,) + one} (one per frame); "
                         f"got {arr.shape}: give them at the frames' size {shape[1]}x{shape[0]}")


def _carry_scribbles(scribbles, flow, weight):
    """Hints move with the content (nearest sample: a hint colour is never blended) and vanish where occluded."""
    moved = warp(scribbles, flow, nearest=True)
    moved[..., 3] *= weight > 0.5
    return moved


def _unchanged(L, L_prev, flow):
    """Pixels whose whole neighbourhood kept its lightness and did not move (a repeated frame, the still part
    of a cinemagraph): they keep the previous output exactly, whatever the backend would guess again."""
    same = (np.abs(L - L_prev) < 0.5) & (np.sum(flow ** 2, axis=2) < 0.25)
    return cv2.erode(same.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)


def _compose(image, L, ab, mask):
    """The frame's own lightness with the chosen chroma; outside a mask, the input pixels untouched."""
    rgb = color.with_lightness(L, ab)
    return rgb if mask is None else np.where(mask[..., None] > 0, rgb, image).astype(np.float32)


def uncertainty_clip(radii, like: Clip):
    """Radii (N, H, W) in Delta E -> a gray clip with `like`'s timing, white = one clip-wide scale (returned)."""
    scale = uncertainty_scale(radii)   # one round value for the clip, as for single images
    gray = np.repeat(np.clip(radii / scale, 0, 1)[..., None], 3, axis=3)
    return like.like(gray), scale


def colorize_clip(clip: Clip, backend=None, mode="auto", scribbles=None, mask=None, options=None, seed=0,
                  consistent=True, progress=None, alpha=DEFAULT_ALPHA, settings: ConsistencySettings | None = None,
                  reference=None):
    """Colorize every frame of `clip` with `backend` (a Backend, a registered name, or None for the mode's
    default) and return (rgb_clip, uncertainty_clip, info).

    scribbles: (H, W, 4) RGBA painted on the first frame (carried along the motion to the others), or
    (N, H, W, 4) per frame (a frame's own hints win over carried ones). mask: (H, W) for every frame or
    (N, H, W). reference: one colour photo (reference mode) for the whole clip. consistent=False colorizes each
    frame on its own (the baseline). progress(fraction, message)
    is called per frame and inside each backend run. The uncertainty clip is gray, white =
    info["uncertainty_scale"] Delta E; info also lists key frames, scene cuts, trusted fractions and speed."""
    if not isinstance(clip, Clip):
        raise InvalidRequest(f"colorize_clip needs a Clip (see read_frames / clip_from_frames); got {type(clip).__name__}")
    settings = settings or ConsistencySettings()
    if not (0.0 <= settings.carry <= 1.0) or settings.key_interval < 1:
        raise InvalidRequest("settings: carry must lie in [0, 1] and key_interval be at least 1")
    backend = _resolve(backend, mode, scribbles is not None)
    progress = progress or no_progress
    n, shape = len(clip), clip.frames.shape[1:3]
    hints = _per_frame(scribbles, n, shape, 4, "scribbles")
    masks = _per_frame(mask, n, shape, 0, "mask")
    if reference is not None:   # checked and reduced once, not at every key frame
        from .contract import validate_reference
        reference = validate_reference(reference, shape)
    estimate = FlowEstimator()
    track = consistent or scribbles is not None   # flow is needed to follow colour, or to carry hints
    out_rgb, out_r = np.empty_like(clip.frames), np.empty(clip.frames.shape[:3], np.float32)
    info = {"backend": backend.name, "frames": n, "consistent": bool(consistent), "key_frames": [], "cuts": [],
            "trusted": [], "settings": {"carry": settings.carry, "key_interval": settings.key_interval,
                                        "new_content": settings.new_content}}
    t_start = time.perf_counter()
    L_prev = ab_prev = r_prev = guessed = carried_hints = None
    since_key = 0
    for t in range(n):
        image = clip.frames[t]
        L = color.lightness(image)
        m = motion(L, L_prev, estimate, settings.motion) if track and t > 0 else None
        fresh = m is None or m.cut
        if m is not None and m.cut:
            info["cuts"].append(t)
        hint = hints[t]
        if scribbles is not None and hint is None and carried_hints is not None and not fresh:
            hint = _carry_scribbles(carried_hints, m.flow, m.weight)
        elif hint is not None and carried_hints is not None and not fresh:   # own hints over carried ones
            moved = _carry_scribbles(carried_hints, m.flow, m.weight)
            hint = np.where(hint[..., 3:] > 0, hint, moved)
        still = None
        if not fresh:
            carried_ab, carried_r = warp(ab_prev, m.flow), warp(r_prev, m.flow)
            guessed = warp(guessed, m.flow) * m.weight + (1.0 - m.weight)
            still = _unchanged(L, L_prev, m.flow) if consistent else None
        key = (not consistent or fresh or since_key + 1 >= settings.key_interval
               or float(guessed.mean()) > settings.new_content)
        if key and still is not None and still.all():
            key = False   # a repeated frame: nothing to ask the backend
        if key and (mode == "scribble" or backend.needs_scribbles) and (hint is None or not (hint[..., 3] > 0).any()):
            if fresh:
                raise InvalidRequest(f"frame {t + 1} starts a scene without scribbles; give per-frame scribbles "
                                     "(one layer per frame, or a folder) with hints on the first frame of each scene")
            key = False   # every carried hint left the picture: keep following the motion
        if key:
            sub = (lambda f, msg, t=t: progress((t + f) / n, f"frame {t + 1}/{n}: {msg}"))
            res = run_backend(backend, ColorizeRequest(image=image, mode=mode, scribbles=hint, mask=masks[t],
                                                       options=dict(options or {}), seed=seed, alpha=alpha,
                                                       progress=sub, reference=reference))
            own_ab, own_r = color.rgb_to_lab(res.rgb)[..., 1:], res.uncertainty
            info["key_frames"].append(t)
            since_key = 0
        else:
            since_key += 1
        if key and (not consistent or fresh):
            ab, r = own_ab, own_r
            guessed = np.zeros(shape, np.float32)
        elif key:   # trusted carried colour stays; new content, occlusions and earlier guesses take the prediction
            w = (settings.carry * m.weight * (1.0 - guessed))[..., None]
            ab = w * carried_ab + (1 - w) * own_ab
            r = w[..., 0] * carried_r + (1 - w[..., 0]) * own_r
            guessed = np.zeros(shape, np.float32)
        else:       # between key frames: holes (new content, occlusions, a feathered trust edge, a lone pixel
            # that failed the flow check) take the colour and the radius around them. The frame's largest radius
            # there drew near-white strips on revealed edges, a bright seam moving with the content and speckles
            ab = fill(carried_ab, m.weight)
            r = fill(carried_r[..., None], m.weight)[..., 0]
        if still is not None and still.any():
            ab = np.where(still[..., None], ab_prev, ab)
            r = np.where(still, r_prev, r)
        if masks[t] is not None:
            r = r * masks[t]
        out_rgb[t] = _compose(image, L, ab, masks[t])
        out_r[t] = r
        info["trusted"].append(None if m is None else round(m.reliable, 4))
        L_prev, ab_prev, r_prev, carried_hints = L, ab.astype(np.float32), r.astype(np.float32), hint
        progress((t + 1) / n, f"frame {t + 1}/{n}")
    seconds = time.perf_counter() - t_start
    unc, scale = uncertainty_clip(out_r, clip)
    info.update(seconds=round(seconds, 3), frames_per_second=round(n / max(seconds, 1e-9), 3),
                uncertainty_scale=scale, alpha=alpha)
    return clip.like(out_rgb), unc, info
