"""Which bundled model runs: the float file, or its int8 variant on the CPU when one is shipped."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core import model as model_module
from app.core.model import SegmentationModel, cuda_can_start, default_model_path
from tests.helpers.tiny_models import channel_model


@pytest.fixture
def models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(model_module, "models_dir", lambda: tmp_path)
    return tmp_path


def test_int8_variant_runs_on_cpu_and_float_on_cuda(models: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    float_path = channel_model(models / "corroscope.onnx")
    int8_path = channel_model(models / "corroscope.int8.onnx", sharpness=8.0)
    assert sorted(p.name for p in models.iterdir())[0] == "corroscope.int8.onnx", "sorts first by name"
    assert default_model_path("cpu") == int8_path
    assert default_model_path("cuda") == float_path
    monkeypatch.setattr(model_module, "cuda_can_start", lambda: True)
    assert default_model_path("auto") == float_path == default_model_path()
    monkeypatch.setattr(model_module, "cuda_can_start", lambda: False)
    assert default_model_path("auto") == int8_path == default_model_path()
    assert SegmentationModel.load(default_model_path("cpu"), device="cpu").path == int8_path


def test_auto_follows_what_this_machine_can_run(models: Path) -> None:
    float_path = channel_model(models / "m.onnx")
    int8_path = channel_model(models / "m.int8.onnx", sharpness=8.0)
    assert default_model_path() == (float_path if cuda_can_start() else int8_path)


def test_float_only_int8_only_and_unrelated_int8(models: Path) -> None:
    assert default_model_path("cpu") is None
    lone = channel_model(models / "b.int8.onnx")
    assert default_model_path("cpu") == lone == default_model_path("cuda"), "an int8 file alone is used"
    float_path = channel_model(models / "c.onnx")
    assert default_model_path("cpu") == float_path, "b.int8.onnx is not c's variant"
    assert default_model_path("cuda") == float_path
