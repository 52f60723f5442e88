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


def _analyze_rows(photos: list[Path], model: Path, out: Path, mode: str) -> dict[str, dict[str, str]]:
    from app.cli import main as cli_main

    args = ["analyze", *map(str, photos), "--out", str(out), "--model", str(model), "--device", "cpu"]
    assert cli_main([*args, "--mode", mode]) in (0, 1)
    with open(out / "results.csv", encoding="utf-8-sig", newline="") as fh:
        return {Path(r["file"]).stem: r for r in csv.DictReader(fh)}


def _same_figures_as_analyze(model: Path, data_dir: Path, ids: list[str], out: Path, mode: str) -> None:
    """evaluate's per-photo prediction equals `corroscope analyze`'s: the same mask and corroded share."""
    from app.core.palette import decode_mask
    from app.core.photos import read_image
    from training import data as tdata

    split = out / "ids.txt"
    split.parent.mkdir(parents=True, exist_ok=True)
    split.write_text("\n".join(ids) + "\n")
    args = ["--model", str(model), "--data", str(data_dir), "--split-file", str(split), "--mode", mode]
    assert main([*args, "--out", str(out / "eval"), "--examples", "1"]) == 0
    rows = {r["id"]: r for r in json.loads((out / "eval" / "metrics.json").read_text())["photos"]}
    pairs = tdata.select(tdata.find_pairs(data_dir), ids)
    analyzed = _analyze_rows([p.image for p in pairs], model, out / "analyze", mode)
    for pair in pairs:
        cli = analyzed[pair.image.stem]
        assert float(cli["corroded_share_of_asset_percent"]) == pytest.approx(
            rows[pair.id]["share_pred"], abs=1e-4
        ), pair.id
        mask, _ = decode_mask(read_image(out / "analyze" / f"{pair.image.stem}_mask.png"))
        truth = tdata.load_pair(pair)[1]
        union = np.count_nonzero((mask == 0) | (truth == 0))
        iou = np.count_nonzero((mask == 0) & (truth == 0)) / union if union else None
        assert rows[pair.id]["corrosion_iou"] == (None if iou is None else pytest.approx(iou)), pair.id


@pytest.mark.parametrize("mode", ["resize", "tiles"])
def test_evaluate_scores_what_analyze_computes_on_a_photo_larger_than_the_input(tmp_path, mode):
    from app.core.synthetic import synthetic_pipe

    root = tmp_path / "data"
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    for i in range(2):
        photo, labels = synthetic_pipe(seed=i, size=(150, 230))  # larger than the 32x32 input
        Image.fromarray(photo).save(root / "images" / f"big{i}.png")
        Image.fromarray(encode_mask(labels)).save(root / "masks" / f"big{i}.png")
    model = channel_model(tmp_path / "m.onnx", input_size=(32, 32))
    _same_figures_as_analyze(model, root, ["big0", "big1"], tmp_path / "run", mode)


@pytest.mark.real_data
@pytest.mark.slow
def test_evaluate_scores_what_analyze_computes_on_real_photos(tmp_path, real_data):
    shipped = Path(__file__).resolve().parents[2] / "models" / "corrosion-deeplabv3plus-mobilenetv2.int8.onnx"
    ids = [line.strip() for line in (real_data / "val.txt").read_text().splitlines() if line.strip()][:3]
    _same_figures_as_analyze(shipped, real_data, ids, tmp_path / "run", "resize")
