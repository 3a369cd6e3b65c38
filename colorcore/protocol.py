"""The protocol between the GIMP plug-in and the engine, written once (DESIGN.md, "Two processes, on purpose").

Two processes speak it: the plug-in, in GIMP's own Python, and the engine, in its venv. This file is the single
source of what they agree on: the modes, the default-backend rule, the exit codes, the manifest (its version,
fields and buffer names), the PROGRESS / RESULT / ERROR lines and the default alpha. The engine imports it as
`colorcore.protocol`; install.py copies it, byte for byte, beside the plug-in as `colorcore_protocol.py`.
So it must stay standard library only (GIMP's Python has no numpy) and run on any Python 3.
"""
import json
import os

VERSION = 2                      # the manifest's "version": plug-in and engine are installed together
                                 # (2: input buffers in their layer's own format, "formats")
MODES = ("auto", "scribble", "partial", "reference")   # reference: colours taken from a colour photo the user chose
DEFAULT_ALPHA = 0.1              # allowed miscoverage of the uncertainty radius (0.1 = 90 % coverage)

# exit codes of `colorcore gimp-run` and of the CLI
EXIT_OK = 0
EXIT_FAILED = 1                  # the engine or a backend failed
EXIT_BAD_INPUT = 2               # the input is not what the backend needs: the plug-in's CALLING_ERROR
EXIT_UNAVAILABLE = 3             # the backend cannot run here (missing weights or package)
EXIT_CANCELLED = 130             # Ctrl+C, or the plug-in closed the engine's stdin

# the job folder: the manifest and raw little-endian buffers, row-major, channel-last, each in its default
# format (DEFAULT_FORMATS; described here) or the one the manifest's "formats" names
MANIFEST_FILE = "manifest.json"
IMAGE_FILE = "image.raw"                  # RGBA, sRGB in [0, 1]
SCRIBBLES_FILE = "scribbles.raw"          # RGBA; alpha > 0 marks a hint
MASK_FILE = "mask.raw"                    # 1 = colorize, 0 = keep
REFERENCE_FILE = "reference.raw"          # reference mode: RGBA, sRGB in [0, 1], at its own size
                                          # (reference_width x reference_height); alpha 0 = not used
RESULT_FILE = "result.raw"                # RGB, sRGB in [0, 1]
UNCERTAINTY_FILE = "uncertainty.raw"      # radius / RESULT's uncertainty_scale, in [0, 1]
RESULT_ALPHA_FILE = "result_alpha.raw"    # animations only: each output frame's opacity
INTERVALS_LO_FILE = "intervals_lo.raw"    # when asked: per-channel RGB intervals, lower bound, sRGB in [0, 1]
INTERVALS_HI_FILE = "intervals_hi.raw"    # ... and upper bound (colorcore.intervals)
SUGGEST_FILE = "suggest.json"             # when asked (manifest "suggest": N > 0, single photos): where to paint
                                          # next, a JSON list of {x, y, radius, rgb}, best first (colorcore.suggest)
# An animation ("frames": N > 1) sends N image layers and gets N frames back, one after the other in each of
# these buffers (play order); scribbles (painted on the first frame) and the mask are one.
PER_FRAME = ("image", "output", "uncertainty_output", "output_alpha")

# A buffer may be in its layer's own storage format: GEGL hands a layer over, or takes pixels for it, as a copy
# in its own format, while any other format costs a conversion (0.1-0.5 s at 1 MP in each new plug-in process,
# measured in GIMP 3.0). The manifest's "formats" names the babl format of each buffer not in DEFAULT_FORMATS;
# the engine turns inputs into their default (float in [0, 1]; gray copied to R, G and B; no alpha = opaque)
# and writes outputs in the format asked for (rounded to nearest; gray copied to R, G and B).
# babl format name: (values per pixel, bytes per value, gray)
FORMATS = {"R'G'B'A float": (4, 4, False), "R'G'B'A u16": (4, 2, False), "R'G'B'A u8": (4, 1, False),
           "R'G'B' float": (3, 4, False), "R'G'B' u16": (3, 2, False), "R'G'B' u8": (3, 1, False),
           "Y'A u16": (2, 2, True), "Y'A u8": (2, 1, True),
           "Y' float": (1, 4, True), "Y' u16": (1, 2, True), "Y' u8": (1, 1, True),
           "Y float": (1, 4, True), "Y u16": (1, 2, True), "Y u8": (1, 1, True)}
