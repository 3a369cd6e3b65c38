"""The pipeline every run goes through, whatever the backend.

validate -> run the backend -> put the input L back -> composite outside the mask -> calibrated radius.
"""
from __future__ import annotations

import time

import numpy as np

from . import color
from .contract import BackendOutput, ColorizeRequest, ColorizeResult, validate_request
from .errors import BackendFailed, BackendUnavailable, ColorcoreError


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


def run_backend(backend, request: ColorizeRequest) -> ColorizeResult:
    """Run one request through one backend and return a result that honours the contract."""
    reason = backend.unavailable_reason()
    if reason is not None:
        raise BackendUnavailable(f"backend {backend.name!r} is not available: {reason}")
    request = validate_request(request, backend)
    shape = request.shape
    cal = backend.calibration()
    if cal is not None:
        cal.check_alpha(request.alpha)   # before the (possibly long) run
    t0 = time.perf_counter()
    try:
        output = backend.run(request)
    except ColorcoreError:
        raise
    except Exception as exc:
        raise BackendFailed(f"backend {backend.name!r} failed: {type(exc).__name__}: {exc}") from exc
    t_backend = time.perf_counter() - t0
    ab = _chroma(output, shape)

    L = request.lightness()
    rgb = color.with_lightness(L, ab)
    mask = request.mask
    if mask is not None:
        rgb = np.where(mask[..., None] > 0, rgb, request.image)   # outside: the input, bit for bit
        soft = (mask > 0) & (mask < 1)
        if soft.any():   # a feathered edge blends chroma, not RGB, so the lightness stays the input's
            m = mask[soft][:, None]
            ab_in = color.rgb_to_lab(request.image[soft])[:, 1:]
            rgb[soft] = color.with_lightness(L[soft], m * ab[soft] + (1 - m) * ab_in)

    radius = np.zeros(shape, np.float32)
    score = output.score
    if score is not None:
        score = np.asarray(score, np.float32)
        if score.shape != shape or not np.isfinite(score).all() or (score < 0).any():
            raise BackendFailed(f"backend uncertainty score must be finite, >= 0, shape {shape}; got {score.shape}")
        group = output.info.get("calibration_group")
        radius = cal.radius(score, request.alpha, group) if cal is not None else score.copy()
    if mask is not None:
        radius = radius * mask
    info = dict(output.info)
    info.update(backend=backend.name, alpha=request.alpha, calibrated=cal is not None and score is not None,
                seconds_backend=round(t_backend, 4))
    return ColorizeResult(rgb=np.ascontiguousarray(rgb, np.float32), uncertainty=radius.astype(np.float32), info=info)


def colorize(request: ColorizeRequest, backend_name: str | None = None, registry=None) -> ColorizeResult:
    """Public entry point: pick the backend by name (or the default for the mode) and run it."""
    from .plugins import load_registry
    registry = registry or load_registry()
    if backend_name is None:
        backend = registry.default_for(request.mode)
        if backend is None:
            raise BackendUnavailable(f"no available backend serves mode {request.mode!r}; run `colorcore backends`")
    else:
        backend = registry.get(backend_name)
    return run_backend(backend, request)
