"""Where to paint next: the places where one stroke of the right colour would improve the result most.

A stroke's worth is how much it fixes where it spreads, not how wrong its own pixel is.

The regions rule (RULE, shipped since the 23rd session): the result is cut into regions by k-means of each
pixel's (L, a, b, position) (REGION_CLUSTERS of them, or n if more places are asked for), each region is weighed by
the expected squared error it holds (the calibrated radius as a round 2-D normal error, times how much a unit of
chroma moves the pixel's RGB at its colour: a chroma error in a dark pixel barely shows), and places go at the
medoids of the heaviest regions, greedily: after each, every region coloured like it (a Gaussian of REGION_SIGMA
in mean ab) counts as partly fixed, since the `prior` colours alike what looks alike and one stroke on grass tells
it of the other patches of grass. A region that is large *and* unsure comes first; the next is of another colour.

Measured with k true-colour strokes and the `prior` (bench/suggest.py --split calib, dB over random places at k =
1 / 2 / 3, macro mean). On 60 calibration photos, 8 regions without the likeness: +0.55 / +0.69 / +0.58, the
reach rule below +0.36 / +0.37 / +0.31, and the same regions ranked by the true error of the `prior`'s strokeless
guess +1.00 / +0.91 / +0.93 (an oracle); the `prior`'s disagreement with Auto added to the weight gave +0.61 /
+0.71 / +0.60, within the noise and needing a second network, so not kept. On 120 calibration photos (the first
60 and 60 more), by the mean over k: 8 regions +0.40 / +0.41 / +0.57, 12 +0.56 / +0.45 / +0.36; with the likeness
(SIGMA_FIX, DISCOUNT as the reach rule's) 6 regions +0.47 / +0.63 / +0.73 (kept), 8 +0.40 / +0.69 / +0.69, 12 +0.56
/ +0.60 / +0.60. The held-out figures are in docs/uncertainty.md.

The reach rule (rule="reach", shipped before; kept because the lab measurements in training/calibration use its
parts): each candidate place p is scored by the expected error its stroke would remove:

    gain(p) = sum over pixels x of  reach_p(x) * u(x),   u(x) = (radius(x) * sens(x)) ** POWER,
    reach_p(x) = max(hold_p(x), alike_p(x))   (SUPPORT "either")

- hold_p(x) in [0, 1] is how firmly a stroke at p holds x: the chance that a random walk from x on the photo's
  edge-aware graph (lightness and the result's own chroma, as the propagation's graph and the prior's guide)
  reaches p before it fades, at a rate giving a walk through a flat area a reach of REACH image diagonals.
  Edges wall the walk in, so a stroke in a large flat region (a sky, a wall) holds all of it, one in busy
  texture or on an edge little. One sparse factorisation gives every candidate's
  hold at once (the Green's function of the graph with its leak, normalised to 1 at the stroke).
- alike_p(x) = exp(-|ab(x) - ab(p)|^2 / 2 SIGMA_FIX^2): how alike the result coloured x and p. The prior's network
  colours alike what looks alike, so one stroke corrects every pixel of its colour, near or far (two strips of
  one wall behind a person, all the leaves of a tree).
- u(x) is the expected squared error there in RGB: the calibrated radius (ΔE_ab) times how much a unit of chroma
  moves the pixel's RGB at its lightness (a chroma error in a dark pixel barely shows), squared.
- Places are chosen greedily: after each, what it would fix is taken out (u <- u (1 - fixed)^DISCOUNT, fixed the
  larger of its hold and how alike the result coloured the pixel and the place: the prior's guess and its
  non-local neighbours carry a stroke to pixels of that colour), so the next one goes where the remaining error
  is, not beside the first nor on more of the same colour.

Candidates are the flattest spots of a grid over the photo (a stroke on an edge would mix two colours). The work
is done at most at WORK_PIXELS; places come back in the input's pixel coordinates. Constants chosen on the
calibration slices, never on the benchmark's photos (bench/suggest.py --split calib, 12 photos, 2 per training
source, `prior` with k = 1-3 true-colour strokes; macro gain over random places at k = 1, 2, 3): REACH 0.1 (GRID 24)
-0.48/+0.59/-0.77 dB (6 photos), 0.4 +0.72/+0.67/-0.06 (6), 0.8 +0.52/+0.87/+0.03; SIGMA_FIX 8 +0.52/+1.03/+0.21,
16 +0.52/+0.91/+0.33; DISCOUNT 1 instead of 2 and a shorter reach for what counts as fixed (0.1, 0.25) did no
better. One stroke, ranked at 64 grid places on 12 photos: POWER 2 +1.10 dB over the grid's mean, the region's
size alone (POWER 0) +0.92, the radius at the place alone -0.36 (on 18 photos: +0.82, +0.66, -0.34). Candidates at
the cells' centres instead of their flattest pixel: +0.37/+0.87/+0.21 (GRID 12), +0.83/+1.18/+0.08 (GRID 8), all
within the 0.4-0.6 dB standard errors of 12 photos. On the benchmark's 70 held-out photos that choice (the hold
alone as a place's reach) gave +0.23/+0.47/+0.19 over random places, about the region-size rule's +0.18/+0.48/+0.36.
SUPPORT, on 60 calibration photos (10 a source; bench/suggest.py --split calib --per-source-limit 10 --set
support=...): hold +0.39/+0.65/+0.34, alike +0.62/+0.47/+0.64, either +0.72/+0.61/+0.53 (standard errors about
0.2); with either, SIGMA_FIX 8 +0.79/+0.74/+0.42, 24 +0.57/+0.41/+0.51, POWER 1 +0.48/+0.48/+0.29, DISCOUNT 1
+0.72/+0.50/+0.23, candidates at the cells' centres +0.57/+0.57/+0.51. Shipped: either, the rest as before. On the
benchmark's photos it gives +0.10/+0.53/+0.39 (docs/uncertainty.md): within the noise of the hold's result.
"""
from __future__ import annotations

