"""Bad input to the real `colorcore` command: one clear line, a non-zero exit, and no file changed or added.

Each case runs `python -m colorcore colorize ...` in a folder of small files, photographs every file there
(bytes, mtime, mode) before and after, and checks the exit code, the one stderr line and that nothing moved.
"""
import os
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from testutil_engine import colorcore_cmd, engine_env

PLUGINS = "variational,gan"   # gan only to be named: its weights are never loaded by these cases


def cli(*args, cwd):
    return subprocess.run(colorcore_cmd() + [str(a) for a in args], capture_output=True, text=True, cwd=cwd,
                          env=engine_env(COLORCORE_PLUGINS=PLUGINS))


def can_create_in(folder):
    try:
        fd, probe = tempfile.mkstemp(dir=folder)
    except OSError:
        return False
    os.close(fd)
    os.unlink(probe)
    return True


@pytest.fixture(scope="module")
def unwritable():
    """A folder this process cannot write to: a read-only one, or for root (who writes anywhere) /sys."""
    folder = Path(tempfile.mkdtemp(prefix="colorcore-ro-"))
    folder.chmod(0o500)
    if not can_create_in(folder):
        yield folder
    elif os.path.isdir("/sys") and not can_create_in("/sys"):
        yield Path("/sys")
    else:
        yield None
    folder.chmod(0o700)
    folder.rmdir()


@pytest.fixture
def files(tmp_path, photo):
    from training.evaluation import gray_of
    d = tmp_path / "work"
    d.mkdir()
    g = np.round(gray_of(photo)[..., 0] * 255).astype(np.uint8)
    Image.fromarray(g).save(d / "gray.png")
    hints = np.zeros(g.shape + (4,), np.uint8)
    hints[15:20, 12:20] = [220, 40, 30, 255]
    Image.fromarray(hints, "RGBA").save(d / "hints.png")
    mask = np.zeros(g.shape, np.uint8)
    mask[:, :32] = 255
    Image.fromarray(mask).save(d / "mask.png")
    Image.fromarray(np.zeros((10, 10, 4), np.uint8), "RGBA").save(d / "small_hints.png")
    Image.fromarray(np.zeros(g.shape + (3,), np.uint8)).save(d / "rgb_mask.png")
    Image.fromarray(np.zeros(g.shape + (4,), np.uint8), "RGBA").save(d / "empty_hints.png")
    (d / "notes.png").write_text("this is not an image")
    Image.fromarray(g).convert("RGB").save(d / "photo.jpg", quality=90)
    data = (d / "photo.jpg").read_bytes()
    (d / "truncated.jpg").write_bytes(data[:int(len(data) * 0.85)])    # the pixel data cut short
    (d / "cut_header.jpg").write_bytes(data[:200])                       # not even the header complete
    frames = [Image.fromarray(g), Image.fromarray(255 - g)]
    for name in ("animated.gif", "animated.png", "pages.tif"):
        frames[0].save(d / name, save_all=True, append_images=frames[1:], duration=100, loop=0)
    (d / "scribble_frames").mkdir()
    Image.fromarray(hints, "RGBA").save(d / "scribble_frames" / "0001.png")   # one, for a 2-frame clip
    Image.fromarray(g).save(d / "previous_output.png")   # an earlier result: overwriting it is allowed
    os.symlink("gray.png", d / "link_to_gray.png")
    os.link(d / "gray.png", d / "hardlink_to_gray.png")
    return d


def snapshot(folder):
    """Every file and folder under folder -> (bytes, mtime in ns, mode); symlinks by their target."""
    out = {}
    for p in sorted(Path(folder).rglob("*")):
        st = os.lstat(p)
        content = os.readlink(p) if p.is_symlink() else "<folder>" if p.is_dir() else p.read_bytes()
        out[p.relative_to(folder).as_posix()] = (content, st.st_mtime_ns, st.st_mode)
    return out


