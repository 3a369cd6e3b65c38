"""`colorcore` command line: list backends, colorize files, train models, serve the GIMP plug-in."""
from __future__ import annotations

import argparse
import json
import sys
import time

from . import protocol
from .errors import ColorcoreError, InvalidRequest


def _parse_sets(pairs):
    options = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise InvalidRequest(f"--set expects KEY=VALUE; got {pair!r}")
        options[key.strip()] = value
    return options


def cmd_backends(args):
    from .plugins import load_registry
    registry = load_registry()
    rows = []
    for name, backend in registry.backends.items():
        row = backend.describe()
        row["plugin"] = registry.owners[name]
        rows.append(row)
    failures = [{"plugin": f.plugin, "error": f.error} for f in registry.failures]
    if args.json:
        print(json.dumps({"backends": rows, "failed_plugins": failures}, indent=2))
        return 0
    for row in rows:
        state = "available" if row["available"] else f"unavailable: {row['unavailable_reason']}"
        print(f"{row['name']:<14} {row['label']}  [{', '.join(row['modes'])}]  ({state})  plugin: {row['plugin']}")
        caps = [c for c in ("needs_scribbles", "takes_mask", "gives_uncertainty") if row[c]]
        print(f"{'':<14} capabilities: {', '.join(caps) or '-'}")
        for opt in row["options"]:
            rng = f" [{opt['minimum']}, {opt['maximum']}]" if opt["minimum"] is not None else ""
            print(f"{'':<14} --set {opt['name']}=<{opt['type']}> default {opt['default']}{rng}  {opt['help']}")
        if row.get("weights"):
            print(f"{'':<14} weights: {row['weights']}")
        cal = row["calibration"]
        if cal:
            print(f"{'':<14} calibration: lambda {cal['lambdas']} on {cal['n_images']} images ({cal['source']})")
        elif row["available"] and row["gives_uncertainty"]:
            print(f"{'':<14} calibration: none (uncertainty is the raw score)")
    for fail in failures:
        print(f"FAILED plugin {fail['plugin']}: {fail['error']}")
    return 0


def _progress(args):
    from .progress import StreamProgress, no_progress
    return no_progress if args.quiet else StreamProgress(interval=0.5)


def _suggest_arg(value):
    """--suggest N FILE.json -> (n, path), or None."""
    if not value:
        return None
    try:
        n = int(value[0])
    except ValueError:
        n = 0
    if n < 1:
        raise InvalidRequest(f"--suggest N FILE.json: N must be a whole number of places, at least 1; got {value[0]!r}")
    return n, value[1]


def cmd_colorize(args):
    """One photo or one animation: colorcore.batch_file does it (the same path every batch item takes)."""
    from .batch_file import FileJob, colorize_file
    from .plugins import load_registry
    # everything that can be refused is refused before the backend runs, and before any file is touched
    job = FileJob(input=args.input, output=args.output, scribbles=args.scribbles, mask=args.mask,
                  reference=args.reference, uncertainty=args.uncertainty, intervals=args.intervals,
                  suggest=_suggest_arg(args.suggest), backend=args.backend or None,
                  options=_parse_sets(args.set), seed=args.seed, alpha=args.alpha,
                  frame_by_frame=args.frame_by_frame, max_megapixels=args.max_megapixels)
    done = colorize_file(job, load_registry(), progress=_progress(args))
    print(done.message)
    if done.note:
        print("note: " + done.note)
    return 0


# `colorcore train NAME`: the lab's trainers (training/), named here explicitly; a colorizing run never imports
# them. One generator trainer makes all three learned backends' weights (its --task picks which).
TRAINERS = {"gan": ("training.gan.train", ""), "partial-gan": ("training.gan.train", "partial"),
            "prior": ("training.gan.train", "hints")}


