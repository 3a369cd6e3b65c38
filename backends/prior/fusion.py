"""How the `prior` combines its network's guess with the strokes, inside the `variational` solve.

The solve spreads the strokes' colours P and, at the same pixels, the guess's own colours G (propagate_hints
with predict_guess). The result is P + w (k guess - G - (1 - s) (P - G)), G taken at gain k: the strokes' colours
plus the guess's detail, where w = 1 - stroke_hold(...) is how little the strokes hold the pixel (a walk along
the photo that fades over prior_distance image diagonals), k = guess_gain(strokes) and s =
far_residual_share(strokes). Where the strokes do not reach, the network's guess holds, shifted by a share of
the strokes' correction; in a stroke's own region, and wherever strokes are dense, propagation's precision does.
Painted pixels keep their colour. prior_distance 0: w = 1 everywhere.
Every constant here was chosen on the calibration slices, never on the benchmark's photos (MODEL_CARD.md).
"""
from __future__ import annotations

from functools import partial

import numpy as np

from colorcore import no_progress
from backends.variational.propagate import GuessSolve, propagate_hints, stroke_hold


def far_residual_share(strokes: int) -> float:
    """The share of the strokes' correction of the guess (P - G: what they say minus what the guess said where
    they are) that reaches pixels far from every stroke: 1 - 1/(2n) for n strokes. One stroke tells its own
    region's colour more than the whole photo's, so half its correction travels; many strokes all over the
    photo make the spread correction local, and nearly all of it travels. Chosen on the calibration slices
    (8 photos of each training source at 1-5 points; never the benchmark's photos): at one point +0.55 dB over
    the whole correction, at 2-5 points within 0.05 dB of it (backends/prior/MODEL_CARD.md)."""
    return 1.0 - 0.5 / max(int(strokes), 1)


def guess_gain(strokes: int) -> float:
    """The chroma gain 1 - 0.2/n of the learned guess where it makes the result, for n strokes (0.8 for none or
    one). A network that has seen one stroke still guesses most colours, and a guess that is often wrong is
    better a little paler (its expected error is smaller); many strokes inform it, and it keeps its colour.
    Chosen on 112 photos of the calibration slices: at one point +0.26 dB over no gain and better on every
    source, at two +0.06; from five points on any lower gain costs (backends/prior/MODEL_CARD.md)."""
    return 1.0 - 0.2 / max(int(strokes), 1)


def fuse(solve: GuessSolve, prior_distance: float):
    """The fused chroma and the guess's share w of it (0 at the strokes), at the working size."""
    if prior_distance > 0:
        hold = stroke_hold(solve.L, solve.weight, prior_distance, solve.settings, graph=solve.graph)
        w = np.where(solve.weight > 0, 0.0, 1.0 - hold)
    else:
        w = np.ones(solve.weight.shape, np.float32)
    k = guess_gain(solve.strokes)   # the guess (and so its spread G) at a lower chroma when few strokes inform it
    P, G = solve.spread, k * solve.guess_spread
    # far from the strokes: the guess plus the share far_residual_share(n) of the strokes' correction P - G
    return P + w[..., None] * (k * solve.guess - G - (1.0 - far_residual_share(solve.strokes)) * (P - G)), w


def propagate_with_guess(L, hints, opts, predict_guess, prior_distance, progress=no_progress, **kw):
    """propagate_hints with a guess fused in (see the module's docstring); kw: score_params, guide_with_guess,
    guide_sigma."""
    return propagate_hints(L, hints, opts, progress, predict_guess=predict_guess,
                           fuse=partial(fuse, prior_distance=prior_distance), **kw)


# The score weighs the network's predicted error by how much of the result its guess makes; chosen on 84 photos of
# the calibration slices (not those it calibrates on) at 10 and 100 points: Spearman 0.37 -> 0.45 and 0.44 -> 0.54
SCORE_NEAR = 0.25       # share of the predicted error kept next to the strokes
# No constant added (it was 2.0 Delta E): one lambda scales the whole score, and a constant made the small scores
# too large against their errors and so the large ones too small. Chosen on the calibration samples (runs split in
# photo halves, training.calibration.prior_folds): with 2.0 the largest quarter of the radii covered 0.84 of their
# pixels at 30+ strokes and the smallest 0.95; with 0 every quarter 0.88-0.94 (floors 0.5, 1, 1.5: worst 0.87,
# 0.86, 0.85). The score stays > 0: SCORE_NEAR of the network's predicted error is kept everywhere.
SCORE_FLOOR = 0.0       # Delta E
REFERENCE_SCORE_FLOOR = 2.0   # the `reference` backend's score keeps the old floor: its calibration was fitted so


# The score is multiplied by (gamut_reach / GAMUT_SCALE) ** GAMUT_POWER (colorcore.gamut: the largest chroma error
# sRGB allows at the pixel's lightness and colour): small near black and white, where no colour can be far wrong.
# Chosen on 48 calibration photos at 10 points, clean and aged (python -m training.calibration.prior_ause --points 10):
# AUSE clean / aged at powers 0, 0.15, 0.25, 0.35, 0.5: 0.242 / 0.241, 0.232 / 0.238, 0.229 / 0.236, 0.228 / 0.236,
# 0.228 / 0.236, the gain levelling off from 0.25, while the smallest quarter of the radii covers less as the power
# grows (held-out halves, clean: 0.931, 0.929, 0.927, 0.924, 0.915). GAMUT_SCALE only keeps the score in about
# Delta E units (the gamut reaches about 120 from a gray guess at mid lightness): lambda absorbs any scale.
GAMUT_POWER = 0.25
GAMUT_SCALE = 100.0     # ab units


def gamut_factor(L, ab):
    """(gamut_reach(L, ab) / GAMUT_SCALE) ** GAMUT_POWER, float32 (L, ab at any one size)."""
    from colorcore.gamut import gamut_reach
    reach = gamut_reach(L, ab) / np.float32(GAMUT_SCALE)
    return np.power(np.maximum(reach, np.float32(1e-6)), np.float32(GAMUT_POWER)).astype(np.float32)


def prior_score(s_head, spread, guess_share, floor=SCORE_FLOOR):
    """Raw uncertainty: the network's predicted error where its guess makes the result (guess_share, the fusion's
    w), at least SCORE_NEAR of it next to the strokes, with the spread of the strokes' colours, plus `floor`."""
    head = (SCORE_NEAR + (1.0 - SCORE_NEAR) * np.clip(guess_share, 0, 1)) * np.maximum(s_head, 0)
    return (np.sqrt(head ** 2 + np.maximum(spread, 0)) + np.float32(floor)).astype(np.float32)
