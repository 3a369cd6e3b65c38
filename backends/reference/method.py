"""The `reference` method: colour hints from a reference photo, fused with the learned prior by edge-aware
propagation (as `prior` fuses strokes).

1. Where the reference shows the same scene (align.py: a homography of SIFT matches, refined by optical flow),
   its colours are warped onto the photo; a warped pixel whose lightness agrees with the photo's is a hint, as
   strong as the agreement.
2. Everywhere else, dense semantic matches on the `gan` encoder's features (matching.py): the confident ones
   (mutual nearest neighbours) are hints, weaker, at their cells' centres.
3. The user's strokes override both where painted.
4. The `prior` network takes those hints as its condition and guesses every pixel's colour; where nothing
   matched, the guess is pulled toward the reference's own colours for that lightness band (the reference's
   palette, as Welsh et al. 2002 transfer it), as far as the guess is unsure.
5. The `variational` solve spreads the hints along the photo's edges; far from them the guess holds, shifted by
   the hints' correction of it (fuse below).
6. The gate: when the reference did not align and few of the photo's cells found a mutual match in it (a
   reference of merely the same kind: another tulip, another cat), the result leans toward Auto's colours (the
   `gan` backend's prediction), all the way below GATE_LOW's share of mutual matches; from GATE_HIGH up the
   reference's result stands alone. Chosen on calibration pairs only (backends/reference/MODEL_CARD.md).
Raw uncertainty (score): the colours the hints mixed, the semantic matches' spread, the warped pixels' lightness
disagreement and the network's predicted error where its guess makes the result; calibrated by conformal risk
control per group ("aligned" when the reference showed the same scene, else "semantic").
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from colorcore import color, no_progress

from backends.variational.propagate import GuessSolve, propagate_hints, stroke_hold

BANDS = 12               # lightness bands of the reference's palette
ALIGNED_GROUP, SEMANTIC_GROUP = "aligned", "semantic"
MIN_ALIGNED_SHARE = 0.1  # an alignment that gives hints on less of the photo than this counts as none
GATE_LOW, GATE_HIGH = 0.28, 0.38   # share of mutual matches: Auto's colours below, the reference's above


@dataclass
class Settings:
    temperature: float = 0.03       # softmax temperature of the semantic matches (cosine similarity units)
    semantic_weight: float = 0.5    # hint weight of a fully confident semantic match (an aligned pixel: up to 1)
    palette: float = 0.5            # how far an unsure guess is pulled toward the reference's band colours
    prior_distance: float = 0.1     # image diagonals: how far the hints hold before the guess takes over
    use_alignment: bool = True
    gate: tuple = (GATE_LOW, GATE_HIGH)   # None: no fallback toward Auto


def reference_trust(aligned: bool, mutual_share: float, gate) -> float:
    """How far the reference's result stands (1) rather than Auto's guess (0): 1 when the reference aligned,
    else a linear ramp of the share of mutual matches between gate[0] and gate[1]."""
    if aligned or gate is None:
        return 1.0
    lo, hi = gate
    return float(np.clip((mutual_share - lo) / max(hi - lo, 1e-6), 0.0, 1.0))


def reference_lab(reference):
    """(Hr, Wr, 4) RGBA -> L (Hr, Wr), ab (Hr, Wr, 2), alpha (Hr, Wr). Fully transparent pixels take the mean
    colour of the visible ones, so what they hold never reaches the matches (their alpha keeps them out of every
    hint too)."""
    rgb, alpha = reference[..., :3], reference[..., 3]
    hidden = alpha <= 0
    if hidden.any():
        rgb = np.where(hidden[..., None], rgb[~hidden].mean(axis=0), rgb)
    lab = color.rgb_to_lab(np.ascontiguousarray(rgb, np.float32))
    return lab[..., 0], np.ascontiguousarray(lab[..., 1:]), np.ascontiguousarray(reference[..., 3])


def band_palette(L_ref, ab_ref, alpha_ref, L_tgt, bands=BANDS):
    """Per target pixel: the reference's mean chroma over the pixels of its lightness band (tones matched), and
    how consistent that band's chroma is (1 / (1 + spread/20)); bands the reference lacks borrow from the nearest."""
    from .matching import tone_matched
    Lr = tone_matched(L_ref, L_tgt, alpha_ref)
    edges = np.linspace(0, 100, bands + 1)
    idx_r = np.clip(np.digitize(Lr, edges) - 1, 0, bands - 1)
    w = (alpha_ref > 0.5).astype(np.float64)
    means, spread, have = np.zeros((bands, 2)), np.zeros(bands), np.zeros(bands, bool)
    for b in range(bands):
        sel = (idx_r == b) & (w > 0)
        if sel.sum() >= 16:
            v = ab_ref[sel]
            means[b] = v.mean(0)
            spread[b] = np.sqrt(((v - means[b]) ** 2).sum(1).mean())
            have[b] = True
    if not have.any():
        return np.zeros(L_tgt.shape + (2,), np.float32), np.zeros(L_tgt.shape, np.float32)
    near = [np.flatnonzero(have)[np.argmin(np.abs(np.flatnonzero(have) - b))] for b in range(bands)]
    means, spread = means[near], spread[near]
    idx_t = np.clip(np.digitize(L_tgt, edges) - 1, 0, bands - 1)
    return means[idx_t].astype(np.float32), (1.0 / (1.0 + spread[idx_t] / 20.0)).astype(np.float32)


