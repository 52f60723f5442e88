"""Static int8 quantization: the int8 file follows the contract, keeps the metadata, agrees with float."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from app.core import contract
from app.core.errors import OutputExistsError
from app.core.files import write_png
from app.core.model import SegmentationModel
from app.core.synthetic import synthetic_pipe
from tests.helpers.tiny_models import default_metadata
from training import quantize

pytest.importorskip("onnxruntime.quantization", reason="needs onnxruntime's quantization tools")

SIZE = 16


def conv_model(path: Path, size: int = SIZE) -> Path:
    """uint8 NHWC image -> Cast -> normalise (Mul, Add over the last axis) -> 3x3 Conv (8) -> Relu, beside it
    an image-pooling branch broadcast by a `ConstantOfShape` of ones -> 1x1 Conv (3) -> softmax, and an ArgMax
    of it as the `labels` output: the shapes tf2onnx gives our exports, with contract metadata.

    The weights favour each class's colour channel (red corrosion, blue asset, green background), so the
    float model makes decisive, image-dependent predictions that int8 must reproduce."""
    rng = np.random.default_rng(0)
    w1 = rng.normal(0, 0.02, (8, 3, 3, 3)).astype(np.float32)
    for k in range(8):
        w1[k, k % 3, 1, 1] += 8.0  # the photo arrives normalised to [-1, 1]
    w2 = np.zeros((3, 16, 1, 1), np.float32)
    for cls, channel in enumerate((0, 2, 1)):
        w2[cls, [k for k in range(8) if k % 3 == channel], 0, 0] = 4.0
    w2[:, 8:, 0, 0] = rng.normal(0, 0.05, (3, 8))  # the pooled branch: a photo-wide nudge
    ones = helper.make_tensor("one", TensorProto.FLOAT, [1], [1.0])
    nodes = [
        helper.make_node("Cast", ["image"], ["x"], to=TensorProto.FLOAT),
        helper.make_node("Mul", ["x", "scale"], ["xs"]),
        helper.make_node("Add", ["xs", "shift"], ["xn"]),
        helper.make_node("Transpose", ["xn"], ["xc"], perm=[0, 3, 1, 2]),
        helper.make_node("Conv", ["xc", "w1", "b1"], ["h"], pads=[1, 1, 1, 1], kernel_shape=[3, 3]),
        helper.make_node("Relu", ["h"], ["hr"]),
        helper.make_node("GlobalAveragePool", ["hr"], ["pooled"]),
        helper.make_node("Shape", ["hr"], ["hr_shape"]),
        helper.make_node("ConstantOfShape", ["hr_shape"], ["ones"], value=ones),
        helper.make_node("Mul", ["ones", "pooled"], ["broadcast"]),
        helper.make_node("Concat", ["hr", "broadcast"], ["both"], axis=1),
        helper.make_node("Conv", ["both", "w2", "b2"], ["logits"], kernel_shape=[1, 1]),
        helper.make_node("Transpose", ["logits"], ["lt"], perm=[0, 2, 3, 1]),
        helper.make_node("Softmax", ["lt"], [contract.PROBABILITIES_OUTPUT], axis=-1),
        helper.make_node("ArgMax", [contract.PROBABILITIES_OUTPUT], ["am"], axis=-1, keepdims=0),
        helper.make_node("Cast", ["am"], [contract.LABELS_OUTPUT], to=TensorProto.UINT8),
    ]
    inits = [
        numpy_helper.from_array(np.full(3, 2.0 / 255.0, np.float32), "scale"),
        numpy_helper.from_array(np.full(3, -1.0, np.float32), "shift"),
        numpy_helper.from_array(w1, "w1"),
        numpy_helper.from_array(np.full(8, 8.0, np.float32), "b1"),  # undoes the shift: h >= 0
        numpy_helper.from_array(w2, "w2"),
        numpy_helper.from_array(np.zeros(3, np.float32), "b2"),
    ]
    graph = helper.make_graph(
        nodes,
        "conv",
        [helper.make_tensor_value_info(contract.INPUT_NAME, TensorProto.UINT8, ["N", size, size, 3])],
        [
            helper.make_tensor_value_info(
                contract.PROBABILITIES_OUTPUT, TensorProto.FLOAT, ["N", size, size, 3]
            ),
            helper.make_tensor_value_info(contract.LABELS_OUTPUT, TensorProto.UINT8, ["N", size, size]),
        ],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 9
    for key, value in default_metadata((size, size)).items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(model, str(path))
    return path


def photo_folder(folder: Path, count: int, start: int = 0) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        write_png(folder / f"pipe_{i:03d}.png", synthetic_pipe(start + i, (48, 64))[0])
    return folder


@pytest.fixture(scope="module")
def quantized(tmp_path_factory) -> tuple[Path, Path, quantize.QuantizeReport]:
    tmp = tmp_path_factory.mktemp("quant")
    float_path = conv_model(tmp / "float.onnx")
    report = quantize.quantize_model(
        float_path, photo_folder(tmp / "photos", 6), tmp / "m.int8.onnx", count=6
    )
    return float_path, tmp / "m.int8.onnx", report


def test_int8_file_follows_the_contract_and_keeps_the_metadata(quantized):
    float_path, int8_path, report = quantized
    assert report.path == int8_path and int8_path.is_file()
    model = SegmentationModel.load(int8_path, device="cpu")
    assert model.input_size == (SIZE, SIZE) and model.num_classes == 3
    source = {p.key: p.value for p in onnx.load(str(float_path)).metadata_props}
    kept = {p.key: p.value for p in onnx.load(str(int8_path)).metadata_props}
    assert contract.KEY_METRICS in source and contract.KEY_METRICS not in kept, (
        "the float's figures are not the int8's"
    )
    assert {k: kept[k] for k in source if k != contract.KEY_METRICS} == {
        k: v for k, v in source.items() if k != contract.KEY_METRICS
    }
    info = json.loads(kept[quantize.KEY_QUANTIZATION])
    assert info["weights"] == "int8 per channel"
    assert info["reduce_range"] == (not quantize.cpu_has_vnni()) == report.reduce_range
    assert info["calibration"]["photos"] == 6 and info["calibration"]["method"] == "minmax"
    assert info["float_model_sha256"] == SegmentationModel.load(float_path, device="cpu").sha256


def test_int8_graph_is_quantized_and_agrees_with_float(quantized):
    float_path, int8_path, report = quantized
    graph = onnx.load(str(int8_path)).graph
    ops = [n.op_type for n in graph.node]
    assert "QuantizeLinear" in ops and "DequantizeLinear" in ops
    int8_weights = [i for i in graph.initializer if i.data_type == TensorProto.INT8]
    assert any(len(i.dims) == 4 for i in int8_weights), "conv weights stored as int8"
    per_channel_scales = [i for i in graph.initializer if "w1" in i.name and "scale" in i.name]
    assert per_channel_scales and per_channel_scales[0].dims == [8], "one scale per output channel"

    photos = np.stack([synthetic_pipe(100 + i, SIZE)[0] for i in range(4)])
    fp = SegmentationModel.load(float_path, device="cpu").predict(photos)
    q8 = SegmentationModel.load(int8_path, device="cpu").predict(photos)
    assert np.abs(fp - q8).mean() < 0.02
    assert len(np.unique(q8)) > 256, "probabilities stay float (softmax not quantized)"
    assert (fp.argmax(-1) == q8.argmax(-1)).mean() > 0.95
    assert len(np.unique(fp.argmax(-1))) == 3, "the float model is decisive, so agreement means something"
    assert report.argmax_agreement > 95.0


def test_dataset_folder_calibrates_on_training_photos_only(tmp_path):
    root = tmp_path / "data"
    photos = root / "DATASET" / "original"
    masks = root / "DATASET" / "ground_truth"
    photos.mkdir(parents=True)
    masks.mkdir(parents=True)
    for i in range(5):
        rgb, labels = synthetic_pipe(i, 32)
        write_png(photos / f"ORI_{i:03d}.png", rgb)
        write_png(masks / f"GT_{i:03d}.png", np.stack([labels * 60] * 3, axis=-1).astype(np.uint8))
    (root / "train.txt").write_text("000\n001\n002\n", encoding="utf-8")
    (root / "val.txt").write_text("003\n004\n", encoding="utf-8")
    calib, held_out, source = quantize.calibration_paths(root, count=10)
    assert [p.name for p in calib] == ["ORI_000.png", "ORI_001.png", "ORI_002.png"]
    assert [p.name for p in held_out] == ["ORI_003.png", "ORI_004.png"]
    assert "train.txt" in source
    calib, _, _ = quantize.calibration_paths(root, count=2)
    assert len(calib) == 2


def test_cli_refuses_to_replace_and_records_the_choices(tmp_path, quantized):
    float_path, _, _ = quantized
    out = tmp_path / "m.int8.onnx"
    out.write_bytes(b"keep me")
    with pytest.raises(OutputExistsError):
        quantize.quantize_model(float_path, photo_folder(tmp_path / "p", 2), out, count=2)
    assert out.read_bytes() == b"keep me"
    report = tmp_path / "report.json"
    own = tmp_path / "int8-eval.json"
    own.write_text(json.dumps({"per_photo": {"mean_iou": 0.5}}), encoding="utf-8")
    code = quantize.main(
        [
            "--model",
            str(float_path),
            "--calibration-data",
            str(tmp_path / "p"),
            "--out",
            str(out),
            "--overwrite",
            "--no-reduce-range",
            "--per-tensor",
            "--count",
            "2",
            "--report",
            str(report),
            "--metrics",
            str(own),
        ]
    )
    assert code == 0
    figures = json.loads(report.read_text())
    assert figures["reduce_range"] is False and figures["per_channel"] is False
    assert len(figures["float_convolutions"]) == 2, "by default the first convolutions stay float"
    meta = SegmentationModel.load(out, device="cpu").metadata
    info = json.loads(meta[quantize.KEY_QUANTIZATION])
    assert info["weights"] == "int8 per tensor" and info["reduce_range"] is False
    assert json.loads(meta[contract.KEY_METRICS]) == {"per_photo": {"mean_iou": 0.5}}


def test_cli_reports_a_missing_model(tmp_path, capsys):
    code = quantize.main(
        [
            "--model",
            str(tmp_path / "nope.onnx"),
            "--calibration-data",
            str(tmp_path),
            "--out",
            str(tmp_path / "x.onnx"),
        ]
    )
    assert code == 1
    assert "nope.onnx" in capsys.readouterr().err
    assert not (tmp_path / "x.onnx").exists()


@pytest.mark.parametrize(
    ("first", "last", "float_weights"), [(1, 0, {"w1"}), (0, 1, {"w2"}), (1, 1, {"w1", "w2"})]
)
def test_convolutions_at_either_end_can_stay_float(tmp_path, quantized, first, last, float_weights):
    float_path, _, _ = quantized
    out = tmp_path / "m.int8.onnx"
    report = quantize.quantize_model(
        float_path, photo_folder(tmp_path / "p", 3), out, count=3, float_first=first, float_last=last
    )
    graph = onnx.load(str(out)).graph
    convs = [n for n in graph.node if n.op_type == "Conv"]
    # A float convolution reads its weight initializer directly; an int8 one through DequantizeLinear.
    direct = {name for n in convs for name in n.input if name in {"w1", "w2"}}
    assert direct == float_weights
    assert len(report.float_convolutions) == len(float_weights)
    info = json.loads(SegmentationModel.load(out, device="cpu").metadata[quantize.KEY_QUANTIZATION])
    assert info["float_convolutions"] == report.float_convolutions


def test_normalisation_and_pooling_broadcast_stay_float(quantized, tmp_path):
    """Quantized, ONNX Runtime runs the input's Mul/Add and the pooled branch's broadcast Mul as QLinearMul
    and QLinearAdd on a slow broadcast path; they stay float, and the photo is transposed before it is
    normalised."""
    import onnxruntime as ort

    _, int8_path, _ = quantized
    graph = onnx.load(str(int8_path)).graph
    first = next(n for n in graph.node if contract.INPUT_NAME in n.input)
    assert first.op_type == "Transpose", "the uint8 photo is transposed first"
    options = ort.SessionOptions()
    options.optimized_model_filepath = str(tmp_path / "optimised.onnx")
    ort.InferenceSession(str(int8_path), options, providers=["CPUExecutionProvider"])
    ops = [n.op_type for n in onnx.load(str(tmp_path / "optimised.onnx")).graph.node]
    assert "QLinearConv" in ops, "the convolutions still run in int8"
    assert not {"QLinearMul", "QLinearAdd"} & set(ops), ops
