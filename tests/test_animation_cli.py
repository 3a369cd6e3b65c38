"""`colorcore colorize` on animations, as a user runs it: the same kind of animation comes out, with the frame
count, the durations and the loop kept, the uncertainty as an animation too, and progress per frame."""
import subprocess

import numpy as np
import pytest
from PIL import Image

from colorcore.frames import read_frames
from testutil_engine import colorcore_cmd, engine_env
from test_animation import pan, texture


def run(*args, cwd):
    return subprocess.run([*colorcore_cmd(), "colorize", *map(str, args)], cwd=cwd, capture_output=True, text=True,
                          env=engine_env(COLORCORE_PLUGINS="variational,gan"), timeout=600)


@pytest.fixture
def clip(tmp_path):
    """Five gray frames panning over a texture, 80 ms, 120 ms, ..., played 3 times."""
    c, _ = pan(texture(0), 5, 3, size=64)
    images = [Image.fromarray(np.round(f * 255).astype(np.uint8)) for f in c.frames]
    durations = [80, 120, 160, 200, 240]
    for name in ("clip.gif", "clip.png"):
        images[0].save(tmp_path / name, save_all=True, append_images=images[1:], duration=durations, loop=2,
                       **({"disposal": 1} if name.endswith(".gif") else {}))
    (tmp_path / "frames").mkdir()
    for i, im in enumerate(images):
        im.save(tmp_path / "frames" / f"f{i + 1}.png")
    return tmp_path, durations


@pytest.mark.parametrize("src, out, unc", [("clip.gif", "out.gif", "unc.gif"), ("clip.png", "out.png", "unc.png"),
                                           ("frames", "out_frames", "unc_frames")])
def test_an_animation_comes_back_as_the_same_kind_of_animation(clip, src, out, unc):
    d, durations = clip
    proc = run(src, "-o", out, "--uncertainty", unc, cwd=d)
    assert proc.returncode == 0, proc.stderr
    assert "5 frames" in proc.stdout and "colour following the motion" in proc.stdout
    assert sum("frame 5/5" in line for line in proc.stderr.splitlines()) >= 1          # progress per frame
    source, result, radius = read_frames(d / src), read_frames(d / out), read_frames(d / unc)
    assert len(result) == len(radius) == 5 and result.format == source.format
    if src != "frames":
        assert result.durations == durations == radius.durations and result.loop == source.loop
    lab_in = np.asarray(source.frames).mean(axis=3)
    assert np.ptp(result.frames, axis=3).mean() > 0.01                 # coloured
    assert np.abs(result.frames.mean(axis=3) - lab_in).mean() < 0.1    # the frames' own tones
    assert (d / src).exists() and not list(d.glob(".colorcore-*"))


def test_scribbles_on_the_first_frame_or_a_folder_of_them(clip):
    d, _ = clip
    hints = np.zeros((64, 64, 4), np.uint8)
    hints[20:30, 10:50] = [200, 40, 30, 255]
    Image.fromarray(hints, "RGBA").save(d / "hints.png")
    proc = run("clip.gif", "--scribbles", "hints.png", "-o", "s.gif", cwd=d)
    assert proc.returncode == 0 and "variational, scribble" in proc.stdout, proc.stderr
    (d / "hint_frames").mkdir()
    for i in range(5):
        Image.fromarray(hints, "RGBA").save(d / "hint_frames" / f"h{i}.png")
    proc = run("clip.png", "--scribbles", "hint_frames", "-o", "s.png", cwd=d)
    assert proc.returncode == 0, proc.stderr
    red = read_frames(d / "s.png").frames[:, 25, 30]
    assert (red[:, 0] > red[:, 2] + 0.05).all()                        # the painted colour in every frame


def test_frame_by_frame_is_there_for_comparison(clip):
    d, _ = clip
    proc = run("clip.gif", "-o", "fbf.gif", "--frame-by-frame", "--quiet", cwd=d)
    assert proc.returncode == 0 and "frame by frame" in proc.stdout and "backend on 5 frames" in proc.stdout