import numpy as np

from . import color

WORK_PIXELS = 12288      # the graph's size (about 110 x 110): a stroke's reach is smooth
REACH = 0.8              # image diagonals: how far a walk through a flat area goes (0.1, the prior's own reach,
                         # ranked one stroke worse: the network carries a stroke's news much further)
POWER = 2.0              # u = (radius * sens) ** POWER: the expected squared RGB error, as PSNR counts it
SIGMA_L = 4.0            # lightness step (L units) that cuts the graph
SIGMA_AB = 8.0           # chroma step (ab units) of the result that cuts the graph
GRID = 12                # candidates: GRID x GRID cells over the photo, the flattest pixel of each
MIN_RADIUS = 3           # pixels: the smallest stroke suggested
DISCOUNT = 2.0           # after a place is chosen, what is left to fix: u (1 - fixed) ** DISCOUNT
SIGMA_FIX = 16.0         # ab units: pixels the result coloured like a chosen place count as fixed by it too
                         # (fixed = max(hold, exp(-|ab - ab_place|^2 / 2 SIGMA_FIX^2))); 0: hold alone
REGION_CLUSTERS = 6      # the regions rule: k-means of the result's (L, a, b, position) into this many regions
REGION_SIGMA = SIGMA_FIX # ab units: after a region is chosen, regions of a colour alike count as partly fixed (0: off)
REGION_PIXELS = 65536    # the regions rule's working size (256 x 256, the benchmark's photos, clustered as they are)
RAYLEIGH_MEAN_SQUARE = 1.0 / np.log(10.0)   # E|e|^2 / q^2 for a round 2-D normal error whose 0.9 quantile is q
RULES = ("regions", "reach")
RULE = "regions"         # see the module's docstring
SUPPORTS = ("hold", "alike", "either")
SUPPORT = "either"       # where a place's gain is summed: its hold, the pixels the result coloured like the place
                         # (a Gaussian of SIGMA_FIX in ab), or the larger of the two (see the module's docstring)


