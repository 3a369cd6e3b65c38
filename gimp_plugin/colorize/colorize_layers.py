"""The image's layers, as the plug-in reads and names them (stdlib only, no gi, no numpy).

Which layer holds the scribbles, the names of the layers a run adds ("Colorized (<backend>)", ...), the text
attached to the uncertainty layer and shown to the user, and putting the photo's alpha back into the results.
Layers come in as (id, name, has_alpha) rows, top to bottom, so all of it is testable without GIMP.
"""
import json

from colorize_engine import P

SCRIBBLE_LAYER_NAME = "Scribbles"
COLORIZED_PREFIX = "Colorized ("
UNCERTAINTY_PREFIX = "Uncertainty ("
INTERVAL_PREFIX = "RGB interval "   # "RGB interval low (gan)", "RGB interval high (gan)"
SUGGEST_LAYER_NAME = "Where to paint"   # numbered circles: where one stroke would help most (colorize_suggest)
RESULT_PREFIXES = (COLORIZED_PREFIX, UNCERTAINTY_PREFIX, INTERVAL_PREFIX, SUGGEST_LAYER_NAME)
PARASITE_NAME = "colorize-uncertainty"


def colorized_layer_name(backend):
    return "%s%s)" % (COLORIZED_PREFIX, backend)


def uncertainty_layer_name(backend):
    return "%s%s)" % (UNCERTAINTY_PREFIX, backend)


def interval_layer_name(which, backend):
    """which: "low" or "high"."""
    return "%s%s (%s)" % (INTERVAL_PREFIX, which, backend)


def is_result_name(name):
    return name.startswith(RESULT_PREFIXES)


def pick_scribble_layer(layers, source_id):
    """layers: [(id, name, has_alpha)] top to bottom. The "Scribbles" layer, else the topmost
    other layer with alpha that is not one of our result layers; None if there is none."""
    for lid, name, _ in layers:
        if lid != source_id and name == SCRIBBLE_LAYER_NAME:
            return lid
    for lid, name, has_alpha in layers:
        if lid == source_id or not has_alpha:
            continue
        if is_result_name(name):
            continue
        return lid
    return None


def interleave(rgb, alpha, n_color):
    """bytes of n_color float32 per pixel + bytes of the alpha (4 bytes/pixel) of an
    (n_color+1)-float32 source -> (n_color+1) float32 per pixel. Pure slicing, no numpy."""
    stride_in = n_color * 4
    npx = len(rgb) // stride_in
    stride_out = stride_in + 4
    out = bytearray(npx * stride_out)
    src_alpha_stride = len(alpha) // npx
    for k in range(stride_in):
        out[k::stride_out] = rgb[k::stride_in]
    off = src_alpha_stride - 4
    for k in range(4):
        out[stride_in + k::stride_out] = alpha[off + k::src_alpha_stride]
    return bytes(out)


def uncertainty_parasite_text(result, alpha, backend):
    scale = result.get("uncertainty_scale")
    return json.dumps({"backend": backend, "alpha": result.get("alpha", alpha),
                       "delta_e_at_white": scale,
                       "meaning": "pixel value v (0..1) = uncertainty radius v*delta_e_at_white in Delta E_ab; "
                                  "the true colour lies within that radius for at least 1-alpha of pixels"})


def uncertainty_message(result, alpha, backend):
    scale = result.get("uncertainty_scale")
    if scale is None:
        msg = "Uncertainty (%s): brighter = less sure." % backend
    else:
        msg = ("Uncertainty (%s): white = %.1f \u0394E (radius that holds the true colour for %d%% of pixels); "
               "black = 0." % (backend, float(scale), round(100 * (1 - float(result.get("alpha", alpha))))))
    note = P.result_note(result.get("info"))
    return msg + " " + note if note else msg
