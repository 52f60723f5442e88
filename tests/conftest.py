"""Shared fixtures: tiny contract-following ONNX models built in code (see tests/helpers/tiny_models.py)."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest

# `tests.helpers` is imported by absolute name from every test folder.
_ROOT = str(Path(__file__).resolve().parents[1])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)


@pytest.fixture(scope="session", autouse=True)
def one_widgets_application():
    """Qt allows one application object per process. A report drawn in this process (the CLI's `--pdf`
    called in-process) makes a bare QGuiApplication when none exists, and a window built later by the
    same test worker would then abort the whole worker; a widgets QApplication made first serves both."""
    if importlib.util.find_spec("PySide6") is None:
        yield None
        return
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    yield QApplication.instance() or QApplication([sys.argv[0]])


@pytest.fixture(scope="session")
def tiny_model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The channel-argmax model (fixed 32x32 input, 3 default classes) as a file, with a share range
    calibration and accuracy figures in its metadata as a shipped model has (`figures_metadata`)."""
    from tests.helpers.tiny_models import channel_model, figures_metadata

    return channel_model(tmp_path_factory.mktemp("models") / "channel.onnx", metadata=figures_metadata())


@pytest.fixture(scope="session")
def tiny_model(tiny_model_path: Path):
    """The channel-argmax model loaded on the CPU (one session for the whole test run)."""
    from app.core.model import SegmentationModel

    return SegmentationModel.load(tiny_model_path, device="cpu")


@pytest.fixture(scope="session")
def uncalibrated_model(tmp_path_factory: pytest.TempPathFactory):
    """The channel-argmax model without range calibration or accuracy figures (a model of an earlier
    release, or one someone trained themselves)."""
    from app.core.model import SegmentationModel
    from tests.helpers.tiny_models import channel_model

    return SegmentationModel.load(channel_model(tmp_path_factory.mktemp("models") / "plain.onnx"), "cpu")
