"""pluggy hook specification: the one hook a colorcore plugin implements."""
import pluggy

PROJECT = "colorcore"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


class ColorcoreSpec:
    @hookspec
    def register_backends(self, register):
        """Call ``register(backend)`` once for every Backend instance this plugin provides."""