def _resize(arr, size, interp=None):
    import cv2
    return cv2.resize(arr, size, interpolation=cv2.INTER_AREA if interp is None else interp)


def rgb_sensitivity(L, ab):
    """How far (in [0, 1] RGB units, root mean square over the channels) the pixel's sRGB moves per ab unit, at its
    lightness and chroma: a finite difference of Lab -> sRGB along a and along b."""
    base = color.lab_to_rgb(np.dstack([L, ab]))
    out = np.zeros(L.shape, np.float32)
    for k in (0, 1):
        step = ab.copy()
        step[..., k] += 1.0
        out += np.sum((color.lab_to_rgb(np.dstack([L, step])) - base) ** 2, axis=-1) / 3.0
    return np.sqrt(out / 2.0).astype(np.float32)


def _graph(L, ab):
    """The 4-neighbour graph Laplacian of the working-size photo (edge weights from L and the result's ab)."""
    import scipy.sparse as sp
    H, W = L.shape
    idx = np.arange(H * W).reshape(H, W)
    rows, cols, vals = [], [], []
    for a, b in (((slice(None), slice(1, None)), (slice(None), slice(None, -1))),
                 ((slice(1, None), slice(None)), (slice(None, -1), slice(None)))):
        dL = L[a] - L[b]
        dab = np.sum((ab[a] - ab[b]) ** 2, axis=-1)
        w = np.exp(-dL ** 2 / (2 * SIGMA_L ** 2) - dab / (2 * SIGMA_AB ** 2)) + 1e-4
        rows.append(idx[a].ravel())
        cols.append(idx[b].ravel())
        vals.append(w.ravel())
    r, c, v = (np.concatenate(x) for x in (rows, cols, vals))
    Wm = sp.coo_matrix((v, (r, c)), shape=(H * W, H * W)).tocsr()
    Wm = Wm + Wm.T
    return sp.diags(np.asarray(Wm.sum(axis=1)).ravel()) - Wm


