"""An animation's frames, as GIMP opens a GIF or APNG (stdlib only).

GIMP opens a GIF or APNG as one layer per frame, named like "Frame 2 (120ms) (combine)": the timing and how the
frame is drawn (over the previous one, or replacing it) live in the layer names, which GIF export reads. Here:
which layers are frames and in which order, whether the layers look like an animation at all, and the name of a
colorized frame.
"""
import re

from colorize_layers import is_result_name

FRAME_TIMING = re.compile(r"\(\s*\d+\s*ms\s*\)")
FRAMES_CHOICES = (("auto", "Auto (when the layers are an animation's frames)"),
                  ("all-layers", "All layers are frames"), ("selected-layer", "The selected layer only"))


def frame_layers(layers, exclude=()):
    """layers: [(id, name, has_alpha)] top to bottom (GIMP's order). The frames in play order (the bottom layer
    is the first frame): every layer but the excluded ones (the scribble layer) and our result layers."""
    return [(lid, name) for lid, name, _ in reversed(layers)
            if lid not in exclude and not is_result_name(name)]


def looks_like_animation(layers, exclude=()):
    """At least two frame layers, and at least two of them carry a frame time "(… ms)" in their names."""
    frames = frame_layers(layers, exclude)
    return len(frames) >= 2 and sum(bool(FRAME_TIMING.search(name)) for _, name in frames) >= 2


def draws_over_previous(name):
    """Whether the layer is drawn over the frame before it: unless it is named "(replace)". GIMP names a GIF's
    frames "(combine)" or "(replace)" from their disposal and leaves the rest ("don't care") untagged, which
    viewers draw over the previous frame: an optimised GIF's layers hold only what changed. A wholly opaque
    layer comes out the same either way."""
    return "(replace)" not in name


def colorized_frame_name(name):
    """The result frame's layer name: the same name and timing, marked "(replace)", since each result layer is
    a whole frame."""
    if "(replace)" in name:
        return name
    return name.replace("(combine)", "(replace)") if "(combine)" in name else name + " (replace)"
