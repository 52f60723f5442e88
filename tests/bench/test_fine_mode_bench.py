"""bench.fine_mode on a small dataset written by the test: both modes scored against the enlarged masks."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from app.core.inference import InferenceOptions
from app.core.model import SegmentationModel
from app.core.palette import encode_mask
from app.core.synthetic import synthetic_pipe
from bench import fine_mode


def test_class_iou_and_share_on_known_maps() -> None:
    truth = np.array([[0, 0, 1, 1], [2, 2, 2, 2]], np.uint8)
    pred = np.array([[0, 1, 1, 1], [2, 2, 2, 0]], np.uint8)
    assert fine_mode.class_iou(pred, truth, 3) == [pytest.approx(1 / 3), pytest.approx(2 / 3), 0.75]
    assert fine_mode.class_iou(np.full((2, 2), 2, np.uint8), np.full((2, 2), 2, np.uint8), 3)[:2] == [
        None,
        None,
    ]
    assert fine_mode.share_of(truth) == pytest.approx(50.0)


def _dataset(root: Path, count: int) -> Path:
    for folder in ("images", "masks"):
        (root / folder).mkdir(parents=True)
    for i in range(count):
        rgb, labels = synthetic_pipe(seed=i, size=64)
        cv2.imwrite(str(root / "images" / f"p{i}.png"), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
        cv2.imwrite(str(root / "masks" / f"p{i}.png"), cv2.cvtColor(encode_mask(labels), cv2.COLOR_RGB2BGR))
    (root / "val.txt").write_text("".join(f"p{i}\n" for i in range(count)))
    return root


def test_both_modes_are_scored_on_enlarged_photos(tmp_path: Path, tiny_model_path: Path, capsys) -> None:
    data = _dataset(tmp_path / "data", 3)
    out = tmp_path / "fine.json"
    args = ["--data", str(data), "--model", str(tiny_model_path), "--photos", "2", "--size", "320x240"]
    assert fine_mode.main([*args, "--out", str(out)]) == 0
    record = json.loads(out.read_text())
    assert [r["id"] for r in record["rows"]] == ["p0", "p1"]
    summary = record["summary"]
    # The channel model is exact per pixel, so the finer look helps it (corrosion spots are small).
    for c in fine_mode.CLASS_NAMES:
        assert summary["tiles"]["mean_iou"][c] >= summary["resize"]["mean_iou"][c] > 0.5
    assert record["options"]["tiles"]["tile_scale"] == 1.75
    assert "| tiles |" in capsys.readouterr().out


@pytest.mark.real_data
@pytest.mark.slow
def test_fine_mode_is_not_worse_on_real_validation_photos() -> None:
    """The first 4 validation photos at 12 MP with the shipped int8 model (docs/performance.md)."""
    if not (fine_mode.DEFAULT_DATA / "val.txt").is_file() or not fine_mode.DEFAULT_MODEL.is_file():
        pytest.skip("needs ../shared/data/pipe-corrosion and the shipped int8 model")
    model = SegmentationModel.load(fine_mode.DEFAULT_MODEL, device="cpu")
    modes = {"resize": InferenceOptions(), "tiles": InferenceOptions(mode="tiles")}
    pairs = fine_mode._validation_pairs(fine_mode.DEFAULT_DATA, 4)
    rows = [fine_mode.measure_photo(model, pair, (3000, 4000), modes) for pair in pairs]
    summary = fine_mode.summarise(rows, list(modes))
    for c in fine_mode.CLASS_NAMES:
        assert summary["tiles"]["mean_iou"][c] >= summary["resize"]["mean_iou"][c]
    assert summary["tiles"]["mean_share_error_pp"] <= summary["resize"]["mean_share_error_pp"]
