"""colorcore: the colorization engine behind the GIMP plug-in and the `colorcore` CLI."""
from . import color
from .calibration import Calibration, fit_calibration
from .contract import MODES, Backend, BackendOutput, ColorizeRequest, ColorizeResult, Option
from .errors import (BackendFailed, BackendUnavailable, Cancelled, ColorcoreError, InvalidRequest, PluginError,
                     UnknownBackend)
from .hooks import hookimpl
from .pipeline import colorize, run_backend
from .plugins import load_registry
from .progress import no_progress
from .weights import WeightsFile

__version__ = "0.1.0"
__all__ = ["color", "Calibration", "fit_calibration", "MODES", "Backend", "BackendOutput", "ColorizeRequest",
           "ColorizeResult", "Option", "BackendFailed", "BackendUnavailable", "Cancelled", "ColorcoreError",
           "InvalidRequest", "PluginError", "UnknownBackend", "hookimpl", "colorize", "run_backend",
           "load_registry", "no_progress", "WeightsFile"]
