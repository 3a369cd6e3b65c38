"""Edge-aware propagation of sparse hints: a weighted-least-squares solve, multilevel for speed.

Energy over the pixel graph (4-neighbours, weights exp(-dL^2 / 2 sigma^2) falling with the lightness
step across each edge):
    E(u) = sum_edges w_rs (u_r - u_s)^2 + sum_r c_r (u_r - h_r)^2
so (L_w + C) u = C h, a symmetric positive definite system. It is solved by conjugate gradients on the
coarsest level of a pyramid; each finer level starts from a joint-bilateral upsampling of the coarser
solution (a coarse sample across an edge gets no say) and is polished by Jacobi sweeps (cascadic
multigrid): far propagation happens where it is cheap, and no colour is carried over an edge.

On the coarsest level the graph also gets non-local edges between pixels of similar lightness and
local mean (k nearest neighbours in feature space, as in KNN matting), so a colour reaches the other
pieces of the same surface (sky between branches) instead of only its geodesic neighbourhood. With
both, the hint benchmark (bench/hints.py) gains 0.6-0.8 dB over Levin et al. at 10 to 200 points.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import scipy.sparse as sp
from scipy.spatial import cKDTree

from colorcore.photo_cache import CACHE, digest
from colorcore.upsample import joint_bilateral_upsample


@dataclass(frozen=True)
class SolverSettings:
    sigma: float = 2.0            # lightness step (L units) at which an edge weight falls to exp(-1/2)
    hint_weight: float = 100.0    # how hard a fully opaque scribble pins its pixel
    smooth_iters: int = 20        # Jacobi sweeps per finer level
    coarsest_pixels: int = 4096   # size of the level solved (nearly) exactly, with non-local edges
    coarse_iters: int = 60
    prolongation_sigma: float = 4.0  # lightness similarity scale of the upsampling between levels
    nonlocal_k: int = 8           # neighbours in feature space per pixel (0 = purely local)
    nonlocal_weight: float = 1.0
    nonlocal_spatial: float = 0.3  # feature-space scale of position, as a fraction of the image size
    nonlocal_lightness: float = 5.0  # feature-space scale of lightness, L units
    guide_sigma: float = 10.0     # ab units: the scale of a guide's (learned chroma guess's) steps and features


def edge_weights(L, sigma, floor=1e-4, guide=None, guide_sigma=None):
    """Horizontal and vertical edge weights for lightness L in [0, 100]; with a guide (H, W, C) (a learned chroma
    guess) a step in it cuts the edge too, at scale guide_sigma."""
    inv = np.float32(-0.5 / (sigma * sigma))
    dx, dy = np.square(L[:, 1:] - L[:, :-1]) * inv, np.square(L[1:, :] - L[:-1, :]) * inv
    if guide is not None:
        ginv = np.float32(-0.5 / (guide_sigma * guide_sigma))
        dx = dx + np.sum(np.square(guide[:, 1:] - guide[:, :-1]), axis=2) * ginv
        dy = dy + np.sum(np.square(guide[1:, :] - guide[:-1, :]), axis=2) * ginv
    return np.exp(dx) + np.float32(floor), np.exp(dy) + np.float32(floor)


def _graph_laplacian(rows, cols, vals, n):
    adj = sp.csr_matrix((np.r_[vals, vals], (np.r_[rows, cols], np.r_[cols, rows])), shape=(n, n))
    return sp.diags(np.asarray(adj.sum(axis=1)).ravel()) - adj


def grid_laplacian(wx, wy):
    """Graph Laplacian (N x N CSR) of a grid from its horizontal and vertical edge weights."""
    H, W = wy.shape[0] + 1, wx.shape[1] + 1
    idx = np.arange(H * W).reshape(H, W)
    rows = np.concatenate([idx[:, :-1].ravel(), idx[:-1, :].ravel()])
    cols = np.concatenate([idx[:, 1:].ravel(), idx[1:, :].ravel()])
    return _graph_laplacian(rows, cols, np.concatenate([wx.ravel(), wy.ravel()]), H * W)


def nonlocal_laplacian(L, s: SolverSettings, guide=None):
    """Laplacian of k-nearest-neighbour edges in (lightness, local mean lightness, position[, guide]) space."""
    H, W = L.shape
    yy, xx = np.mgrid[0:H, 0:W]
    local_mean = cv2.blur(L, (3, 3))
    feats = np.stack([L.ravel() / s.nonlocal_lightness, local_mean.ravel() / s.nonlocal_lightness,
                      yy.ravel() / (s.nonlocal_spatial * H), xx.ravel() / (s.nonlocal_spatial * W)], axis=1)
    if guide is not None:   # a learned chroma guess: pixels it thinks alike are neighbours (the other piece of sky)
        feats = np.concatenate([feats, guide.reshape(H * W, -1) / s.guide_sigma], axis=1)
    k = min(s.nonlocal_k, H * W - 1)
    dist, nbr = cKDTree(feats).query(feats, k + 1)
    rows = np.repeat(np.arange(H * W), k)
    return _graph_laplacian(rows, nbr[:, 1:].ravel(), s.nonlocal_weight * np.exp(-dist[:, 1:].ravel() ** 2), H * W)


PARALLEL_PIXELS = 150_000   # a grid this large shares its Jacobi sweeps out among threads (GridOperator.jacobi)


class GridOperator:
    """(L_w + C) as a 5-point stencil: no sparse matrix to build at the fine levels.

    Works on (H*W, K) arrays; internally each column is an (H, W) image, so every update is a
    contiguous slice operation written into preallocated buffers.
    """

    def __init__(self, wx, wy, c):
        self.wx, self.wy = wx, wy
        self.H, self.W = c.shape
        degree = c.astype(np.float32).copy()
        degree[:, :-1] += wx
        degree[:, 1:] += wx
        degree[:-1, :] += wy
        degree[1:, :] += wy
        self.degree = degree
        self.shape = (c.size, c.size)
        self._tx = np.empty_like(wx)
        self._ty = np.empty_like(wy)

    def diagonal(self):
        return self.degree.ravel()

    def jacobi(self, B, X, inv_d, iters):
        """jacobi() on this stencil with the K columns held as K planes (K, H, W) through all the sweeps: the
        same arithmetic per pixel as `X += inv_d * (B - A @ X)`, without a copy of each column per sweep. The
        columns never mix, so on a large grid they are shared out among the engine's threads (numpy lets go of
        the interpreter on large arrays), each running all the sweeps on its own planes: the same numbers."""
        from colorcore.threads import choose_threads, map_on_threads
        K, H, W = X.shape[1], self.H, self.W
        x = np.ascontiguousarray(X.T).reshape(K, H, W)
        b = np.ascontiguousarray(B.T).reshape(K, H, W)
        d = inv_d.reshape(H, W)

        def sweeps(planes):
            xs, bs = x[planes], b[planes]
            for _ in range(iters):
                y = self.degree * xs
                y[:, :, :-1] -= self.wx * xs[:, :, 1:]
                y[:, :, 1:] -= self.wx * xs[:, :, :-1]
                y[:, :-1, :] -= self.wy * xs[:, 1:, :]
                y[:, 1:, :] -= self.wy * xs[:, :-1, :]
                xs += d * (bs - y)
        groups = min(K, choose_threads()) if H * W >= PARALLEL_PIXELS else 1
        bounds = np.linspace(0, K, groups + 1).round().astype(int)
        map_on_threads(lambda az: sweeps(slice(*az)), zip(bounds[:-1], bounds[1:]), groups)
        return np.ascontiguousarray(x.reshape(K, H * W).T)

    def __matmul__(self, X):
        out = np.empty_like(X)
        for k in range(X.shape[1]):
            x = np.ascontiguousarray(X[:, k]).reshape(self.H, self.W)
            y = self.degree * x
            np.multiply(self.wx, x[:, 1:], out=self._tx)
            y[:, :-1] -= self._tx
            np.multiply(self.wx, x[:, :-1], out=self._tx)
            y[:, 1:] -= self._tx
            np.multiply(self.wy, x[1:, :], out=self._ty)
            y[:-1, :] -= self._ty
            np.multiply(self.wy, x[:-1, :], out=self._ty)
            y[1:, :] -= self._ty
            out[:, k] = y.ravel()
        return out


def block_pcg(A, B, X, iters, tol=0.0):
    """Jacobi-preconditioned conjugate gradients for A X = B on all columns at once.

    The step sizes are shared by the columns (CG on the stacked system), so every column gets the same
    polynomial in A: after a fixed number of steps, a, b and |ab|^2 have been averaged alike and their
    spread (|ab|^2 - |mean ab|^2) stays meaningful even before convergence.
    A is a sparse matrix or a GridOperator. Runs `iters` steps, or fewer once the relative residual is
    below `tol` (checked every 10).
    """
    inv_d = (1.0 / A.diagonal())[:, None].astype(B.dtype)
    R = B - A @ X
    Z = inv_d * R
    P = Z.copy()
    rz = float(np.vdot(R, Z))
    b_norm = float(np.linalg.norm(B)) + 1e-30
    for step_no in range(iters):
        if tol and step_no % 10 == 0 and np.linalg.norm(R) <= tol * b_norm:
            break
        AP = A @ P
        step = np.float32(rz / max(float(np.vdot(P, AP)), 1e-30))
        X += step * P
        R -= step * AP
        Z = inv_d * R
        rz_new = float(np.vdot(R, Z))
        P *= np.float32(rz_new / max(rz, 1e-30))
        P += Z
        rz = rz_new
    return X


def jacobi(A, B, X, iters):
    """Jacobi sweeps x <- D^-1 (C h + W x): each update is a convex combination of the hint and the
    neighbours, so a, b and |ab|^2 are averaged with the same non-negative weights at every step."""
    inv_d = (1.0 / A.diagonal())[:, None].astype(B.dtype)
    if isinstance(A, GridOperator):
        return A.jacobi(B, X, inv_d, iters)
    for _ in range(iters):
        X += inv_d * (B - A @ X)
    return X


def _resize(arr, size):
    """cv2.resize (INTER_AREA) of an (H, W[, K]) array with any number of channels (OpenCV takes at most 4)."""
    if arr.ndim == 2 or arr.shape[2] <= 4:
        return cv2.resize(arr, size, interpolation=cv2.INTER_AREA).reshape(size[1], size[0], *arr.shape[2:])
    return np.concatenate([_resize(arr[..., k:k + 4], size) for k in range(0, arr.shape[2], 4)], axis=2)


def lightness_pyramid(L, coarsest_pixels):
    """L halved until small, finest first: the levels' sizes and lightness."""
    levels = [L]
    while levels[-1].size > coarsest_pixels and min(levels[-1].shape) >= 8:
        size = ((levels[-1].shape[1] + 1) // 2, (levels[-1].shape[0] + 1) // 2)
        levels.append(_resize(levels[-1], size))
    return levels


def pyramid(L, c, ch, coarsest_pixels, L_levels=None):
    """Lightness, hint weight and weighted hint values, halved until small; coarsest first."""
    L_levels = L_levels or lightness_pyramid(L, coarsest_pixels)
    levels = [(L, c, ch)]
    for L_ in L_levels[1:]:
        c_, ch_ = levels[-1][1:]
        size = (L_.shape[1], L_.shape[0])
        scale = levels[-1][0].size / (size[0] * size[1])   # hint weights are summed, not averaged
        levels.append((L_, _resize(c_, size) * scale, _resize(ch_, size) * scale))
    return levels[::-1]


def photo_graph(L, s: SolverSettings, guide=None):
    """What the solve needs from the photo (and a guide) alone, not the hints: the lightness pyramid, each level's
    edge weights, coarsest first, and the coarsest level's non-local Laplacian. One graph serves every solve on
    the same photo and guide (graph_for)."""
    L_levels = lightness_pyramid(L, s.coarsest_pixels)
    guides = [None if guide is None else _resize(guide, (L_k.shape[1], L_k.shape[0])) for L_k in L_levels]
    edges = [edge_weights(L_k, s.sigma, guide=g_k, guide_sigma=s.guide_sigma)
             for L_k, g_k in zip(L_levels[::-1], guides[::-1])]
    coarsest = L_levels[-1]
    nonlocal_ = (nonlocal_laplacian(coarsest, s, guides[-1]) if s.nonlocal_k > 0 and coarsest.size > 1 else None)
    return L_levels, edges, nonlocal_


def graph_for(L, s: SolverSettings, guide=None):
    """photo_graph of lightness L (H, W) in [0, 100] and an optional guide (H, W, C). Without a guide the graph is
    the photo's alone, the same for every set of strokes: the warm engine keeps it between runs
    (colorcore.photo_cache). With one (the prior's guess, which the strokes change) a caller that solves twice
    with the same guide passes the graph on (propagate's graph)."""
    L = np.ascontiguousarray(L, np.float32)
    if guide is not None:
        return photo_graph(L, s, guide)
    return CACHE.get(lambda: ("photo_graph", digest(L), s.sigma, s.coarsest_pixels, s.nonlocal_k,
                              s.nonlocal_weight, s.nonlocal_spatial, s.nonlocal_lightness),
                     lambda: photo_graph(L, s))


def propagate(L, hint_weight, hint_values, settings=SolverSettings(), progress=None, guide=None, graph=None):
    """L (H, W) in [0, 100], hint_weight (H, W) >= 0, hint_values (H, W, K) -> propagated (H, W, K). guide:
    optional (H, W, C) features (a learned chroma guess) that shape the graph along with L; graph: graph_for(L,
    settings, guide) when the caller has it already."""
    s = settings
    L = np.ascontiguousarray(L, np.float32)
    c = np.ascontiguousarray(hint_weight * s.hint_weight, np.float32)
    ch = np.ascontiguousarray(hint_values * c[..., None], np.float32)
    K = hint_values.shape[2]
    L_levels, edges, nonlocal_ = graph or graph_for(L, s, guide)
    levels = pyramid(L, c, ch, s.coarsest_pixels, L_levels)
    u = None
    for k, (L_k, c_k, ch_k) in enumerate(levels):
        H, W = L_k.shape
        wx, wy = edges[k]
        B = ch_k.reshape(-1, K)
        if u is None:
            A = grid_laplacian(wx, wy) + sp.diags(c_k.ravel())
            if nonlocal_ is not None:
                A = A + nonlocal_
            # CG converges fast on this small, well-connected graph; start from the hints' mean colour
            mean = B.sum(axis=0) / max(float(c_k.sum()), 1e-12)
            X0 = np.tile(mean, (H * W, 1)).astype(np.float32)
            X = block_pcg(A.astype(np.float32).tocsr(), B, X0, s.coarse_iters, tol=1e-5)
        else:
            A = GridOperator(wx, wy, c_k)
            # edge-aware prolongation: the coarse solution comes up along this level's edges, so the sweeps
            # polish detail instead of undoing colour that bilinear upsampling would smear over an edge
            X0 = joint_bilateral_upsample(u, levels[k - 1][0], L_k, s.prolongation_sigma).reshape(-1, K)
            X = jacobi(A, B, np.ascontiguousarray(X0, np.float32), s.smooth_iters)
        u = X.reshape(H, W, K)
        if progress is not None:
            progress((k + 1) / len(levels), f"propagating colours, level {k + 1}/{len(levels)}")
    return u
