"""Conformal calibration of raw uncertainty scores into radii in the ab plane.

r(x) = lambda * score(x). lambda is chosen by conformal risk control (Angelopoulos et al. 2022):
with per-image loss L_i(lambda) = fraction of pixels whose chroma error exceeds r(x), the smallest
lambda with n/(n+1) * mean_i L_i(lambda) + 1/(n+1) <= alpha bounds the expected miscoverage of a
new exchangeable image by alpha.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import ColorcoreError, InvalidRequest

DEFAULT_ALPHAS = (0.02, 0.05, 0.1, 0.2, 0.3)
_TINY = 1e-6


def _ratios(score, error):
    return np.asarray(error, np.float64).ravel() / np.maximum(np.asarray(score, np.float64).ravel(), _TINY)


def crc_lambda(scores, errors, alpha, groups=None, shares=None):
    """Smallest lambda controlling the expected per-image miscoverage at alpha (conformal risk control).

    With groups and shares (group name -> share of the target mixture), the risk is the mixture's:
    sum_g share_g * (n_g/(n_g+1) * mean risk in g + 1/(n_g+1)). With one group this is plain CRC and its
    finite-sample guarantee; with several it is the same bound applied per group, a plug-in estimate for
    a mixture whose proportions differ from the calibration split's (e.g. the mixture a model was trained on).
    """
    return _RiskCurve(scores, errors, groups, shares).lam(alpha)


class _RiskCurve:
    """The bound on the risk as a function of lambda, sorted once so every alpha is a lookup."""

    def __init__(self, scores, errors, groups=None, shares=None):
        n = len(scores)
        if n == 0:
            raise ColorcoreError("calibration needs at least one image")
        self.n = n
        groups = list(groups) if shares else [""] * n
        shares = dict(shares) if shares else {"": 1.0}
        counts = {g: groups.count(g) for g in set(groups)}
        if set(counts) != set(shares) or any(v < 0 for v in shares.values()) or sum(shares.values()) <= 0:
            raise ColorcoreError(f"shares must give a non-negative share for each calibration group "
                                 f"{sorted(counts)}; got {shares}")
        total = sum(shares.values())
        share = {g: v / total for g, v in shares.items()}
        ratios = [_ratios(s, e) for s, e in zip(scores, errors)]
        weights = np.concatenate([np.full(r.size, share[g] / ((counts[g] + 1) * r.size))
                                  for r, g in zip(ratios, groups)])
        self.floor = sum(share[g] / (counts[g] + 1) for g in counts)
        ratios = np.concatenate(ratios)
        order = np.argsort(ratios)
        self.ratios, weights = ratios[order], weights[order]
        # risk(lambda = ratios[k]) = weight of ratios strictly above ratios[k]
        above = np.concatenate([np.cumsum(weights[::-1])[::-1][1:], [0.0]])
        # ties: a value shares the risk of its last duplicate
        last_of_value = np.searchsorted(self.ratios, self.ratios, side="right") - 1
        self.risk = above[last_of_value]

    def lam(self, alpha):
        if alpha <= 1.0 / (self.n + 1):
            raise ColorcoreError(f"alpha={alpha} needs more than {self.n} calibration images "
                                 f"(at least {int(1 / alpha)})")
        ok = self.risk + self.floor <= alpha
        return float(self.ratios[np.argmax(ok)]) if ok.any() else float(self.ratios[-1])


def at_or_below(table, alpha):
    """The value of `table` (alpha -> value) at the largest calibrated alpha at or below `alpha` (never less
    conservative than asked), or None when every calibrated alpha is larger."""
    below = [a for a in table if a <= alpha + 1e-12]
    return table[max(below)] if below else None


@dataclass
class Calibration:
    """lambda per alpha for one backend's raw score, and where it came from.

    Optionally per group (Mondrian conformal prediction): a backend that names the group of a request
    (e.g. how many scribbles it had) gets that group's lambdas, calibrated on that group's images only,
    so the coverage holds within each group and not just on average over them.
    """

    lambdas: dict                  # alpha -> lambda (all calibration images)
    source: str = ""
    n_images: int = 0
    extra: dict = field(default_factory=dict)
    groups: dict = field(default_factory=dict)   # group name -> {alpha -> lambda}

    def lam(self, alpha, group=None):
        """lambda for the largest calibrated alpha <= the one asked (never less conservative)."""
        self.check_alpha(alpha, group)
        return at_or_below(self._table(group), alpha)

    def _table(self, group):
        """alpha -> lambda for the group, or the overall one."""
        return self.groups.get(group) or self.lambdas

    def check_alpha(self, alpha, group=None):
        """An alpha below every calibrated one cannot be promised: say which can."""
        table = self._table(group)
        if not table or alpha + 1e-12 < min(table):
            where = f" for {group}" if group in self.groups else ""
            raise InvalidRequest(f"uncertainty level alpha={alpha:g} is below the smallest one calibrated{where} "
                                 f"({min(table, default=float('nan')):g}; calibrated: "
                                 f"{', '.join(f'{a:g}' for a in sorted(table))}); choose one of those or larger")

    def radius(self, score, alpha, group=None):
        return (self.lam(alpha, group) * np.asarray(score, np.float32)).astype(np.float32)

    def describe(self):
        out = {"lambdas": {str(a): round(v, 6) for a, v in sorted(self.lambdas.items())},
               "source": self.source, "n_images": self.n_images, **self.extra}
        if self.groups:
            out["groups"] = {g: {str(a): round(v, 6) for a, v in sorted(t.items())} for g, t in self.groups.items()}
        return out

    def save(self, path):
        data = {"lambdas": {str(a): v for a, v in sorted(self.lambdas.items())}, "source": self.source,
                "n_images": self.n_images, "extra": self.extra,
                "groups": {g: {str(a): v for a, v in sorted(t.items())} for g, t in self.groups.items()}}
        Path(path).write_text(json.dumps(data, indent=2) + "\n")

    @classmethod
    def load(cls, path):
        data = json.loads(Path(path).read_text())
        table = lambda d: {float(a): float(v) for a, v in d.items()}  # noqa: E731
        return cls(lambdas=table(data["lambdas"]), source=data.get("source", ""),
                   n_images=int(data.get("n_images", 0)), extra=data.get("extra", {}),
                   groups={g: table(t) for g, t in data.get("groups", {}).items()})


def _lambdas(scores, errors, alphas, groups=None, shares=None):
    if not any(a > 1.0 / (len(scores) + 1) for a in alphas):
        return {}
    curve = _RiskCurve(scores, errors, groups, shares)
    # an alpha at or below the finite-sample floor cannot be promised with these images: left out
    return {float(a): curve.lam(a) for a in alphas if a > max(curve.floor, 1.0 / (len(scores) + 1))}


def _indices_by(labels):
    """{label: [indices]} in label order."""
    out = {}
    for i, g in enumerate(labels):
        out.setdefault(g, []).append(i)
    return dict(sorted(out.items()))


def _lambdas_every_condition(scores, errors, alphas, idx, conditions=None, groups=None, shares=None):
    """_lambdas of the images idx; with conditions, per alpha the largest lambda over the conditions, each fitted
    on that condition's images alone (an alpha that some condition cannot promise is left out)."""
    pick = lambda seq: None if seq is None else [seq[i] for i in idx]  # noqa: E731
    if conditions is None:
        return _lambdas(pick(scores), pick(errors), alphas, pick(groups), shares)
    tables = [_lambdas_every_condition(scores, errors, alphas, [idx[j] for j in sub], None, groups, shares)
              for sub in _indices_by(pick(conditions)).values()]
    common = set.intersection(*(set(t) for t in tables))
    return {a: max(t[a] for t in tables) for a in sorted(common)}


