"""Built-in backend `variational`: propagates scribble colours along the photo's lightness structure.

The method is in propagate.py (solver.py solves it, uncertainty.py scores it); this module adapts it to the
contract: options, calibration (calibration.json, made by python -m training.calibration.variational) and run().
"""
from __future__ import annotations

from pathlib import Path

from colorcore import Backend, BackendOutput, Calibration, Option, hookimpl

from .propagate import propagate_scribbles
from .strokes import scribble_group
from .uncertainty import DEFAULT_SCORE

CALIBRATION_FILE = Path(__file__).parent / "calibration.json"


class VariationalBackend(Backend):
    name = "variational"
    label = "Scribbles (edge-aware propagation)"
    modes = ("scribble", "partial")
    needs_scribbles = True
    takes_mask = False
    gives_uncertainty = True
    options = (
        Option("edge_sensitivity", float, 2.0, minimum=0.25, maximum=50.0,
               help="lightness step (L units) that stops colour; smaller = colours stop at fainter edges"),
        Option("nonlocal", bool, True, help="let a colour jump to similar-looking regions, not only neighbours"),
        Option("work_megapixels", float, 0.3, minimum=0.05, maximum=16.0,
               help="solve at most this many megapixels, then upsample along the full-size edges"),
    )

    def calibration(self):
        return Calibration.load(CALIBRATION_FILE) if CALIBRATION_FILE.is_file() else None

    def score_params(self):
        cal = self.calibration()
        return dict(DEFAULT_SCORE, **(cal.extra.get("score", {}) if cal else {}))

    def run(self, request):
        p = self.score_params()
        prop = propagate_scribbles(request.lightness(), request.scribbles, request.options, request.progress,
                                   score_params=(p["unreached_gain"], p["floor"]))
        request.progress(1.0, "done")
        return BackendOutput(ab=prop.ab, score=prop.score, info={"work_scale": round(prop.scale, 4),
                                                                 "scribbles": prop.strokes,
                                                                 "calibration_group": scribble_group(prop.strokes)})


@hookimpl
def register_backends(register):
    register(VariationalBackend())
