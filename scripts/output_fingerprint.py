"""Fingerprint what the CLI writes, every mode, on a fixed set of photos: a refactor must not change a pixel.

    python scripts/output_fingerprint.py --save before.json     # on the old code
    python scripts/output_fingerprint.py --check before.json    # on the new code: exit 1 and a diff if any differ

Each case runs `python -m colorcore colorize ...` in a fresh process (the user's path, thread settings included)
and hashes the decoded pixels of every file it wrote (not the file bytes: PNG metadata may legitimately change).
The inputs are the repository's sample, two dev_eval photos when ../shared/data is there, a mask and an animation
made here from them.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image, ImageSequence

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "examples" / "sample"
DEV = ROOT.parent / "shared" / "data" / "dev_eval" / "CBSD68"


def _inputs(tmp: Path) -> dict[str, Path]:
    paths = {"cottage": SAMPLE / "cottage.png", "strokes": SAMPLE / "cottage_scribbles.png"}
    w, h = Image.open(paths["cottage"]).size
    mask = np.zeros((h, w), np.uint8)
    mask[h // 4: 3 * h // 4, w // 5: 3 * w // 5] = 255
    paths["mask"] = tmp / "mask.png"
    Image.fromarray(mask).save(paths["mask"])
    for name in ("101085.png", "102061.png"):
        if (DEV / name).exists():
            paths[name] = DEV / name
    # a three-frame animation: the sample sliding right by 4 px a frame
    frame = np.asarray(Image.open(paths["cottage"]).convert("L"))
    frames = [Image.fromarray(np.roll(frame, 4 * i, axis=1)) for i in range(3)]
    paths["gif"] = tmp / "clip.gif"
    frames[0].save(paths["gif"], save_all=True, append_images=frames[1:], duration=100, loop=0)
    return paths


def _cases(p: dict[str, Path]) -> dict[str, list[str]]:
    c = str(p["cottage"])
    cases = {
        "auto": [c, "-o", "{out}/a.png", "--uncertainty", "{out}/a_u.png", "--intervals", "{out}/lo.png",
                 "{out}/hi.png"],
        "scribble-default": [c, "--scribbles", str(p["strokes"]), "-o", "{out}/s.png", "--uncertainty",
                             "{out}/s_u.png"],
        "scribble-variational": [c, "--scribbles", str(p["strokes"]), "--backend", "variational", "-o",
                                 "{out}/v.png", "--uncertainty", "{out}/v_u.png"],
        "partial-default": [c, "--mask", str(p["mask"]), "-o", "{out}/p.png", "--uncertainty", "{out}/p_u.png"],
        "partial-gan-composite": [c, "--mask", str(p["mask"]), "--backend", "gan", "-o", "{out}/pg.png"],
        "partial-scribbles": [c, "--mask", str(p["mask"]), "--scribbles", str(p["strokes"]), "-o", "{out}/ps.png"],
        "auto-size": [c, "--set", "size=96", "--set", "samples=2", "-o", "{out}/as.png"],
        "animation": [str(p["gif"]), "-o", "{out}/clip.gif", "--uncertainty", "{out}/clip_u.gif"],
    }
    for name in ("101085.png", "102061.png"):
        if name in p:
            cases[f"auto-{name}"] = [str(p[name]), "-o", "{out}/d.png", "--uncertainty", "{out}/d_u.png"]
    return cases


def _pixels_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with Image.open(path) as im:
        for frame in ImageSequence.Iterator(im):
            arr = np.asarray(frame)
            digest.update(str((frame.mode, arr.shape)).encode())
            digest.update(np.ascontiguousarray(arr).tobytes())
    return digest.hexdigest()[:16]


def fingerprint() -> dict[str, dict[str, str]]:
    result = {}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        cases = _cases(_inputs(tmp))
        for name, argv in cases.items():
            out = tmp / name
            out.mkdir()
            cmd = [sys.executable, "-m", "colorcore", "colorize", "--seed", "0", "--quiet",
                   *[a.format(out=out) for a in argv]]
            run = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=os.environ.copy())
            if run.returncode != 0:
                result[name] = {"error": run.stderr.strip().splitlines()[-1]}
            else:
                result[name] = {f.name: _pixels_hash(f) for f in sorted(out.iterdir())}
            print(f"{name:<26} {result[name]}", flush=True)
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--save", type=Path, help="write the fingerprint here")
    group.add_argument("--check", type=Path, help="compare with a saved fingerprint")
    args = parser.parse_args(argv)
    now = fingerprint()
    if args.save:
        args.save.write_text(json.dumps(now, indent=1, sort_keys=True) + "\n")
        return 0
    before = json.loads(args.check.read_text())
    differ = sorted(k for k in set(before) | set(now) if before.get(k) != now.get(k))
    for key in differ:
        print(f"DIFFERENT {key}: before {before.get(key)} now {now.get(key)}")
    print(f"{len(now) - len(differ)} of {len(set(before) | set(now))} cases identical, pixel for pixel")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
