"""A minimal third-party colorcore backend: tints a photo with a warm sepia chroma.

It shows the whole plugin contract: a Backend subclass with its capabilities and options,
run() returning chroma plus a raw uncertainty score, and the register_backends hook.
"""
import numpy as np

from colorcore import Backend, BackendOutput, Option, hookimpl


class SepiaBackend(Backend):
    name = "sepia-tone"
    label = "Sepia tone (example plugin)"
    modes = ("auto", "partial")
    options = (Option("strength", float, 1.0, minimum=0.0, maximum=2.0, help="how warm the tone is"),)

    def run(self, request):
        h, w = request.shape
        ab = np.empty((h, w, 2), np.float32)
        ab[..., 0] = 6.0 * request.options["strength"]    # a: a little red
        ab[..., 1] = 18.0 * request.options["strength"]   # b: more yellow
        request.progress(1.0, "toned")
        # A tone is a guess about nothing: the same large doubt everywhere.
        return BackendOutput(ab=ab, score=np.full((h, w), 30.0, np.float32))


@hookimpl
def register_backends(register):
    register(SepiaBackend())
