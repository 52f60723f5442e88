"""Shared fixtures: tiny contract-following ONNX models built in code (see tests/helpers/tiny_models.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# `tests.helpers` is imported by absolute name from every test folder.
_ROOT = str(Path(__file__).resolve().parents[1])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)


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
