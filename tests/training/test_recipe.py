"""The whole recipe on a tiny synthetic set: two seeds of a tiny U-Net, exported, merged and quantized."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("keras")
pytest.importorskip("onnxruntime.quantization", reason="needs onnxruntime's quantization tools")

from app.core import contract
from app.core.model import SegmentationModel
from tests.training.conftest import TINY_UNET
from training import ensemble, quantize, recipe

pytestmark = pytest.mark.slow

SIZES = ["--batch-size", "4", "--crop", "32", "--input-size", "64"]  # as train_argv
TINY = ["--", *TINY_UNET, *SIZES, "--epochs", "1", "--lr", "3e-3"]


def _argv(data: Path, out: Path, *seeds: int) -> list[str]:
    base = ["--data", str(data), "--encoder-weights", "none", "--out", str(out), "--name", "tiny"]
    return [*base, "--seeds", *map(str, seeds), "--parity-count", "3", *TINY]


def _summary(folder: Path) -> dict:
    return json.loads((folder / "summary.json").read_text(encoding="utf-8"))


def test_two_seeds_give_a_float_and_an_int8_ensemble_with_their_own_figures(tiny_origin_dataset, tmp_path):
    out = tmp_path / "recipe"
    assert recipe.main(_argv(tiny_origin_dataset, out, 0, 1)) == 0
    float_model = SegmentationModel.load(out / "tiny.onnx", device="cpu")
    int8_model = SegmentationModel.load(out / "tiny.int8.onnx", device="cpu")
    members = json.loads(float_model.metadata[ensemble.KEY_ENSEMBLE])
    assert [m["file"] for m in members] == ["seed0.onnx", "seed1.onnx"]
    assert json.loads(float_model.metadata[contract.KEY_METRICS]) == _summary(out / "eval-float")
    assert json.loads(int8_model.metadata[contract.KEY_METRICS]) == _summary(out / "eval-int8")
    made = json.loads(int8_model.metadata[quantize.KEY_QUANTIZATION])
    assert made["float_model_sha256"] == float_model.sha256
    for seed in (0, 1):
        parity = json.loads((out / "members" / f"seed{seed}.parity.json").read_text(encoding="utf-8"))
        assert parity["parity"]["passed"]
        assert json.loads((out / f"seed{seed}" / "config.json").read_text(encoding="utf-8"))["seed"] == seed
    assert not list(out.glob("*.draft.onnx")), "drafts are removed"

    # Again: nothing is trained or exported twice; the files to ship are written again, the same.
    kept = {p: p.stat().st_mtime_ns for p in [*out.glob("seed*/best.keras"), *out.glob("members/*.onnx")]}
    assert recipe.main(_argv(tiny_origin_dataset, out, 0, 1)) == 0
    assert {p: p.stat().st_mtime_ns for p in kept} == kept
    again = SegmentationModel.load(out / "tiny.onnx", device="cpu")
    assert json.loads(again.metadata[ensemble.KEY_ENSEMBLE]) == members, "the same member files"


def test_one_seed_ships_its_network_and_an_int8_copy_with_its_figures(tiny_origin_dataset, tmp_path):
    out = tmp_path / "recipe"
    assert recipe.main(_argv(tiny_origin_dataset, out, 3)) == 0
    float_model = SegmentationModel.load(out / "tiny.onnx", device="cpu")
    assert ensemble.KEY_ENSEMBLE not in float_model.metadata
    assert (out / "tiny.onnx").read_bytes() == (out / "members" / "seed3.onnx").read_bytes()
    int8_model = SegmentationModel.load(out / "tiny.int8.onnx", device="cpu")
    assert json.loads(int8_model.metadata[contract.KEY_METRICS]) == _summary(out / "eval-int8")


def test_data_without_split_lists_is_refused(make_dataset, tmp_path, caplog):
    data = make_dataset(4)
    assert recipe.main(_argv(data, tmp_path / "recipe", 0)) == 2
    assert "train.txt and val.txt" in caplog.text and not (tmp_path / "recipe").exists()


def test_the_gpu_training_script_runs_the_recipe_with_the_candidate_settings(tmp_path):
    import subprocess

    script = Path(__file__).resolve().parents[2] / "scripts" / "gpu-train"
    done = subprocess.run(
        [str(script), "--dry-run", str(tmp_path), "--", "--epochs", "3"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    line = done.stdout.strip()
    assert "-m training.recipe" in line and f"--out {tmp_path}/recipe" in line
    assert "--copy-paste 0.5 --rust-ground 0.3" in line and line.endswith("--epochs 3")
    # every setting it passes is one training.train accepts
    from training.train import parse_args

    settings = line.split(" -- ", 1)[1].split()
    config, _ = parse_args(["--data", "d", "--out", "o", *settings])
    assert config.input_size == 320 and config.copy_paste == 0.5 and config.epochs == 3
