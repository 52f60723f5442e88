"""Export to the ONNX contract: every architecture passes parity and app.core's contract check."""

from __future__ import annotations

import json
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np
import onnx
import pytest

from app.core import contract
from app.core.model import SegmentationModel
from app.core.palette import DEFAULT_CLASSES
from app.core.synthetic import synthetic_pipe
from training import export
from training.models import build_model

REAL_PHOTOS = Path(__file__).resolve().parents[2].parent / "shared/data/pipe-corrosion/DATASET/original"
ARCHS = [("deeplabv3plus", "mobilenetv2"), ("deeplabv3plus", "resnet50"), ("unet", None)]
IDS = ["deeplab-mobilenetv2", "deeplab-resnet50", "unet"]


def _photos(n: int, size: int = 64) -> np.ndarray:
    return np.stack([synthetic_pipe(100 + i, size)[0] for i in range(n)])


def calibrated(model: keras.Model, steps: int = 12, sharpen: float = 6.0) -> keras.Model:
    """An untrained model with decisive, varied outputs, so that argmax agreement means something.

    BatchNorm gets real moving statistics, and the class logits become random directions over the
    standardised features (untrained output is otherwise near-uniform or one class everywhere).
    """
    photos = _photos(4).astype(np.float32)
    for _ in range(steps):
        model(photos, training=True)
    logits = model.get_layer("classifier_logits")
    features = np.asarray(keras.Model(model.input, logits.input)(photos, training=False))
    mean = features.reshape(-1, features.shape[-1]).mean(0)
    std = features.reshape(-1, features.shape[-1]).std(0) + 1e-3
    kernel, bias = logits.get_weights()
    rng = np.random.default_rng(0)
    directions = rng.normal(0.0, sharpen / np.sqrt(len(mean)), (len(mean), len(bias))) / std[:, None]
    kernel[0, 0] = directions
    logits.set_weights([kernel, (-mean @ directions).astype(np.float32)])
    return model


def _saved(tmp_path: Path, arch, backbone) -> Path:
    keras.utils.set_random_seed(0)
    small = {"aspp_filters": 32, "decoder_filters": 32} if arch == "deeplabv3plus" else {}
    model = calibrated(build_model(arch, backbone, input_shape=(64, 64, 3), **small))
    probs = np.asarray(model(_photos(2).astype(np.float32), training=False))
    assert np.median(probs.max(axis=-1)) > 0.5 and len(np.unique(probs.argmax(-1))) > 1
    path = tmp_path / "best.keras"
    model.save(path)
    return path


@pytest.mark.slow
@pytest.mark.parametrize(("arch", "backbone"), ARCHS, ids=IDS)
def test_cli_export_follows_contract_and_matches_keras(tmp_path, arch, backbone):
    model_path = _saved(tmp_path, arch, backbone)
    metrics = {"val": {"iou": {"corrosion": 0.5, "asset": 0.8}}}
    (tmp_path / "eval.json").write_text(json.dumps(metrics))
    out, report = tmp_path / "models" / "x.onnx", tmp_path / "report.json"
    argv = [
        "--model",
        str(model_path),
        "--out",
        str(out),
        "--metrics",
        str(tmp_path / "eval.json"),
        "--trained-on",
        "synthetic pipes",
        "--parity-count",
        "3",
        "--report",
        str(report),
    ]
    assert export.main(argv) == 0
    figures = json.loads(report.read_text())
    assert figures["parity"]["argmax_agreement"] >= 99.9 and figures["parity"]["max_abs_diff"] < 1e-4
    assert figures["parity"]["source"] == "synthetic" and figures["parity"]["photos"] == 3

    proto = onnx.load(out)
    onnx.checker.check_model(proto)
    (inp,) = proto.graph.input
    assert inp.name == "image" and inp.type.tensor_type.elem_type == onnx.TensorProto.UINT8
    dims = inp.type.tensor_type.shape.dim
    assert [d.dim_value for d in dims[1:]] == [64, 64, 3] and not dims[0].dim_value  # N dynamic
    assert [o.name for o in proto.graph.output] == ["labels", "probabilities"] or {
        o.name for o in proto.graph.output
    } == {"labels", "probabilities"}

    loaded = SegmentationModel.load(out, device="cpu")
    assert loaded.input_size == (64, 64) and loaded.classes == DEFAULT_CLASSES
    assert loaded.metrics == metrics
    meta = loaded.metadata
    assert meta[contract.KEY_ARCHITECTURE] == arch
    assert meta[contract.KEY_BACKBONE] == (backbone or "none")
    assert meta[contract.KEY_TRAINED_ON] == "synthetic pipes"
    assert meta[contract.KEY_CREATED].endswith("Z")
    assert loaded.sha256 == figures["sha256"]

    photos = _photos(3)  # a dynamic batch of 3, through the app's own predict
    keras_probs = np.asarray(
        keras.models.load_model(model_path, safe_mode=True)(photos.astype(np.float32), training=False)
    )
    np.testing.assert_allclose(loaded.predict(photos), keras_probs, atol=1e-4)


