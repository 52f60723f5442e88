"""The train CLI on a tiny synthetic set: run folder contents, resume, refusals."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from tests.training.conftest import TINY_UNET, train_argv  # noqa: E402
from training.train import TrainConfig, main  # noqa: E402

pytestmark = pytest.mark.slow


def _epochs(run: Path) -> list[int]:
    with (run / "log.csv").open() as f:
        return [int(row["epoch"]) for row in csv.DictReader(f)]


def test_two_epochs_write_a_complete_run_folder(trained_run, tiny_origin_dataset):
    for name in ("config.json", "split.json", "train.txt", "val.txt", "log.csv", "best.keras", "last.keras"):
        assert (trained_run / name).is_file(), name
    assert any((trained_run / "tensorboard").rglob("*tfevents*"))
    config = json.loads((trained_run / "config.json").read_text())
    assert config["arch"] == "unet" and config["epochs"] == 2 and config["n_train"] == 9
    assert config["model_settings"] == {"base_filters": 4, "depth": 2}
    assert len(config["class_weights"]) == 3
    state = json.loads((trained_run / "state.json").read_text())
    assert state["epoch"] == 2 and state["finished"] and 0.0 <= state["best_score"] <= 1.0
    assert _epochs(trained_run) == [0, 1]
    with (trained_run / "log.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert {"loss", "val_loss", "val_corrosion_iou", "val_asset_iou", "lr"} <= rows[0].keys()
    assert max(float(r["val_corrosion_iou"]) for r in rows) == pytest.approx(state["best_score"])
    assert (trained_run / "val.txt").read_text().split() == ["009", "010", "011"]

    from training.models import load_model

    best = load_model(trained_run / "best.keras")
    assert best.input_shape[1:] == (64, 64, 3)  # validated and saved at full size, trained on crops
    probs = best.predict(np.zeros((1, 64, 64, 3), np.float32), verbose=0)
    assert probs.shape == (1, 64, 64, 3)
    np.testing.assert_allclose(probs.sum(axis=-1), 1.0, atol=1e-4)


def test_finished_run_is_not_trained_again(trained_run, tiny_origin_dataset):
    before = (trained_run / "log.csv").read_text()
    assert main(train_argv(tiny_origin_dataset, trained_run, "--epochs", "2")) == 0
    assert (trained_run / "log.csv").read_text() == before


def test_resume_continues_from_the_last_epoch(tiny_origin_dataset, tmp_path):
    out = tmp_path / "run"
    argv = train_argv(tiny_origin_dataset, out, "--epochs", "3", "--max-minutes", "0.001")
    assert main(argv) == 0  # the time budget stops it after one epoch, resumable
    state = json.loads((out / "state.json").read_text())
    assert state["epoch"] == 1 and not state["finished"] and "time budget" in state["stop_reason"]
    assert main([*train_argv(tiny_origin_dataset, out, "--epochs", "3"), "--resume"]) == 0
    state = json.loads((out / "state.json").read_text())
    assert state["epoch"] == 3 and state["finished"]
    assert _epochs(out) == [0, 1, 2]
    last = keras.models.load_model(out / "last.keras")
    steps = json.loads((out / "config.json").read_text())["steps_per_epoch"]
    assert int(last.optimizer.iterations.numpy()) == 3 * steps  # optimizer state carried over


def test_a_deeplab_run_resumes_in_a_fresh_process(tiny_origin_dataset, tmp_path):
    """The shipped architecture holds a custom layer; a new process must be able to load its last.keras."""
    import subprocess
    import sys

    out = tmp_path / "deeplab"
    deeplab = ["--arch", "deeplabv3plus", "--backbone", "mobilenetv2", "--encoder-weights", "none"]
    deeplab += [f"--model-setting={k}=8" for k in ("aspp_filters", "low_level_filters", "decoder_filters")]
    argv = [a for a in train_argv(tiny_origin_dataset, out, "--epochs", "2") if a not in TINY_UNET] + deeplab
    assert main([*argv, "--max-minutes", "0.001"]) == 0  # stops after one epoch
    assert not json.loads((out / "state.json").read_text())["finished"]
    code = "import sys; from training.train import main; sys.exit(main(sys.argv[1:]))"
    done = subprocess.run([sys.executable, "-c", code, *argv, "--resume"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    state = json.loads((out / "state.json").read_text())
    assert state["epoch"] == 2 and state["finished"]


def test_resume_without_a_run_is_refused(tiny_origin_dataset, tmp_path):
    assert main([*train_argv(tiny_origin_dataset, tmp_path / "empty", "--epochs", "1"), "--resume"]) == 2


def test_bad_dataset_is_reported_not_raised(tmp_path):
    (tmp_path / "images").mkdir()
    (tmp_path / "masks").mkdir()
    assert main(train_argv(tmp_path, tmp_path / "run", "--epochs", "1")) == 2


def test_encoder_options_are_refused_for_unet(tiny_origin_dataset, tmp_path):
    extra = ("--epochs", "1", "--encoder-lr-multiplier", "0.1")
    argv = train_argv(tiny_origin_dataset, tmp_path / "run", *extra)
    assert main(argv) == 2
    assert not (tmp_path / "run").exists()


def test_the_batch_mixings_are_trained_with_and_recorded(tiny_origin_dataset, tmp_path):
    out = tmp_path / "cp"
    mixing = ("--copy-paste", "0.5", "--rust-ground", "0.3", "--repaint-asset", "0.4", "--grayscale", "0.2")
    mixing += ("--scale-range", "0.5", "2.0")
    argv = train_argv(tiny_origin_dataset, out, "--epochs", "1", *mixing)
    assert main(argv) == 0
    record = json.loads((out / "config.json").read_text())
    assert record["copy_paste"] == 0.5 and record["rust_ground"] == 0.3 and record["repaint_asset"] == 0.4
    assert record["grayscale"] == 0.2 and record["scale_range"] == [0.5, 2.0]
    assert TrainConfig.from_json(record).scale_range == (0.5, 2.0)


def test_ema_ends_a_finished_run_on_the_moving_average_of_its_weights(tiny_origin_dataset, tmp_path):
    out = tmp_path / "ema"
    assert main(train_argv(tiny_origin_dataset, out, "--epochs", "2", "--ema", "0.5")) == 0
    assert json.loads((out / "config.json").read_text())["ema"] == 0.5
    last = keras.models.load_model(out / "last.keras")
    averages = last.optimizer._model_variables_moving_average
    assert last.optimizer.use_ema and len(averages) == len(last.trainable_variables)
    for weight, average in zip(last.trainable_variables, averages, strict=True):
        np.testing.assert_allclose(weight.numpy(), average.numpy())  # the average is what was kept
    # the raw weights of the last step are not the average (momentum 0.5 over several steps)
    plain = tmp_path / "plain"
    assert main(train_argv(tiny_origin_dataset, plain, "--epochs", "2")) == 0
    raw = keras.models.load_model(plain / "last.keras")
    assert not all(
        np.allclose(a.numpy(), b.numpy())
        for a, b in zip(raw.trainable_variables, last.trainable_variables, strict=True)
    )
