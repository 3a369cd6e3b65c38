"""Is a stroke's worth where it reaches or how wrong the result is there? Rankings that know the truth, on the
places training.calibration.suggest_places measured.

    python -m training.calibration.suggest_reach [--places runs/unc30/places] [--simulate]

For each photo of PLACES/places.jsonl (one true-colour stroke at each of 64 grid places, its PSNR with the default
Scribble backend `prior`), the places are ranked by sum over pixels of reach_p(x) * u(x) (colorcore.suggest's gain)
with u(x) the squared RGB error, for several u and reaches:
  u     auto_radius    the shipped one: Auto's calibrated radius (what colorcore.suggest uses)
        prior_radius   the `prior`'s own raw score without strokes
        disagreement   |ab of the prior without strokes - ab of Auto|: where two colorizers disagree one is wrong
        true_prior     the TRUE error of the `prior`'s result without strokes (an oracle: what a stroke corrects)
        true_auto      the TRUE error of Auto's result (an oracle)
        ones           every pixel alike: the region's size alone
  reach shipped        max(hold, alike) on Auto's result (colorcore.suggest)
        on_prior       the same on the `prior`'s strokeless result
        hold           the walk's hold alone
Beside them, rankings by how much closer a stroke's colour would bring each pixel it reaches (colour_fix), the
`prior`'s strokeless result as the start:
  true colours         the stroke's true colour and every pixel's true colour (an oracle: what a stroke of the
                       right colour fixes where it reaches, if the reach were right)
  Auto as truth        Auto's colours in place of the truth, at the place and everywhere (knowable at run time)
--simulate also runs the `prior` once per place with a stroke of Auto's colour (Auto standing in for the truth):
  simulated_gain       how much closer to Auto's result the stroke brings the `prior`'s
  simulated_move       how much the stroke moves the `prior`'s result at all
Printed: the top place's PSNR over the photo's mean place, per source and as a macro mean, with the oracle's
(the best place's) beside it. Photos whose places moved since they were measured (another thread count) are left
out, as suggest_places --refeature does.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

U_NAMES = ("auto_radius", "prior_radius", "disagreement", "true_prior", "true_auto", "ones")
REACHES = ("shipped", "on_prior", "hold")


def strokeless_prior(prior, gray):
    """The `prior`'s result (rgb) and raw score with no stroke at all (the pipeline refuses an empty layer; the
    backend still guesses)."""
    from colorcore import ColorizeRequest, color
    from training.evaluation import hint_scribbles
    req = ColorizeRequest(image=gray, mode="scribble", scribbles=hint_scribbles(gray, []),
                          options=prior.validate_options({}))
    out = prior.run(req)
    return color.with_lightness(req.lightness(), out.ab), out.score


def colour_fix(ab_before, truth_ab, colours, sens):
    """(n, H*W): how much a stroke of each colour (n, 2) would bring each pixel's squared RGB error down, from the
    result ab_before (H, W, 2) to the truth truth_ab (H, W, 2) if the stroke's colour reached it: max(|before -
    truth|^2 - |colour - truth|^2, 0) ab units, times sens^2 (RGB per ab unit, colorcore.suggest.rgb_sensitivity)."""
    truth = truth_ab.reshape(-1, 2)
    before = np.sum((ab_before.reshape(-1, 2) - truth) ** 2, axis=-1)
    c = np.asarray(colours, np.float32)
    after = np.square(truth[None, :, 0] - c[:, :1]) + np.square(truth[None, :, 1] - c[:, 1:])
    return np.maximum(before[None] - after, 0.0) * np.square(sens).ravel()[None]


def reach_on(L, colours, ys, xs):
    """(hold, max(hold, alike)) (n, H*W) of strokes at (ys, xs) on a result of these colours (working size): the walk's
    hold alone, and colorcore.suggest's reach (SUPPORT "either") on that result."""
    import cv2
    from colorcore import suggest as S
    hold = S.holds(L, colours, ys, xs).reshape(len(ys), -1)
    return hold, np.maximum(hold, S.alike(colours, cv2.blur(colours, (5, 5))[ys, xs]))


