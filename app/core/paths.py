"""Where the bundled models and resources are: the source tree, or the folder of a frozen build."""

from __future__ import annotations

import sys
from pathlib import Path


def app_root() -> Path:
    """The folder holding `models/` and `resources/`: PyInstaller's bundle dir when frozen, else the repo."""
    bundle = getattr(sys, "_MEIPASS", None)
    if getattr(sys, "frozen", False) and bundle:
        return Path(bundle)
    return Path(__file__).resolve().parents[2]


def models_dir() -> Path:
    return app_root() / "models"


def resources_dir() -> Path:
    return app_root() / "resources"


def samples_dir() -> Path:
    return resources_dir() / "samples"
