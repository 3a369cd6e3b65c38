"""What the dialogs call each backend option, in the words of someone restoring a photo (stdlib only).

The engine names its options for its own code ("prior_distance", "guide_sensitivity"); the plug-in shows them as
what they do to the picture, says in the tooltip which way to turn them, and keeps the ones only an expert
needs (how big the engine works, how many samples it draws) behind "Expert options". Only the words change: the
procedure arguments keep their names ("<backend>-<option>"), so scripts that call the procedures are unaffected.
An option the plug-in has no words for (a backend added later) shows under its own name and the engine's help.
"""
from colorize_options import option_args

BASIC, EXPERT = False, True

# engine option name: (dialog label, expert?, tooltip)
OPTION_WORDS = {
    "prior_distance": (
        "How far colours spread", BASIC,
        "How far a painted colour reaches across flat areas before the model's own colour guess takes over "
        "(a fraction of the picture's diagonal). 0: the guess everywhere except right at the strokes."),
    "edge_sensitivity": (
        "Edge strength that stops colour", BASIC,
        "Colours stop at edges in the photo stronger than this. Lower: even faint edges stop them (less "
        "bleeding); higher: colours flow over soft edges."),
    "nonlocal": (
        "Let colours jump to similar areas", BASIC,
        "A stroke also colours areas that look like the painted one elsewhere in the photo, not only the "
        "connected area around it."),
    "guide_sensitivity": (
        "Colour-guess edge strength", EXPERT,
        "How strong a colour change in the model's own guess must be to stop a painted colour, as edges in the "
        "photo do. Higher: the guess shapes the spreading less."),
    "work_megapixels": (
        "Working size (megapixels)", EXPERT,
        "The colours are worked out at most at this size, then brought back to full size along the photo's "
        "edges. Larger: finer colour boundaries, slower."),
    "size": (
        "Detail of the colour guess (0: as trained)", EXPERT,
        "Longer side, in pixels, at which the model guesses the colours; the full-size lightness then sharpens "
        "them. 0: the size the model was trained at (most accurate); larger: more saturated, less accurate."),
    "samples": (
        "Uncertainty samples", EXPERT,
        "How many guesses the uncertainty layer is made from. More: a smoother uncertainty layer, slower."),
    "vividness": (
        "Colour vividness", BASIC,
        "How saturated the colours are: 1 is as the model was tuned (the most accurate on average); lower: "
        "paler, safer colours; higher: more vivid ones. The uncertainty layer widens with the colour shown."),
    # From reference...
    "match_strength": (
        "How firmly matched colours hold", BASIC,
        "How firmly a place found again in the reference photo keeps the colour it has there. Lower: the "
        "model's own colour guess and the neighbouring colours count for more."),
    "palette": (
        "Pull toward the reference's colours", BASIC,
        "Where nothing in the reference matches, how far an unsure colour moves toward the colours the "
        "reference has at that brightness. 0: the model's own guess there."),
    "align": (
        "Follow the reference's layout (same scene)", BASIC,
        "When the reference shows the same place from a similar viewpoint, colours are taken pixel by pixel "
        "along the matched geometry. Off: matched by what things look like only."),
    "lean_on_auto": (
        "Lean on the automatic guess for another scene", BASIC,
        "When the reference neither shows the same place nor matches much of the photo (another photo of the "
        "same kind: another tulip, another cat), the colours lean on the automatic guess, which is closer to the "
        "truth on average. Off: take the reference's colours anyway, to borrow its palette."),
    "temperature": (
        "Blend of likely matches", EXPERT,
        "How much a place mixes the colours of its several likely matches in the reference instead of taking "
        "its single best one. Lower: crisper, more varied colours; higher: softer, more even ones."),
}


def option_words(opt):
    """(label, expert, tooltip) of an engine option; a basic option under its own name if we have no words."""
    words = OPTION_WORDS.get(opt["name"])
    if words is not None:
        return words
    return opt["name"].replace("_", " ").capitalize(), BASIC, opt.get("help") or opt["name"]


def dialog_groups(backends, mode):
    """[(backend name, basic property names, expert property names)] for the mode's backends with options, in
    the engine's order: the dialog shows the chosen backend's group only."""
    groups = {}
    for prop, bname, opt in option_args(backends, mode):
        basic, expert = groups.setdefault(bname, ([], []))
        (expert if option_words(opt)[1] else basic).append(prop)
    return [(bname, basic, expert) for bname, (basic, expert) in groups.items()]