def rankings(row, gan, prior, grid, simulate):
    """{name: per-place score} for one photo, or None when its places moved."""
    import cv2
    from bench.suggest import corner
    from colorcore import ColorizeRequest, color, run_backend
    from colorcore import suggest as S
    from training.calibration.suggest_places import place_features
    from training.evaluation import gray_of, hint_colour, hint_scribbles, load_rgb
    rgb = load_rgb(row["path"])
    gray = gray_of(rgb)
    auto = run_backend(gan, ColorizeRequest(image=gray, mode="auto"))
    Y, X, _ = place_features(auto.rgb, auto.uncertainty, grid)
    if Y.tolist() != row["y"] or X.tolist() != row["x"]:
        return None
    p0_rgb, p0_score = strokeless_prior(prior, gray)
    scale, L, ab, radius = S.working(auto.rgb, auto.uncertainty)
    _, _, ab0, score0 = S.working(p0_rgb, p0_score)
    _, _, ab_true, _ = S.working(rgb, np.zeros(rgb.shape[:2], np.float32))
    ys = np.clip(np.round((Y + 0.5) * scale - 0.5).astype(int), 0, L.shape[0] - 1)
    xs = np.clip(np.round((X + 0.5) * scale - 0.5).astype(int), 0, L.shape[1] - 1)
    sens = S.rgb_sensitivity(L, ab) * 255.0
    hold, shipped = reach_on(L, ab, ys, xs)
    reaches = {"shipped": shipped, "on_prior": reach_on(L, ab0, ys, xs)[1], "hold": hold}
    dist = lambda p, q: np.hypot(*(p - q).transpose(2, 0, 1))  # noqa: E731
    us = {"auto_radius": radius * sens, "prior_radius": score0 * S.rgb_sensitivity(L, ab0) * 255.0,
          "disagreement": dist(ab0, ab) * sens, "true_prior": dist(ab0, ab_true) * sens,
          "true_auto": dist(ab, ab_true) * sens, "ones": np.ones_like(radius)}
    out = {f"{u} @ {r}": reaches[r] @ (us[u].ravel() ** 2) for u in U_NAMES for r in REACHES}
    lab_true = color.rgb_to_lab(rgb)
    c_true = np.array([hint_colour(lab_true, *corner(y, x, rgb.shape)) for y, x in zip(Y, X)], np.float32)
    sens0 = S.rgb_sensitivity(L, ab0) * 255.0
    fixes = {"true colours": colour_fix(ab0, ab_true, c_true, sens0),
             "Auto as truth": colour_fix(ab0, ab, cv2.blur(ab, (5, 5))[ys, xs], sens0)}
    out.update({f"{f}, fix @ {r}": np.sum(reaches[r] * fx, axis=1) for f, fx in fixes.items()
                for r in ("shipped", "on_prior")})
    if simulate:
        gains, moves = [], []
        for y, x in zip(Y, X):
            res = run_backend(prior, ColorizeRequest(image=gray, mode="scribble",
                                                     scribbles=hint_scribbles(auto.rgb, [corner(y, x, rgb.shape)])))
            gains.append(np.sum((p0_rgb - auto.rgb) ** 2) - np.sum((res.rgb - auto.rgb) ** 2))
            moves.append(np.sum((res.rgb - p0_rgb) ** 2))
        out.update(simulated_gain=np.asarray(gains), simulated_move=np.asarray(moves))
    return out


def report(photos):
    """photos: [(source, psnr per place, {name: per-place score})]."""
    from bench.common import macro_mean, mean_sem
    sources = sorted({s for s, _, _ in photos})
    names = list(photos[0][2]) + ["oracle"]
    print(f"{len(photos)} photos; the top place's PSNR over the photo's mean place (dB)")
    print(f"{'ranking':<30}" + "".join(f"{s[:12]:>14}" for s in sources) + f"{'macro':>16}")
    for name in names:
        per = {s: [] for s in sources}
        for source, psnr, ranks in photos:
            psnr = np.asarray(psnr)
            pick = int(np.argmax(psnr if name == "oracle" else ranks[name]))
            per[source].append(psnr[pick] - psnr.mean())
        stats = {s: mean_sem(v) for s, v in per.items()}
        mac = macro_mean(list(stats.values()))
        print(f"{name:<30}" + "".join(f"{stats[s][0]:+14.2f}" for s in sources) + f"{mac[0]:+10.2f} ±{mac[1]:.2f}")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--places", default="runs/unc30/places", help="training.calibration.suggest_places's --out")
    p.add_argument("--grid", type=int, default=8, help="as the places were measured")
    p.add_argument("--simulate", action="store_true", help="also run the prior once per place (slow)")
    args = p.parse_args(argv)
    log = Path(args.places) / "places.jsonl"
    if not log.exists():
        sys.exit(f"no {log}: measure the places first with python -m training.calibration.suggest_places")
    from colorcore import load_registry
    reg = load_registry()
    gan, prior = reg.get("gan"), reg.get("prior")
    rows = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    photos = []
    for i, row in enumerate(rows):
        ranks = rankings(row, gan, prior, args.grid, args.simulate)
        if ranks is not None:
            photos.append((row["source"], row["psnr"], ranks))
        print(f"\r{i + 1}/{len(rows)} photos", end="", file=sys.stderr, flush=True)
    print(f"\n{len(rows) - len(photos)} of {len(rows)} left out: their places moved", file=sys.stderr)
    report(photos)
    return 0


if __name__ == "__main__":
    sys.exit(main())
