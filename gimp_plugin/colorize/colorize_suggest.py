"""The "Where to paint" layer: the engine's suggested places drawn as numbered circles (stdlib only, no gi, no numpy).

The engine writes the places (P.SUGGEST_FILE: a JSON list of {x, y, radius, rgb}, best first; colorcore.suggest)
when the manifest asks for them; this module reads them and draws each as a ring with its rank beside it, in
small tiles of float RGBA (transparent elsewhere) that colorize.py writes into a hidden layer. Testable without
GIMP.
"""
import json
import math
import os
from array import array

from colorize_engine import P
from colorize_layers import SUGGEST_LAYER_NAME  # noqa: F401  (the name lives with the other result layers')

SUGGEST_PLACES = 5            # places asked for in Auto and Scribble (photos only)
SUGGEST_MODES = ("auto", "scribble")

# 3x5 digits, rows top to bottom, 1 = ink
_DIGITS = {
    "0": ("111", "101", "101", "101", "111"), "1": ("010", "110", "010", "010", "111"),
    "2": ("111", "001", "111", "100", "111"), "3": ("111", "001", "111", "001", "111"),
    "4": ("101", "101", "111", "001", "001"), "5": ("111", "100", "111", "001", "111"),
    "6": ("111", "100", "111", "101", "111"), "7": ("111", "001", "010", "010", "010"),
    "8": ("111", "101", "111", "101", "111"), "9": ("111", "101", "111", "001", "111"),
}
WHITE = (1.0, 1.0, 1.0, 1.0)
BLACK = (0.0, 0.0, 0.0, 1.0)


def wants_suggestions(mode, frames):
    """How many places to ask the engine for: SUGGEST_PLACES in Auto and Scribble on a photo, else 0."""
    return SUGGEST_PLACES if mode in SUGGEST_MODES and not frames else 0


def read_places(folder):
    """The places the engine wrote in the job folder ([] when there is no file or it is not a list of places)."""
    path = os.path.join(folder, P.SUGGEST_FILE)
    try:
        with open(path, encoding="utf-8") as f:
            places = json.load(f)
    except (OSError, ValueError):
        return []
    if not isinstance(places, list):
        return []
    return [p for p in places if isinstance(p, dict) and all(isinstance(p.get(k), (int, float))
                                                             for k in ("x", "y", "radius"))]


def ring_radius(place, width, height):
    """The drawn ring's radius: the place's own, at least 1.5 % of the image diagonal (so it shows)."""
    return max(float(place["radius"]), 0.015 * math.hypot(width, height), 6.0)


def place_tiles(places, width, height):
    """[(x, y, w, h, bytes)] for a width x height layer: per place a tile of float RGBA (4 float32 per pixel,
    row-major) holding a white ring with a black edge around (x, y) and its rank (1 = best) beside it,
    transparent elsewhere; tiles are clipped to the layer."""
    tiles = []
    for rank, place in enumerate(places, 1):
        r = ring_radius(place, width, height)
        t = max(2.0, r / 6.0)                     # the ring's half-width
        s = max(2, int(round(r / 5.0)))           # the digits' pixel size
        label = str(rank)
        lw, lh = (4 * len(label) - 1) * s, 5 * s
        cx, cy = float(place["x"]), float(place["y"])
        lx, ly = int(round(cx + r * 0.75 + t)), int(round(cy - r * 0.75 - t - lh))   # upper right of the ring
        x0 = max(0, int(math.floor(min(cx - r - t - 1, lx - s))))
        y0 = max(0, int(math.floor(min(cy - r - t - 1, ly - s))))
        x1 = min(width, int(math.ceil(max(cx + r + t + 2, lx + lw + s + 1))))
        y1 = min(height, int(math.ceil(max(cy + r + t + 2, ly + lh + s + 1))))
        if x1 <= x0 or y1 <= y0:
            continue
        w, h = x1 - x0, y1 - y0
        buf = array("f", bytes(16 * w * h))

        def put(x, y, rgba):
            if x0 <= x < x1 and y0 <= y < y1:
                k = 4 * ((y - y0) * w + (x - x0))
                buf[k:k + 4] = array("f", rgba)
        for y in range(y0, y1):
            for x in range(x0, x1):
                d = abs(math.hypot(x + 0.5 - cx, y + 0.5 - cy) - r)
                if d <= t:
                    put(x, y, WHITE if d <= t - 1.0 else BLACK)
        for i, ch in enumerate(label):            # black digits on a white box
            gx = lx + 4 * s * i
            for yy in range(ly - s, ly + lh + s):
                for xx in range(gx - s, gx + 3 * s + s):
                    put(xx, yy, WHITE)
            for row, bits in enumerate(_DIGITS[ch]):
                for col, bit in enumerate(bits):
                    if bit == "1":
                        for yy in range(ly + row * s, ly + (row + 1) * s):
                            for xx in range(gx + col * s, gx + (col + 1) * s):
                                put(xx, yy, BLACK)
        tiles.append((x0, y0, w, h, buf.tobytes()))
    return tiles


def suggest_message(places):
    """The sentence added to the run's message when the layer was added."""
    if not places:
        return ""
    return ('A hidden layer "%s" shows the %d places where one stroke of the right colour would help most '
            '(1 = most): paint there on "Scribbles" and run Scribble.' % (SUGGEST_LAYER_NAME, len(places)))