def _candidates(L, ab, mask, grid, flattest=True):
    """(ys, xs) at working size: in each grid cell the pixel whose 5x5 neighbourhood varies least (lightness and
    chroma), among pixels where there is something to fix (mask)."""
    import cv2
    H, W = L.shape
    feats = np.dstack([L, ab]).astype(np.float32)
    mean = cv2.blur(feats, (5, 5))
    var = np.sum(cv2.blur(feats ** 2, (5, 5)) - mean ** 2, axis=-1)
    var = np.where(mask, var, np.inf)
    ys, xs = [], []
    for gy in range(grid):
        for gx in range(grid):
            y0, y1 = gy * H // grid, max((gy + 1) * H // grid, gy * H // grid + 1)
            x0, x1 = gx * W // grid, max((gx + 1) * W // grid, gx * W // grid + 1)
            cell = var[y0:y1, x0:x1]
            if not cell.size or not np.isfinite(cell.min()):
                continue
            k = int(np.argmin(cell))
            if not flattest:   # the cell's centre, when there is something to fix there
                cy, cx = (y1 - y0) // 2, (x1 - x0) // 2
                if np.isfinite(cell[cy, cx]):
                    k = cy * cell.shape[1] + cx
            ys.append(y0 + k // cell.shape[1])
            xs.append(x0 + k % cell.shape[1])
    return np.asarray(ys, int), np.asarray(xs, int)


SOLVE_COLUMNS = 24   # the columns solved together: fixed, so the numbers do not depend on the thread count


def _solve_columns(lu, B):
    """lu.solve(B) in fixed groups of SOLVE_COLUMNS columns, the groups shared out among the engine's threads
    (SuperLU lets go of the interpreter). SuperLU's result for a column depends in its last bits on the columns
    solved with it, so the groups are the same for any number of threads. 1 MP photo, 144 columns, medians of 5:
    0.114 s all at once, 0.110 s in groups on one thread, 0.070 s on two."""
    from .threads import map_on_threads
    starts = range(0, B.shape[1], SOLVE_COLUMNS)
    return np.hstack(map_on_threads(lambda a: lu.solve(np.ascontiguousarray(B[:, a:a + SOLVE_COLUMNS])), starts))


def holds(L, ab, ys, xs, reach=REACH):
    """hold (n, H, W) of a stroke at each (y, x) of the working-size photo: the graph's Green's function with a leak
    giving a reach of `reach` image diagonals, normalised to 1 at the stroke (see the module's docstring)."""
    import scipy.sparse as sp
    from scipy.sparse.linalg import splu
    H, W = L.shape
    leak = 1.0 / (reach * np.hypot(H, W)) ** 2
    # single precision: the solve for every candidate at once is most of this module's time (1 MP photo:
    # 0.14 s in double, 0.08 s in single), and a hold needs no more than float32's 1e-7 (it is stored as float32)
    A = (_graph(L, ab) + leak * sp.identity(H * W)).tocsc().astype(np.float32)
    B = np.zeros((H * W, len(ys)), np.float32)
    B[ys * W + xs, np.arange(len(ys))] = 1.0
    G = _solve_columns(splu(A), B)
    G /= np.maximum(G[ys * W + xs, np.arange(len(ys))], np.float32(1e-30))
    return np.ascontiguousarray(np.clip(G, 0.0, 1.0, out=G).T).reshape(len(ys), H, W)


def alike(ab, ab_places, sigma=SIGMA_FIX):
    """(n, H*W): how alike the result coloured each pixel and each place (a Gaussian of their ab distance)."""
    p = np.asarray(ab_places, np.float32)
    flat = ab.reshape(-1, 2)
    d2 = np.square(flat[:, 0][None] - p[:, :1])   # a and b apart: numpy reduces a length-2 axis slowly
    d2 += np.square(flat[:, 1][None] - p[:, 1:])
    d2 *= np.float32(-1 / (2 * sigma ** 2))
    return np.exp(d2, out=d2)


def working(rgb, radius, pixels=WORK_PIXELS):
    """The result at the working size (at most `pixels`): (scale, L, ab, radius there)."""
    rgb = np.asarray(rgb, np.float32)
    radius = np.asarray(radius, np.float32)
    H, W = rgb.shape[:2]
    scale = min(1.0, np.sqrt(pixels / (H * W)))
    if scale < 1:
        size = (max(1, round(W * scale)), max(1, round(H * scale)))
        rgb, radius = _resize(rgb, size), _resize(radius, size)
    lab = color.rgb_to_lab(rgb)
    return scale, lab[..., 0], lab[..., 1:], radius


def input_pixel(v, scale, size):
    """A working-size pixel coordinate in the input's pixels (the centre of the same area)."""
    return int(min(size - 1, round((v + 0.5) / scale - 0.5)))


def expected_square_error(L, ab, radius):
    """(H, W): a calibrated radius (the 0.9 quantile of the ab error, ΔE_ab) as the expected squared error in RGB
    ([0, 1] units) summed over the channels, as PSNR counts it, the ab error taken as a round 2-D normal."""
    return 3.0 * (rgb_sensitivity(L, ab) * radius) ** 2 * RAYLEIGH_MEAN_SQUARE


def region_clusters(L, ab, clusters=REGION_CLUSTERS, mask=None, seed=0):
    """The photo's regions: k-means of (L, a, b, y, x) (positions in hundredths of the diagonal, so a region is
    of one colour and in one place) over the pixels in mask (all if None). Returns each pixel's region (H, W; -1
    outside the mask) and each region's medoid (y, x): its member nearest the region's mean."""
    import cv2
    H, W = L.shape
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    diag = np.hypot(H, W)
    feats = np.dstack([L, ab, yy / diag * 100.0, xx / diag * 100.0]).reshape(-1, 5).astype(np.float32)
    inside = np.ones(H * W, bool) if mask is None else np.asarray(mask, bool).ravel()
    idx = np.flatnonzero(inside)
    k = min(int(clusters), len(idx))
    labels = np.full(H * W, -1, np.int64)
    if k == 0:
        return labels.reshape(H, W), []
    if len(idx) <= k:   # as many pixels as regions: each its own (k-means would read one row as one point's features)
        labels[idx] = np.arange(len(idx))
        return labels.reshape(H, W), [(int(i // W), int(i % W)) for i in idx]
    cv2.setRNGSeed(seed)
    _, lab, centres = cv2.kmeans(feats[idx], k, None, (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 30, 0.1),
                                 3, cv2.KMEANS_PP_CENTERS)
    labels[idx] = lab.ravel()
    medoids = []
    for c in range(k):
        members = idx[lab.ravel() == c]
        i = members[np.argmin(np.sum((feats[members] - centres[c]) ** 2, axis=1))] if len(members) else idx[0]
        medoids.append((int(i // W), int(i % W)))
    return labels.reshape(H, W), medoids


def region_places(L, ab, weight, n, mask=None, clusters=REGION_CLUSTERS, sigma=REGION_SIGMA):
    """The medoids (y, x) of the n heaviest regions (region_clusters, at least n of them), by the weight summed over
    their pixels (their size if weight is None), heaviest first, those with nothing to fix left out. With sigma > 0,
    greedily: after each region, every other's weight is multiplied by (1 - alike)^DISCOUNT, alike = exp(-|mean ab
    difference|^2 / 2 sigma^2) (the prior colours alike what looks alike, so one stroke on grass tells it of the
    other patches of grass)."""
    labels, medoids = region_clusters(L, ab, max(int(clusters), int(n)), mask)
    if not medoids:
        return []
    inside = labels.ravel() >= 0
    member_of = labels.ravel()[inside]
    w = np.ones(len(member_of)) if weight is None else np.ravel(weight)[inside]
    mass = np.bincount(member_of, weights=w, minlength=len(medoids))
    if sigma <= 0:
        return [medoids[c] for c in np.argsort(-mass, kind="stable") if mass[c] > 0][:n]
    count = np.maximum(np.bincount(member_of, minlength=len(medoids)), 1)
    mean_ab = np.stack([np.bincount(member_of, weights=ab.reshape(-1, 2)[inside, k], minlength=len(medoids))
                        for k in (0, 1)], axis=1) / count[:, None]
    left, todo, order = mass.astype(np.float64), mass > 0, []
    # regions of a colour already chosen come last, by their own weight, not never
    while todo.any() and len(order) < n:
        c = int(np.argmax(np.where(todo, left, -np.inf) if (left[todo] > 0).any() else np.where(todo, mass, -np.inf)))
        order.append(c)
        todo[c] = False
        left = left * (1.0 - alike(mean_ab, mean_ab[c:c + 1], sigma)[0]) ** DISCOUNT
    return [medoids[c] for c in order]


def suggest(rgb, radius, n, scribbles=None, rule=RULE, clusters=REGION_CLUSTERS, region_sigma=REGION_SIGMA,
            reach=REACH, power=POWER, grid=GRID, discount=DISCOUNT, sigma_fix=SIGMA_FIX, flattest=True,
            support=SUPPORT):
    """The n places, best first, where one stroke of the right colour would improve `rgb` most: a list of
    {"x", "y", "radius", "rgb"} (pixel coordinates of the input, the centre of the place; a stroke radius in pixels;
    the result's colour there as 0-255 integers). rgb (H, W, 3) sRGB in [0, 1] is the result, radius (H, W) its
    calibrated uncertainty radius in ΔE_ab (0 where nothing is to be fixed, e.g. outside a selection);
    scribbles (H, W, 4): places already painted are not suggested again."""
    import cv2
    rgb = np.asarray(rgb, np.float32)
    H, W = rgb.shape[:2]
    n = int(n)
    if n <= 0:
        return []
    if rule not in RULES:
        raise ValueError(f"rule must be one of {', '.join(RULES)}; got {rule!r}")
    scale, L, ab, r = working(rgb, radius, REGION_PIXELS if rule == "regions" else WORK_PIXELS)
    size = L.shape[::-1]
    mask = r > 0
    if scribbles is not None and np.asarray(scribbles).shape[:2] == (H, W):
        painted = np.asarray(scribbles, np.float32)[..., 3] > 0
        painted = cv2.dilate(painted.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
        painted = (_resize(painted.astype(np.float32), size) if scale < 1 else painted) > 0
        mask &= ~painted
    if not mask.any():
        return []
    if rule == "regions":
        weight = expected_square_error(L, ab, np.maximum(r, 0))   # summed only over the clustered pixels (mask)
        return _answer(rgb, L, scale, region_places(L, ab, weight, n, mask, clusters, region_sigma))
    u = (np.maximum(r, 0) * rgb_sensitivity(L, ab) * 255.0) ** power
    if support not in SUPPORTS:
        raise ValueError(f"support must be one of {', '.join(SUPPORTS)}; got {support!r}")
    ys, xs = _candidates(L, ab, mask, min(grid, *L.shape), bool(flattest))
    ab_c = cv2.blur(ab, (5, 5))[ys, xs]   # each place's colour in the result
    hold = holds(L, ab, ys, xs, reach).reshape(len(ys), -1)   # every candidate's, in one factorisation
    like = alike(ab, ab_c, sigma_fix) if sigma_fix > 0 else None
    # a place's reach, where its gain is summed (SUPPORT); without a likeness (sigma_fix 0), its hold
    flat = hold if like is None or support == "hold" else like if support == "alike" else np.maximum(hold, like)
    remaining = u.ravel().astype(np.float64)
    picked = []
    for _ in range(min(n, len(ys))):
        gains = flat @ remaining
        if picked:
            gains[picked] = -np.inf
        best = int(np.argmax(gains))
        picked.append(best)
        fixed = hold[best]
        if like is not None:   # the prior's guess and its non-local neighbours carry a stroke to pixels coloured alike
            fixed = np.maximum(fixed, like[best])
        remaining *= (1.0 - fixed) ** discount
    return _answer(rgb, L, scale, [(ys[k], xs[k]) for k in picked])


def _answer(rgb, L, scale, places):
    """The places (y, x) at working size as suggest's {"x", "y", "radius", "rgb"} in the input's pixels. The
    stroke's radius: how far the flat spot extends (distance to the nearest lightness edge), at least MIN_RADIUS
    pixels of the input."""
    import cv2
    H, W = rgb.shape[:2]
    edges = cv2.Canny(np.clip(L * 2.55, 0, 255).astype(np.uint8), 20, 60)
    dist = cv2.distanceTransform((edges == 0).astype(np.uint8), cv2.DIST_L2, 3)
    out = []
    for y, x in places:
        X, Y = input_pixel(x, scale, W), input_pixel(y, scale, H)
        rad = max(MIN_RADIUS, int(round(min(float(dist[y, x]), 0.03 * np.hypot(*L.shape)) / scale)))
        out.append({"x": X, "y": Y, "radius": rad,
                    "rgb": [int(v) for v in np.round(np.clip(rgb[Y, X], 0, 1) * 255)]})
    return out


def write_suggestions(path, places):
    """The places as JSON (a list, best first), written whole or not at all."""
    import json
    import os
    from pathlib import Path
    path = Path(path)
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(json.dumps(places, indent=1) + "\n")
    os.replace(tmp, path)
