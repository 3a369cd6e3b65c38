"""The one exception family of the engine.

Every message says what was expected, what was got, and how to fix it; the CLI prints
it as one line and the GIMP plug-in shows it in a message box. Exit codes are the protocol's.
"""
from . import protocol


class ColorcoreError(Exception):
    """Base of every error the engine raises on purpose."""

    exit_code = protocol.EXIT_FAILED


class InvalidRequest(ColorcoreError, ValueError):
    """The input (image, scribbles, mask, options) is not what the backend needs."""

    exit_code = protocol.EXIT_BAD_INPUT


class UnknownBackend(ColorcoreError, LookupError):
    """No backend of that name is registered."""

    exit_code = protocol.EXIT_BAD_INPUT

    def __init__(self, name, known):
        self.name, self.known = name, sorted(known)
        super().__init__(
            f"unknown backend {name!r}; known backends: {', '.join(self.known) or '(none)'}"
            " (run `colorcore backends` to list them)")


class BackendUnavailable(ColorcoreError):
    """The backend is registered but cannot run here (missing weights, missing package)."""

    exit_code = protocol.EXIT_UNAVAILABLE


class BackendFailed(ColorcoreError):
    """The backend raised or returned something that breaks the result contract."""

    exit_code = protocol.EXIT_FAILED


class PluginError(ColorcoreError):
    """A plugin could not be loaded or registered (e.g. a duplicate backend name)."""

    exit_code = protocol.EXIT_FAILED


class Cancelled(ColorcoreError):
    """The caller asked the engine to stop."""

    exit_code = protocol.EXIT_CANCELLED
