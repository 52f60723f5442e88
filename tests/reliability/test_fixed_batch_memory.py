"""A model whose batch size is fixed runs every batch whole, blank images padding a photo's one: a fixed
batch whose one run (its images and their probabilities) is over the memory budget is refused at load,
naming the batch and the budget, instead of the app allocating the padding outside the budget (N = 1000
at 8192 x 8192 had died with numpy's "Unable to allocate 187 GiB" on every photo)."""

from __future__ import annotations

from pathlib import Path

import pytest

from app import cli
from app.core.budget import ModelBudget
from app.core.errors import ModelBudgetError
from app.core.model import SegmentationModel
from tests.helpers.tiny_models import channel_model
from tests.reliability.conftest import small_photos


def test_the_testers_batch_of_1000_at_8192_is_refused_at_load(tmp_path: Path) -> None:
    path = channel_model(tmp_path / "bigbatch.onnx", input_size=(8192, 8192), fixed_batch=1000)
    with pytest.raises(ModelBudgetError, match=r"batch size is fixed at 1,000 images of 8192 x 8192") as info:
        SegmentationModel.load(path, "cpu", budget=ModelBudget(memory_mb=1024))
    assert info.value.budget == "memory" and "memory budget of 1,024 MB" in str(info.value)


def test_a_fixed_batch_loads_only_where_one_run_fits_the_budget(tmp_path: Path) -> None:
    """With 1 MB: 68 images of 32 x 32 and their 3 probabilities take 1,044,480 bytes, 69 take 1,059,840."""
    budget = ModelBudget(memory_mb=1)
    one_image = 32 * 32 * (3 + 4 * 3)  # uint8 RGB in, a float32 per class out
    assert 68 * one_image <= budget.memory_bytes < 69 * one_image
    fits = SegmentationModel.load(channel_model(tmp_path / "b68.onnx", fixed_batch=68), "cpu", budget=budget)
    assert fits.max_batch == 68
    with pytest.raises(ModelBudgetError, match="fixed at 69 images of 32 x 32"):
        SegmentationModel.load(channel_model(tmp_path / "b69.onnx", fixed_batch=69), "cpu", budget=budget)


def test_analyze_refuses_such_a_model_with_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """64 images of 256 x 256 under a 16 MB budget: it had loaded, and every photo then failed."""
    monkeypatch.setenv("CORROSCOPE_MEMORY_MB", "16")
    path = channel_model(tmp_path / "b64.onnx", input_size=(256, 256), fixed_batch=64)
    photos = small_photos(tmp_path / "in", 2)
    rc = cli.main(["analyze", *map(str, photos), "--out", str(tmp_path / "out"), "--model", str(path)])
    err = capsys.readouterr().err
    assert rc == 2, err
    assert "batch size is fixed at 64 images of 256 x 256" in err and "CORROSCOPE_MEMORY_MB" in err
    assert "Traceback" not in err and "allocate" not in err