def cmd_train(args, rest):
    import importlib
    if args.backend not in TRAINERS:
        raise InvalidRequest(f"backend {args.backend!r} has nothing to train; trainable: {', '.join(TRAINERS)}")
    module, task = TRAINERS[args.backend]
    try:
        trainer = importlib.import_module(module)
    except ImportError as exc:
        raise InvalidRequest(f"training needs the repository's training/ package ({exc}); run colorcore from a "
                             f"clone of the repository with `pip install -e '.[train]'`") from exc
    if task and "--task" not in rest:
        rest = ["--task", task, *rest]
    return int(trainer.main(list(rest)) or 0)


def _without_engine(argv):
    """The command line less its --engine choice (the warm engine runs the rest as it is)."""
    out, skip = [], False
    for arg in argv:
        if skip or arg.startswith("--engine="):
            skip = False
            continue
        skip = arg == "--engine"
        if not skip:
            out.append(arg)
    return out


def run_warm(argv) -> int | None:
    """Run this colorize command line in the warm engine (colorcore serve), starting one if none runs; its
    output lines are printed here as it prints them. None when the warm engine cannot be used: the caller
    then runs the command itself, the same way."""
    from pathlib import Path
    from . import warm
    expect = warm.hello(Path(protocol.__file__), sys.executable)
    try:
        conn = warm.connect(expect)
        if conn is None:
            warm.start(warm.engine_command(sys.executable))
            conn = warm.connect(expect)
        if conn is None:
            raise warm.WarmEngineError("the engine it started did not answer")
    except (OSError, warm.WarmEngineError) as exc:
        print(f"colorcore: the warm engine cannot be used ({exc}); running here instead", file=sys.stderr)
        return None
    try:
        return warm.run(conn, argv, on_line=lambda stream, line: print(
            line, file=sys.stdout if stream == "out" else sys.stderr, flush=True))
    except warm.WarmEngineError as exc:
        print(protocol.CLI_ERROR_PREFIX + str(exc), file=sys.stderr)
        return protocol.EXIT_FAILED
    finally:
        conn.close()


def cmd_serve(args):
    from .serve import main as serve
    return serve(args, run_command=main)   # each job is a command line this CLI runs, in the warm process


def cmd_batch(args):
    """A folder (tree) or a list of photos: colorcore.batch.run does it; this prints its last line."""
    from .batch import run
    summary = run(args.input, args.output, recursive=args.recursive, pattern=args.pattern, mode=args.mode,
                  backend=args.backend or None, options=_parse_sets(args.set), seed=args.seed, alpha=args.alpha,
                  uncertainty=args.uncertainty, intervals=args.intervals, frame_by_frame=args.frame_by_frame,
                  max_megapixels=args.max_megapixels, scribbles_dir=args.scribbles_dir, mask_dir=args.mask_dir,
                  workers=args.workers, scheduler=args.scheduler, progress="none" if args.quiet else args.progress)
    print(summary.line, flush=True)
    return summary.exit_code


def cmd_gimp_run(args):
    from .bridge import run_manifest
    return run_manifest(args.manifest, exit_with_stdin=args.exit_with_stdin)


