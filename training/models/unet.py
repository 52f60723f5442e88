"""U-Net (Ronneberger et al., 2015), the origin's baseline: conv blocks down, transposed convs up, skips."""

from __future__ import annotations

from dataclasses import dataclass

import keras
from keras import layers

from training.models.blocks import DEFAULT_BN_MOMENTUM, check_input_shape, conv_bn_relu, softmax_head


@dataclass(frozen=True)
class UNetConfig:
    """U-Net width and depth; base 16, depth 4 keeps it trainable on a 2-core CPU."""

    base_filters: int = 16
    depth: int = 4  # number of 2x downsamplings (input sides must be multiples of 2**depth)
    bn_momentum: float = DEFAULT_BN_MOMENTUM
    dropout: float = 0.1  # at the bottleneck

    def __post_init__(self) -> None:
        if self.base_filters < 1 or not 1 <= self.depth <= 6:
            raise ValueError("U-Net needs base_filters >= 1 and depth 1..6")


def double_conv(x, filters: int, cfg: UNetConfig, *, name: str):
    x = conv_bn_relu(x, filters, 3, name=f"{name}_a", bn_momentum=cfg.bn_momentum)
    return conv_bn_relu(x, filters, 3, name=f"{name}_b", bn_momentum=cfg.bn_momentum)


def unet(input_shape=(256, 256, 3), num_classes: int = 3, cfg: UNetConfig | None = None) -> keras.Model:
    """RGB 0..255 float input (scaled to -1..1 inside), softmax probabilities output."""
    cfg = cfg or UNetConfig()
    inputs = keras.Input(check_input_shape(input_shape, 2**cfg.depth), name="image")
    x = layers.Rescaling(1.0 / 127.5, offset=-1.0, dtype="float32", name="unet_rescale")(inputs)
    skips = []
    for level in range(cfg.depth):
        x = double_conv(x, cfg.base_filters * 2**level, cfg, name=f"down{level}")
        skips.append(x)
        x = layers.MaxPooling2D(2, name=f"down{level}_pool")(x)
    x = double_conv(x, cfg.base_filters * 2**cfg.depth, cfg, name="bottleneck")
    if cfg.dropout:
        x = layers.Dropout(cfg.dropout, name="bottleneck_dropout")(x)
    for level in reversed(range(cfg.depth)):
        filters = cfg.base_filters * 2**level
        x = layers.Conv2DTranspose(filters, 2, strides=2, name=f"up{level}_transpose")(x)
        x = layers.Concatenate(name=f"up{level}_concat")([x, skips[level]])
        x = double_conv(x, filters, cfg, name=f"up{level}")
    return keras.Model(inputs, softmax_head(x, num_classes), name="unet")
