"""The pipeline every run goes through, whatever the backend.

validate -> (reduce a very large photo) -> (take a halftone screen out of the backend's copy) -> run the backend
-> put the input L back -> composite outside the mask -> calibrated radius, the full-size steps in bands of rows.
"""
from __future__ import annotations

import time
from dataclasses import replace

import cv2
import numpy as np

from . import color, descreen, novelty
from .contract import BackendOutput, ColorizeRequest, ColorizeResult, validate_request
from .errors import BackendFailed, BackendUnavailable, ColorcoreError
from .intervals import intervals, lambdas_for
from .strips import for_each_strip
from .upsample import bilinear_rows, joint_bilateral_upsample


def _chroma(output: BackendOutput, shape):
    if (output.ab is None) == (output.rgb is None):
        raise BackendFailed("backend must return exactly one of ab or rgb")
    if output.ab is not None:
        ab = np.asarray(output.ab, np.float32)
        want = (*shape, 2)
    else:
        ab = np.asarray(output.rgb, np.float32)
        want = (*shape, 3)
    if ab.shape != want or not np.isfinite(ab).all():
        raise BackendFailed(f"backend returned chroma of shape {ab.shape} (want {want}) or non-finite values")
    return ab if output.ab is not None else color.rgb_to_lab(np.clip(ab, 0, 1))[..., 1:]


# Backends see at most this many pixels. None of them predicts chroma anywhere near this fine (the GAN works
# at a few hundred px, propagation at a fraction of a megapixel), so a larger photo loses nothing visible by
# being colorized at this size and brought back to full size along its own lightness; it keeps a 100 MP scan
# within a few GB.
CHROMA_MAX_PIXELS = 12_000_000


def _shrunk(arr, size):
    return cv2.resize(arr, size, interpolation=cv2.INTER_AREA)


def chroma_request(request: ColorizeRequest, max_pixels: int | None = None) -> ColorizeRequest:
    """The request the backend runs on: `request` itself, or for a photo above max_pixels (default
    CHROMA_MAX_PIXELS) a copy area-reduced to that size; scribble colours are premultiplied by their alpha, so a
    thin stroke keeps its colour and becomes a lighter hint instead of a darker one."""
    H, W = request.shape
    max_pixels = max_pixels or CHROMA_MAX_PIXELS
    if H * W <= max_pixels:
        return request
    s = (max_pixels / (H * W)) ** 0.5
    size = (max(1, int(W * s)), max(1, int(H * s)))
    scribbles = None
    if request.scribbles is not None:
        alpha = _shrunk(request.scribbles[..., 3], size)
        premultiplied = _shrunk(request.scribbles[..., :3] * request.scribbles[..., 3:], size)
        rgb = np.clip(premultiplied / np.maximum(alpha, 1e-8)[..., None], 0, 1)
        scribbles = np.ascontiguousarray(np.dstack([rgb, alpha]), np.float32)
    return replace(request, image=np.clip(_shrunk(request.image, size), 0, 1), scribbles=scribbles,
                   mask=None if request.mask is None else np.clip(_shrunk(request.mask, size), 0, 1))


def backend_view(request: ColorizeRequest):
    """(the request the backend runs on, the period of the halftone screen taken out of it or None): chroma_request's
    copy, with a screen found in it blurred away (colorcore.descreen). Calibrations run backends through this too,
    so they see what the engine's runs see."""
    from .photo_cache import kept
    work = chroma_request(request)
    # from the photo alone: the warm engine keeps it for the next run on the photo (keyed by the request's image,
    # whose digest its reader knows, and the copy's size, which the copy is made from)
    screen = kept("screen", lambda: descreen.screen_period(work.image), request.image, shape=work.shape)
    if screen is not None:   # the result keeps the input's lightness, dots and all: _compose takes the request's
        work = replace(work, image=descreen.descreened(work.image, screen))
    return work, screen


