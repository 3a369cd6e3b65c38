"""Bands of rows: full-resolution work on a very large photo runs band by band, so its temporaries stay the
size of one band (about STRIP_PIXELS) instead of growing with the photo."""

STRIP_PIXELS = 1_000_000


def row_strips(height, width, pixels=None):
    """[(y0, y1), ...] covering rows 0..height, each band about `pixels` (default STRIP_PIXELS) pixels, at least
    one row."""
    step = max(1, (pixels or STRIP_PIXELS) // max(width, 1))
    return [(y, min(y + step, height)) for y in range(0, height, step)]
