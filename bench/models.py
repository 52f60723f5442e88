"""The networks under test: one Keras model, exported to ONNX (float and int8) at 1x and 2x its size.

Latency does not depend on training, so without `--keras` the default architecture is built from
`training.models.build_model` with freshly initialised weights. In smoke mode a tiny convolutional
network stands in, so the harness runs in seconds.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

log = logging.getLogger("bench.models")

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@dataclass
class NetworkSet:
    """One network at several input sizes, as Keras models and ONNX files."""

    name: str
    input_size: int  # the model's own (training) size; 2x is benchmarked too
    keras: dict[int, object] = field(default_factory=dict)  # size -> keras.Model
    keras_files: dict[int, Path] = field(default_factory=dict)  # size -> .keras file of that model
    onnx_float: dict[int, Path] = field(default_factory=dict)
    onnx_int8: dict[int, Path] = field(default_factory=dict)
    gflop: dict[int, float] = field(default_factory=dict)  # per image
    int8_agreement: dict[int, float] = field(default_factory=dict)  # % pixels, int8 vs float argmax
    notes: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)  # preparation times


def tiny_keras(size: int):
    """A few convolutions with the default network's interface (float RGB 0..255 in, softmax out)."""
    import keras
    from keras import layers

    inputs = keras.Input((size, size, 3), name="image")
    x = layers.Rescaling(1 / 127.5, offset=-1.0)(inputs)
    x = layers.Conv2D(16, 3, strides=2, padding="same", activation="relu")(x)
    x = layers.Conv2D(16, 3, padding="same", activation="relu")(x)
    x = layers.Conv2D(3, 1, name="classifier_logits")(x)
    x = layers.UpSampling2D(2, interpolation="bilinear")(x)
    outputs = layers.Activation("softmax", dtype="float32", name="probabilities")(x)
    return keras.Model(inputs, outputs, name="tiny_none")


def at_size(model, size: int):
    """The same network (same weights) with its input fixed at size x size."""
    import keras

    config = model.get_config()
    for layer in config["layers"]:
        if layer["class_name"] == "InputLayer":
            shape = layer["config"].get("batch_shape") or layer["config"].get("batch_input_shape")
            key = "batch_shape" if "batch_shape" in layer["config"] else "batch_input_shape"
            layer["config"][key] = [shape[0], size, size, shape[3]]
    clone = keras.Model.from_config(config)
    clone.set_weights(model.get_weights())
    return clone


def _settle(model, size: int, steps: int = 4) -> None:
    """Give BatchNorm real moving statistics and sharpen the logits, so int8 agreement means something."""
    from app.core.synthetic import synthetic_pipe

    photos = np.stack([synthetic_pipe(500 + i, size)[0] for i in range(2)]).astype(np.float32)
    for _ in range(steps):
        model(photos, training=True)
    try:
        logits = model.get_layer("classifier_logits")
    except ValueError:
        return
    logits.set_weights([w * 20.0 for w in logits.get_weights()])


def base_keras(keras_path: Path | None, smoke: bool):
    """(model, name, own input size)."""
    if keras_path is not None:
        from training.models import load_model

        model = load_model(keras_path)
        return model, f"{model.name} ({keras_path})", int(model.input_shape[1] or 256)
    if smoke:
        model = tiny_keras(32)
        return model, "tiny 3-conv network (smoke)", 32
    from training.models import build_model

    model = build_model("deeplabv3plus", "mobilenetv2", input_shape=(256, 256, 3))
    _settle(model, 256)
    return model, "deeplabv3plus_mobilenetv2 (build_model, untrained weights)", 256


def calibration_folder(work: Path, size: int, count: int) -> Path:
    """Synthetic photos for int8 calibration when no training photos are given."""
    import cv2

    from app.core.synthetic import synthetic_pipe

    folder = work / "calibration"
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        rgb, _ = synthetic_pipe(900 + i, (size * 3 // 2, size * 2))
        cv2.imwrite(str(folder / f"calib_{i:03d}.jpg"), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    return folder


def prepare(
    work: Path,
    smoke: bool,
    keras_path: Path | None = None,
    onnx_path: Path | None = None,
    calibration_data: Path | None = None,
    sizes_factor: tuple[int, ...] = (1, 2),
) -> NetworkSet:
    """Build or load the network, export float ONNX at each size and quantize it to int8."""
    from training.export import ExportInfo, describe_model, export_model
    from training.models import count_flops
    from training.quantize import DEFAULT_FLOAT_FIRST, quantize_model

    t0 = time.perf_counter()
    work.mkdir(parents=True, exist_ok=True)
    model, name, size = base_keras(keras_path, smoke)
    nets = NetworkSet(name=name, input_size=size)
    nets.seconds["build"] = time.perf_counter() - t0
    calib = calibration_data or calibration_folder(work, size, 4 if smoke else 16)
    arch, backbone = describe_model(model)
    for factor in sizes_factor:
        s = size * factor
        k = model if factor == 1 and model.input_shape[1] == s else at_size(model, s)
        nets.keras[s] = k
        nets.keras_files[s] = work / f"net_{s}.keras"
        k.save(nets.keras_files[s])
        nets.gflop[s] = count_flops(k)
        t1 = time.perf_counter()
        if factor == 1 and onnx_path is not None:
            float_path = onnx_path
        else:
            float_path = work / f"net_{s}.onnx"
            export_model(
                k, float_path, ExportInfo(arch, backbone, "benchmark"), (s, s), parity_count=2, overwrite=True
            )
        nets.onnx_float[s] = float_path
        t2 = time.perf_counter()
        int8_path = work / f"net_{s}.int8.onnx"
        report = quantize_model(
            float_path,
            calib,
            int8_path,
            count=4 if smoke else 16,
            overwrite=True,
            float_first=0 if smoke else DEFAULT_FLOAT_FIRST,
        )  # as the CLI makes it
        nets.onnx_int8[s] = int8_path
        nets.int8_agreement[s] = report.argmax_agreement
        nets.seconds[f"export_{s}"] = t2 - t1
        nets.seconds[f"quantize_{s}"] = time.perf_counter() - t2
    return nets