def _compose(request, work, ab, raw_score, lam, interval_lams=None):
    """Full-size result, band by band: the input's own L with the backend's chroma (upsampled along L when the
    backend ran smaller), gamut-mapped; the input bit for bit outside the mask; radius = lam * score; with
    interval_lams the per-channel RGB intervals (colorcore.intervals; empty outside the mask). The lightness is
    always the request's: the backend's copy may be smaller or descreened."""
    H, W = request.shape
    same = work.shape == request.shape
    rgb = np.empty((H, W, 3), np.float32)
    radius = np.zeros((H, W), np.float32)
    bounds = (np.empty((H, W, 3), np.float32), np.empty((H, W, 3), np.float32)) if interval_lams is not None else None
    L_work = None if same else work.lightness()
    L_full = request.lightness() if same else None

    def band(y0, y1):
        L = L_full[y0:y1] if same else color.lightness(request.image[y0:y1])
        ab_s = ab[y0:y1] if same else joint_bilateral_upsample(ab, L_work, L, height=H, row0=y0)
        out = color.with_lightness(L, ab_s)
        if request.mask is not None:
            image, mask = request.image[y0:y1], request.mask[y0:y1]
            out = np.where(mask[..., None] > 0, out, image)   # outside: the input, bit for bit
            soft = (mask > 0) & (mask < 1)
            if soft.any():   # a feathered edge blends chroma, not RGB, so the lightness stays the input's
                m = mask[soft][:, None]
                ab_in = color.rgb_to_lab(image[soft])[:, 1:]
                out[soft] = color.with_lightness(L[soft], m * ab_s[soft] + (1 - m) * ab_in)
        rgb[y0:y1] = out
        if raw_score is not None:
            score = raw_score[y0:y1] if same else bilinear_rows(raw_score, H, W, y0, y1 - y0)
            if request.mask is not None:
                score = score * request.mask[y0:y1]
            radius[y0:y1] = lam * score
            if bounds is not None:
                bounds[0][y0:y1], bounds[1][y0:y1] = intervals(out, L, ab_s, score, interval_lams)

    for_each_strip(H, W, band)
    return rgb, radius, bounds


def run_backend(backend, request: ColorizeRequest) -> ColorizeResult:
    """Run one request through one backend and return a result that honours the contract."""
    reason = backend.unavailable_reason()
    if reason is not None:
        raise BackendUnavailable(f"backend {backend.name!r} is not available: {reason}")
    request = validate_request(request, backend)
    cal = backend.calibration()
    if cal is not None:
        cal.check_alpha(request.alpha)   # before the (possibly long) run
    if request.intervals:
        lambdas_for(cal, request.alpha, backend.name)   # before the run, as above; its group's come after it
    work, screen = backend_view(request)
    t0 = time.perf_counter()
    try:
        output = backend.run(work)
    except ColorcoreError:
        raise
    except Exception as exc:
        raise BackendFailed(f"backend {backend.name!r} failed: {type(exc).__name__}: {exc}") from exc
    t_backend = time.perf_counter() - t0
    ab = _chroma(output, work.shape)

    score, lam = output.score, 1.0
    if score is not None:
        score = np.asarray(score, np.float32)
        if score.shape != work.shape or not np.isfinite(score).all() or (score < 0).any():
            raise BackendFailed(f"backend uncertainty score must be finite, >= 0, shape {work.shape}; "
                                f"got {score.shape}")
        if cal is not None:
            lam = cal.lam(request.alpha, output.info.get("calibration_group"))
    interval_lams = lambdas_for(cal, request.alpha, backend.name, output.info.get("calibration_group")) \
        if request.intervals else None
    if interval_lams is not None and score is None:
        raise BackendFailed(f"backend {backend.name!r} gave no uncertainty score, so no RGB intervals")
    rgb, radius, bounds = _compose(request, work, ab, score, lam, interval_lams)
    info = dict(output.info)
    info.update(backend=backend.name, alpha=request.alpha, calibrated=cal is not None and score is not None,
                seconds_backend=round(t_backend, 4))
    if cal is not None and score is not None and novelty.KEY in cal.extra:
        info.update(novelty.assess(cal.extra[novelty.KEY], work.image, score))
    if screen is not None:
        info["descreened"] = round(screen, 2)
    if work.shape != request.shape:
        info["worked_at"] = f"{work.shape[1]}x{work.shape[0]}"
    return ColorizeResult(rgb=rgb, uncertainty=radius, info=info, intervals=bounds)


def colorize(request: ColorizeRequest, backend_name: str | None = None, registry=None) -> ColorizeResult:
    """Public entry point: pick the backend by name (or the default for the mode: colorcore.selection) and run it."""
    from .plugins import load_registry
    from .selection import pick_backend
    registry = registry or load_registry()
    return run_backend(pick_backend(registry, backend_name, request.mode, request.scribbles is not None), request)
