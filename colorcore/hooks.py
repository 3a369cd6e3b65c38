"""pluggy hook specification: the one hook a colorcore plugin implements."""
import pluggy

PROJECT = "colorcore"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


class ColorcoreSpec:
    @hookspec
    def register_backends(self, register):
        """Give the engine this plugin's backends.

        Called once each time the engine loads its registry (``colorcore.load_registry()``: once per CLI
        command or GIMP job), right after the plugin's module is imported: built-ins first, then the
        ``colorcore`` entry points in the order Python lists them (``COLORCORE_PLUGINS`` limits which).

        ``register`` is a callable taking one argument, a ``colorcore.Backend`` instance; call it once per
        backend. When the hook returns, each backend's declaration is checked (kebab-case name, known modes) and
        its name must be new: otherwise the whole plugin fails with a message naming both plugins. Do no heavy
        work here (no torch import, no weights loaded): the registry is loaded just to list backends, and a
        backend loads what it needs in ``run()``. An exception raised here fails this plugin only: ``colorcore
        backends`` reports it with the plugin's name and the others load as usual.
        """
