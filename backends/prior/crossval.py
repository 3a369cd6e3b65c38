"""The strokes check the learned guess: how far to trust it on this photo, by cross-validation on the strokes.

The fusion (backends.variational.plugin.blend_guess) has three numbers: the guess's chroma gain, the share of the
strokes' correction that travels far from them, and the guess's share of the result. One setting for every photo
is a compromise: where the network guesses well it should rule, where it guesses badly the strokes' propagation
should. The strokes tell which: leave some out, colour the photo from the others, and see which settings predict the
left-out colours. Each of FOLDS groups of strokes is left out in turn, the network and the solve run on the rest
on a copy of at most CHECK_PIXELS, and every candidate setting is scored by its squared error on the left-out
strokes. The setting used is the candidates' mean, each weighted by exp(-(e / e0 - best) / TEMPERATURE), e0 being
the default setting's error: a clear winner takes over, a close call stays near the default. A single stroke has
nothing to check it against and keeps the default; so do more than MOST_STROKES, where propagation holds most of
the photo and the check gained nothing on the calibration slices.

Chosen on the training sources' calibration slices, never on the benchmark's photos
(backends/prior/MODEL_CARD.md, tenth session)."""
from __future__ import annotations

import itertools

import cv2
import numpy as np

from backends.variational.hints import resize_hints
from backends.variational.plugin import blend_guess, default_mix, guess_mix, propagate_hints

FOLDS = 4
MOST_STROKES = 10        # measured gains at 2, 5 and 10 points; none at 20, 50 and 100
CHECK_PIXELS = 16384     # the check's copy: the fused colours are smooth, and every fold is a network pass and two solves
TEMPERATURE = 0.1        # in units of the default setting's error
GAINS = (0.6, 0.8, 1.0, 1.2)
FAR_SHARES = (0.25, 0.5, 0.75, 1.0)
GUESS_SHARES = (0.0, 0.5, 1.0)
CANDIDATES = tuple(guess_mix(k, s, m) for k, s, m in itertools.product(GAINS, FAR_SHARES, GUESS_SHARES))


def folds_of(labels: np.ndarray, count: int, seed: int = 0) -> list[np.ndarray]:
    """The stroke labels 1..count split into min(FOLDS, count) groups, the same for the same strokes."""
    order = np.random.default_rng(seed).permutation(np.arange(1, count + 1))
    return [f for f in np.array_split(order, min(FOLDS, count)) if len(f)]


def checked_mix(L, hints, predict, opts, progress=None, **solve):
    """The mix (a, b, c) for blend_guess that the strokes themselves choose on this photo, or None (keep
    default_mix) with fewer than two strokes or more than MOST_STROKES. L (H, W) and hints (weight, ab) at any one
    size; predict([(weight, ab), ...], L_small) -> the network's guesses (h, w, 2) at L_small's size, one from each
    of those hint sets; solve: propagate_hints' prior settings (prior_distance, guide_with_prior, guide_sigma)."""
    H, W = L.shape
    sub = max(1.0, np.sqrt(H * W / CHECK_PIXELS))
    size = (max(1, round(W / sub)), max(1, round(H / sub)))
    L_small = cv2.resize(L, size, interpolation=cv2.INTER_AREA) if sub > 1 else L
    weight, ab = resize_hints(*hints, size) if sub > 1 else hints
    count, labels = cv2.connectedComponents((weight > 0).astype(np.uint8), connectivity=8)
    count -= 1
    if not 2 <= count <= MOST_STROKES:
        return None
    folds = folds_of(labels, count)
    left_out = [np.isin(labels, fold) for fold in folds]
    kept = [(np.where(out, 0.0, weight).astype(np.float32), np.where(out[..., None], 0.0, ab).astype(np.float32))
            for out in left_out]
    guesses = predict(kept, L_small)   # one batch for all folds
    errors = np.zeros(len(CANDIDATES) + 1)
    for i, (fold, out, hints_f, guess_f) in enumerate(zip(folds, left_out, kept, guesses)):
        parts = propagate_hints(L_small, hints_f, opts, prior=lambda L_work: guess_f, score_params=None,
                                keep_parts=True, **solve).parts
        P, G, guess, w = (p[out] for p in parts)
        for j, mix in enumerate(CANDIDATES + (default_mix(count - len(fold)),)):
            errors[j] += np.sum((blend_guess(P, G, guess, w, mix) - ab[out]) ** 2)
        if progress is not None:
            progress((i + 1) / len(folds), "checking the guess against the strokes")
    if not errors[-1] > 0:
        return None
    relative = errors / errors[-1]
    weights = np.exp(-(relative - relative.min()) / TEMPERATURE)
    mixes = np.array(CANDIDATES + (default_mix(count),))
    return tuple(float(v) for v in weights @ mixes / weights.sum())
