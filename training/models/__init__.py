"""Segmentation networks chosen by name: `build_model("deeplabv3plus", "mobilenetv2")`, `("unet")`.

Every model takes float32 RGB 0..255 [N, H, W, 3] (the backbone's normalisation is inside) and returns
float32 class probabilities [N, H, W, C] (a softmax, or the hierarchical head's products). Importing
this package registers our custom layers, so `load_model` (safe mode) can read saved `.keras` files.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import keras

from training.models.blocks import HierarchicalProbabilities, SpatialBroadcast
from training.models.deeplabv3plus import BACKBONES, DeepLabConfig, deeplabv3plus
from training.models.unet import UNetConfig, unet

log = logging.getLogger(__name__)

ARCHITECTURES = ("deeplabv3plus", "unet")
__all__ = [
    "ARCHITECTURES",
    "BACKBONES",
    "DeepLabConfig",
    "HierarchicalProbabilities",
    "SpatialBroadcast",
    "UNetConfig",
    "build_model",
    "count_flops",
    "load_model",
    "rebuild",
]


def _config(cls, settings: dict):
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(settings) - names)
    if unknown:
        raise ValueError(f"unknown {cls.__name__} settings {unknown}; valid: {sorted(names)}")
    if isinstance(settings.get("aspp_rates"), list):
        settings = {**settings, "aspp_rates": tuple(settings["aspp_rates"])}
    return cls(**settings)


def _mobilenet_checkpoint(encoder_weights: str) -> Path:
    from training.weights import MOBILENET_V2_CHECKPOINT, CheckpointError, find_mobilenet_v2_checkpoint

    if encoder_weights == "imagenet":
        found = find_mobilenet_v2_checkpoint()
        if found is None:
            raise CheckpointError(
                f"ImageNet MobileNetV2 weights ({MOBILENET_V2_CHECKPOINT}) not found: run "
                "scripts/fetch-encoder-weights, or set CORROSCOPE_ENCODER_WEIGHTS to the file"
            )
        return found
    path = Path(encoder_weights).expanduser()
    if not path.is_file():
        raise CheckpointError(f"encoder weights file {path} does not exist")
    return path


def build_model(
    arch: str,
    backbone: str | None = None,
    input_shape=(256, 256, 3),
    num_classes: int = 3,
    encoder_weights: str | None = None,
    **settings,
) -> keras.Model:
    """Build a segmentation network by name; `settings` fill its config dataclass.

    `encoder_weights`: None (from scratch), "imagenet", or a local file: for mobilenetv2 torchvision's
    `mobilenet_v2-b0353104.pth` ("imagenet" looks for it in $CORROSCOPE_ENCODER_WEIGHTS or the cache,
    since nothing downloads at run time); for resnet50 a Keras "notop" weights file ("imagenet" uses
    Keras's download, where reachable).
    """
    if num_classes < 2:
        raise ValueError(f"num_classes must be at least 2, got {num_classes}")
    if arch == "unet":
        if backbone not in (None, "", "none"):
            raise ValueError(f"unet has no backbone; got backbone={backbone!r}")
        if encoder_weights is not None:
            raise ValueError("unet has no pretrained encoder; use encoder_weights=None")
        return unet(input_shape, num_classes, _config(UNetConfig, settings))
    if arch != "deeplabv3plus":
        raise ValueError(f"unknown architecture {arch!r}; choose one of {', '.join(ARCHITECTURES)}")
    backbone = backbone or "mobilenetv2"
    if backbone not in BACKBONES:
        raise ValueError(f"unknown DeepLabV3+ backbone {backbone!r}; choose one of {', '.join(BACKBONES)}")
    cfg = _config(DeepLabConfig, settings)
    if backbone == "resnet50":
        return deeplabv3plus(input_shape, num_classes, backbone, cfg, resnet_weights=encoder_weights)
    checkpoint = _mobilenet_checkpoint(encoder_weights) if encoder_weights is not None else None
    model = deeplabv3plus(input_shape, num_classes, backbone, cfg)
    if checkpoint is not None:
        from training.models.pretrained import port_mobilenet_v2

        count = port_mobilenet_v2(model, checkpoint)
        log.info("MobileNetV2 encoder initialised from %s (%d tensors)", checkpoint, count)
    return model


def load_model(path: str | Path) -> keras.Model:
    """Load a `.keras` file saved from `build_model`, in Keras's safe mode (no arbitrary code)."""
    return keras.models.load_model(Path(path), compile=False, safe_mode=True)


def rebuild(model: keras.Model, input_shape: tuple | None = None, float32: bool = False) -> keras.Model:
    """A copy of `model` with the same weights, at another input shape (e.g. (None, None, 3) to evaluate
    at full size a model trained on crops) and/or with mixed precision turned back to float32.

    Also turns Keras `Normalization` layers (used by models built before 2026-11-23 18:30) into the
    equivalent `Rescaling`, whose constants tf2onnx keeps inside the graph.
    """
    config = _rewrite_config(model.get_config(), float32)
    if input_shape is not None:
        for layer in config["layers"]:
            if layer["class_name"] == "InputLayer":
                layer["config"]["batch_shape"] = [None, *input_shape]
    copy = keras.Model.from_config(config)
    copy.set_weights(model.get_weights())
    return copy


def _rewrite_config(obj, float32: bool):
    if isinstance(obj, list):
        return [_rewrite_config(v, float32) for v in obj]
    if not isinstance(obj, dict):
        return obj
    if float32 and obj.get("class_name") == "DTypePolicy" and "mixed" in str(obj["config"].get("name")):
        return {**obj, "config": {**obj["config"], "name": "float32"}}
    if obj.get("class_name") == "Normalization" and obj["config"].get("mean") is not None:
        cfg = obj["config"]
        std = [max(v, 0.0) ** 0.5 for v in cfg["variance"]]
        scale = [1.0 / max(s, keras.config.epsilon()) for s in std]
        offset = [-m * k for m, k in zip(cfg["mean"], scale, strict=True)]
        rescaling = {"name": cfg["name"], "trainable": cfg["trainable"], "dtype": cfg["dtype"]}
        rescaling |= {"scale": scale, "offset": offset}
        obj = {**obj, "class_name": "Rescaling", "config": rescaling}
    return {k: _rewrite_config(v, float32) for k, v in obj.items()}


def count_flops(model: keras.Model, input_shape: tuple | None = None) -> float:
    """GFLOP per image (2 x multiply-adds of every convolution and dense layer) at `input_shape`.

    `input_shape` defaults to the model's own (it must then be static: build with e.g. (256, 256, 3)).

    Traces the model once with a static shape and sums Conv2D, depthwise, transposed-conv and MatMul
    ops; element-wise ops (BN, ReLU, adds, resizes) are left out: they are a small fraction.
    """
    import numpy as np
    import tensorflow as tf

    shape = tuple(input_shape or model.input_shape[1:])
    if None in shape:
        raise ValueError(f"count_flops needs a static input shape, got {shape}; pass input_shape=(H, W, 3)")
    spec = tf.TensorSpec((1, *shape), tf.float32)
    graph = tf.function(lambda x: model(x, training=False)).get_concrete_function(spec).graph
    total = 0
    for op in _graph_ops(graph):
        if op.type == "Conv2D":
            kh, kw, cin, cout = op.inputs[1].shape
            total += 2 * np.prod(op.outputs[0].shape[:3]) * kh * kw * cin * cout
        elif op.type == "DepthwiseConv2dNative":
            kh, kw, cin, mult = op.inputs[1].shape
            total += 2 * np.prod(op.outputs[0].shape[:3]) * kh * kw * cin * mult
        elif op.type == "Conv2DBackpropInput":
            kh, kw, cout, cin = op.inputs[1].shape
            total += 2 * np.prod(op.inputs[2].shape[:3]) * kh * kw * cin * cout
        elif op.type in ("MatMul", "BatchMatMulV2"):
            a, b = op.inputs[0].shape, op.inputs[1].shape
            total += 2 * np.prod(a[:-1]) * a[-1] * b[-1]
    return float(total) / 1e9


def _graph_ops(graph):
    yield from graph.get_operations()
    for fn in graph._functions.values():  # ops inside nested functions (e.g. while/cond bodies)
        yield from _graph_ops(fn.graph) if hasattr(fn, "graph") else ()
