"""Levin, Lischinski & Weiss (2004), "Colorization using Optimization": the exact method, as reference.

Follows the authors' getColorExact.m: 3x3 windows, weights exp(-(Y_r - Y_s)^2 / (0.6 var_r)) normalised
to sum to one per row, variance floored as in the original, hint pixels fixed, one sparse direct solve.
Used by the benchmark and tests as the baseline to beat; not a product backend.
"""
import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as sla


def levin_colorize(Y, hint_mask, hint_values):
    """Y (H, W) in [0, 1]; hint_mask (H, W) bool; hint_values (H, W, K). Returns (H, W, K)."""
    H, W = Y.shape
    n = H * W
    idx = np.arange(n).reshape(H, W)
    Yp = np.pad(Y.astype(np.float64), 1, mode="constant", constant_values=np.nan)
    ip = np.pad(idx, 1, mode="constant", constant_values=-1)
    offsets = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)]
    win = np.stack([Yp[1 + dy:1 + dy + H, 1 + dx:1 + dx + W] for dy, dx in offsets])  # (9, H, W), NaN outside
    nbr = np.stack([ip[1 + dy:1 + dy + H, 1 + dx:1 + dx + W] for dy, dx in offsets])
    centre = 4
    valid = ~np.isnan(win)
    count = valid.sum(axis=0)
    mean = np.nansum(win, axis=0) / count
    var = np.nansum(np.where(valid, (win - mean) ** 2, 0), axis=0) / count
    csig = var * 0.6
    diff2 = np.where(valid, (win - Y[None]) ** 2, np.inf)
    diff2[centre] = np.inf
    mgv = diff2.min(axis=0)
    mgv = np.where(np.isfinite(mgv), mgv, 0.0)
    csig = np.maximum(csig, -mgv / np.log(0.01))
    csig = np.maximum(csig, 2e-6)
    w = np.where(valid, np.exp(-np.where(valid, diff2, 0) / csig), 0.0)
    w[centre] = 0.0
    w /= w.sum(axis=0, keepdims=True)
    free = ~hint_mask
    rows, cols, vals = [idx.ravel()], [idx.ravel()], [np.ones(n)]
    for k in range(9):
        if k == centre:
            continue
        keep = (valid[k] & free).ravel()
        rows.append(idx.ravel()[keep])
        cols.append(nbr[k].ravel()[keep])
        vals.append(-w[k].ravel()[keep])
    A = sp.csc_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n))
    K = hint_values.shape[2]
    B = np.where(hint_mask[..., None], hint_values, 0.0).reshape(n, K)
    return sla.spsolve(A, B).reshape(H, W, K).astype(np.float32)
