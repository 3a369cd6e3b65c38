"""Raw uncertainty score for propagated scribbles.

Two things make a propagated colour doubtful: distance from any scribble, measured along the photo
(crossing a strong edge costs as much as a long walk), and disagreement between the scribbles that
reach a pixel (the propagated variance of the hint colours). The score mixes both; the conformal
calibration then scales it into a radius in Delta E.
"""
import cv2
import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

GEODESIC_PIXELS = 16384


def geodesic_distance(L, seeds, edge_cost=0.2):
    """Distance (in image diagonals) from the nearest seed pixel, where a step costs 1 + edge_cost * |dL|."""
    H, W = L.shape
    sub = max(1.0, np.sqrt(H * W / GEODESIC_PIXELS))
    h, w = max(1, round(H / sub)), max(1, round(W / sub))
    Ls = cv2.resize(L, (w, h), interpolation=cv2.INTER_AREA)
    seed_s = cv2.resize(seeds.astype(np.float32), (w, h), interpolation=cv2.INTER_AREA) > 0
    if not seed_s.any():
        seed_s.flat[np.argmax(cv2.resize(seeds.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR))] = True
    idx = np.arange(h * w).reshape(h, w)
    n = h * w
    src = n  # a virtual node joined to every seed at zero cost
    rows = [idx[:, :-1].ravel(), idx[:-1, :].ravel(), np.full(int(seed_s.sum()), src)]
    cols = [idx[:, 1:].ravel(), idx[1:, :].ravel(), idx[seed_s]]
    cost = [1 + edge_cost * np.abs(np.diff(Ls, axis=1)).ravel(), 1 + edge_cost * np.abs(np.diff(Ls, axis=0)).ravel(),
            np.full(int(seed_s.sum()), 1e-9)]
    graph = sp.csr_matrix((np.concatenate(cost), (np.concatenate(rows), np.concatenate(cols))), shape=(n + 1, n + 1))
    dist = dijkstra(graph, directed=False, indices=src)[:n].reshape(h, w)
    dist = np.where(np.isfinite(dist), dist, dist[np.isfinite(dist)].max(initial=0)) / np.hypot(h, w)
    return cv2.resize(dist.astype(np.float32), (W, H), interpolation=cv2.INTER_LINEAR)


def raw_score(distance, variance, distance_gain, floor):
    """Score in Delta E-like units: spread of the hint colours plus a cost for distance, plus a floor."""
    return (np.sqrt(np.maximum(variance, 0.0)) + distance_gain * distance + floor).astype(np.float32)