DEFAULT_FORMATS = {"image": "R'G'B'A float", "scribbles": "R'G'B'A float", "mask": "Y float",
                   "reference": "R'G'B'A float", "output": "R'G'B' float", "uncertainty_output": "Y' float",
                   "output_alpha": "Y float", "intervals_lo": "R'G'B' float", "intervals_hi": "R'G'B' float"}
_COLOUR_IN = tuple(f for f in FORMATS if not f.startswith("Y "))   # "Y" (linear) is for masks
_RGB_OUT = ("R'G'B' float", "R'G'B' u16", "R'G'B' u8")
BUFFER_FORMATS = {"image": _COLOUR_IN, "scribbles": _COLOUR_IN, "reference": _COLOUR_IN,
                  "mask": ("Y float", "Y u16", "Y u8"), "output": _RGB_OUT, "intervals_lo": _RGB_OUT,
                  "intervals_hi": _RGB_OUT, "uncertainty_output": ("Y' float", "R'G'B' u16", "R'G'B' u8"),
                  "output_alpha": ("Y float",)}
# values per pixel of each buffer as the engine holds it (its default format), by the manifest field naming it
CHANNELS = {field: FORMATS[fmt][0] for field, fmt in DEFAULT_FORMATS.items()}

# the engine's lines: PROGRESS and RESULT on stdout, ERROR on stderr; the CLI's error lines on stderr
PROGRESS_TAG = "PROGRESS"        # PROGRESS <fraction in [0, 1]> <message>
# A single photo's PROGRESS messages once RESULT_FILE, then UNCERTAINTY_FILE, is whole, while the rest (the
# intervals, the places to paint) is still being made: the plug-in fills the colorized and the uncertainty layers
# meanwhile (a 12 MP layer: 0.1-0.2 s of GIMP's tile transfer off the wait). Only progress text to a plug-in that
# does not know them.
COLOURS_WRITTEN = "colours written"
UNCERTAINTY_WRITTEN = "uncertainty written"
RESULT_TAG = "RESULT"            # RESULT <JSON object: backend, uncertainty_scale, alpha, info>; the last line
ERROR_TAG = "ERROR"              # ERROR <one-line message>
CLI_ERROR_PREFIX = "colorcore: error: "
CLI_INTERNAL_ERROR_PREFIX = "colorcore: internal error: "


class ProtocolError(ValueError):
    """A manifest that does not follow this protocol (the engine reports it as bad input)."""


# --------------------------------------------------------------------------- backends
def default_backend(rows, mode):
    """Name of the backend a mode uses when none is chosen, or None when no available backend serves it.

    rows: dicts with "name", "modes", "available" (as `colorcore backends --json` lists them), in the engine's
    order. The first available backend made for the mode (its first listed mode), else the first available one
    serving it: Partial defaults to partial-gan, not to variational, which serves Partial only with scribbles.
    """
    available = [r for r in rows if mode in (r.get("modes") or []) and r.get("available", True)]
    for r in available:
        if r["modes"][0] == mode:
            return r["name"]
    return available[0]["name"] if available else None


def uses_scribbles(needs_scribbles, modes):
    """Whether a backend uses painted scribbles: it needs them, or it serves Scribble or Reference (strokes
    override the reference where they hold). Scribbles given to any
    other backend would be silently ignored, so both sides refuse them (the CLI) or do not send them (the
    plug-in, unless the user chose the layer: then it says so)."""
    return bool(needs_scribbles) or "scribble" in (modes or ()) or "reference" in (modes or ())


ALPHA_RANGE = (0.01, 0.5)   # the dialog's alpha range when the engine reports no calibrated levels


