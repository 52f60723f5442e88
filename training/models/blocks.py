"""Building blocks shared by the architectures: one function per block, named layers, BN + ReLU."""

from __future__ import annotations

import keras
from keras import layers, ops

# Keras's default BatchNorm momentum (0.99) averages over ~100 steps: too slow when an epoch is ~20 steps.
DEFAULT_BN_MOMENTUM = 0.9


def conv_bn_relu(
    x,
    filters: int,
    kernel_size: int = 3,
    *,
    name: str,
    dilation_rate: int = 1,
    bn_momentum: float = DEFAULT_BN_MOMENTUM,
):
    """Conv (no bias, 'same' padding) -> BatchNorm -> ReLU."""
    x = layers.Conv2D(
        filters,
        kernel_size,
        padding="same",
        dilation_rate=dilation_rate,
        use_bias=False,
        kernel_initializer="he_normal",
        name=f"{name}_conv",
    )(x)
    x = layers.BatchNormalization(momentum=bn_momentum, name=f"{name}_bn")(x)
    return layers.ReLU(name=f"{name}_relu")(x)


def separable_conv_bn_relu(
    x,
    filters: int,
    kernel_size: int = 3,
    *,
    name: str,
    dilation_rate: int = 1,
    bn_momentum: float = DEFAULT_BN_MOMENTUM,
):
    """Atrous depthwise-separable conv as in DeepLabV3+: depthwise -> BN -> ReLU -> 1x1 -> BN -> ReLU."""
    x = layers.DepthwiseConv2D(
        kernel_size,
        padding="same",
        dilation_rate=dilation_rate,
        use_bias=False,
        name=f"{name}_depthwise",
    )(x)
    x = layers.BatchNormalization(momentum=bn_momentum, name=f"{name}_depthwise_bn")(x)
    x = layers.ReLU(name=f"{name}_depthwise_relu")(x)
    return conv_bn_relu(x, filters, 1, name=f"{name}_pointwise", bn_momentum=bn_momentum)


@keras.saving.register_keras_serializable(package="corroscope")
class SpatialBroadcast(layers.Layer):
    """Broadcast a [N,1,1,C] tensor to the height and width of a reference [N,H,W,*] tensor.

    This is what bilinear upsampling of a 1x1 map does, for any (also unknown) H and W.
    """

    def call(self, inputs):
        pooled, reference = inputs
        ones = ops.ones_like(reference[..., :1], dtype=pooled.dtype)
        return pooled * ones

    def compute_output_shape(self, input_shapes):
        pooled, reference = input_shapes
        return (reference[0], reference[1], reference[2], pooled[3])


@keras.saving.register_keras_serializable(package="corroscope")
class HierarchicalProbabilities(layers.Layer):
    """Two logits -> the contract's three class probabilities, in the order (corrosion, asset, background).

    Channel 0 is the pipe-vs-background logit, channel 1 the corrosion-vs-asset logit given pipe:
    corrosion = P(pipe) P(corr | pipe), asset = P(pipe) P(asset | pipe), background = 1 - P(pipe).
    Each factor is a sigmoid of its own logit (never 1 - x), so small probabilities keep their precision
    for the loss, which reads the two heads back from these three (`training.losses.HierarchicalLoss`).
    """

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("dtype", "float32")  # float32 even under mixed precision, like the softmax
        super().__init__(**kwargs)

    def call(self, logits):
        pipe_logit, split_logit = logits[..., :1], logits[..., 1:2]
        pipe, background = ops.sigmoid(pipe_logit), ops.sigmoid(-pipe_logit)
        corrosion, asset = pipe * ops.sigmoid(split_logit), pipe * ops.sigmoid(-split_logit)
        return ops.concatenate([corrosion, asset, background], axis=-1)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], 3)


def normalize_rgb(x, mean: tuple[float, float, float], std: tuple[float, float, float], *, name: str):
    """(x - mean) / std per RGB channel, in float32 (safe under mixed precision); no weights.

    A `Rescaling` with per-channel lists: its constants live in the graph (Keras's `Normalization`
    captures tensors that tf2onnx turns into extra model inputs).
    """
    scale = [1.0 / s for s in std]
    offset = [-m / s for m, s in zip(mean, std, strict=True)]
    return layers.Rescaling(scale, offset, dtype="float32", name=name)(x)


def softmax_head(x, num_classes: int, *, name: str = "classifier"):
    """1x1 conv to class logits, then a float32 softmax (keeps mixed-precision training stable)."""
    x = layers.Conv2D(num_classes, 1, padding="same", name=f"{name}_logits")(x)
    return layers.Activation("softmax", dtype="float32", name="probabilities")(x)


def check_input_shape(input_shape: tuple, multiple: int) -> tuple:
    """Validate (H, W, 3) with H, W divisible by `multiple` (or None); return it as a tuple."""
    shape = tuple(input_shape)
    if len(shape) != 3 or shape[2] != 3:
        raise ValueError(f"input_shape must be (H, W, 3) RGB, got {shape}")
    for side in shape[:2]:
        if side is not None and (side <= 0 or side % multiple):
            raise ValueError(
                f"input height and width must be multiples of {multiple} (got {shape[:2]}); "
                f"crop or resize the photos to e.g. {multiple * 16}x{multiple * 16}"
            )
    return shape
