"""The evaluate CLI: exact figures through an ONNX model, and a trained .keras run's outputs."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from app.core.palette import encode_mask
from tests.helpers.tiny_models import channel_model
from training.evaluate import main

OUTPUTS = ("metrics.json", "summary.json", "metrics.md", "metrics.xlsx")
OUTPUTS += ("confusion.png", "worst.png", "best.png")


def _known_dataset(root: Path, n: int = 3) -> Path:
    """Photos painted in palette colours (left half asset blue, right half background green); each
    mask also marks a 4x8 patch of the right half as corrosion that the photo does not show."""
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    for i in range(n):
        labels = np.full((64, 64), 2, np.uint8)
        labels[:, :32] = 1
        Image.fromarray(encode_mask(labels)).save(root / "images" / f"p{i}.png")
        truth = labels.copy()
        truth[10 + i : 14 + i, 40:48] = 0
        Image.fromarray(encode_mask(truth)).save(root / "masks" / f"p{i}.png")
    return root


def test_onnx_model_gives_the_exact_figures(tmp_path):
    data = _known_dataset(tmp_path / "data")
    model = channel_model(tmp_path / "m.onnx", input_size=(64, 64))
    out = tmp_path / "eval"
    assert main(["--model", str(model), "--data", str(data), "--split", "all", "--out", str(out)]) == 0
    for name in OUTPUTS:
        assert (out / name).is_file(), name
    result = json.loads((out / "metrics.json").read_text())
    assert result["model_kind"] == "onnx" and result["n_photos"] == 3
    assert result["confusion"]["counts"] == [[0, 0, 96], [0, 3 * 2048, 0], [0, 0, 3 * (2048 - 32)]]
    pp, pooled = result["per_photo"]["per_class"], result["pooled"]["per_class"]
    assert pp["corrosion"]["iou"] == 0.0 and pp["corrosion"]["recall"] == 0.0
    assert pp["corrosion"]["precision"] is None  # never predicted: undefined, left out
    assert result["per_photo"]["n_photos"]["corrosion"]["precision"] == 0
    assert pp["asset"]["iou"] == 1.0
    assert pp["background"]["iou"] == pytest.approx(2016 / 2048)
    assert pooled["background"]["precision"] == pytest.approx(2016 / 2048)
    assert result["pooled"]["pixel_accuracy"] == pytest.approx(1 - 96 / (3 * 4096))
    md = (out / "metrics.md").read_text()
    assert "| asset | 100.00 | 100.00 | 100.00 | 100.00 | 100.00 |" in md
    origin = result["origin_scoring"]
    assert origin["iou"]["corrosion"] == pytest.approx(0.0, abs=1e-6) and origin["iou"]["asset"] == 1.0
    assert origin["pipe_iou"] == pytest.approx(2048 / (2048 + 32))
    assert "## The origin's scoring code" in md and "IoU 98.46 %" in md


def test_a_list_file_names_the_split_it_scores(tmp_path):
    data = _known_dataset(tmp_path / "data")
    listed = tmp_path / "train.txt"
    listed.write_text("p0\np2\n")
    model = channel_model(tmp_path / "m.onnx", input_size=(64, 64))
    out = tmp_path / "eval"
    args = ["--model", str(model), "--data", str(data), "--split-file", str(listed), "--out", str(out)]
    assert main(args) == 0
    result = json.loads((out / "metrics.json").read_text())
    assert [p["id"] for p in result["photos"]] == ["p0", "p2"]
    assert result["split"] == "train"  # not the --split default, "val"
    assert json.loads((out / "summary.json").read_text())["split"] == "train"


def test_onnx_model_at_another_size_is_resized_both_ways(tmp_path):
    data = _known_dataset(tmp_path / "data", n=2)
    model = channel_model(tmp_path / "m32.onnx", input_size=(32, 32))
    out = tmp_path / "eval"
    assert main(["--model", str(model), "--data", str(data), "--split", "all", "--out", str(out)]) == 0
    result = json.loads((out / "metrics.json").read_text())
    assert sum(map(sum, result["confusion"]["counts"])) == 2 * 64 * 64  # scored at the masks' size
    assert result["pooled"]["per_class"]["asset"]["iou"] > 0.95


@pytest.mark.slow
def test_keras_run_is_evaluated_with_its_own_split(trained_run, tiny_origin_dataset, tmp_path):
    out = tmp_path / "eval"
    model = trained_run / "best.keras"
    assert main(["--model", str(model), "--data", str(tiny_origin_dataset), "--out", str(out)]) == 0
    for name in (*OUTPUTS, "curves.png"):
        assert (out / name).is_file(), name
        if name.endswith(".png"):
            with Image.open(out / name) as im:
                assert im.size[0] > 100 and im.size[1] > 100
    result = json.loads((out / "metrics.json").read_text())
    assert [p["id"] for p in result["photos"]] == ["009", "010", "011"]
    with (trained_run / "log.csv").open() as f:
        best_logged = max(float(r["val_corrosion_iou"]) for r in csv.DictReader(f))
    # The same model on the same photos: the training run's validation and this evaluation agree.
    assert result["per_photo"]["per_class"]["corrosion"]["iou"] == pytest.approx(best_logged, abs=1e-6)

    from openpyxl import load_workbook

    wb = load_workbook(out / "metrics.xlsx")
    assert wb.sheetnames == ["summary", "confusion", "photos"]
    assert wb["photos"].max_row == 4
    confusion = [[c.value for c in row[1:]] for row in wb["confusion"].iter_rows(min_row=2)]
    assert confusion == result["confusion"]["counts"]


def test_unknown_model_type_is_refused(tmp_path):
    data = _known_dataset(tmp_path / "data", n=1)
    (tmp_path / "model.bin").write_bytes(b"x")
    code = main(["--model", str(tmp_path / "model.bin"), "--data", str(data), "--split", "all", "--out", "o"])
    assert code == 2
