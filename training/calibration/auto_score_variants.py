"""Auto's raw score, changed on the samples without running the backend again: how each change ranks the errors
(AUSE), covers the smallest radii and covers sources it never saw.

    python -m training.calibration.auto_score_variants runs/unc30/gan_samples40L.npz

SAMPLES: training.calibration.auto_samples's file (score, error, the result's chroma and lightness per pixel;
clean and aged runs). Variants: the score's chroma share c (score - s |ab| + c |ab|, s the share the samples were
made with)
and a cap by the colour the sRGB gamut leaves at the pixel's lightness, min(score, k Cmean(L) + |ab|) (Cmean: the
largest in-gamut chroma at L, averaged over hues): an error cannot exceed what the gamut allows; and, where the
samples have it, the disagreement of the network's test-time views added, score + w * spread
(training.calibration.view_spread), and the largest error the gamut allows at the pixel's lightness and colour (G,
colorcore.gamut.gamut_reach) as a factor, score * (G / 100)^p (as backends/prior's score has it), or a cap,
min(score, k G); and where the samples have it (auto_samples --disagreement), score + w * the distance between the
result's chroma and the `prior`'s guess without strokes. For each: AUSE
(mean over runs, clean and aged), the coverage at alpha 0.1 with lambda fitted on the clean runs, in all and in the
smallest quarter of radii, and the worst left-out source (training.calibration.loso's test, lambda on clean and
aged runs of the other sources).
"""
from __future__ import annotations

import argparse
import sys

import numpy as np

from bench.uncertainty import ause
from colorcore import color
from colorcore.calibration import coverage, fit_calibration
from training.calibration.loso import left_out

LEGACY_SHARE = 0.2   # the share of samples written before auto_samples stored it (gan v6's "score_chroma")


def mean_gamut_chroma(L):
    """Cmean(L): the largest chroma inside sRGB at lightness L, averaged over hues (colorcore.gamut's edge)."""
    from colorcore.gamut import edge_chroma
    levels, _, chroma = edge_chroma()
    return np.interp(L, levels, chroma.mean(1))


def gamut_bound(d):
    """colorcore.gamut.gamut_reach at every sampled pixel (the samples' lightness and the result's a, b)."""
    from colorcore.gamut import gamut_reach
    return gamut_reach(d["lightness"], np.stack([d["a"], d["b"]], axis=-1))


def report(name, s, e, aged, source):
    a = np.array([ause(ei, si)[0] for si, ei in zip(s, e)])
    lam = fit_calibration(list(s[~aged]), list(e[~aged]), alphas=(0.1,)).lambdas[0.1]
    cells = [f"{a[~aged].mean():.4f}", f"{a[aged].mean():.4f}"]
    for m in (~aged, aged):
        r, err = (lam * s[m]).ravel(), e[m].ravel()
        small = r <= np.quantile(r, 0.25)
        cov = np.mean([coverage(lam * si, ei) for si, ei in zip(s[m], e[m])])
        cells.append(f"{cov:.3f} / {np.mean(err[small] <= r[small]):.3f}")
    per = left_out(s, e, [""] * len(s), source, aged, 0.1)
    (src, is_aged), (worst, _, _) = min(per.items(), key=lambda kv: kv[1][0])
    cells.append(f"{worst:.3f} ({src}{' aged' if is_aged else ''})")
    print(f"| {name} | " + " | ".join(cells) + " |")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("samples")
    args = p.parse_args(argv)
    d = np.load(args.samples)
    if "lightness" not in d.files:
        sys.exit(f"{args.samples} has no per-pixel chroma and lightness; "
                 f"make it with training.calibration.auto_samples")
    S, e, chroma, aged, source = d["score"], d["error"], d["chroma"], d["aged"].astype(bool), d["source"]
    share = float(d["score_chroma"][0]) if "score_chroma" in d.files else LEGACY_SHARE
    base = S - share * chroma
    gamut = mean_gamut_chroma(d["lightness"])
    print("| score | AUSE clean | AUSE aged | coverage / smallest quarter, clean | the same, aged | worst left out |")
    print("|---|---|---|---|---|---|")
    report(f"as sampled (chroma share {share:g})", S, e, aged, source)
    for c in (0.0, 0.4, 0.8):
        report(f"chroma share {c}", base + c * chroma, e, aged, source)
    for k in (0.3, 0.5, 1.0):
        report(f"min(score, {k} Cmean(L) + |ab|)", np.minimum(S, k * gamut + chroma), e, aged, source)
    if "a" in d.files:   # the largest error the gamut allows (colorcore.gamut), as backends/prior scales its score
        bound = gamut_bound(d)
        for power in (0.25, 0.5):
            report(f"score * (G / 100)^{power}", S * (np.maximum(bound, 1e-6) / 100) ** power, e, aged, source)
        for k in (0.3, 0.5):
            report(f"min(score, {k} G)", np.minimum(S, k * bound), e, aged, source)
    if "disagreement" in d.files:   # a second colorizer's guess (the prior without strokes): where they differ
        for w in (0.2, 0.5, 1.0):
            report(f"score + {w} disagreement", S + w * d["disagreement"], e, aged, source)
    if "view_spread" in d.files:
        for w in (0.5, 1.0, 2.0, 4.0):
            report(f"score + {w} view spread", S + w * d["view_spread"], e, aged, source)
    return 0


if __name__ == "__main__":
    sys.exit(main())
