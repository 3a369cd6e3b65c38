"""What a batch is made of: the items found in IN (a folder, its tree, or a list file), where each one's results
go in OUT (the same relative path), and its sidecars (scribbles, mask). Nothing here reads pixels."""
from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass
from pathlib import Path

from .errors import InvalidRequest

SIDECARS = ("scribbles", "mask")          # NAME.scribbles.png, NAME.mask.png beside a photo
SIDECAR_SUFFIXES = (".png", ".tif", ".tiff", ".jpg", ".jpeg", ".bmp", ".webp")
KEEP_SUFFIX = {".tif": ".tif", ".tiff": ".tiff"}   # a TIFF scan gives a TIFF result; anything else a PNG
ANIMATION_SUFFIX = {".gif": ".gif", ".png": ".png", ".apng": ".png", ".tif": ".tif", ".tiff": ".tiff",
                    ".webp": ".png"}   # an animation keeps its format (an animated WebP becomes an APNG)
MAYBE_ANIMATED = (".gif", ".webp")       # the suffixes whose result's suffix depends on the frame count


@dataclass
class Item:
    rel: str                     # POSIX path relative to IN: the manifest's key and OUT's layout
    input: str
    output: str                  # the result; its uncertainty, when asked, beside it as NAME.uncertainty.png
                                 # (an animation's: NAME.uncertainty in the animation's own format)
    scribbles: str | None = None
    mask: str | None = None
    problem: str | None = None   # why it fails without running (missing sidecar, two inputs, one output)


def _is_sidecar(name: str) -> bool:
    stem, suffix = os.path.splitext(name)
    return suffix.lower() in SIDECAR_SUFFIXES and any(stem.endswith("." + kind) for kind in SIDECARS)


def find_inputs(source, recursive=False, pattern=None):
    """(root, files): IN's files (hidden files and sidecars left out; sub-folders only with recursive), or the
    files a list file names (one path per line, relative to the list's folder; # comments), under their common
    folder. Sorted, so every run sees them in the same order."""
    source = Path(source)
    if source.is_dir():
        root = source.resolve()
        walk = root.rglob("*") if recursive else root.iterdir()
        files = [p for p in walk if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts)
                 and not _is_sidecar(p.name)]
    elif source.is_file():
        lines = [ln.strip() for ln in source.read_text(encoding="utf-8", errors="replace").splitlines()]
        files = [(source.parent / ln).resolve() for ln in lines if ln and not ln.startswith("#")]
        if not files:
            raise InvalidRequest(f"the list {source} names no files (one path per line)")
        root = Path(os.path.commonpath([str(f.parent) for f in files]))
    else:
        raise InvalidRequest(f"input not found: {source} (give a folder of photos or a text file listing them)")
    if pattern:
        files = [f for f in files if fnmatch.fnmatch(f.name, pattern) or fnmatch.fnmatch(f.relative_to(root).as_posix(), pattern)]
    return root, sorted(set(files))


def _inside(a: Path, b: Path) -> bool:
    """a is b or lies inside it (resolved paths)."""
    return a == b or b in a.parents


def check_out(root: Path, out) -> Path:
    """Refuse OUT equal to IN, inside it, or containing it, before any work: nothing is written inside IN."""
    out = Path(out).resolve()
    if _inside(out, root):
        raise InvalidRequest(f"output folder {out} is {'the input folder' if out == root else f'inside the input {root}'}; "
                             "batch never writes inside its input: choose an output folder outside it")
    if _inside(root, out):
        raise InvalidRequest(f"output folder {out} contains the input {root}; batch never writes inside its input: "
                             "choose an output folder beside it")
    return out


def _sidecar(base: Path, kind: str, folder, root, rel) -> Path | None:
    """NAME.<kind>.<ext> beside the photo, or in `folder` (--scribbles-dir / --mask-dir) at the same relative path
    (there NAME.<ext> or NAME.<kind>.<ext>)."""
    stem = base.name.rsplit(".", 1)[0]
    candidates = []
    if folder is not None:
        where = Path(folder) / Path(rel).parent
        candidates += [where / (stem + s) for s in SIDECAR_SUFFIXES] + [where / f"{stem}.{kind}{s}" for s in SIDECAR_SUFFIXES]
    else:
        candidates += [base.parent / f"{stem}.{kind}{s}" for s in SIDECAR_SUFFIXES]
    return next((c for c in candidates if c.is_file()), None)


def output_suffix(path: Path, animated: bool | None) -> str:
    suffix = path.suffix.lower()
    if animated:
        return ANIMATION_SUFFIX.get(suffix, ".png")
    return KEEP_SUFFIX.get(suffix, ".png")


def _animated(path: Path) -> bool:
    from .frames import is_animation
    return is_animation(path)


def plan(source, out, recursive=False, pattern=None, mode="auto", scribbles_dir=None, mask_dir=None):
    """(root, out, items): every input file as an Item, in a stable order. mode: auto (no sidecars read),
    scribble (a scribbles sidecar needed), partial (a mask needed; scribbles used when there are some)."""
    root, files = find_inputs(source, recursive, pattern)
    out = check_out(root, out)
    for name, folder in (("--scribbles-dir", scribbles_dir), ("--mask-dir", mask_dir)):
        if folder is not None and not Path(folder).is_dir():
            raise InvalidRequest(f"{name} {folder} is not a folder")
    items, claimed = [], {}
    for f in files:
        rel = f.relative_to(root).as_posix()
        animated = _animated(f) if f.suffix.lower() in MAYBE_ANIMATED else None
        target = out / Path(rel).with_suffix(output_suffix(f, animated))
        item = Item(rel=rel, input=str(f), output=str(target))
        if mode in ("scribble", "partial"):
            item.scribbles = _sidecar(f, "scribbles", scribbles_dir, root, rel)
            item.mask = _sidecar(f, "mask", mask_dir, root, rel) if mode == "partial" else None
            missing = "scribbles" if mode == "scribble" and item.scribbles is None else \
                "mask" if mode == "partial" and item.mask is None else None
            if missing:
                where = f"in {scribbles_dir if missing == 'scribbles' else mask_dir}" if \
                    (scribbles_dir if missing == "scribbles" else mask_dir) else f"beside it ({Path(rel).stem}.{missing}.png)"
                item.problem = f"{mode} mode needs a {missing} image for this photo; none found {where}"
            item.scribbles = str(item.scribbles) if item.scribbles else None
            item.mask = str(item.mask) if item.mask else None
        key = os.path.normcase(item.output)
        if key in claimed:
            other = claimed[key]
            item.problem = other.problem = (f"{other.rel} and {rel} would both be written as {Path(item.output).name}; "
                                            "rename one of them")
        else:
            claimed[key] = item
        items.append(item)
    return root, out, items
