"""Encoders chosen by name, each returning (low-level features at stride 4, high-level at stride 16).

MobileNetV2 is our own Keras build that mirrors torchvision's layer for layer (symmetric zero padding
before stride-2 convolutions, BatchNorm epsilon 1e-5, ReLU6), so torchvision's ImageNet checkpoint ports
exactly (`training.weights`). ResNet50 is `keras.applications.ResNet50`.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
from keras import layers

from training.models.blocks import DEFAULT_BN_MOMENTUM, normalize_rgb

IMAGENET_MEAN_RGB = (0.485 * 255.0, 0.456 * 255.0, 0.406 * 255.0)
IMAGENET_STD_RGB = (0.229 * 255.0, 0.224 * 255.0, 0.225 * 255.0)
# keras.applications.ResNet50's "caffe" preprocessing: BGR minus these means. We keep RGB order and flip
# the first convolution's input channels instead (see `_rgb_first_conv`).
CAFFE_MEAN_RGB = (123.68, 116.779, 103.939)

TORCH_BN_EPSILON = 1e-5
MNV2 = "mnv2"

# torchvision's MobileNetV2 (width 1.0): expansion t, output channels c, repeats n, first stride s.
MOBILENET_V2_SETTINGS = (
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
)

# Taps: block 3's expansion (features[4].conv[0], 144 channels, the first layer at stride 4 that has
# seen the whole stride-4 stage) and the last inverted residual (features[17], 320 channels).
MOBILENET_V2_LOW_LEVEL = f"{MNV2}_block4_expand_relu"
RESNET50_LOW_LEVEL = "conv2_block3_out"  # stride 4, 256 channels
RESNET50_HIGH_LEVEL = "conv4_block6_out"  # stride 16, 1024 channels


@dataclass(frozen=True)
class _Block:
    index: int  # torchvision's features[index]
    expansion: int
    in_channels: int
    out_channels: int
    stride: int


def mobilenet_v2_blocks() -> list[_Block]:
    blocks, in_ch, index = [], 32, 1
    for t, c, n, s in MOBILENET_V2_SETTINGS:
        for i in range(n):
            blocks.append(_Block(index, t, in_ch, c, s if i == 0 else 1))
            in_ch, index = c, index + 1
    return blocks


def mobilenet_v2_torch_names(include_head: bool = True) -> dict[str, str]:
    """Keras layer name -> torchvision state-dict prefix, for every layer with weights."""
    names = {f"{MNV2}_stem_conv": "features.0.0", f"{MNV2}_stem_bn": "features.0.1"}
    for b in mobilenet_v2_blocks():
        p, k = f"{MNV2}_block{b.index}", f"features.{b.index}.conv"
        if b.expansion == 1:  # features[1]: depthwise, project
            parts = {"dw": "0.0", "dw_bn": "0.1", "project": "1", "project_bn": "2"}
        else:  # expand, depthwise, project
            parts = {
                "expand": "0.0",
                "expand_bn": "0.1",
                "dw": "1.0",
                "dw_bn": "1.1",
                "project": "2",
                "project_bn": "3",
            }
        names |= {f"{p}_{ours}": f"{k}.{theirs}" for ours, theirs in parts.items()}
    if include_head:
        names |= {
            f"{MNV2}_head_conv": "features.18.0",
            f"{MNV2}_head_bn": "features.18.1",
            f"{MNV2}_logits": "classifier.1",
        }
    return names


def _bn(x, name: str, momentum: float):
    return layers.BatchNormalization(epsilon=TORCH_BN_EPSILON, momentum=momentum, name=name)(x)


def _conv(x, filters: int, kernel: int, stride: int, name: str, dilation: int = 1, depthwise=False):
    """torchvision-style padding: symmetric `(k-1)//2 * dilation` on every side, then a 'valid' conv."""
    if stride == 1:
        padding = "same"  # symmetric for odd kernels at stride 1, with or without dilation
    else:
        x = layers.ZeroPadding2D((kernel - 1) // 2, name=f"{name}_pad")(x)
        padding = "valid"
    common = {"dilation_rate": dilation, "use_bias": False, "name": name}
    if depthwise:
        return layers.DepthwiseConv2D(kernel, stride, padding, **common)(x)
    return layers.Conv2D(filters, kernel, stride, padding, **common)(x)


def _inverted_residual(x, b: _Block, stride: int, dilation: int, momentum: float):
    p, inp = f"{MNV2}_block{b.index}", x
    if b.expansion != 1:
        x = _conv(x, b.in_channels * b.expansion, 1, 1, f"{p}_expand")
        x = layers.ReLU(6.0, name=f"{p}_expand_relu")(_bn(x, f"{p}_expand_bn", momentum))
    x = _conv(x, 0, 3, stride, f"{p}_dw", dilation=dilation, depthwise=True)
    x = layers.ReLU(6.0, name=f"{p}_dw_relu")(_bn(x, f"{p}_dw_bn", momentum))
    x = _bn(_conv(x, b.out_channels, 1, 1, f"{p}_project"), f"{p}_project_bn", momentum)
    if b.stride == 1 and b.in_channels == b.out_channels:
        x = layers.Add(name=f"{p}_add")([inp, x])
    return x


def mobilenet_v2(x, *, output_stride: int = 32, bn_momentum: float = DEFAULT_BN_MOMENTUM, head=False):
    """torchvision's MobileNetV2 features on RGB 0..255 input (ImageNet normalisation inside).

    `output_stride` 16 or 8 replaces the later strides by dilation, as DeepLabV3 does; the weights are
    the same, so the ImageNet port stays exact. `head` adds features[18] (1x1 conv to 1280 channels).
    """
    if output_stride not in (8, 16, 32):
        raise ValueError(f"MobileNetV2 output_stride must be 8, 16 or 32, got {output_stride}")
    x = normalize_rgb(x, IMAGENET_MEAN_RGB, IMAGENET_STD_RGB, name=f"{MNV2}_normalize")
    x = _conv(x, 32, 3, 2, f"{MNV2}_stem_conv")
    x = layers.ReLU(6.0, name=f"{MNV2}_stem_relu")(_bn(x, f"{MNV2}_stem_bn", bn_momentum))
    current_stride, rate = 2, 1
    for b in mobilenet_v2_blocks():
        stride, dilation = b.stride, rate
        if b.stride > 1 and current_stride >= output_stride:
            stride, rate = 1, rate * b.stride  # this block keeps the old rate; the next ones dilate
        else:
            current_stride *= b.stride
        x = _inverted_residual(x, b, stride, dilation, bn_momentum)
    if head:
        x = _conv(x, 1280, 1, 1, f"{MNV2}_head_conv")
        x = layers.ReLU(6.0, name=f"{MNV2}_head_relu")(_bn(x, f"{MNV2}_head_bn", bn_momentum))
    return x


def mobilenet_v2_classifier(input_shape=(None, None, 3), num_classes: int = 1000) -> keras.Model:
    """The whole ImageNet classifier (logits), used to check the weight port against numpy."""
    inputs = keras.Input(input_shape, name="image")
    x = mobilenet_v2(inputs, head=True)
    x = layers.GlobalAveragePooling2D(name=f"{MNV2}_pool")(x)
    x = layers.Dense(num_classes, name=f"{MNV2}_logits")(x)
    return keras.Model(inputs, x, name="mobilenet_v2_classifier")


def _rgb_first_conv(model: keras.Model) -> None:
    """Caffe-style weights expect BGR input: flip conv1's input channels so RGB input gives the same."""
    conv = model.get_layer("conv1_conv")
    kernel, bias = conv.get_weights()
    conv.set_weights([kernel[:, :, ::-1, :], bias])


def resnet50(x, *, weights: str | None = None):
    """(low, high) features of keras.applications.ResNet50 on RGB 0..255 input (caffe means inside).

    `weights`: None, "imagenet" (Keras's download) or a path to a Keras "notop" weights file.
    """
    base = keras.applications.ResNet50(include_top=False, weights=weights, input_shape=(None, None, 3))
    if weights is not None:
        _rgb_first_conv(base)
    taps = [base.get_layer(RESNET50_LOW_LEVEL).output, base.get_layer(RESNET50_HIGH_LEVEL).output]
    encoder = keras.Model(base.input, taps, name="resnet50")
    x = normalize_rgb(x, CAFFE_MEAN_RGB, (1.0, 1.0, 1.0), name="resnet50_normalize")
    low, high = encoder(x)
    return low, high
