"""Training loss: class-weighted cross-entropy plus soft Dice, on softmax outputs."""

from __future__ import annotations

from collections.abc import Sequence

import keras
from keras import ops

_EPS = 1e-6


@keras.saving.register_keras_serializable(package="corroscope")
class WeightedCEDiceLoss(keras.losses.Loss):
    """`ce_weight * weighted CE + dice_weight * (1 - mean soft Dice over classes)`.

    `y_true` holds class ids (N x H x W, any integer or float dtype); `y_pred` holds softmax
    probabilities (N x H x W x C). The cross-entropy is a weighted mean: each pixel counts with its
    true class's weight, divided by the sum of those weights. Dice is pooled over the whole batch,
    or with `dice_per_image` computed on each image and averaged (closer to a per-photo score: a small
    region counts as much as a large one, and a class painted where a photo has none is penalised).
    """

    def __init__(
        self,
        class_weights: Sequence[float],
        ce_weight: float = 1.0,
        dice_weight: float = 1.0,
        dice_per_image: bool = False,
        name: str = "weighted_ce_dice",
        **kwargs,
    ) -> None:
        super().__init__(name=name, **kwargs)
        self.class_weights = [float(w) for w in class_weights]
        self.ce_weight = float(ce_weight)
        self.dice_weight = float(dice_weight)
        self.dice_per_image = bool(dice_per_image)

    def call(self, y_true, y_pred):
        num_classes = len(self.class_weights)
        y_pred = ops.cast(y_pred, "float32")
        ids = ops.cast(ops.reshape(y_true, ops.shape(y_pred)[:-1]), "int32")
        onehot = ops.one_hot(ids, num_classes, dtype="float32")
        probs = ops.clip(y_pred, _EPS, 1.0 - _EPS)
        weights = ops.convert_to_tensor(self.class_weights, dtype="float32")
        pixel_w = ops.sum(onehot * weights, axis=-1)
        pixel_ce = -ops.sum(onehot * ops.log(probs), axis=-1)
        ce = ops.sum(pixel_w * pixel_ce) / ops.maximum(ops.sum(pixel_w), _EPS)
        axes = tuple(range(1 if self.dice_per_image else 0, len(y_pred.shape) - 1))
        inter = ops.sum(onehot * y_pred, axis=axes)
        denom = ops.sum(onehot, axis=axes) + ops.sum(y_pred, axis=axes)
        dice = (2.0 * inter + 1.0) / (denom + 1.0)
        total = self.ce_weight * ce + self.dice_weight * (1.0 - ops.mean(dice))
        # One value for the batch; Keras's reduction of a scalar leaves it unchanged.
        return ops.reshape(total, (1,))

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            class_weights=self.class_weights,
            ce_weight=self.ce_weight,
            dice_weight=self.dice_weight,
            dice_per_image=self.dice_per_image,
        )
        return config