def alpha_range(rows, mode):
    """(lowest, highest) alpha the dialog offers for a mode, from the calibrated levels the engine reports
    (`colorcore backends --json`): from the smallest level every calibrated backend of the mode can promise
    (per group too: the engine refuses an alpha below a group's smallest level) to the largest level any has
    (a larger alpha would get that level's radius anyway)."""
    lows, highs = [], []
    for r in rows:
        cal = r.get("calibration") if mode in (r.get("modes") or []) else None
        if not cal or not cal.get("lambdas"):
            continue
        tables = [cal["lambdas"]] + list((cal.get("groups") or {}).values())
        lows.append(max(min(float(a) for a in t) for t in tables if t))
        highs.append(max(float(a) for a in cal["lambdas"]))
    if not lows:
        return ALPHA_RANGE
    low, high = max(lows), max(highs)
    return (low, high) if low < high else ALPHA_RANGE


# --------------------------------------------------------------------------- manifest
def buffer_bytes(field, width, height, frames=1, fmt=None):
    """Size in bytes of the buffer named by manifest field `field` for a width x height job of `frames` frames
    (for "reference": the reference's own width and height), in babl format `fmt` (None: the default)."""
    values, size, _ = FORMATS[fmt or DEFAULT_FORMATS[field]]
    return int(width) * int(height) * values * size * (int(frames) if field in PER_FRAME else 1)


def write_manifest(folder, mode, backend, width, height, options=None, seed=None, alpha=DEFAULT_ALPHA,
                   uncertainty=True, has_scribbles=False, has_mask=False, frames=1, combine=None, intervals=False,
                   reference_size=None, suggest=0, formats=None):
    """Write the job's manifest.json into `folder` (the buffers go beside it); returns its path.
    reference_size: (width, height) of the reference buffer (reference mode), or None.
    A negative seed means "random" (the plug-in's dialog uses -1). An animation: frames = N layers in play
    order; combine[i] true when layer i is drawn over the frame before it (GIMP's "(combine)" frames of an
    optimised GIF) instead of replacing it. suggest: N > 0 asks for the N places where to paint next
    (SUGGEST_FILE; single photos). formats: {buffer field: babl format} for buffers not in DEFAULT_FORMATS."""
    if mode not in MODES:
        raise ValueError("mode must be one of %s, got %r" % (", ".join(MODES), mode))
    if combine is not None and len(combine) != frames:
        raise ValueError("combine needs one flag per frame (%d); got %d" % (frames, len(combine)))
    if (mode == "reference") != (reference_size is not None):
        raise ValueError("a reference (reference_size) goes with mode 'reference' and only with it")
    formats = {k: v for k, v in (formats or {}).items() if v != DEFAULT_FORMATS.get(k)}
    if _format_errors(formats):
        raise ValueError(_format_errors(formats))
    manifest = {
        "version": VERSION, "mode": mode, "backend": backend,
        "width": int(width), "height": int(height),
        "image": IMAGE_FILE,
        "scribbles": SCRIBBLES_FILE if has_scribbles else None,
        "mask": MASK_FILE if has_mask else None,
        "options": dict(options or {}),
        "seed": None if seed is None or seed < 0 else int(seed),
        "alpha": float(alpha), "uncertainty": bool(uncertainty),
        "output": RESULT_FILE, "uncertainty_output": UNCERTAINTY_FILE,
        "frames": int(frames), "combine": [bool(c) for c in combine] if combine is not None else None,
        "output_alpha": RESULT_ALPHA_FILE if frames > 1 else None,
        "intervals_lo": INTERVALS_LO_FILE if intervals else None,
        "intervals_hi": INTERVALS_HI_FILE if intervals else None,
        "reference": REFERENCE_FILE if reference_size is not None else None,
        "reference_width": int(reference_size[0]) if reference_size is not None else None,
        "reference_height": int(reference_size[1]) if reference_size is not None else None,
        "suggest": int(suggest) if suggest else None, "suggest_output": SUGGEST_FILE if suggest else None,
        "formats": formats,
    }
    path = os.path.join(folder, MANIFEST_FILE)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=1)
    return path


