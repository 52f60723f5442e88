"""Tiny ONNX models that follow (or deliberately break) the model contract, built with `onnx.helper`.

`channel_model`: the class of a pixel is decided by its largest colour channel, mapped to the default
palette (red -> corrosion 0, blue -> asset 1, green -> background 2). Probabilities are
softmax(sharpness * rgb / 255) over the channels in that order, so every figure is known exactly.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from app.core import contract
from app.core.palette import DEFAULT_CLASSES, classes_to_json

# Channel order of the output classes: corrosion <- R (0), asset <- B (2), background <- G (1).
CHANNEL_OF_CLASS = (0, 2, 1)
OPSET = 17
IR_VERSION = 9


def default_metadata(input_size: tuple[int, int] = (32, 32)) -> dict[str, str]:
    return {
        contract.KEY_CONTRACT: contract.CONTRACT_VERSION,
        contract.KEY_CLASSES: classes_to_json(DEFAULT_CLASSES),
        contract.KEY_INPUT_SIZE: contract.format_input_size(*input_size),
        contract.KEY_ARCHITECTURE: "channel-argmax test model",
        contract.KEY_BACKBONE: "none",
        contract.KEY_TRAINED_ON: "nothing",
        contract.KEY_CREATED: "2026-01-01T00:00:00Z",
        contract.KEY_METRICS: json.dumps({"miou": 1.0}),
    }


def expected_probabilities(rgb: np.ndarray, sharpness: float = 20.0) -> np.ndarray:
    """What `channel_model` outputs for uint8 ...x3 RGB (float64 reference)."""
    logits = rgb[..., list(CHANNEL_OF_CLASS)].astype(np.float64) * (sharpness / 255.0)
    logits -= logits.max(axis=-1, keepdims=True)
    e = np.exp(logits)
    return e / e.sum(axis=-1, keepdims=True)


def channel_model(
    path: Path,
    input_size: tuple[int, int] = (32, 32),
    fixed_hw: bool = True,
    sharpness: float = 20.0,
    metadata: Mapping[str, str | None] | None = None,
    input_dtype: int = TensorProto.UINT8,
    layout: str = "NHWC",
    output_name: str = contract.PROBABILITIES_OUTPUT,
    channels: tuple[int, ...] = CHANNEL_OF_CLASS,
    with_labels: bool = True,
    fixed_batch: int | None = None,
    shrink: int = 1,
) -> Path:
    """Write the channel-argmax model to `path`. `metadata` entries override the defaults; a value of
    None removes that key. The other arguments exist to break the contract on purpose (`shrink`: the
    output is max-pooled to 1/shrink of the input's height and width, declared so where fixed)."""
    h, w = input_size
    hw: list = [h, w] if fixed_hw else ["H", "W"]
    out_hw: list = [h // shrink, w // shrink] if fixed_hw else ["h", "w"]
    n: int | str = "N" if fixed_batch is None else fixed_batch
    in_shape = [n, *hw, 3] if layout == "NHWC" else [n, 3, *hw]
    inp = helper.make_tensor_value_info(contract.INPUT_NAME, input_dtype, in_shape)
    out_shape = [n, *out_hw, len(channels)] if layout == "NHWC" else ["a", "b", "c", "d"]
    out_probs = helper.make_tensor_value_info(output_name, TensorProto.FLOAT, out_shape)
    nodes = [
        helper.make_node("Cast", [contract.INPUT_NAME], ["as_float"], to=TensorProto.FLOAT),
        helper.make_node("Mul", ["as_float", "scale"], ["scaled"]),
        helper.make_node("Gather", ["scaled", "order"], ["logits" if shrink == 1 else "full"], axis=3),
    ]
    if shrink > 1:
        nodes += [
            helper.make_node("Transpose", ["full"], ["nchw"], perm=[0, 3, 1, 2]),
            helper.make_node(
                "MaxPool", ["nchw"], ["pooled"], kernel_shape=[shrink] * 2, strides=[shrink] * 2
            ),
            helper.make_node("Transpose", ["pooled"], ["logits"], perm=[0, 2, 3, 1]),
        ]
    nodes.append(helper.make_node("Softmax", ["logits"], [output_name], axis=-1))
    inits = [
        numpy_helper.from_array(np.array(sharpness / 255.0, dtype=np.float32), "scale"),
        numpy_helper.from_array(np.array(channels, dtype=np.int64), "order"),
    ]
    outputs = [out_probs]
    if with_labels and output_name == contract.PROBABILITIES_OUTPUT:
        nodes += [
            helper.make_node("ArgMax", [output_name], ["label64"], axis=3, keepdims=0),
            helper.make_node("Cast", ["label64"], [contract.LABELS_OUTPUT], to=TensorProto.UINT8),
        ]
        outputs.append(helper.make_tensor_value_info(contract.LABELS_OUTPUT, TensorProto.UINT8, [n, *out_hw]))
    graph = helper.make_graph(nodes, "channel_argmax", [inp], outputs, initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = IR_VERSION
    meta: dict[str, str | None] = dict(default_metadata(input_size))
    meta.update(metadata or {})
    for key, value in meta.items():
        if value is not None:
            entry = model.metadata_props.add()
            entry.key, entry.value = key, value
    onnx.checker.check_model(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path


def figures_metadata(
    quantile: float = 1.5, review_max_width: float | None = 30.0, confidence: float | None = None
) -> dict[str, str]:
    """Metadata entries of a model with a share range calibration and accuracy figures (made-up numbers
    of the right form, as `training.model_figures` writes them): a scale of e^bias points per photo.
    Without `confidence` the calibration is as files before the training-conditional quantile had it."""
    from app.core.range_calibration import FEATURE_NAMES

    n = len(FEATURE_NAMES)
    calibration = {
        "method": "normalized-split-conformal",
        "coverage": 0.8,
        "features": list(FEATURE_NAMES),
        "mean": [0.0] * n,
        "std": [1.0] * n,
        "weights": [2.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],  # mean uncertainty drives the width
        "bias": 1.0,
        "quantile": quantile,
        "review_max_width": review_max_width,
        "held_out": {"folds": 5, "coverage": 0.81, "mean_width": 20.0},
    }
    if confidence is not None:
        calibration["confidence"] = confidence
    accuracy = {
        "share_error": {"median": 8.6, "mean": 11.2, "p90": 19.4},
        "d610_same_share": 0.77,
        "photos": 194,
        "measured_on": "5-fold cross-validation",
    }
    return {
        contract.KEY_SHARE_RANGE: json.dumps(calibration),
        contract.KEY_ACCURACY: json.dumps(accuracy),
    }
