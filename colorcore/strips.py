"""Bands of rows: full-resolution work on a very large photo runs band by band, so its temporaries stay the
size of one band (about STRIP_PIXELS) instead of growing with the photo, and bands can run side by side."""

STRIP_PIXELS = 1_000_000


def row_strips(height, width, pixels=None):
    """[(y0, y1), ...] covering rows 0..height, each band about `pixels` (default STRIP_PIXELS) pixels, at least
    one row."""
    step = max(1, (pixels or STRIP_PIXELS) // max(width, 1))
    return [(y, min(y + step, height)) for y in range(0, height, step)]


BAND_PIXELS = 262_144   # for_each_strip's bands: a 1 MP photo in four, so two to four cores share it


def for_each_strip(height, width, work, threads=None):
    """work(y0, y1) for bands of about BAND_PIXELS covering rows 0..height, on `threads` threads (default the
    engine's count, colorcore.threads): numpy and OpenCV let go of the interpreter on large arrays, so bands
    run side by side on the cores the engine may use. `work` must depend on its own rows alone and write only
    them. The bands do not depend on the thread count (OpenCV's and BLAS's vector loops treat a band's last
    pixels apart, a last-bit difference), so the result is the same for any number of threads."""
    from .threads import map_on_threads
    map_on_threads(lambda rows: work(*rows), row_strips(height, width, BAND_PIXELS), threads)
