"""A learned backend's weights file: where it is, whether it can be used, and the calibration beside it.

One small helper that every weighted backend holds (gan, partial-gan, prior, and third-party ones), instead of
a class hierarchy: the shipped file, an environment variable that points elsewhere, a constructor argument
that wins over both; the network config (`NAME.json`) and `calibration.json` live beside the weights.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from .calibration import Calibration


class WeightsFile:
    def __init__(self, default: str | os.PathLike, env: str, override: str | os.PathLike | None = None):
        self.default, self.env = Path(default), env
        self.override = Path(override) if override else None
        self._calibration = None   # (path, mtime) -> Calibration: re-read when the file changes

    @property
    def path(self) -> Path:
        if self.override is not None:
            return self.override
        env = os.environ.get(self.env)
        return Path(env) if env else self.default

    @property
    def config_path(self) -> Path:
        return self.path.with_suffix(".json")

    def config(self) -> dict:
        return json.loads(self.config_path.read_text())

    def unavailable_reason(self, how_to_make: str = "", input_channels: int | None = None,
                           inputs_text: str = "", backend: str = "") -> str | None:
        """Why these weights cannot be used, or None. how_to_make: the commands that make such weights;
        input_channels: the generator input channels the backend feeds (checked against the config's
        generator.in_ch), inputs_text what they are."""
        w = self.path
        if not w.is_file():
            return (f"weights not found at {w}; restore them from the repository (git checkout -- {w.parent})"
                    + (f" or {how_to_make}" if how_to_make else ""))
        if not self.config_path.is_file():
            return f"network config {self.config_path} is missing beside the weights"
        if input_channels is not None:
            in_ch = self.config()["generator"]["in_ch"]
            if in_ch != input_channels:
                return (f"{w.name} is a generator for {in_ch} input channel(s); the {backend} backend needs "
                        f"{input_channels} ({inputs_text})")
        try:
            import torch  # noqa: F401
        except ImportError:
            return "PyTorch is not installed in the engine's environment (pip install torch)"
        return None

    def calibration(self) -> Calibration | None:
        path = self.path.parent / "calibration.json"
        if not path.is_file():
            return None
        key = (str(path), path.stat().st_mtime)
        if self._calibration is None or self._calibration[0] != key:
            self._calibration = (key, Calibration.load(path))
        return self._calibration[1]
