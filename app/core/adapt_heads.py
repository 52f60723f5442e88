"""Find a contract model's final classifiers (the 1x1 convolutions before each softmax) and rewrite
their weights, float or int8 (QDQ: a DequantizeLinear of an int8 initializer), in the serialized file."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.core.adapt_fit import Classifier
from app.core.errors import CorroscopeError
from app.core.onnx_edit import ModelBytes, Node

# Between a classifier and its softmax: only per-pixel linear steps (upsampling, int8 round trips).
_PASS_THROUGH = {"Resize", "Upsample", "DequantizeLinear", "QuantizeLinear", "Identity"}


class AdaptRefused(CorroscopeError):
    """Adaptation would mislead or cannot be done; the base model stays in use."""


@dataclass(frozen=True)
class Param:
    """Where one classifier tensor lives: a float initializer, or an int8/int32 one behind a
    DequantizeLinear (its scale, zero point and axis)."""

    init: str
    scale: str | None = None
    zero_point: str | None = None
    axis: int = 1


@dataclass(frozen=True)
class Head:
    """One member's classifier: the tensor it reads (the decoder's last feature map) and its weights."""

    features: str
    weight: Param
    bias: Param


def find_heads(mb: ModelBytes, num_classes: int) -> list[Head]:
    """The classifier of each softmax, in graph order; `AdaptRefused` when a softmax has none."""
    nodes = mb.nodes()
    producer = {out: n for n in nodes for out in n.outputs}
    inits = mb.initializer_names()
    heads = []
    for softmax in (n for n in nodes if n.op_type == "Softmax"):
        node = producer.get(softmax.inputs[0])
        while node is not None and node.op_type in _PASS_THROUGH:
            node = producer.get(node.inputs[0])
        head = None if node is None else _conv_head(node, producer, inits, mb, num_classes)
        if head is None:
            raise AdaptRefused(
                "this model cannot be adapted: a softmax is not fed by a 1x1 convolution over "
                f"{num_classes} classes (the classifier adaptation refits)"
            )
        heads.append(head)
    if not heads:
        raise AdaptRefused("this model cannot be adapted: its graph has no softmax")
    return heads


def _conv_head(node: Node, producer: dict, inits: set[str], mb: ModelBytes, c: int) -> Head | None:
    if node.op_type != "Conv" or len(node.inputs) < 3 or node.ints.get("group", 1) != 1:
        return None
    weight = _param(node.inputs[1], producer, inits)
    bias = _param(node.inputs[2], producer, inits)
    if weight is None or bias is None:
        return None
    shape = mb.initializer(weight.init).shape
    if len(shape) != 4 or shape[0] != c or shape[2:] != (1, 1):
        return None
    return Head(node.inputs[0], weight, bias)


def _param(name: str, producer: dict, inits: set[str]) -> Param | None:
    if name in inits:
        return Param(name)
    dq = producer.get(name)
    if dq is None or dq.op_type != "DequantizeLinear" or len(dq.inputs) < 2 or dq.inputs[0] not in inits:
        return None
    zero = dq.inputs[2] if len(dq.inputs) > 2 and dq.inputs[2] else None
    return Param(dq.inputs[0], dq.inputs[1], zero, dq.ints.get("axis", 1))


def read_param(mb: ModelBytes, p: Param) -> np.ndarray:
    values = mb.initializer(p.init)
    if p.scale is None:
        return values.astype(np.float64)
    scale = _along(mb.initializer(p.scale).astype(np.float64), p.axis, values.ndim)
    zero = (
        0.0
        if p.zero_point is None
        else _along(mb.initializer(p.zero_point).astype(np.float64), p.axis, values.ndim)
    )
    return (values.astype(np.float64) - zero) * scale


def read_head(mb: ModelBytes, head: Head) -> Classifier:
    w = read_param(mb, head.weight)
    return Classifier(w.reshape(w.shape[0], w.shape[1]), read_param(mb, head.bias).reshape(-1))


def _along(v: np.ndarray, axis: int, ndim: int) -> np.ndarray:
    """A per-axis scale or zero point shaped to broadcast against an ndim tensor."""
    if v.ndim == 0 or ndim == 0:
        return v
    shape = [1] * ndim
    shape[axis % ndim] = v.size
    return v.reshape(shape)


def head_tensors(mb: ModelBytes, head: Head, new: Classifier) -> dict[str, np.ndarray]:
    """The initializers that give `head` the weights of `new` (int8 ones quantized again, per channel
    as they were, the bias's scale following the weight's: it must stay input scale x weight scale)."""
    old_w = mb.initializer(head.weight.init)
    w = new.weight.reshape(old_w.shape)
    if head.weight.scale is None:
        out = {head.weight.init: w.astype(old_w.dtype)}
        ratio = None
    else:
        out, ratio = _requantize_weight(mb, head.weight, w)
    old_b = mb.initializer(head.bias.init)
    b = new.bias.reshape(old_b.shape)
    if head.bias.scale is None:
        out[head.bias.init] = b.astype(old_b.dtype)
        return out
    if head.bias.zero_point is not None and np.any(mb.initializer(head.bias.zero_point)):
        raise AdaptRefused("this int8 model's classifier bias has a zero point; adapt the float model")
    b_scale = mb.initializer(head.bias.scale).astype(np.float64)
    if ratio is not None:
        b_scale = b_scale * (ratio if b_scale.size == ratio.size else float(ratio.mean()))
        out[head.bias.scale] = b_scale.astype(mb.initializer(head.bias.scale).dtype)
    q = np.round(b / _along(b_scale, head.bias.axis, b.ndim))
    info = np.iinfo(old_b.dtype)
    out[head.bias.init] = np.clip(q, info.min, info.max).astype(old_b.dtype)
    return out


def _requantize_weight(mb: ModelBytes, p: Param, w: np.ndarray) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Symmetric int8 weights (zero point 0) with a scale per output channel fitted to the new values;
    also the ratio new scale / old scale."""
    old = mb.initializer(p.init)
    if old.dtype != np.int8 or (p.zero_point is not None and np.any(mb.initializer(p.zero_point))):
        raise AdaptRefused("this quantized model's classifier is not symmetric int8; adapt the float model")
    old_scale = mb.initializer(p.scale)  # type: ignore[arg-type]
    reduce = tuple(i for i in range(w.ndim) if old_scale.size == 1 or i != p.axis % w.ndim)
    peak = np.abs(w).max(axis=reduce) if old_scale.size > 1 else np.array(np.abs(w).max())
    scale = np.maximum(peak / 127.0, 1e-12).reshape(old_scale.shape)
    q = np.clip(np.round(w / _along(scale.astype(np.float64), p.axis, w.ndim)), -127, 127).astype(np.int8)
    ratio = (scale.astype(np.float64) / old_scale.astype(np.float64)).reshape(-1)
    return {p.init: q, p.scale: scale.astype(old_scale.dtype)}, ratio  # type: ignore[dict-item]
