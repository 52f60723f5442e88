"""DeepLabV3+ (Chen et al., 2018): encoder -> ASPP -> decoder on low-level features -> softmax.

Reads like the paper's figure: `encoder` gives stride-4 and stride-16 features, `aspp` pools context at
several rates, `decoder` refines with the low-level features, `deeplabv3plus` wires them together.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
from keras import layers

from training.models import backbones
from training.models.blocks import (
    DEFAULT_BN_MOMENTUM,
    HierarchicalProbabilities,
    SpatialBroadcast,
    check_input_shape,
    conv_bn_relu,
    separable_conv_bn_relu,
)

BACKBONES = ("mobilenetv2", "resnet50")
# "softmax": one softmax over the classes. "hierarchical": a pipe-vs-background logit and a
# corrosion-vs-asset logit (given pipe), combined into the same three probabilities.
HEADS = ("softmax", "hierarchical")


@dataclass(frozen=True)
class DeepLabConfig:
    """DeepLabV3+ settings; defaults follow the paper (output stride 16, rates 6/12/18, separable)."""

    output_stride: int = 16
    aspp_rates: tuple[int, ...] = (6, 12, 18)
    image_pooling: bool = True
    aspp_filters: int = 256
    low_level_filters: int = 48
    decoder_filters: int = 256
    separable: bool = True  # depthwise-separable 3x3 convs in ASPP and decoder
    bn_momentum: float = DEFAULT_BN_MOMENTUM
    dropout: float = 0.1  # after the ASPP projection
    head: str = "softmax"  # one of HEADS

    def __post_init__(self) -> None:
        if self.output_stride != 16:
            raise ValueError("DeepLabV3+ here supports output_stride 16 only (the paper's default)")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")
        if self.head not in HEADS:
            raise ValueError(f"unknown head {self.head!r}; choose one of {', '.join(HEADS)}")


def _conv3x3(x, filters: int, cfg: DeepLabConfig, *, name: str, rate: int = 1):
    block = separable_conv_bn_relu if cfg.separable else conv_bn_relu
    return block(x, filters, 3, name=name, dilation_rate=rate, bn_momentum=cfg.bn_momentum)


def encoder(inputs, backbone: str, cfg: DeepLabConfig, weights: str | None):
    """(low-level features at stride 4, high-level features at stride 16) of the named backbone."""
    if backbone == "mobilenetv2":
        high = backbones.mobilenet_v2(inputs, output_stride=cfg.output_stride, bn_momentum=cfg.bn_momentum)
        low = keras.Model(inputs, high).get_layer(backbones.MOBILENET_V2_LOW_LEVEL).output
        return low, high
    if backbone == "resnet50":
        return backbones.resnet50(inputs, weights=weights)
    raise ValueError(f"unknown DeepLabV3+ backbone {backbone!r}; choose one of {', '.join(BACKBONES)}")


def aspp(x, cfg: DeepLabConfig):
    """Atrous spatial pyramid pooling: 1x1, one 3x3 per rate, image pooling; concat; 1x1 projection."""
    branches = [conv_bn_relu(x, cfg.aspp_filters, 1, name="aspp_1x1", bn_momentum=cfg.bn_momentum)]
    for rate in cfg.aspp_rates:
        branches.append(_conv3x3(x, cfg.aspp_filters, cfg, name=f"aspp_rate{rate}", rate=rate))
    if cfg.image_pooling:
        pooled = layers.GlobalAveragePooling2D(keepdims=True, name="aspp_pool")(x)
        pooled = conv_bn_relu(pooled, cfg.aspp_filters, 1, name="aspp_pool_proj", bn_momentum=cfg.bn_momentum)
        branches.append(SpatialBroadcast(name="aspp_pool_broadcast")([pooled, x]))
    x = layers.Concatenate(name="aspp_concat")(branches)
    x = conv_bn_relu(x, cfg.aspp_filters, 1, name="aspp_projection", bn_momentum=cfg.bn_momentum)
    if cfg.dropout:
        x = layers.Dropout(cfg.dropout, name="aspp_dropout")(x)
    return x


def decoder(x, low_level, cfg: DeepLabConfig):
    """Upsample ASPP output x4, concat with reduced low-level features, refine with two 3x3 convs."""
    low = conv_bn_relu(low_level, cfg.low_level_filters, 1, name="decoder_low", bn_momentum=cfg.bn_momentum)
    x = layers.UpSampling2D(4, interpolation="bilinear", name="decoder_upsample")(x)
    x = layers.Concatenate(name="decoder_concat")([x, low])
    x = _conv3x3(x, cfg.decoder_filters, cfg, name="decoder_conv1")
    return _conv3x3(x, cfg.decoder_filters, cfg, name="decoder_conv2")


def deeplabv3plus(
    input_shape=(256, 256, 3),
    num_classes: int = 3,
    backbone: str = "mobilenetv2",
    cfg: DeepLabConfig | None = None,
    resnet_weights: str | None = None,
) -> keras.Model:
    """The whole network: RGB 0..255 float input, softmax probabilities [N, H, W, num_classes] output.

    MobileNetV2 weights are ported afterwards (`training.weights`); ResNet50 weights load in Keras.
    """
    cfg = cfg or DeepLabConfig()
    inputs = keras.Input(check_input_shape(input_shape, 16), name="image")
    low, high = encoder(inputs, backbone, cfg, resnet_weights)
    x = decoder(aspp(high, cfg), low, cfg)
    hierarchical = cfg.head == "hierarchical"
    if hierarchical and num_classes != 3:
        raise ValueError(
            f"the hierarchical head gives the 3 classes (corrosion, asset, background), not {num_classes}"
        )
    x = layers.Conv2D(2 if hierarchical else num_classes, 1, name="classifier_logits")(x)
    x = layers.UpSampling2D(4, interpolation="bilinear", name="classifier_upsample")(x)
    if hierarchical:
        outputs = HierarchicalProbabilities(name="probabilities")(x)
    else:
        outputs = layers.Activation("softmax", dtype="float32", name="probabilities")(x)
    return keras.Model(inputs, outputs, name=f"deeplabv3plus_{backbone}")
