"""From reference... (stdlib only): which photo the colours come from.

The reference is a layer the user chose (of this image or any open one), else an open image (its visible layers
merged), else by default the most recently opened colour image that is not the target: GIMP numbers images in
the order they were opened, so that is the colour image with the highest id other than the target's.
"""
from colorize_layers import SCRIBBLE_LAYER_NAME

NO_COLOUR = "the reference has no colour; choose a colour image"   # the engine's own line (colorcore.contract)
NO_REFERENCE = ("From reference takes its colours from another photo, but no colour image other than this one is "
                "open: open the colour photo (File > Open), or choose a layer as the reference")


def default_reference(images, target_id):
    """images: [(image id, is colour)]; the id of the most recently opened colour image that is not the target,
    or None when there is none."""
    ids = [iid for iid, colour in images if colour and iid != target_id]
    return max(ids) if ids else None


def reference_source(layer_id, image_id, default_id):
    """('layer', id) when a layer was chosen, else ('image', id) for the chosen image or the default one; None
    when there is nothing to take colours from."""
    if layer_id is not None:
        return ("layer", layer_id)
    if image_id is not None:
        return ("image", image_id)
    if default_id is not None:
        return ("image", default_id)
    return None


def reference_scribble_layer(layers, source_id, reference_id=None):
    """Reference mode's scribble layer when none was chosen: only the layer named "Scribbles" (any other layer
    with alpha may be the reference, or a photo), never the photo or the reference itself. layers: [(id, name,
    has alpha)]; returns an id or None."""
    for lid, name, _ in layers:
        if name == SCRIBBLE_LAYER_NAME and lid not in (source_id, reference_id):
            return lid
    return None


def merge_needed(layers, width, height):
    """Whether an image must be merged to read what it shows: layers = [(w, h, ox, oy, visible)] of its top
    level; one visible layer that covers the canvas exactly is read as it is."""
    return not (len(layers) == 1 and layers[0] == (width, height, 0, 0, True))
