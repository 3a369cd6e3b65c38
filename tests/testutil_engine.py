"""Helpers shared by the engine tests (imported by name; conftest holds only fixtures)."""
import os
import sys
from pathlib import Path

from training.shared_data import shared_data

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = shared_data()


def gray(rgb):
    from training.evaluation import gray_of
    return gray_of(rgb)


def engine_env(**extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("COLORCORE_")}
    env.update(extra)
    return env


def colorcore_cmd():
    return [sys.executable, "-m", "colorcore"]