def _format_errors(formats):
    """What is wrong with a {buffer field: babl format} map (one line), or None."""
    if not isinstance(formats, dict):
        return "formats must be a JSON object {buffer: format}; got %r" % (formats,)
    for field, fmt in formats.items():
        if fmt not in BUFFER_FORMATS.get(field, ()):
            return "format %r is not one the %s buffer may have (%s)" % (
                fmt, field, ", ".join(BUFFER_FORMATS.get(field, ())) or "no such buffer")
    return None


def _plain_name(job, field, default):
    """A buffer name from the manifest: a file inside the job folder, never a path elsewhere."""
    name = job.get(field, default)
    if name is None:
        return None
    if not isinstance(name, str) or not name or name in (".", "..") or os.path.basename(name) != name \
            or "/" in name or "\\" in name:
        raise ProtocolError("manifest field %r must name a file inside the job folder; got %r" % (field, name))
    return name


def read_manifest(path):
    """The job in manifest `path` as a dict with every field present and checked; ProtocolError says why not."""
    try:
        with open(path, encoding="utf-8") as f:
            job = json.load(f)
    except (OSError, ValueError) as exc:
        raise ProtocolError("cannot read the job manifest %s: %s" % (path, exc))
    if not isinstance(job, dict):
        raise ProtocolError("the job manifest %s is not a JSON object" % path)
    if job.get("version") != VERSION:
        raise ProtocolError("manifest version %r is not %d; reinstall the plug-in and the engine together "
                            "(python install.py)" % (job.get("version"), VERSION))
    mode = job.get("mode", "auto")
    if mode not in MODES:
        raise ProtocolError("manifest mode must be one of %s; got %r" % (", ".join(MODES), mode))
    try:
        width, height = int(job["width"]), int(job["height"])
        alpha = float(job.get("alpha", DEFAULT_ALPHA))
    except (KeyError, TypeError, ValueError) as exc:
        raise ProtocolError("manifest needs integer width and height and a numeric alpha (%s: %s)"
                            % (type(exc).__name__, exc))
    if width < 1 or height < 1:
        raise ProtocolError("manifest width and height must be positive; got %dx%d" % (width, height))
    seed = job.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise ProtocolError("manifest seed must be an integer or null; got %r" % (seed,))
    options = job.get("options") or {}
    if not isinstance(options, dict):
        raise ProtocolError("manifest options must be a JSON object; got %r" % (options,))
    if _plain_name(job, "image", None) is None:
        raise ProtocolError("manifest names no image buffer")
    frames, combine = job.get("frames", 1), job.get("combine")
    if isinstance(frames, bool) or not isinstance(frames, int) or frames < 1:
        raise ProtocolError("manifest frames must be a positive integer; got %r" % (frames,))
    if combine is not None and (not isinstance(combine, list) or len(combine) != frames):
        raise ProtocolError("manifest combine must list one flag per frame (%d); got %r" % (frames, combine))
    reference = _plain_name(job, "reference", None)
    ref_w, ref_h = job.get("reference_width"), job.get("reference_height")
    if reference is not None and not all(isinstance(v, int) and not isinstance(v, bool) and v > 0
                                         for v in (ref_w, ref_h)):
        raise ProtocolError("manifest reference needs positive integer reference_width and reference_height; "
                            "got %r x %r" % (ref_w, ref_h))
    if (mode == "reference") != (reference is not None):
        raise ProtocolError("manifest mode 'reference' needs a reference buffer, and only that mode takes one")
    suggest = job.get("suggest") or 0
    if isinstance(suggest, bool) or not isinstance(suggest, int) or suggest < 0:
        raise ProtocolError("manifest suggest must be a whole number of places (0 = none); got %r" % (suggest,))
    formats = job.get("formats") or {}
    if _format_errors(formats):
        raise ProtocolError("manifest formats: " + _format_errors(formats))
    return {"version": VERSION, "mode": mode, "backend": job.get("backend"), "width": width, "height": height,
            "image": _plain_name(job, "image", None), "scribbles": _plain_name(job, "scribbles", None),
            "mask": _plain_name(job, "mask", None), "options": options, "seed": seed, "alpha": alpha,
            "uncertainty": bool(job.get("uncertainty", True)),
            "output": _plain_name(job, "output", RESULT_FILE),
            "uncertainty_output": _plain_name(job, "uncertainty_output", UNCERTAINTY_FILE),
            "frames": frames, "combine": [bool(c) for c in combine] if combine is not None else [False] * frames,
            "output_alpha": _plain_name(job, "output_alpha", RESULT_ALPHA_FILE if frames > 1 else None),
            "intervals_lo": _plain_name(job, "intervals_lo", None), "intervals_hi": _plain_name(job, "intervals_hi", None),
            "reference": reference, "reference_width": ref_w if reference else None,
            "reference_height": ref_h if reference else None,
            "suggest": suggest,
            "suggest_output": _plain_name(job, "suggest_output", SUGGEST_FILE) if suggest else None,
            "formats": dict(DEFAULT_FORMATS, **formats)}


