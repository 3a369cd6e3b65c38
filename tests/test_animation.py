"""Animations: frame I/O round trips, colour that follows the motion, scene cuts, the warping error."""
import cv2
import numpy as np
import pytest
from PIL import Image

from colorcore import Backend, BackendOutput, InvalidRequest, color
from colorcore.animation import ConsistencySettings, colorize_clip
from colorcore.frames import Clip, clip_from_frames, read_frames, write_frames
from colorcore.temporal import in_view, warping_error

SIZE = 48


class Flicker(Backend):
    """Colours each region by its lightness (bright: red, dark: green-blue), plus an offset that changes at
    every call: a frame-by-frame colorizer that re-guesses, i.e. flickers."""

    name, label, modes = "flicker", "flicker", ("auto", "partial")

    def __init__(self, amplitude=12.0):
        self.calls, self.amplitude = 0, amplitude

    def offset(self, call):
        return self.amplitude * np.sin(1.7 * call)

    def run(self, request):
        self.calls += 1
        L = request.lightness()
        a = np.where(L > 50, 35.0, -25.0) + self.offset(self.calls)
        ab = np.dstack([a, np.full(L.shape, 10.0)]).astype(np.float32)
        return BackendOutput(ab=ab, score=np.full(L.shape, 3.0, np.float32))


class MeanHint(Backend):
    """Scribble backend: the whole frame gets the hints' mean chroma; records where the hints were."""

    name, label, modes, needs_scribbles = "mean-hint", "mean hint", ("scribble",), True

    def __init__(self):
        self.centroids = []

    def run(self, request):
        s = request.scribbles
        ys, xs = np.nonzero(s[..., 3] > 0)
        self.centroids.append((ys.mean(), xs.mean()))
        ab = color.rgb_to_lab(s[ys, xs, :3])[:, 1:].mean(axis=0)
        return BackendOutput(ab=np.broadcast_to(ab, request.shape + (2,)).astype(np.float32))


