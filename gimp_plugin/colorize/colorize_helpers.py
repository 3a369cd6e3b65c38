"""Former home of the plug-in's gi-free helpers, now split by concern; kept for code outside the plug-in.

The plug-in itself imports the modules beside this file directly:
    colorize_engine   the protocol copy (P), finding and running the engine, errors, timing log
    colorize_jobdir   the job folder and its raw buffers
    colorize_options  backends and their options as procedure arguments
    colorize_labels   the dialogs' words for each option, basic or expert
    colorize_layers   scribble layer, result layer names, uncertainty text, alpha interleaving
    colorize_frames   an animation's frame layers
This module re-exports their names (tests/test_protocol.py and tests/test_novelty.py still import it); new code
should import the module it needs.
"""
import os
import sys

_here = os.path.dirname(os.path.abspath(__file__))
if _here not in sys.path:   # the modules import each other by name, as they do inside GIMP's plug-in folder
    sys.path.insert(0, _here)

from colorize_engine import *  # noqa: E402,F401,F403
from colorize_engine import P  # noqa: E402,F401
from colorize_jobdir import *  # noqa: E402,F401,F403
from colorize_options import *  # noqa: E402,F401,F403
from colorize_labels import *  # noqa: E402,F401,F403
from colorize_layers import *  # noqa: E402,F401,F403
from colorize_frames import *  # noqa: E402,F401,F403

MODES = P.MODES
DEFAULT_ALPHA = P.DEFAULT_ALPHA