# --------------------------------------------------------------------------- lines
def format_progress(fraction, message=""):
    return "%s %.4f %s" % (PROGRESS_TAG, min(max(float(fraction), 0.0), 1.0), " ".join(str(message).split()))


def format_result(backend, uncertainty_scale, alpha, info=None):
    return "%s %s" % (RESULT_TAG, json.dumps({"backend": backend, "uncertainty_scale": uncertainty_scale,
                                               "alpha": alpha, "info": dict(info or {})}))


def unlike_calibration_note(info):
    """The sentence the CLI prints and the plug-in shows when a result's info says the photo lies beyond every
    calibration photo (colorcore.novelty); None otherwise."""
    if not (info or {}).get("unlike_calibration"):
        return None
    return ("This photo is unlike every photo the uncertainty was calibrated on (distance %.1f > %.1f), so the "
            "promised coverage is less certain here." % (info["calibration_distance"],
                                                          info["calibration_distance_limit"]))


def descreened_note(info):
    """The sentence shown when the pipeline took a halftone screen out of the backend's copy (colorcore.descreen);
    None otherwise."""
    period = (info or {}).get("descreened")
    if not period:
        return None
    return ("A halftone screen (dots every %.1f px) was found: the colours were predicted from a smoothed copy; the "
            "result keeps the scan's own lightness." % float(period))


def result_note(info):
    """Every note on a result's info (descreened_note, unlike_calibration_note) as one line; None when none."""
    notes = [n for n in (descreened_note(info), unlike_calibration_note(info)) if n]
    return " ".join(notes) or None


def format_error(message):
    """One line, whatever the message holds: the plug-in shows it in a message box."""
    return "%s %s" % (ERROR_TAG, " ".join(str(message).split()))


def parse_line(line):
    """An engine stdout line -> ('progress', fraction, message) | ('result', dict) | ('other', line)."""
    line = line.rstrip("\r\n")
    if line.startswith(PROGRESS_TAG + " "):
        parts = line.split(" ", 2)
        try:
            frac = min(max(float(parts[1]), 0.0), 1.0)
        except (IndexError, ValueError):
            return ("other", line)
        return ("progress", frac, parts[2] if len(parts) > 2 else "")
    if line.startswith(RESULT_TAG + " "):
        try:
            data = json.loads(line[len(RESULT_TAG) + 1:])
        except ValueError:
            return ("other", line)
        return ("result", data if isinstance(data, dict) else {})
    return ("other", line)


def parse_error(stderr_text):
    """The engine's own one-line message in its stderr (an ERROR line, else a CLI error line), or None."""
    lines = [l.strip() for l in (stderr_text or "").splitlines() if l.strip()]
    for l in reversed(lines):
        if l.startswith(ERROR_TAG + " "):
            return l[len(ERROR_TAG) + 1:].strip()
    for l in reversed(lines):
        for prefix in (CLI_ERROR_PREFIX, CLI_INTERNAL_ERROR_PREFIX):
            if l.startswith(prefix):
                return l[len(prefix):].strip()
    return None
