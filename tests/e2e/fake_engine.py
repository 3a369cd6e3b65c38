"""A stand-in for `python -m colorcore` that honours the GIMP bridge protocol.

Used by tests/e2e to drive the plug-in's error paths (crash, bad input) and by
hand before the real engine is installed:  fake_engine.py -m colorcore gimp-run MANIFEST
Behaviour switch: $E2E_FAKE = ok (default) | crash (SIGSEGV after a progress line)
| bad (exit 2 with an ERROR line) | hang (sleeps; for cancel tests).
"""
import json
import os
import signal
import sys
import time

import numpy as np

BACKENDS = [{"name": "fake", "label": "Fake (tests)", "modes": ["auto", "scribble", "partial"],
             "needs_scribbles": False, "takes_mask": True, "gives_uncertainty": True,
             "options": [{"name": "strength", "type": "float", "default": 0.5, "minimum": 0.0, "maximum": 1.0,
                          "choices": None, "help": "tint strength"},
                         {"name": "iterations", "type": "int", "default": 3, "minimum": 1, "maximum": 10,
                          "choices": None, "help": "ignored"},
                         {"name": "smooth", "type": "bool", "default": True, "minimum": None, "maximum": None,
                          "choices": None, "help": "ignored"},
                         {"name": "palette", "type": "choice", "default": "warm", "minimum": None,
                          "maximum": None, "choices": ["warm", "cold"], "help": "ignored"}],
             "available": True, "unavailable_reason": None, "calibration": None, "plugin": "fake"}]


def main(argv):
    args = [a for a in argv if a not in ("-m", "colorcore")]
    if args[:1] == ["backends"]:
        print(json.dumps({"backends": BACKENDS, "failed_plugins": []}))
        return 0
    assert args[0] == "gimp-run", args
    how = os.environ.get("E2E_FAKE", "ok")
    path = args[1]
    job = json.load(open(path))
    folder = os.path.dirname(path)
    print("PROGRESS 0.0000 starting", flush=True)
    if how == "crash":
        os.kill(os.getpid(), signal.SIGSEGV)
    if how == "bad":
        print("ERROR fake engine: the scribbles hold no colour", file=sys.stderr)
        return 2
    if how == "hang":
        time.sleep(3600)
    from pathlib import Path
    from colorcore import protocol
    from colorcore.bridge import read_input, write_output   # buffers in the formats the plug-in asks for
    w, h = job["width"], job["height"]
    formats = protocol.read_manifest(path)["formats"]   # the defaults and the plug-in's own choices
    img = read_input(Path(folder), job["image"], (h, w, 3), formats["image"], "image")
    tint = np.array([1.0, 0.85, 0.6], np.float32) if job["options"].get("palette", "warm") == "warm" \
        else np.array([0.6, 0.85, 1.0], np.float32)
    s = float(job["options"].get("strength", 0.5))
    out = img * (1 - s) + img * tint * s
    if job.get("mask"):
        m = read_input(Path(folder), job["mask"], (h, w, 1), formats["mask"], "mask")
        out = img * (1 - m) + out * m
    write_output(Path(folder) / job["output"], out, formats["output"])
    if job.get("uncertainty", True):
        u = np.abs(out - img).mean(-1) * 4
        write_output(Path(folder) / job["uncertainty_output"], np.clip(u, 0, 1), formats["uncertainty_output"])
    print("PROGRESS 1.0000 done", flush=True)
    print("RESULT " + json.dumps({"backend": job["backend"] or "fake", "uncertainty_scale": 25.0,
                                  "alpha": job["alpha"], "info": {"options": json.dumps(job["options"])}}),
          flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
