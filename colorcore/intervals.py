"""Per-channel RGB intervals: for each pixel and each of R, G and B, a range [lo, hi] that holds the true value
with probability 1 - alpha (three (H, W) pairs, written as two RGB images).

The output keeps the input's lightness exactly, so only its chroma is uncertain. How much a channel moves
when the chroma moves is g_c = |d channel / d ab| at the pixel's own lightness (sRGB per ab unit, by finite
differences). The backend's raw uncertainty score s then gives the half-width lam_c * s * g_c: to first order,
the range the channel takes over a disc of chroma of radius lam_c * s. lam_c is calibrated per channel by
conformal risk control on the share of true channel values outside [lo, hi], as the radius is
(calibration.fit_calibration with "errors" |true_c - output_c| / g_c), and stored with the backend's
calibration as extra["intervals"] = {"R": {alpha: lam}, "G": ..., "B": ...}. Calibrated with groups (a
Scribble backend's hint-count groups), it also holds "groups": {group: {"R": ..., "G": ..., "B": ...}}, each
group calibrated alone as the radius is, and a request in that group uses its own (Mondrian: the coverage then
holds at few strokes and at many, not only on average over them).
"""
from __future__ import annotations

import numpy as np

from . import color
from .calibration import at_or_below, fit_calibration
from .errors import InvalidRequest

CHANNELS = ("R", "G", "B")
STEP = 2.0          # ab units: the finite-difference step
FLOOR = 1e-3        # sRGB per ab unit: a channel that barely moves with chroma still gets a (thin) interval
KEY = "intervals"
GROUPS = "groups"


def sensitivity(L, ab):
    """(..., 3): how far each sRGB channel moves per ab unit of chroma, at lightness L and chroma ab."""
    L = np.asarray(L, np.float32)[..., None]
    ab = np.asarray(ab, np.float32)
    base = color.lab_to_rgb(np.concatenate([L, ab], -1), clip=False)
    da = color.lab_to_rgb(np.concatenate([L, ab + np.float32([STEP, 0])], -1), clip=False) - base
    db = color.lab_to_rgb(np.concatenate([L, ab + np.float32([0, STEP])], -1), clip=False) - base
    return (np.sqrt(da * da + db * db) / np.float32(STEP) + np.float32(FLOOR)).astype(np.float32)


def channel_errors(rgb_out, rgb_true, L, ab):
    """Per channel, |true - output| in units of that channel's interval per unit score: what calibrates lam_c."""
    g = sensitivity(L, ab)
    err = np.abs(np.asarray(rgb_true, np.float32) - np.asarray(rgb_out, np.float32)) / g
    return [np.ascontiguousarray(err[..., c]) for c in range(3)]


def fit_intervals(scores, errors_per_image, **kw):
    """{channel: {alpha: lam}} from per-image raw scores and channel_errors (kw: fit_calibration's groups,
    shares), plus {GROUPS: {group: {channel: {alpha: lam}}}} when groups are given; a plain JSON-able dict for
    Calibration.extra."""
    fits = [fit_calibration(scores, [e[c] for e in errors_per_image], **kw) for c in range(len(CHANNELS))]
    table = {name: _json_levels(fit.lambdas) for name, fit in zip(CHANNELS, fits)}
    if fits[0].groups:
        table[GROUPS] = {g: {name: _json_levels(fit.groups[g]) for name, fit in zip(CHANNELS, fits)}
                         for g in sorted(fits[0].groups)}
    return table


def _json_levels(lambdas):
    return {str(a): v for a, v in lambdas.items()}


def lambdas_for(calibration, alpha, backend_name, group=None):
    """(lam_R, lam_G, lam_B) for alpha: the largest calibrated alpha at or below it (never less conservative);
    a request's group (BackendOutput.info["calibration_group"]) gets its own where that group was calibrated."""
    table = (calibration.extra.get(KEY) if calibration is not None else None) or {}
    if not table:
        raise InvalidRequest(f"backend {backend_name!r} has no calibrated RGB intervals; recalibrate it (its "
                             "calibrate command) or leave out --intervals")
    table = table.get(GROUPS, {}).get(group) or table
    lams = []
    for name in CHANNELS:
        levels = {float(a): v for a, v in table[name].items()}
        lam = at_or_below(levels, alpha)
        if lam is None:
            raise InvalidRequest(f"RGB intervals of backend {backend_name!r} are calibrated from alpha="
                                 f"{min(levels):g}; choose that or larger")
        lams.append(lam)
    return np.float32(lams)


def intervals(rgb_out, L, ab, score, lams):
    """lo, hi (..., 3) in [0, 1] with lo <= rgb_out <= hi: half-width lam_c * score * g_c."""
    half = sensitivity(L, ab) * np.asarray(score, np.float32)[..., None] * lams
    rgb_out = np.asarray(rgb_out, np.float32)
    return np.clip(rgb_out - half, 0, 1), np.clip(rgb_out + half, 0, 1)
