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
    transparent elsewhere; tiles are clipped to the layer. A pixel is on the ring when its centre lies within
    the ring's half-width t of the circle: white within t - 1, black beyond. Drawn a row's span at a time
    (pixel by pixel, five rings at 12 MP took 0.2-0.6 s of the run)."""
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

        def fill(y, xa, xb, rgba):   # pixels xa..xb-1 of row y, clipped to the tile
            xa, xb = max(xa, x0), min(xb, x1)
            if y0 <= y < y1 and xa < xb:
                k = 4 * ((y - y0) * w + (xa - x0))
                buf[k:k + 4 * (xb - xa)] = array("f", rgba) * (xb - xa)
        for y in range(y0, y1):
            for half, colour in ((t, BLACK), (t - 1.0, WHITE)):   # the white band over the black
                for xa, xb in ring_spans(cx, y + 0.5 - cy, r, half, x0, x1):
                    fill(y, xa, xb, colour)
        for i, ch in enumerate(label):            # black digits on a white box
            gx = lx + 4 * s * i
            for yy in range(ly - s, ly + lh + s):
                fill(yy, gx - s, gx + 4 * s, WHITE)
            for row, bits in enumerate(_DIGITS[ch]):
                for col, bit in enumerate(bits):
                    if bit == "1":
                        for yy in range(ly + row * s, ly + (row + 1) * s):
                            fill(yy, gx + col * s, gx + (col + 1) * s, BLACK)
        tiles.append((x0, y0, w, h, buf.tobytes()))
    return tiles


def tiles_bounds(tiles):
    """(x, y, w, h): the smallest rectangle holding every tile (a 1x1 one at the corner when there is none)."""
    if not tiles:
        return 0, 0, 1, 1
    x0, y0 = min(t[0] for t in tiles), min(t[1] for t in tiles)
    return x0, y0, max(t[0] + t[2] for t in tiles) - x0, max(t[1] + t[3] for t in tiles) - y0


def ring_spans(cx, dy, r, half, xa, xb):
    """The runs [a, b) of pixels x in [xa, xb) of a row dy below the centre (pixel centres x + 0.5) whose
    distance to the circle of radius r around cx is at most `half`: one run each side of cx, where the distance
    from the centre only grows outwards. Each run is first bounded from the circle's equation, a pixel wide of
    it, then trimmed by the exact test (so it is the pixel-by-pixel answer)."""
    def on(x):
        return abs(math.hypot(x + 0.5 - cx, dy) - r) <= half
    if half < 0 or abs(dy) > r + half:
        return []
    reach = math.sqrt(max((r + half) ** 2 - dy * dy, 0.0))
    inner = r - half
    hole = math.sqrt(inner * inner - dy * dy) if inner > abs(dy) else 0.0   # the ring's inside, in this row
    middle = int(math.floor(cx - 0.5)) + 1          # pixels left of it have their centre at or left of cx
    spans = []
    for a, b in ((int(math.floor(cx - reach - 0.5)) - 1, min(middle, int(math.ceil(cx - hole - 0.5)) + 2)),
                 (max(middle, int(math.floor(cx + hole - 0.5)) - 1), int(math.ceil(cx + reach - 0.5)) + 2)):
        a, b = max(a, xa), min(b, xb)
        while a < b and not on(a):
            a += 1
        while b > a and not on(b - 1):
            b -= 1
        if a < b:
            spans.append((a, b))
    return spans


def suggest_message(places):
    """The sentence added to the run's message when the layer was added."""
    if not places:
        return ""
    return ('A hidden layer "%s" shows the %d places where one stroke of the right colour would help most '
            '(1 = most): paint there on "Scribbles" and run Scribble.' % (SUGGEST_LAYER_NAME, len(places)))
