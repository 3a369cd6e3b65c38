"""The plug-in's gi-free rules for animations: which layers are frames, in which order, and their names."""
import sys

from test_plugin_helpers import PLUGIN

sys.path.insert(0, str(PLUGIN))
import colorize_frames as F  # noqa: E402

GIF = [(5, "Frame 3 (160ms) (combine)", True), (4, "Frame 2 (120ms) (combine)", True), (3, "Background (80ms)", True)]


def test_a_gifs_layers_are_frames_in_play_order_bottom_first():
    assert F.looks_like_animation(GIF)
    assert F.frame_layers(GIF) == [(3, "Background (80ms)"), (4, "Frame 2 (120ms) (combine)"),
                                   (5, "Frame 3 (160ms) (combine)")]
    assert [F.draws_over_previous(n) for _, n in F.frame_layers(GIF)] == [True, True, True]
    assert not F.draws_over_previous("Frame 2 (120ms) (replace)")
    assert F.colorized_frame_name("Frame 2 (120ms) (combine)") == "Frame 2 (120ms) (replace)"
    assert F.colorized_frame_name("Frame 2 (120ms) (replace)") == "Frame 2 (120ms) (replace)"
    assert F.colorized_frame_name("Background (80ms)") == "Background (80ms) (replace)"


def test_scribbles_and_results_are_not_frames_and_a_photo_is_not_an_animation():
    with_extras = [(9, "Scribbles", True), (8, "Colorized (gan)", True), (7, "Uncertainty (gan)", True)] + GIF
    assert F.frame_layers(with_extras, exclude={9}) == F.frame_layers(GIF)
    photo = [(2, "Scribbles", True), (1, "Photo", False)]
    assert not F.looks_like_animation(photo, exclude={2})
    assert not F.looks_like_animation([(2, "Photo copy", False), (1, "Photo", False)])   # no frame times
    assert not F.looks_like_animation([(3, "Background (80ms)", True)])                   # one frame