def fit_calibration(scores, errors, alphas=DEFAULT_ALPHAS, source="", groups=None, shares=None, conditions=None,
                    **extra):
    """Calibrate lists of per-image raw scores and chroma errors (each (H, W), any sizes).

    groups: optional list giving each image's group name; each group is then also calibrated alone.
    shares: optional {group: share}; the overall lambdas then control the risk of that mixture of the
    groups instead of the calibration split's own proportions.
    conditions: optional list giving each image's condition (e.g. "clean" or "aged": how the input was made, which
    a run cannot tell); every lambda (overall and per group) is then the largest of those fitted on each
    condition's images alone, so the risk is controlled under each condition, not only on their mixture.
    """
    if conditions is not None:
        conditions = list(conditions)
        if len(conditions) != len(scores):
            raise ColorcoreError(f"conditions must name one condition per image ({len(scores)}); got "
                                 f"{len(conditions)}")
        extra = dict(extra, conditions=sorted(set(conditions)))
    if shares:
        extra = dict(extra, shares={g: round(float(v), 6) for g, v in sorted(shares.items())})
    every = list(range(len(scores)))
    return Calibration(_lambdas_every_condition(scores, errors, alphas, every, conditions, groups, shares),
                       source=source, n_images=len(scores), extra=extra,
                       groups={g: _lambdas_every_condition(scores, errors, alphas, idx, conditions)
                               for g, idx in _indices_by(groups or []).items()})


def coverage(radius, error):
    """Fraction of pixels whose chroma error lies within the radius."""
    return float(np.mean(np.asarray(error) <= np.asarray(radius)))