def texture(seed, h=200, w=260):
    """Gray blobs with edges at several scales: enough structure for optical flow to lock on."""
    rng = np.random.default_rng(seed)
    coarse = cv2.resize(rng.random((h // 20, w // 20)).astype(np.float32), (w, h), interpolation=cv2.INTER_NEAREST)
    fine = cv2.resize(rng.random((h // 4, w // 4)).astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC)
    return np.clip(0.7 * coarse + 0.3 * fine, 0, 1)


def pan(big, n, step, y0=20, x0=20, size=SIZE):
    """n gray frames cropped from `big`, moving `step` px right each frame; exact flows (frame t -> t-1)."""
    frames = np.stack([np.repeat(big[y0:y0 + size, x0 + step * t:x0 + step * t + size, None], 3, axis=2)
                       for t in range(n)])
    flow = np.zeros((size, size, 2), np.float32)
    flow[..., 0] = step
    return Clip(frames.astype(np.float32)), [flow] * (n - 1)


def chroma(rgb):
    return color.rgb_to_lab(rgb)[..., 1:]


# ---------------------------------------------------------------- frame I/O

def coloured_clip(n=5):
    frames = np.zeros((n, 20, 30, 3), np.float32)
    frames[:, :10] = [0.8, 0.2, 0.1]
    for t in range(n):
        frames[t, 10:, 3 * t:3 * t + 6] = [0.1, 0.5, 0.9]
    frames[min(3, n - 1)] = frames[2]   # a still passage: two identical frames must stay two frames
    return (np.round(frames * 255) / 255).astype(np.float32)   # on the 8-bit grid: lossless means equal


@pytest.mark.parametrize("name, exact", [("anim.gif", False), ("anim.png", True)])
def test_gif_and_apng_round_trips_keep_frames_durations_and_loop(tmp_path, name, exact):
    frames = coloured_clip()
    for loop in (0, 1, 3):
        clip = Clip(frames, durations=[40, 50, 60, 70, 80], loop=loop)
        path = write_frames(clip, tmp_path / name)
        back = read_frames(path)
        assert len(back) == 5 and back.durations == [40, 50, 60, 70, 80] and back.loop == loop
        assert back.format == ("gif" if name.endswith("gif") else "apng")
        err = np.abs(back.frames - frames).max()
        assert err == 0 if exact else err <= 1 / 255 + 1e-6   # APNG lossless; GIF: a few colours, no dithering
    with Image.open(path) as img:
        assert img.n_frames == 5


def test_gif_of_many_colours_has_no_dithering_noise_in_flat_areas(tmp_path):
    yy, xx = np.mgrid[0:64, 0:64] / 63.0
    frames = np.stack([np.dstack([xx, yy, 0.5 + 0 * xx]) for _ in range(3)]).astype(np.float32)  # 4096 colours
    frames[:, 20:40, 20:40] = [0.3, 0.6, 0.2]   # a flat patch
    back = read_frames(write_frames(Clip(frames), tmp_path / "a.gif"))
    patch = back.frames[:, 20:40, 20:40].reshape(-1, 3)
    assert len(np.unique(patch, axis=0)) == 1                       # one colour, in every frame
    assert np.abs(patch[0] - [0.3, 0.6, 0.2]).max() < 0.03


def test_transparency_survives_gif_and_apng(tmp_path):
    frames = coloured_clip(3)
    alpha = np.ones(frames.shape[:3], np.float32)
    alpha[:, :, :4] = 0
    for name in ("t.gif", "t.png"):
        back = read_frames(write_frames(Clip(frames, alpha=alpha), tmp_path / name))
        assert back.alpha is not None and np.array_equal(back.alpha > 0.5, alpha > 0.5)


def test_folder_and_tiff_round_trips(tmp_path):
    frames = coloured_clip()
    src = tmp_path / "in"
    src.mkdir()
    for t, f in enumerate(frames):   # natural order: frame10 after frame9, not after frame1
        Image.fromarray(np.round(f * 255).astype(np.uint8)).save(src / f"frame{[1, 2, 9, 10, 11][t]}.png")
    clip = read_frames(src)
    assert clip.format == "folder" and np.array_equal(clip.frames, np.round(frames * 255) / 255)
    out = read_frames(write_frames(clip, tmp_path / "out"))
    assert len(out) == 5 and np.array_equal(out.frames, clip.frames)
    tif = read_frames(write_frames(clip, tmp_path / "a.tif"))
    assert tif.format == "tiff" and np.array_equal(tif.frames, clip.frames)


def test_bad_clips_are_refused_with_one_clear_line(tmp_path):
    folder = tmp_path / "mixed"
    folder.mkdir()
    Image.new("RGB", (20, 10)).save(folder / "a.png")
    Image.new("RGB", (22, 10)).save(folder / "b.png")
    with pytest.raises(InvalidRequest, match=r"same size: a.png is 20x10 but b.png is 22x10"):
        read_frames(folder)
    (tmp_path / "empty").mkdir()
    with pytest.raises(InvalidRequest, match="holds 0 frame"):
        read_frames(tmp_path / "empty")
    Image.new("RGB", (20, 10)).save(tmp_path / "still.gif")
    with pytest.raises(InvalidRequest, match="single frame, not an animation"):
        read_frames(tmp_path / "still.gif")
    with pytest.raises(InvalidRequest, match="not found"):
        read_frames(tmp_path / "nothing.gif")
    with pytest.raises(InvalidRequest, match="same size"):
        clip_from_frames([np.zeros((10, 20, 3)), np.zeros((10, 21, 3))])
    for message in map(str, (InvalidRequest,)):
        assert "\n" not in message


def test_the_input_is_never_overwritten(tmp_path):
    path = write_frames(Clip(coloured_clip()), tmp_path / "a.gif")
    before = path.read_bytes()
    clip = read_frames(path)
    with pytest.raises(InvalidRequest, match="is the input"):
        write_frames(clip, path)
    assert path.read_bytes() == before
    folder = write_frames(clip, tmp_path / "frames")
    with pytest.raises(InvalidRequest, match="is the input"):
        write_frames(read_frames(folder), folder)
    with pytest.raises(InvalidRequest, match=r"\.webm"):
        write_frames(clip, tmp_path / "a.webm")


# ---------------------------------------------------------------- temporal consistency

def test_a_static_clip_gives_identical_chroma_in_every_frame():
    still = np.repeat(texture(1)[:SIZE, :SIZE, None], 3, axis=2)
    clip = Clip(np.stack([still] * 5))
    backend = Flicker()
    rgb, _, info = colorize_clip(clip, backend)
    ab = chroma(rgb.frames)
    assert np.abs(ab - ab[0]).max() < 0.05, "chroma changed although nothing moved"
    assert backend.calls == 1 and info["key_frames"] == [0]   # repeated frames do not ask the backend again
    alone, _, _ = colorize_clip(clip, Flicker(), consistent=False)
    assert np.abs(chroma(alone.frames) - ab[0]).max() > 5   # the backend does flicker: the test can fail
    assert info["cuts"] == [] and min(info["trusted"][1:]) > 0.99


def test_the_still_part_of_a_cinemagraph_keeps_its_colour_exactly():
    frames = []
    for t in range(4):   # the left half moves down 2 px per frame, the right half stands still
        f = texture(10)[:SIZE, :SIZE].copy()
        f[:, :SIZE // 2] = texture(11)[20 - 2 * t:20 - 2 * t + SIZE, :SIZE // 2]
        frames.append(np.repeat(f[..., None], 3, axis=2))
    rgb, _, info = colorize_clip(Clip(np.stack(frames)), Flicker(), settings=ConsistencySettings(key_interval=1))
    right = chroma(rgb.frames)[:, :, SIZE // 2 + 4:]
    assert np.abs(right - right[0]).max() < 0.05 and info["key_frames"] == [0, 1, 2, 3]


def test_colour_follows_the_motion_and_lightness_is_each_frames_own():
    clip, flows = pan(texture(2), 6, 3)
    rgb, unc, info = colorize_clip(clip, Flicker(), settings=ConsistencySettings(carry=1.0))
    for t in range(1, 6):   # where the content was visible before, it keeps its first colour
        np.testing.assert_allclose(color.lightness(rgb.frames[t]), color.lightness(clip.frames[t]), atol=0.05)
        carried = chroma(rgb.frames[0])[:, 3 * t + 4:]        # frame 0's columns still in view (edges aside)
        now = chroma(rgb.frames[t])[:, 4:SIZE - 3 * t]
        assert np.median(np.abs(now - carried)) < 1.0
    assert len(unc) == 6 and info["uncertainty_scale"] >= 3.0
    fbf, _, _ = colorize_clip(clip, Flicker(), consistent=False)
    assert warping_error(rgb.frames, flows) < 0.2 * warping_error(fbf.frames, flows)
    blended, _, _ = colorize_clip(clip, Flicker())   # the default carry lets the prediction in a little
    assert warping_error(rgb.frames, flows) < warping_error(blended.frames, flows) < 0.3 * warping_error(
        fbf.frames, flows)


def test_a_scene_cut_does_not_carry_colour_across_it():
    a, _ = pan(texture(3), 3, 2)
    b, _ = pan(texture(4), 3, 2, y0=100, x0=150)
    clip = Clip(np.concatenate([a.frames, b.frames]))
    backend = Flicker()
    rgb, _, info = colorize_clip(clip, backend)
    assert info["cuts"] == [3]
    L = color.lightness(clip.frames[3])
    call = info["key_frames"].index(3) + 1     # the cut is a key frame: which backend call gave frame 3
    own_a = np.where(L > 50, 35.0, -25.0) + backend.offset(call)
    own = chroma(color.with_lightness(L, np.dstack([own_a, np.full(L.shape, 10.0)])))
    np.testing.assert_allclose(chroma(rgb.frames[3]), own, atol=0.05)   # its own prediction, nothing carried
    assert np.abs(chroma(rgb.frames[2]) - own).max() > 5               # (and that differs from scene A's colour)


def test_warping_error_is_zero_for_a_consistent_clip_and_positive_for_a_flickering_one():
    yy, xx = np.mgrid[0:80, 0:120] / 80.0
    big = np.dstack([0.5 + 0.4 * np.sin(5 * xx), 0.5 + 0.4 * np.cos(4 * yy), 0.5 + 0 * xx]).astype(np.float32)
    frames = np.stack([big[10:42, 5 + 2 * t:37 + 2 * t] for t in range(5)])
    flows = [np.dstack([np.full((32, 32), 2.0), np.zeros((32, 32))]).astype(np.float32)] * 4
    assert warping_error(frames, flows) == 0.0
    flicker = frames.copy()
    flicker[1::2] = np.clip(flicker[1::2] + [0.1, 0, 0], 0, 1)
    e = warping_error(flicker, flows)
    assert e > 0.001
    masks = [in_view(f) for f in flows]   # explicit masks give the same number
    assert warping_error(flicker, flows, masks) == pytest.approx(e)
    assert warping_error(flicker) > 0.001     # flows estimated from the frames themselves


def test_key_frames_run_the_backend_less_and_fill_new_content():
    clip, flows = pan(texture(5), 8, 2)
    backend = Flicker()
    rgb, _, info = colorize_clip(clip, backend, settings=ConsistencySettings(key_interval=4, new_content=0.5))
    assert info["key_frames"] == [0, 4] and backend.calls == 2
    entered = chroma(rgb.frames[3])[:, -4:]   # content that entered at the right edge got a colour, not gray
    assert np.abs(entered).max() > 5


def test_partial_mode_leaves_the_outside_untouched():
    clip, _ = pan(texture(6), 4, 2)
    mask = np.zeros((SIZE, SIZE), np.float32)
    mask[:, SIZE // 2:] = 1
    rgb, unc, _ = colorize_clip(clip, Flicker(), mode="partial", mask=mask)
    assert np.array_equal(rgb.frames[:, :, :SIZE // 2], clip.frames[:, :, :SIZE // 2])
    assert (unc.frames[:, :, :SIZE // 2] == 0).all() and (unc.frames[:, :, SIZE // 2 + 3:] > 0).all()


def test_scribbles_on_the_first_frame_move_with_the_content():
    clip, _ = pan(texture(7), 5, 3)
    scribbles = np.zeros((SIZE, SIZE, 4), np.float32)
    scribbles[20:26, 30:36] = [0.8, 0.3, 0.2, 1.0]
    backend = MeanHint()
    rgb, _, info = colorize_clip(clip, backend, mode="scribble", scribbles=scribbles, consistent=False)
    xs = [c[1] for c in backend.centroids]
    np.testing.assert_allclose(np.diff(xs), -3, atol=0.6)   # content moves left by 3 px per frame
    assert chroma(rgb.frames[-1])[..., 0].mean() > 10


def test_bad_requests_are_refused():
    clip, _ = pan(texture(8), 3, 1)
    with pytest.raises(InvalidRequest, match=r"mask must have shape \(48, 48\)"):
        colorize_clip(clip, Flicker(), mode="partial", mask=np.ones((10, 10), np.float32))
    with pytest.raises(InvalidRequest, match="needs a Clip"):
        colorize_clip(clip.frames, Flicker())


def test_progress_reaches_every_frame():
    clip, _ = pan(texture(9), 4, 1)
    seen = []
    colorize_clip(clip, Flicker(), progress=lambda f, m: seen.append((f, m)))
    assert [m for f, m in seen if m.startswith("frame") and ":" not in m] == [f"frame {i}/4" for i in range(1, 5)]
    assert seen[-1][0] == 1.0 and all(b[0] >= a[0] - 1e-9 for a, b in zip(seen, seen[1:]))


@pytest.mark.parametrize("motion", range(4))
def test_the_benchmark_clips_move_exactly_as_their_flows_say(motion):
    import sys
    from pathlib import Path
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from bench.animation import MOTIONS, render_clip
    yy, xx = np.mgrid[0:120, 0:120] / 120.0
    photo = np.dstack([0.5 + 0.3 * np.sin(9 * xx + 4 * yy), 0.5 + 0.3 * np.cos(7 * yy), 0.4 + 0 * xx])
    frames, flows = render_clip(photo.astype(np.float32), MOTIONS[motion], 4, 64)
    assert warping_error(frames, flows) < 2e-5
    still = [np.zeros_like(f) for f in flows]
    assert warping_error(frames, still) > 20 * max(warping_error(frames, flows), 1e-6)   # they do move


class LightScore(Backend):
    """Auto backend whose uncertainty follows the lightness (a smooth radius the carried one can be checked
    against); colours as Flicker without the flicker."""

    name, label, modes = "light-score", "light score", ("auto",)

    def run(self, request):
        L = request.lightness()
        ab = np.dstack([np.where(L > 50, 35.0, -25.0), np.full(L.shape, 10.0)]).astype(np.float32)
        return BackendOutput(ab=ab, score=(2.0 + L / 10.0).astype(np.float32))


def test_the_uncertainty_frames_have_no_bright_strips_seams_or_speckles():
    """Between key frames the radius of new content, occlusions and pixels the flow check drops is taken from
    around them, never the frame's largest radius: no near-white strip where content enters, no bright seam
    along a moving object's edge, no white speckles."""
    bg = texture(7, 120, 160)
    fg = texture(8, 40, 40)
    frames = []
    for t in range(8):   # the camera pans 2 px a frame; a square of other texture moves 3 px a frame down
        f = bg[20:68, 20 + 2 * t:68 + 2 * t].copy()
        f[6 + 3 * t:22 + 3 * t, 10:26] = fg[:16, :16]
        frames.append(np.repeat(f[..., None], 3, axis=2))
    clip = Clip(np.stack(frames).astype(np.float32))
    _, unc, info = colorize_clip(clip, LightScore(), settings=ConsistencySettings(key_interval=8, new_content=1.0))
    assert info["key_frames"] == [0]
    r = unc.frames[..., 0] * info["uncertainty_scale"]
    for t in range(1, 8):   # against the radius the backend itself gives that frame (2 + L / 10, range 2-12)
        over = r[t] - (2.0 + color.lightness(clip.frames[t]) / 10.0) > 3.0
        assert over.mean() < 0.03, (t, over.mean())     # the frame's largest radius in the holes: 0.09-0.40
        assert over[:, -2 * t:].mean() < 0.1            # the columns that came into view: no near-white strip