def semantic_hints(matches, shape):
    """Confident matches as hints at full size: each confident cell's middle half holds its matched chroma, at a
    weight of its confidence; and the spread of the match as a smooth field over the whole photo."""
    H, W = shape
    gh, gw = matches.confidence.shape
    weight = np.zeros((H, W), np.float32)
    ab = np.zeros((H, W, 2), np.float32)
    ys, xs = np.nonzero(matches.confidence > 0)
    for y, x in zip(ys, xs):
        y0, y1 = int((y + 0.25) * H / gh), int(np.ceil((y + 0.75) * H / gh))
        x0, x1 = int((x + 0.25) * W / gw), int(np.ceil((x + 0.75) * W / gw))
        weight[y0:y1, x0:x1] = matches.confidence[y, x]
        ab[y0:y1, x0:x1] = matches.ab[y, x]
    spread = cv2.resize(matches.spread, (W, H), interpolation=cv2.INTER_LINEAR)
    return weight, ab, spread


def fuse(solve: GuessSolve, prior_distance: float):
    """The hints' colours P where they hold, the guess elsewhere, shifted by the hints' correction P - G of it:
    P + w (guess - G), w = 1 - stroke_hold (0 at the hints)."""
    hold = stroke_hold(solve.L, solve.weight, prior_distance, solve.settings, graph=solve.graph) if prior_distance > 0 \
        else np.zeros(solve.weight.shape, np.float32)
    w = np.where(solve.weight > 0, 0.0, 1.0 - hold).astype(np.float32)
    return solve.spread + w[..., None] * (solve.guess - solve.guess_spread), w


