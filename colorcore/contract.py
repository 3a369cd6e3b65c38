"""The request/result contract between callers, the pipeline and backends."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from .errors import InvalidRequest
from .progress import no_progress
from .protocol import DEFAULT_ALPHA, MODES
_TYPES = {"int": int, "float": float, "bool": bool, "choice": str}


@dataclass(frozen=True)
class Option:
    """One typed backend option, as the CLI (--set) and the GIMP dialogs show it."""

    name: str
    type: type | str
    default: Any
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple = ()
    help: str = ""

    @property
    def type_name(self):
        if self.choices:
            return "choice"
        return {int: "int", float: "float", bool: "bool", str: "choice"}.get(self.type, str(self.type))

    def parse(self, value):
        """Validate and convert one value (a string from the CLI or a typed value)."""
        kind = self.type_name
        try:
            if kind == "bool" and isinstance(value, str):
                low = value.strip().lower()
                if low not in ("1", "0", "true", "false", "yes", "no", "on", "off"):
                    raise ValueError(value)
                value = low in ("1", "true", "yes", "on")
            elif kind in ("int", "float"):
                if isinstance(value, bool):
                    raise ValueError(value)
                number = float(value)
                if kind == "int":
                    if number != int(number):
                        raise ValueError(value)
                    number = int(number)
                value = number
            else:
                value = _TYPES.get(kind, str)(value)
        except (TypeError, ValueError):
            raise InvalidRequest(f"option {self.name!r} expects a {kind}, got {value!r}") from None
        if self.choices and value not in self.choices:
            raise InvalidRequest(f"option {self.name!r} must be one of {', '.join(map(str, self.choices))}; got {value!r}")
        if self.minimum is not None and value < self.minimum or self.maximum is not None and value > self.maximum:
            raise InvalidRequest(f"option {self.name!r} must lie in [{self.minimum}, {self.maximum}]; got {value!r}")
        return value

    def describe(self):
        return {"name": self.name, "type": self.type_name, "default": self.default, "minimum": self.minimum,
                "maximum": self.maximum, "choices": list(self.choices), "help": self.help}


class Backend:
    """Base class of every colorizer. Subclasses set the class attributes and implement run()."""

    name: str = ""
    label: str = ""
    modes: tuple = ()
    needs_scribbles: bool = False
    takes_mask: bool = False
    gives_uncertainty: bool = True
    options: tuple = ()

    def unavailable_reason(self) -> str | None:
        """None when the backend can run; otherwise a sentence saying why not and how to fix it."""
        return None

    def calibration(self):
        """The conformal calibration of the raw uncertainty score (colorcore.calibration.Calibration) or None."""
        return None

    def run(self, request: "ColorizeRequest") -> "BackendOutput":
        raise NotImplementedError

    def validate_options(self, given: dict) -> dict:
        known = {o.name: o for o in self.options}
        unknown = sorted(set(given) - set(known))
        if unknown:
            raise InvalidRequest(f"backend {self.name!r} has no option {', '.join(map(repr, unknown))}; "
                                 f"its options are: {', '.join(known) or '(none)'}")
        return {name: (opt.parse(given[name]) if name in given else opt.default) for name, opt in known.items()}

    def describe(self):
        reason = self.unavailable_reason()
        cal = self.calibration() if reason is None else None
        return {"name": self.name, "label": self.label, "modes": list(self.modes),
                "needs_scribbles": self.needs_scribbles, "takes_mask": self.takes_mask,
                "gives_uncertainty": self.gives_uncertainty,
                "options": [o.describe() for o in self.options],
                "available": reason is None, "unavailable_reason": reason,
                "calibration": cal.describe() if cal is not None else None}


@dataclass
class ColorizeRequest:
    """What a caller asks for. Arrays are float32, channel-last, C-contiguous."""

    image: np.ndarray                      # (H, W, 3) sRGB in [0, 1]
    mode: str = "auto"
    scribbles: np.ndarray | None = None    # (H, W, 4) RGBA; alpha > 0 marks a hint
    mask: np.ndarray | None = None         # (H, W) in [0, 1]; 1 = colorize
    options: dict = field(default_factory=dict)
    seed: int | None = None
    alpha: float = DEFAULT_ALPHA           # allowed miscoverage of the uncertainty radius
    progress: Callable[[float, str], None] = no_progress
    intervals: bool = False                # also per-channel RGB intervals (colorcore.intervals)
    reference: np.ndarray | None = None    # reference mode: (Hr, Wr, 3) RGB or (Hr, Wr, 4) RGBA colour photo, any
                                           # size; alpha 0 = not used (validated: RGBA, at most REFERENCE_MAX_PIXELS)

    @property
    def shape(self):
        return self.image.shape[:2]

    def lightness(self):
        """CIE L of the image (H, W), computed once per request: the pipeline and backends share it."""
        if getattr(self, "_lightness", None) is None or self._lightness.shape != self.shape:
            from .color import lightness
            from .photo_cache import CACHE, digest, know_digest
            if CACHE.enabled:   # kept between runs; its digest known, so what is kept from it is cheap to find
                key = ("lightness", digest(self.image))
                self._lightness = CACHE.get(lambda: key, lambda: lightness(self.image))
                know_digest(self._lightness, repr(key))
            else:
                self._lightness = lightness(self.image)
        return self._lightness


@dataclass
class BackendOutput:
    """What a backend returns: chroma (or RGB) plus a raw per-pixel uncertainty score."""

    ab: np.ndarray | None = None           # (H, W, 2) Lab a, b
    rgb: np.ndarray | None = None          # (H, W, 3) sRGB, when the backend works in RGB
    score: np.ndarray | None = None        # (H, W) >= 0, raw (uncalibrated) uncertainty
    info: dict = field(default_factory=dict)


@dataclass
class ColorizeResult:
    """What the pipeline returns."""

    rgb: np.ndarray                        # (H, W, 3) sRGB in [0, 1]
    uncertainty: np.ndarray                # (H, W) radius in Delta E_ab units, >= 0
    info: dict = field(default_factory=dict)
    intervals: tuple | None = None         # (lo, hi), each (H, W, 3) in [0, 1], lo <= rgb <= hi, when asked


def _float_array(name, value, ndim, channels=None):
    arr = np.asarray(value)
    if arr.ndim != ndim or (channels is not None and arr.shape[-1] != channels):
        want = f"(H, W, {channels})" if channels else "(H, W)"
        raise InvalidRequest(f"{name} must be an array of shape {want}; got shape {arr.shape}")
    if not np.issubdtype(arr.dtype, np.floating):
        raise InvalidRequest(f"{name} must be float in [0, 1]; got dtype {arr.dtype} (divide integers by their maximum)")
    arr = np.ascontiguousarray(arr, dtype=np.float32)
    if not arr.size:
        return arr
    low, high = arr.min(), arr.max()   # a NaN or an infinity shows up in these, without a full-size temporary
    if not (np.isfinite(low) and np.isfinite(high)):
        raise InvalidRequest(f"{name} contains NaN or infinite values")
    if low < -1e-4 or high > 1 + 1e-4:
        raise InvalidRequest(f"{name} must lie in [0, 1]; got values in [{low:.3g}, {high:.3g}]")
    return arr if 0 <= low and high <= 1 else np.clip(arr, 0.0, 1.0)   # a copy only when there is rounding to undo


# A reference larger than this (or than the photo, if that is larger) is area-reduced: colours are matched at a
# few hundred px and warped at most at the photo's size, so more pixels cost time and memory and add nothing.
REFERENCE_MAX_PIXELS = 4_000_000
REFERENCE_MIN_PIXELS = 1_000_000
NO_COLOUR_CHROMA = 4.0    # ab units: a reference whose 99th percentile of chroma is below this has no colour
NO_COLOUR_MESSAGE = "the reference has no colour; choose a colour image"


def validate_reference(reference, image_shape) -> np.ndarray:
    """The reference as (Hr, Wr, 4) RGBA float32 (alpha 1 when it had none), area-reduced to at most
    max(REFERENCE_MIN_PIXELS, the photo's pixels) capped at REFERENCE_MAX_PIXELS (premultiplied, so transparent
    pixels lend no colour); refused when nothing is opaque or it has no colour."""
    arr = np.asarray(reference)
    if arr.ndim != 3 or arr.shape[-1] not in (3, 4):
        raise InvalidRequest(f"reference must be an array of shape (H, W, 3) or (H, W, 4); got shape {arr.shape}")
    arr = _float_array("reference", arr, 3, arr.shape[-1])
    if arr.shape[0] < 1 or arr.shape[1] < 1:
        raise InvalidRequest(f"reference is empty ({arr.shape[1]}x{arr.shape[0]})")
    if arr.shape[-1] == 3:
        arr = np.dstack([arr, np.ones(arr.shape[:2], np.float32)])
    limit = min(REFERENCE_MAX_PIXELS, max(REFERENCE_MIN_PIXELS, int(image_shape[0]) * int(image_shape[1])))
    h, w = arr.shape[:2]
    if h * w > limit:
        import cv2
        s = (limit / (h * w)) ** 0.5
        size = (max(1, int(w * s)), max(1, int(h * s)))
        alpha = cv2.resize(arr[..., 3], size, interpolation=cv2.INTER_AREA)
        rgb = cv2.resize(arr[..., :3] * arr[..., 3:], size, interpolation=cv2.INTER_AREA)
        arr = np.dstack([np.clip(rgb / np.maximum(alpha, 1e-8)[..., None], 0, 1), alpha])
    arr = np.ascontiguousarray(arr, np.float32)
    opaque = arr[..., 3] > 0.5
    if not opaque.any():
        raise InvalidRequest("the reference is fully transparent; choose an image (or layer) with visible pixels")
    from .color import rgb_to_lab
    step = max(1, int(np.sqrt(opaque.sum() / 250_000)))   # the colour check on at most ~0.25 MP
    ab = rgb_to_lab(np.ascontiguousarray(arr[::step, ::step, :3][opaque[::step, ::step]]))[..., 1:]
    if not ab.size or np.percentile(np.hypot(ab[..., 0], ab[..., 1]), 99) < NO_COLOUR_CHROMA:
        raise InvalidRequest(NO_COLOUR_MESSAGE)
    return arr


def validate_request(request: ColorizeRequest, backend: Backend) -> ColorizeRequest:
    """Check a request against the contract and the backend's capabilities; return a normalised copy."""
    if request.mode not in MODES:
        raise InvalidRequest(f"mode must be one of {', '.join(MODES)}; got {request.mode!r}")
    if request.mode not in backend.modes:
        raise InvalidRequest(f"backend {backend.name!r} does not serve mode {request.mode!r}; "
                             f"it serves: {', '.join(backend.modes)}")
    image = _float_array("image", request.image, 3, 3)
    h, w = image.shape[:2]
    if h < 1 or w < 1:
        raise InvalidRequest(f"image is empty ({w}x{h})")
    scribbles = mask = None
    if request.scribbles is not None:
        scribbles = _float_array("scribbles", request.scribbles, 3, 4)
        if scribbles.shape[:2] != (h, w):
            raise InvalidRequest(f"scribbles are {scribbles.shape[1]}x{scribbles.shape[0]} but the image is {w}x{h}; "
                                 "paint the scribbles on a layer of the image's size")
    if request.mode == "scribble" or backend.needs_scribbles:
        who = "scribble mode" if request.mode == "scribble" else f"backend {backend.name!r}"
        if scribbles is None:
            raise InvalidRequest(f"{who} needs colour scribbles, but none were given; paint colours on a "
                                 "transparent layer (GIMP) or pass --scribbles FILE.png (CLI)")
        if not (scribbles[..., 3] > 0).any():
            raise InvalidRequest(f"{who} needs painted scribbles, but the scribble layer is empty (no pixel has "
                                 "alpha > 0); paint colours on it and run again")
    if request.mask is not None:
        mask = _float_array("mask", request.mask, 2)
        if mask.shape != (h, w):
            raise InvalidRequest(f"mask is {mask.shape[1]}x{mask.shape[0]} but the image is {w}x{h}")
    if request.mode == "partial":
        if mask is None or not (mask > 0).any():
            raise InvalidRequest("partial mode needs a mask (a selection) that is not empty; select a region first")
    reference = None
    if request.mode == "reference":
        if request.reference is None:
            raise InvalidRequest("reference mode needs a colour reference photo, but none was given; choose one "
                                 "(GIMP: the dialog's Reference; CLI: --reference FILE)")
        reference = validate_reference(request.reference, (h, w))
    elif request.reference is not None:
        raise InvalidRequest(f"a reference photo is used only in reference mode; this run is in {request.mode!r} "
                             "mode")
    if not 0.0 < float(request.alpha) < 1.0:
        raise InvalidRequest(f"alpha (allowed miscoverage) must be between 0 and 1; got {request.alpha!r}")
    if request.seed is not None and not isinstance(request.seed, (int, np.integer)):
        raise InvalidRequest(f"seed must be an integer; got {request.seed!r}")
    options = backend.validate_options(dict(request.options or {}))
    return ColorizeRequest(image=image, mode=request.mode, scribbles=scribbles, mask=mask, options=options,
                           seed=None if request.seed is None else int(request.seed), alpha=float(request.alpha),
                           progress=request.progress or no_progress, intervals=bool(request.intervals),
                           reference=reference)
