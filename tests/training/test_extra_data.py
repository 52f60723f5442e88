"""Reviewed photos back into training: export them, train with --extra-data, load the exported model."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("keras")

from app.core.model import SegmentationModel
from app.core.reviewed import ReviewState
from app.core.synthetic import synthetic_pipe
from app.core.training_export import ReviewedPhoto, export_training_data
from tests.training.conftest import train_argv
from training import data, recipe, train

pytestmark = pytest.mark.slow


def _reviewed(folder: Path, n: int) -> list[ReviewedPhoto]:
    """Inspector photos (not 64x64, JPEG) with their corrected masks."""
    folder.mkdir()
    out = []
    for i in range(n):
        rgb, labels = synthetic_pipe(500 + i, (72, 96))
        path = folder / f"site-{i}.jpg"
        Image.fromarray(rgb).save(path, quality=95)
        out.append(ReviewedPhoto(path, labels, ReviewState.reviewed_now("Inspector")))
    return out


def test_exported_reviewed_photos_train_with_extra_data_and_the_model_loads(tiny_origin_dataset, tmp_path):
    exported = export_training_data(_reviewed(tmp_path / "photos", 4), tmp_path / "reviewed").root
    out = tmp_path / "run"
    argv = train_argv(tiny_origin_dataset, out, "--epochs", "1", "--extra-data", str(exported))
    assert train.main(argv) == 0
    config = json.loads((out / "config.json").read_text(encoding="utf-8"))
    assert config["n_train"] == 9 + 4 and config["n_extra"] == 4 and config["n_val"] == 3
    assert config["extra_data"] == [str(exported.resolve())]
    assert (out / "val.txt").read_text().split() == ["009", "010", "011"], "extra pairs never validate"

    from training import export

    onnx = tmp_path / "tiny.onnx"
    assert export.main(["--model", str(out / "best.keras"), "--out", str(onnx), "--parity-count", "2"]) == 0
    model = SegmentationModel.load(onnx, device="cpu")
    probs = model.predict(np.zeros((1, *model.input_size, 3), np.uint8))
    assert probs.shape == (1, *model.input_size, 3)


def test_extra_pairs_join_the_training_samples_with_their_own_ids(tiny_origin_dataset, tmp_path):
    exported = export_training_data(_reviewed(tmp_path / "photos", 2), tmp_path / "reviewed").root
    base = data.load_samples(data.find_pairs(tiny_origin_dataset)[:3], 64)
    both = data.with_extra(base, [exported], 64)
    assert both.ids == ("000", "001", "002", "reviewed/site-0", "reviewed/site-1")
    assert both.images.shape == (5, 64, 64, 3) and both.labels.shape == (5, 64, 64)
    assert data.with_extra(base, [], 64) is base


def test_the_data_folder_itself_is_refused_as_extra_data(tiny_origin_dataset, tmp_path):
    argv = train_argv(
        tiny_origin_dataset, tmp_path / "run", "--epochs", "1", "--extra-data", str(tiny_origin_dataset)
    )
    assert train.main(argv) == 2


def test_a_run_records_its_extra_data_and_resumes_with_it(tiny_origin_dataset, tmp_path):
    config, _ = train.parse_args(["--data", "d", "--out", "o", "--extra-data", "a", "--extra-data", "b"])
    assert config.extra_data == (str(Path("a").resolve()), str(Path("b").resolve()))
    from dataclasses import asdict

    again = train.TrainConfig.from_json(json.loads(json.dumps(asdict(config))))
    assert again == config, "config.json reads back equal, so a resume sees no changed setting"
    assert train.TrainConfig.from_json({"data": "d", "out": "o"}).extra_data == ()


def test_the_recipe_passes_extra_data_to_every_run(tmp_path):
    argv = recipe.member_argv(
        tmp_path / "seed0", 0, tmp_path / "data", "none", ["--epochs", "1"], [Path("x"), Path("y")]
    )
    config, _ = train.parse_args(argv)
    assert config.extra_data == (str(Path("x").resolve()), str(Path("y").resolve()))
    assert config.epochs == 1 and config.seed == 0