def colorize_with_reference(L, reference, scribble_hints, nets, opts, settings: Settings, progress=no_progress):
    """The whole method (module docstring) at the request's size. nets: (encoder, prior generator, prior size,
    auto) where auto(L) gives Auto's (ab, raw score). Returns (ab (H, W, 2), raw score (H, W), info)."""
    from functools import partial
    from backends.gan import infer
    from backends.prior.fusion import REFERENCE_SCORE_FLOOR, prior_score
    from backends.prior.guess import hint_condition
    from .align import align
    from .matching import match
    encoder, G, native, auto = nets
    H, W = L.shape
    L_ref, ab_ref, alpha_ref = reference_lab(reference)
    progress(0.05, "aligning the reference")
    aligned = align(L, L_ref, ab_ref, alpha_ref) if settings.use_alignment else None
    if aligned is not None and float((aligned.weight > 0.5).mean()) < MIN_ALIGNED_SHARE:
        aligned = None
    progress(0.15, "matching the reference")
    m = match(encoder, L, L_ref, ab_ref, alpha_ref, temperature=settings.temperature)
    w_sem, ab_sem, sem_spread = semantic_hints(m, (H, W))
    weight = settings.semantic_weight * w_sem
    ab = ab_sem
    hint_unc = sem_spread
    if aligned is not None:
        take = aligned.weight > settings.semantic_weight * w_sem
        weight = np.where(take, aligned.weight, weight)
        ab = np.where(take[..., None], aligned.ab, ab)
        # where the warp is trusted, its uncertainty is its lightness disagreement, else the match spread
        hint_unc = aligned.weight * (1.0 + aligned.residual) + (1 - aligned.weight) * sem_spread
    s_weight, s_ab = scribble_hints
    painted = s_weight > 0
    if painted.any():   # strokes override the reference where they hold
        weight = np.where(painted, np.maximum(s_weight, 1.0), weight)
        ab = np.where(painted[..., None], s_ab, ab)
        hint_unc = np.where(painted, 0.0, hint_unc)
    weight = np.where(weight > 0.05, weight, 0.0).astype(np.float32)
    ab = np.where(weight[..., None] > 0, ab, 0.0).astype(np.float32)

    progress(0.3, "guessing colours from the matches")
    h, w = infer.work_size(H, W, native, G.multiple)
    L_lo = infer.resized(L, (h, w))
    ab_lo, s_lo = infer.predict_lowres(G, L_lo, mask_lo=hint_condition(weight, ab, (w, h)))
    palette_ab, palette_trust = band_palette(L_ref, ab_ref, alpha_ref, L_lo)
    # pull the guess toward the reference's palette as far as the network is unsure (s_lo: its expected error)
    pull = settings.palette * palette_trust * np.clip(s_lo / 20.0, 0, 1)
    guess_lo = (ab_lo + pull[..., None] * (palette_ab - ab_lo)).astype(np.float32)

    prop = propagate_hints(L, (weight, ab), opts, lambda f, msg: progress(0.35 + 0.55 * f, msg),
                           predict_guess=lambda L_work: infer.guided_upsample(L_lo, guess_lo, L_work),
                           fuse=partial(fuse, prior_distance=settings.prior_distance), score_params=None,
                           guide_with_guess=True, guide_sigma=5.0)
    s_head = cv2.resize(s_lo, (W, H), interpolation=cv2.INTER_LINEAR)
    spread = cv2.resize(prop.variance, (W, H), interpolation=cv2.INTER_LINEAR)
    share = cv2.resize(prop.guess_share, (W, H), interpolation=cv2.INTER_LINEAR)
    # the prior's score (network error where its guess makes the result, mixed hint colours), plus the hints' own
    # doubt where they make it
    score = np.sqrt(prior_score(s_head, spread, share, REFERENCE_SCORE_FLOOR) ** 2
                    + ((1 - np.clip(share, 0, 1)) * hint_unc) ** 2)
    mutual_share = float((m.confidence > 0).mean())
    trust = reference_trust(aligned is not None, mutual_share, settings.gate)
    ab_out = prop.ab
    if trust < 1.0:   # the gate (module docstring, 6): toward Auto's guess; painted pixels keep their strokes
        progress(0.92, "weighing the reference against the automatic guess")
        ab_auto, score_auto = auto(L)
        keep = np.where(painted, 1.0, trust).astype(np.float32)
        ab_out = (keep[..., None] * prop.ab + (1 - keep[..., None]) * ab_auto).astype(np.float32)
        score = np.sqrt(keep * score ** 2 + (1 - keep) * score_auto ** 2)
    info = {"aligned": aligned is not None, "aligned_share": round(float((aligned.weight > 0.5).mean()), 4)
            if aligned is not None else 0.0, "inliers": aligned.inliers if aligned is not None else 0,
            "matched_share": round(mutual_share, 4), "reference_trust": round(trust, 4),
            "mean_similarity": round(float(m.similarity.mean()), 4),
            "mean_confidence": round(float(m.confidence.mean()), 4),
            "calibration_group": ALIGNED_GROUP if aligned is not None else SEMANTIC_GROUP}
    return ab_out, score.astype(np.float32), info
