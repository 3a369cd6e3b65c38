"""Raw uncertainty score for propagated scribbles.

Two things make a propagated colour doubtful: how little the scribbles hold the pixel (a walk along the photo
from it rarely reaches one before it fades: far away, behind edges, in busy texture; propagate.unreached), and
disagreement between the scribbles that reach it (the propagated variance of the hint colours). The score mixes
both; the conformal calibration then scales it into a radius in Delta E.
"""
import numpy as np

# The mixing weights are fitted together with the calibration (python -m training.calibration.variational) and
# stored in it; these are the defaults without one.
DEFAULT_SCORE = {"unreached_gain": 10.0, "floor": 3.0}


def raw_score(unreached, variance, unreached_gain, floor):
    """Score in Delta E-like units: spread of the hint colours plus a cost for being unreached, plus a floor."""
    return (np.sqrt(np.maximum(variance, 0.0)) + unreached_gain * unreached + floor).astype(np.float32)