def build_parser():
    from . import imageio
    parser = argparse.ArgumentParser(prog="colorcore", description="Colorize black-and-white photographs.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    # --debug also after the command (`colorcore colorize ... --debug`); SUPPRESS keeps a subcommand from
    # resetting a --debug given before it
    anywhere = argparse.ArgumentParser(add_help=False)
    anywhere.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", required=True)

    def add(name, **kw):
        return sub.add_parser(name, parents=[anywhere], **kw)

    p = add("backends", help="list backends, their modes, options, availability and calibration")
    p.add_argument("--json", action="store_true", help="machine-readable output")

    p = add("colorize", help="colorize one image file or one animation",
            description="Colorize one photo, or one animation. The mode follows what you give: --scribbles -> "
                        "Scribble (your strokes spread), --mask -> Partial (only the white part changes; with "
                        "--scribbles too, your strokes spread inside it), neither -> Auto; --reference -> Reference "
                        "(colours taken from that photo; --scribbles and --mask still apply). --backend picks "
                        "another backend for that mode (colorcore backends lists them).")
    p.add_argument("input", help="input image (any format Pillow reads; gray, RGB, sepia, 8 or 16 bit), or an "
                                 "animation: animated GIF/APNG, multi-page TIFF, or a folder of frames")
    p.add_argument("-o", "--output", required=True, help="output .png or .tif (same bit depth as the input; the "
                                                         "scan's DPI, ICC profile and EXIF/XMP kept); for an "
                                                         "animation .gif, .png (APNG), .tif or a folder")
    p.add_argument("--backend", help="backend name (default: the first available one for the mode)")
    p.add_argument("--scribbles", help="RGBA image of painted colour hints, same size as the input "
                                       "(refused by a backend that would ignore them); for an animation, painted "
                                       "on its first frame and carried along the motion, or a folder of one "
                                       "per frame")
    p.add_argument("--mask", help="gray image: white = colorize, black = keep (soft edges blend)")
    p.add_argument("--reference", metavar="REF",
                   help="a colour photo to take the colours from (Reference mode: a later photo of the same place, "
                        "a postcard, another frame of the same film); any size, transparent pixels unused; "
                        "--scribbles override it where painted, --mask limits where anything changes; for an "
                        "animation, one reference for the whole clip")
    p.add_argument("--uncertainty", help="write the uncertainty radius as a 16-bit gray PNG here")
    p.add_argument("--intervals", nargs=2, metavar=("LO.png", "HI.png"),
                   help="also write per-channel RGB intervals: two images whose R, G, B at each pixel bound the "
                        "true value with probability 1 - alpha (lo <= output <= hi)")
    p.add_argument("--suggest", nargs=2, metavar=("N", "FILE.json"),
                   help="also write the N places where one stroke of the right colour would improve the result "
                        "most, best first: a JSON list of {x, y, radius, rgb} (input pixels; the result's colour "
                        "there, 0-255)")
    p.add_argument("--alpha", type=float, default=protocol.DEFAULT_ALPHA,
                   help="allowed miscoverage of the uncertainty (default %(default)s)")
    p.add_argument("--seed", type=int, help="random seed, for reproducible results")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="backend option (repeatable)")
    p.add_argument("--quiet", action="store_true", help="no progress lines (the result line still prints)")
    p.add_argument("--frame-by-frame", action="store_true",
                   help="animations: colorize every frame on its own (flickers; for comparison)")
    p.add_argument("--engine", choices=("here", "warm"), default="here",
                   help="here: run in this process (default); warm: in the warm engine (colorcore serve, started "
                        "if none runs), which keeps the backends loaded: later runs start at once")
    p.add_argument("--max-megapixels", type=float, default=imageio.DEFAULT_MAX_MEGAPIXELS,
                   help="refuse larger inputs (default %(default)g; peak memory is about 50 bytes per pixel)")

    # no -h of its own: `colorcore train gan --help` reaches the backend's trainer
    p = add("train", add_help=False,
                       help="train a learned backend's model (gan, partial-gan, prior): colorcore train NAME [trainer options, --help]")
    p.add_argument("backend")

    p = add("serve", help="the warm engine: keeps backends loaded between runs, on a private Unix socket; the "
                          "GIMP plug-in starts it when needed and it exits when idle")
    p.add_argument("--idle", type=float, default=None,
                   help="seconds without a job before it exits (default: COLORCORE_ENGINE_IDLE, else "
                        "~/.config/colorcore/engine.json's idle_seconds, else 600)")
    p.add_argument("--status", action="store_true", help="show the running engine's state, if one runs")
    p.add_argument("--stop", action="store_true", help="stop the running engine, if one runs")

    p = add("batch", help="colorize a folder (tree) or a list of photos: warm workers, resumable, on a Dask "
                          "cluster with --scheduler",
            description="Colorize every file of IN into OUT at the same relative path (IN/a/b.jpg -> OUT/a/b.png; "
                        "a TIFF stays a TIFF, an animation keeps its format). A manifest in OUT records each item: "
                        "running the same command again skips what is done and does the rest. An item that fails "
                        "is recorded with its reason and the batch goes on. Exit status: 0 when nothing failed, "
                        "4 when some items failed, 2 when the batch was refused before any work. See docs/batch.md.")
    p.add_argument("input", help="a folder of photos (with --recursive, its tree) or a text file listing one path per line")
    p.add_argument("output", help="the output folder (never IN, inside it, or around it)")
    p.add_argument("--recursive", action="store_true", help="take the photos of IN's sub-folders too")
    p.add_argument("--pattern", metavar="GLOB", help="only files whose name (or relative path) matches, e.g. '*.tif'")
    p.add_argument("--mode", choices=("auto", "scribble", "partial"), default="auto",
                   help="auto (default); scribble: NAME.scribbles.png beside each photo; partial: NAME.mask.png "
                        "(and NAME.scribbles.png when there is one). A photo without its sidecar fails alone")
    p.add_argument("--scribbles-dir", help="scribble images in this folder at the photos' relative paths, instead of "
                                           "beside them")
    p.add_argument("--mask-dir", help="masks in this folder at the photos' relative paths, instead of beside them")
    p.add_argument("--backend", help="backend name (default: the mode's, as colorize chooses it)")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="backend option (repeatable)")
    p.add_argument("--alpha", type=float, default=protocol.DEFAULT_ALPHA,
                   help="allowed miscoverage of the uncertainty (default %(default)s)")
    p.add_argument("--seed", type=int, help="random seed, for reproducible results")
    p.add_argument("--uncertainty", action="store_true", help="also write OUT/.../NAME.uncertainty.png")
    p.add_argument("--intervals", action="store_true",
                   help="photos: also write per-channel RGB intervals NAME.lo.png and NAME.hi.png")
    p.add_argument("--frame-by-frame", action="store_true", help="animations: colorize every frame on its own")
    p.add_argument("--max-megapixels", type=float, default=imageio.DEFAULT_MAX_MEGAPIXELS,
                   help="larger photos fail (alone); default %(default)g")
    p.add_argument("--workers", type=int, help="worker processes (default: as many as the cores and the memory allow)")
    p.add_argument("--scheduler", metavar="ADDRESS", help="run the items on this Dask cluster (tcp://host:8786); "
                                                          "needs pip install 'colorcore[dask]'")
    p.add_argument("--progress", choices=("auto", "bar", "lines", "json", "none"), default="auto",
                   help="auto: a bar on a terminal, else plain lines; json: one JSON object per line on stdout")
    p.add_argument("--quiet", action="store_true", help="no progress (the last line still prints)")

    p = add("gimp-run", help="run a job written by the GIMP plug-in (manifest + raw buffers)")
    p.add_argument("manifest")
    p.add_argument("--exit-with-stdin", action="store_true",
                   help="stop as soon as stdin is closed (the plug-in holds it open while it waits)")
    return parser


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    args, rest = parser.parse_known_args(argv)
    if rest and args.command != "train":
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    if args.command == "colorize" and args.engine == "warm":
        rc = run_warm(_without_engine(argv))
        if rc is not None:
            return rc
    from . import threads
    threads.prepare_environment()   # before anything loads torch or OpenMP
    try:
        if args.command == "backends":
            return cmd_backends(args)
        if args.command == "colorize":
            return cmd_colorize(args)
        if args.command == "serve":
            return cmd_serve(args)
        if args.command == "batch":
            return cmd_batch(args)
        if args.command == "train":
            return cmd_train(args, rest)
        return cmd_gimp_run(args)
    except ColorcoreError as exc:
        if args.debug:
            raise
        print(protocol.CLI_ERROR_PREFIX + " ".join(str(exc).split()), file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("colorcore: interrupted", file=sys.stderr)
        return protocol.EXIT_CANCELLED
    except Exception as exc:  # unexpected: still one readable line unless --debug
        if args.debug:
            raise
        print(f"{protocol.CLI_INTERNAL_ERROR_PREFIX}{type(exc).__name__}: {exc} (rerun with --debug for details)",
              file=sys.stderr)
        return protocol.EXIT_FAILED