@pytest.mark.slow
def test_failed_parity_leaves_no_file(tmp_path, monkeypatch, capsys):
    model_path = _saved(tmp_path, "unet", None)
    monkeypatch.setattr(export, "MIN_AGREEMENT", 100.1)  # no model can reach it: the export must fail
    out = tmp_path / "x.onnx"
    assert export.main(["--model", str(model_path), "--out", str(out), "--parity-count", "2"]) == 1
    assert "agree on only" in capsys.readouterr().err
    assert not out.exists() and not list(tmp_path.glob("*.onnx"))


def test_parity_detects_a_different_model(tmp_path):
    first = calibrated(build_model("unet", input_shape=(64, 64, 3), base_filters=4, depth=2))
    other = calibrated(build_model("unet", input_shape=(64, 64, 3), base_filters=4, depth=2))
    onnx_path = tmp_path / "first.onnx"
    onnx_path.write_bytes(export.to_onnx(first, (64, 64)).SerializeToString())
    same = export.check_parity(first, onnx_path, _photos(2), "synthetic")
    assert same.passed and same.argmax_agreement == 100.0
    different = export.check_parity(other, onnx_path, _photos(2), "synthetic")
    assert not different.passed and different.max_abs_diff > 1e-2


@pytest.mark.slow
def test_mixed_precision_model_exports_in_float32(tmp_path):
    keras.mixed_precision.set_dtype_policy("mixed_float16")
    try:
        model = build_model("unet", input_shape=(64, 64, 3), base_filters=8, depth=2)
    finally:
        keras.mixed_precision.set_dtype_policy("float32")
    calibrated(model)
    assert model.get_layer("down0_a_conv").compute_dtype == "float16"
    info = export.ExportInfo("unet", "none", "synthetic")
    result = export.export_model(model, tmp_path / "m.onnx", info, parity_count=2)
    assert result.parity.passed
    proto = onnx.load(result.path)
    assert onnx.TensorProto.FLOAT16 not in {init.data_type for init in proto.graph.initializer}


def test_refuses_to_overwrite_and_needs_a_size(tmp_path, capsys):
    model = build_model("unet", input_shape=(None, None, 3), base_filters=4, depth=2)
    path = tmp_path / "any.keras"
    model.save(path)
    out = tmp_path / "x.onnx"
    assert export.main(["--model", str(path), "--out", str(out)]) == 1
    assert "--input-size" in capsys.readouterr().err
    out.write_bytes(b"keep me")
    assert export.main(["--model", str(path), "--out", str(out), "--input-size", "32,32"]) == 1
    assert "--overwrite" in capsys.readouterr().err and out.read_bytes() == b"keep me"
    assert export.main(["--model", str(tmp_path / "none.keras"), "--out", str(out)]) == 1
    assert "not found" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.real_data
def test_parity_on_real_photos(tmp_path):
    if not REAL_PHOTOS.is_dir():
        pytest.skip(f"real photos not found at {REAL_PHOTOS}")
    model = calibrated(build_model("unet", input_shape=(64, 64, 3), base_filters=8, depth=3))
    info = export.ExportInfo("unet", "none", "synthetic")
    result = export.export_model(model, tmp_path / "m.onnx", info, parity_data=REAL_PHOTOS, parity_count=4)
    assert result.parity.source == str(REAL_PHOTOS) and result.parity.photos == 4
    assert result.parity.passed


def test_model_trained_on_crops_exports_at_the_training_size(tmp_path):
    keras.utils.set_random_seed(1)
    model = calibrated(build_model("unet", input_shape=(64, 64, 3), base_filters=4, depth=2))
    path, out = tmp_path / "crops.keras", tmp_path / "full.onnx"
    model.save(path)
    argv = ["--model", str(path), "--out", str(out), "--input-size", "128,96", "--parity-count", "2"]
    assert export.main(argv) == 0
    loaded = SegmentationModel.load(out, device="cpu")
    assert loaded.input_size == (128, 96)
    assert loaded.predict(_photos(1, 128)[:, :, :96]).shape == (1, 128, 96, 3)
