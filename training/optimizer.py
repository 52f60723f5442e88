"""AdamW with a separate learning-rate multiplier for the encoder, and an optional frozen start.

A pretrained encoder usually wants a smaller learning rate than the freshly initialised head. Keras
has no per-layer learning rates, so `update_step` scales the rate for every variable that is not
in the head (layer names starting with one of `head_prefixes`). For the first `freeze_steps` steps
the encoder's rate is 0 (its BatchNorm statistics still adapt to the new data).
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
from keras import ops

# Layer-name prefixes of the DeepLabV3+ head in `training.models.deeplabv3plus`.
DEEPLAB_HEAD_PREFIXES = ("aspp_", "decoder_", "classifier_", "probabilities")


@keras.saving.register_keras_serializable(package="corroscope")
class EncoderScaledAdamW(keras.optimizers.AdamW):
    def __init__(
        self,
        encoder_lr_multiplier: float = 1.0,
        freeze_steps: int = 0,
        head_prefixes: Sequence[str] = DEEPLAB_HEAD_PREFIXES,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.encoder_lr_multiplier = float(encoder_lr_multiplier)
        self.freeze_steps = int(freeze_steps)
        self.head_prefixes = tuple(head_prefixes)
        self._encoder_mask: list[bool] = []

    def is_encoder(self, path: str) -> bool:
        name = path.split("/")[-2] if "/" in path else path
        return not any(name.startswith(p) or path.startswith(p) for p in self.head_prefixes)

    def build(self, var_list) -> None:
        super().build(var_list)
        self._encoder_mask = [self.is_encoder(v.path) for v in var_list]

    def _in_encoder(self, variable) -> bool:
        return bool(self._encoder_mask) and self._encoder_mask[self._get_variable_index(variable)]

    def _use_weight_decay(self, variable) -> bool:
        # Encoder variables decay in `update_step`, at the encoder's (scaled) learning rate.
        return not self._in_encoder(variable) and super()._use_weight_decay(variable)

    def update_step(self, gradient, variable, learning_rate):
        if self._in_encoder(variable):
            scale = ops.where(self.iterations < self.freeze_steps, 0.0, self.encoder_lr_multiplier)
            learning_rate = ops.cast(learning_rate, variable.dtype) * ops.cast(scale, variable.dtype)
            if self.weight_decay:
                variable.assign_sub(variable * ops.cast(self.weight_decay, variable.dtype) * learning_rate)
        return super().update_step(gradient, variable, learning_rate)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            encoder_lr_multiplier=self.encoder_lr_multiplier,
            freeze_steps=self.freeze_steps,
            head_prefixes=list(self.head_prefixes),
        )
        return config
