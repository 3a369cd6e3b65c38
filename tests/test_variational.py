"""Properties of the variational scribble backend."""
import numpy as np
import pytest

from colorcore import ColorizeRequest, color, run_backend

RED, BLUE = (0.85, 0.15, 0.1), (0.1, 0.25, 0.9)


def scribble(shape, strokes):
    """strokes: list of (slice_y, slice_x, rgb, alpha)."""
    s = np.zeros(shape + (4,), np.float32)
    for sy, sx, rgb, alpha in strokes:
        s[sy, sx, :3] = rgb
        s[sy, sx, 3] = alpha
    return s


def chroma(rgb):
    return color.rgb_to_lab(np.asarray(rgb, np.float32))[..., 1:]


def run(registry, image, scribbles, **options):
    return run_backend(registry.get("variational"),
                       ColorizeRequest(image=image, mode="scribble", scribbles=scribbles, options=options))


def two_regions(h=60, w=80):
    img = np.full((h, w, 3), 0.35, np.float32)
    img[:, w // 2:] = 0.65
    return img


def test_an_edge_stops_colour_from_leaking(registry):
    img = two_regions()
    strokes = [(slice(25, 35), slice(5, 15), RED, 1.0), (slice(25, 35), slice(65, 75), BLUE, 1.0)]
    res = run(registry, img, scribble(img.shape[:2], strokes))
    ab = color.rgb_to_lab(res.rgb)[..., 1:]
    L = color.lightness(img)
    want_left = chroma(color.with_lightness(L[:, :1], np.broadcast_to(chroma(RED), (60, 1, 2))))
    want_right = chroma(color.with_lightness(L[:, -1:], np.broadcast_to(chroma(BLUE), (60, 1, 2))))
    left_err = np.linalg.norm(ab[:, :40] - want_left, axis=-1)
    right_err = np.linalg.norm(ab[:, 40:] - want_right, axis=-1)
    assert left_err.max() < 2.0 and right_err.max() < 2.0


def test_constant_image_takes_the_one_scribble_everywhere(registry):
    img = np.full((33, 47, 3), 0.5, np.float32)
    res = run(registry, img, scribble((33, 47), [(slice(3, 5), slice(40, 42), (0.7, 0.4, 0.3), 1.0)]))
    ab = color.rgb_to_lab(res.rgb)[..., 1:]
    target = chroma(color.with_lightness(color.lightness(img[:1, :1]), chroma((0.7, 0.4, 0.3))[None, None]))
    assert np.linalg.norm(ab - target, axis=-1).max() < 1.0
    # far from the scribble the method is less sure than on it
    assert res.uncertainty[30, 2] > res.uncertainty[4, 41]


def test_scribble_chroma_is_used_whatever_its_lightness(registry):
    img = np.full((20, 20, 3), 0.5, np.float32)
    dark_red, light_red = (0.35, 0.05, 0.05), (0.95, 0.55, 0.55)
    a = run(registry, img, scribble((20, 20), [(slice(8, 12), slice(8, 12), dark_red, 1.0)]))
    b = run(registry, img, scribble((20, 20), [(slice(8, 12), slice(8, 12), light_red, 1.0)]))
    hue = lambda rgb: np.degrees(np.arctan2(*color.rgb_to_lab(rgb)[10, 10, [2, 1]]))  # noqa: E731
    assert abs(hue(a.rgb) - hue(dark_red * np.ones((20, 20, 3), np.float32))) < 3
    np.testing.assert_allclose(color.lightness(a.rgb), color.lightness(img), atol=0.5)   # lightness is the photo's
    assert abs(hue(b.rgb) - hue(light_red * np.ones((20, 20, 3), np.float32))) < 3


def test_soft_alpha_weighs_a_hint_against_a_firm_one(registry):
    img = np.full((20, 41, 3), 0.5, np.float32)
    strokes = [(slice(8, 12), slice(0, 3), RED, 1.0), (slice(8, 12), slice(38, 41), BLUE, 0.05)]
    res = run(registry, img, scribble((20, 41), strokes))
    ab = color.rgb_to_lab(res.rgb)[10, 20, 1:]
    assert np.linalg.norm(ab - chroma(RED)) < np.linalg.norm(ab - chroma(BLUE))


def test_contradicting_scribbles_blend_with_high_uncertainty(registry):
    img = np.full((30, 30, 3), 0.5, np.float32)
    agree = run(registry, img, scribble((30, 30), [(slice(10, 20), slice(10, 20), RED, 1.0)]))
    clash = run(registry, img, scribble((30, 30), [(slice(10, 20), slice(10, 15), RED, 1.0),
                                                  (slice(10, 20), slice(15, 20), BLUE, 1.0)]))
    assert np.isfinite(clash.rgb).all()
    assert clash.uncertainty[25, 15] > 1.5 * agree.uncertainty[25, 15]


@pytest.mark.parametrize("shape", [(17, 23), (120, 90)])
def test_thin_strokes_big_areas_and_hundreds_of_strokes(registry, shape):
    rng = np.random.default_rng(0)
    img = rng.uniform(0.2, 0.8, shape + (3,)).astype(np.float32).mean(axis=2, keepdims=True).repeat(3, axis=2)
    one_px = scribble(shape, [(slice(shape[0] // 2, shape[0] // 2 + 1), slice(0, shape[1]), RED, 1.0)])
    filled = scribble(shape, [(slice(0, shape[0]), slice(0, shape[1] // 2), BLUE, 1.0)])
    many = np.zeros(shape + (4,), np.float32)
    for _ in range(300):
        y, x = rng.integers(0, shape[0]), rng.integers(0, shape[1])
        many[y, x] = [*rng.uniform(0, 1, 3), 1.0]
    for s in (one_px, filled, many):
        res = run(registry, img, s)
        assert res.rgb.shape == shape + (3,) and np.isfinite(res.rgb).all()
        assert (res.uncertainty >= 0).all()
    near_stroke = color.rgb_to_lab(run(registry, img, one_px).rgb)[shape[0] // 2, :, 1]
    assert near_stroke.mean() > 20   # the 1-px red line keeps its colour


def test_working_resolution_upsamples_along_edges(registry):
    img = two_regions(400, 600)
    strokes = [(slice(180, 220), slice(50, 100), RED, 1.0), (slice(180, 220), slice(500, 550), BLUE, 1.0)]
    res = run(registry, img, scribble((400, 600), strokes), work_megapixels=0.05)
    assert res.info["work_scale"] < 0.5
    ab = color.rgb_to_lab(res.rgb)[..., 1:]
    assert np.linalg.norm(ab[:, :290] - ab[200, 75], axis=-1).max() < 3
    assert np.linalg.norm(ab[:, 310:] - ab[200, 525], axis=-1).max() < 3


def test_levin_reference_reproduces_hints_and_interpolates():
    from training.levin import levin_colorize
    Y = np.tile(np.linspace(0.2, 0.8, 32, dtype=np.float32), (16, 1))
    mask = np.zeros((16, 32), bool)
    mask[:, 0] = mask[:, -1] = True
    vals = np.zeros((16, 32, 1), np.float32)
    vals[:, 0], vals[:, -1] = 10.0, 30.0
    u = levin_colorize(Y, mask, vals)[..., 0]
    assert np.allclose(u[:, 0], 10) and np.allclose(u[:, -1], 30)
    assert np.all(np.diff(u[8]) >= -1e-4) and 10 < u[8, 16] < 30


def test_calibration_fits_the_score_the_lambdas_and_the_novelty_check(tmp_path):
    """training.calibration.variational on 24 small photos: half fit the score's mix, half calibrate; the file
    holds the lambdas, the RGB intervals and the "unlike the calibration photos" check of those photos."""
    from PIL import Image
    from training.calibration import variational as calibrate
    from colorcore.calibration import Calibration
    rng = np.random.default_rng(0)
    for i in range(24):
        yy, xx = np.mgrid[0:48, 0:64] / 64.0
        rgb = np.stack([0.2 + 0.6 * xx, 0.3 + 0.5 * yy, np.full_like(xx, rng.uniform(0.1, 0.9))], -1)
        rgb[10:30, 20:40] = rng.uniform(0, 1, 3)
        Image.fromarray((rgb * 255).astype(np.uint8)).save(tmp_path / f"p{i:02d}.png")
    out = tmp_path / "cal.json"
    assert calibrate.main(["--data", str(tmp_path), "--images", "24", "--out", str(out)]) == 0
    cal = Calibration.load(out)
    assert cal.lambdas and all(v > 0 for v in cal.lambdas.values())
    assert cal.extra["novelty"]["n_photos"] == 12 and cal.extra["novelty"]["threshold"] > 0
    from colorcore.intervals import GROUPS, KEY
    assert KEY in cal.extra and set(cal.extra[KEY][GROUPS]) == set(cal.groups)   # intervals per hint-count group


def test_every_calibration_photo_gets_one_hint_count_in_each_scribble_group():
    from training.calibration.variational import hint_counts_per_group
    from backends.variational.strokes import SCRIBBLE_GROUPS, scribble_group
    from training.evaluation import POINT_COUNTS
    rng = np.random.default_rng(0)
    drawn = [hint_counts_per_group(rng) for _ in range(200)]
    names = [name for _, name in SCRIBBLE_GROUPS]
    assert all([scribble_group(n) for n in counts] == names for counts in drawn)
    assert {n for counts in drawn for n in counts} == set(POINT_COUNTS)   # every protocol count is drawn


def test_a_stroke_holds_its_own_flat_region_and_fades_behind_an_edge_and_with_distance():
    """stroke_hold, the weight of the strokes against a learned guess in the `prior` fusion: 1 at the stroke;
    across the stroke's own region (walled by an edge) it stays higher than at the same distance in an open flat
    photo, behind the edge it is nearly 0; it fades with the walk's length, and a longer reach holds more."""
    from backends.variational.propagate import stroke_hold
    from backends.variational.solver import SolverSettings
    settings = SolverSettings()
    L = color.lightness(two_regions(80, 160))
    weight = np.zeros(L.shape, np.float32)
    weight[35:45, 10:14] = 1.0                                   # a stroke in the left region
    hold = stroke_hold(L, weight, 0.1, settings)
    assert hold[weight > 0].min() > 0.99
    assert hold[:, :80].min() > 0.3 and hold[:, 82:].max() < 0.05
    flat = np.full((80, 160), 50.0, np.float32)
    open_hold = stroke_hold(flat, weight, 0.1, settings)
    assert (hold[:, 40:80] > open_hold[:, 40:80] + 0.05).all()
    along = open_hold[40, 14:]
    assert (np.diff(along) < 1e-4).all() and along[-1] < 0.5 * along[0]
    longer = stroke_hold(flat, weight, 0.3, settings)[40, 14:]
    assert (longer >= along - 1e-4).all() and longer[-1] > along[-1] + 0.1


def test_the_scores_unreached_term_is_low_at_the_strokes_and_high_behind_an_edge_at_any_size():
    """unreached() works on a smaller copy above SCORE_PIXELS: a thin stroke must survive it, and the full-size
    result must still say which side of an edge the stroke holds."""
    from backends.variational.propagate import SCORE_PIXELS, unreached
    from backends.variational.solver import SolverSettings
    for h, w in ((60, 80), (240, 320)):
        assert (h * w > SCORE_PIXELS) == (h == 240)
        L = color.lightness(two_regions(h, w))
        weight = np.zeros((h, w), np.float32)
        weight[h // 2, w // 8:w // 4] = 1.0                   # a one-pixel stroke on the left
        far = unreached(L, weight, SolverSettings())
        assert far.shape == (h, w)
        assert far[h // 2, w // 8:w // 4].max() < 0.2
        assert far[:, w // 2 + 2:].min() > 0.9 and np.median(far[:, :w // 2 - 2]) < 0.8


def test_the_stencils_planar_jacobi_is_the_generic_one_bit_for_bit():
    """GridOperator.jacobi keeps the columns as planes through the sweeps for speed; it must compute exactly
    what `X += D^-1 (B - A X)` does (a result may never depend on the speed path taken)."""
    from backends.variational.solver import GridOperator, jacobi
    rng = np.random.default_rng(0)
    H, W, K = 37, 53, 5
    A = GridOperator(rng.random((H, W - 1), dtype=np.float32), rng.random((H - 1, W), dtype=np.float32),
                     rng.random((H, W), dtype=np.float32))
    B, X = rng.random((H * W, K), dtype=np.float32), rng.random((H * W, K), dtype=np.float32)
    generic = X.copy()
    inv_d = (1.0 / A.diagonal())[:, None].astype(np.float32)
    for _ in range(7):
        generic += inv_d * (B - A @ generic)
    assert np.array_equal(jacobi(A, B, X.copy(), 7), generic)


def test_the_sweeps_shared_among_threads_give_the_same_numbers(monkeypatch):
    """A large grid's Jacobi sweeps run a share of the columns per thread; columns never mix, so the result is
    bit for bit that of one thread."""
    from backends.variational import solver
    rng = np.random.default_rng(5)
    H, W, K = 400, 420, 5
    A = solver.GridOperator(rng.random((H, W - 1)).astype(np.float32), rng.random((H - 1, W)).astype(np.float32),
                            (rng.random((H, W)) < 0.01).astype(np.float32))
    B, X0 = rng.random((H * W, K)).astype(np.float32), rng.random((H * W, K)).astype(np.float32)
    assert H * W >= solver.PARALLEL_PIXELS
    out = []
    for threads in ("1", "2", "3"):
        monkeypatch.setenv("COLORCORE_THREADS", threads)
        out.append(solver.jacobi(A, B, X0.copy(), 5))
    for other in out[1:]:
        np.testing.assert_array_equal(other, out[0])