def CASES(d, unwritable):
    """case -> (arguments after `colorize`, words the one error line must hold). Run in folder d."""
    up = f"../{d.name}"
    cases = {
        "missing file": (["nope.png", "-o", "o.png"], "input image file not found: nope.png"),
        "not an image": (["notes.png", "-o", "o.png"], "is not an image Pillow can read"),
        "truncated JPEG": (["truncated.jpg", "-o", "o.png"], "truncated.jpg is damaged or incomplete"),
        "JPEG cut in its header": (["cut_header.jpg", "-o", "o.png"], "cut_header.jpg is damaged or incomplete"),
        "animated GIF to a JPEG": (["animated.gif", "-o", "o.jpg"], "cannot write an animation as .jpg"),
        "animation to a missing folder": (["animated.png", "-o", "no/such/o.png"], "output folder does not exist"),
        "animated scribbles": (["gray.png", "--scribbles", "animated.png", "-o", "o.png"],
                               "scribble image animated.png has 2 frames; scribbles for a photo are one image"),
        "animated mask": (["gray.png", "--mask", "pages.tif", "-o", "o.png"], "mask image pages.tif has 2 frames"),
        "scribble folder of the wrong length": (["animated.gif", "--scribbles", "scribble_frames", "-o", "o.gif"],
                                                "holds 1 images but the animation has 2 frames"),
        "animation above the size limit": (["pages.tif", "--max-megapixels", "0.005", "-o", "o.tif"],
                                           "2 frames of 64x48 = 0.00614 megapixels in all, above the limit"),
        "wrong-size scribbles": (["gray.png", "--scribbles", "small_hints.png", "-o", "o.png"],
                                 "scribble image is 10x10 but the input is 64x48"),
        "RGB mask": (["gray.png", "--scribbles", "hints.png", "--mask", "rgb_mask.png", "-o", "o.png"],
                     "mask must be a single-channel gray image"),
        "empty scribbles": (["gray.png", "--backend", "variational", "--scribbles", "empty_hints.png", "-o", "o.png"],
                            "the scribble layer is empty"),
        "no scribbles for a scribble backend": (["gray.png", "--backend", "variational", "-o", "o.png"],
                                                "needs colour scribbles, but none were given"),
        "scribbles to a backend that ignores them": (
            ["gray.png", "--backend", "gan", "--scribbles", "hints.png", "-o", "o.png"],
            "backend 'gan' ignores scribbles"),
        "huge image (the limit stubbed down to 0.001 MP)": (["gray.png", "--max-megapixels", "0.001", "-o", "o.png"],
                                                            "64x48 = 0.00307 megapixels, above the limit of 0.001 megapixels; pass --max-megapixels 1"),
        "unknown backend": (["gray.png", "--backend", "magic", "-o", "o.png"], "known backends: gan, variational"),
        "bad option": (["gray.png", "--scribbles", "hints.png", "--set", "edge_sensitivity=hot", "-o", "o.png"],
                       "expects a float"),
        "missing output folder": (["gray.png", "--scribbles", "hints.png", "-o", "no/such/o.png"], "does not exist"),
        "output not a PNG": (["gray.png", "--scribbles", "hints.png", "-o", "o.jpg"], "must be a .png file"),
        "output is the input": (["gray.png", "--scribbles", "hints.png", "-o", "gray.png"],
                                "the output (-o) gray.png is the input image gray.png"),
        "output is the input, spelled differently": (["gray.png", "--scribbles", "hints.png", "-o",
                                                      f"{up}/./gray.png"], "is the input image"),
        "output is a symlink to the input": (["gray.png", "--scribbles", "hints.png", "-o", "link_to_gray.png"],
                                             "is the input image"),
        "output is a hard link to the input": (["gray.png", "--scribbles", "hints.png", "-o",
                                                "hardlink_to_gray.png"], "is the input image"),
        "uncertainty is the input": (["gray.png", "--scribbles", "hints.png", "-o", "o.png", "--uncertainty",
                                      "gray.png"], "the uncertainty output (--uncertainty) gray.png is the input"),
        "output is the scribbles": (["gray.png", "--scribbles", "hints.png", "-o", "hints.png"],
                                    "is the scribble image (--scribbles) hints.png"),
        "uncertainty is the mask": (["gray.png", "--scribbles", "hints.png", "--mask", "mask.png", "-o", "o.png",
                                     "--uncertainty", f"{up}/mask.png"], "is the mask (--mask)"),
        "output and uncertainty are one file": (["gray.png", "--scribbles", "hints.png", "-o", "o.png",
                                                 "--uncertainty", "./o.png"], "are the same file"),
        "output and uncertainty are one existing file": (
            ["gray.png", "--scribbles", "hints.png", "-o", "previous_output.png", "--uncertainty",
             "previous_output.png"], "are the same file"),
    }
    if unwritable is not None:
        cases["unwritable folder"] = (["gray.png", "--scribbles", "hints.png", "-o", unwritable / "o.png"],
                                      f"cannot write into the folder {unwritable}")
    return cases


NAMES = list(CASES(Path("/x/work"), Path("/ro")))


@pytest.mark.parametrize("case", NAMES)
def test_bad_input_is_one_clear_line_and_nothing_changes(files, unwritable, case):
    cases = CASES(files, unwritable)
    if case not in cases:
        pytest.skip("no folder here that this user cannot write to")
    args, message = cases[case]
    before = snapshot(files)
    proc = cli("colorize", *args, cwd=files)
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert proc.returncode == 2, proc.stderr
    assert len(lines) == 1 and lines[0].startswith("colorcore: error: ") and message in lines[0], proc.stderr
    assert proc.stdout == ""
    assert snapshot(files) == before          # no file changed, none appeared (no output, no temporary file)


def test_the_same_folder_with_good_input_does_write(files):
    """The control: the suite's files are fine when used as meant, so each case above fails for its own reason."""
    proc = cli("colorize", "gray.png", "--scribbles", "hints.png", "--mask", "mask.png", "-o", "previous_output.png",
               "--uncertainty", "unc.png", cwd=files)
    assert proc.returncode == 0, proc.stderr
    assert (files / "unc.png").is_file() and (files / "gray.png").read_bytes() != (files / "previous_output.png").read_bytes()


def test_debug_anywhere_on_the_line_gives_the_traceback(files):
    for args in (["--debug", "colorize", "nope.png", "-o", "o.png"], ["colorize", "nope.png", "-o", "o.png", "--debug"]):
        proc = cli(*args, cwd=files)
        assert proc.returncode != 0 and "Traceback" in proc.stderr and "InvalidRequest" in proc.stderr, args
