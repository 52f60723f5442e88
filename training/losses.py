"""Training losses on the model's class probabilities: class-weighted cross-entropy plus soft Dice for
the softmax head, and its two-head counterpart for the hierarchical head (`loss_for` picks by setting)."""

from __future__ import annotations

from collections.abc import Sequence

import keras
from keras import ops

from app.core.palette import DEFAULT_CLASSES

_EPS = 1e-6
# The hierarchical loss takes logs of products of sigmoids: far smaller than _EPS and still exact in
# float32, so it floors them much lower (a pixel's loss is capped at -log(_TINY) = 27.6).
_TINY = 1e-12


def _soft_dice(truth, pred, axes) -> object:
    """(2 sum(p t) + 1) / (sum t + sum p + 1) over `axes`, per class (the last axis)."""
    inter = ops.sum(truth * pred, axis=axes)
    return (2.0 * inter + 1.0) / (ops.sum(truth, axis=axes) + ops.sum(pred, axis=axes) + 1.0)


def share_l1(onehot, y_pred, corrosion: int, asset: int) -> object:
    """Mean over the batch's images that show a pipe of |soft share - true share|, the share being
    corrosion / (corrosion + asset) in 0..1: the figure the app signs, as a differentiable term."""
    axes = tuple(range(1, len(y_pred.shape) - 1))
    pred_c, pred_a = ops.sum(y_pred[..., corrosion], axis=axes), ops.sum(y_pred[..., asset], axis=axes)
    true_c, true_a = ops.sum(onehot[..., corrosion], axis=axes), ops.sum(onehot[..., asset], axis=axes)
    pred = pred_c / ops.maximum(pred_c + pred_a, _EPS)
    true = true_c / ops.maximum(true_c + true_a, _EPS)
    has_pipe = ops.cast(true_c + true_a >= 1.0, "float32")  # a crop of background alone has no share
    return ops.sum(has_pipe * ops.abs(pred - true)) / ops.maximum(ops.sum(has_pipe), 1.0)


def _dice_axes(y_pred, per_image: bool) -> tuple[int, ...]:
    """The axes Dice sums over: the pixels of the whole batch, or of each image (`per_image`)."""
    return tuple(range(1 if per_image else 0, len(y_pred.shape) - 1))


@keras.saving.register_keras_serializable(package="corroscope")
class WeightedCEDiceLoss(keras.losses.Loss):
    """`ce_weight * weighted CE + dice_weight * (1 - mean soft Dice over classes)`, plus
    `share_weight * share_l1` (each image's soft corroded share against its true one).

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
        share_weight: float = 0.0,
        name: str = "weighted_ce_dice",
        **kwargs,
    ) -> None:
        super().__init__(name=name, **kwargs)
        self.class_weights = [float(w) for w in class_weights]
        self.ce_weight = float(ce_weight)
        self.dice_weight = float(dice_weight)
        self.dice_per_image = bool(dice_per_image)
        self.share_weight = float(share_weight)

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
        dice = _soft_dice(onehot, y_pred, _dice_axes(y_pred, self.dice_per_image))
        total = self.ce_weight * ce + self.dice_weight * (1.0 - ops.mean(dice))
        if self.share_weight:
            names = [c.name for c in DEFAULT_CLASSES]
            share = share_l1(onehot, y_pred, names.index("corrosion"), names.index("asset"))
            total = total + self.share_weight * share
        # One value for the batch; Keras's reduction of a scalar leaves it unchanged.
        return ops.reshape(total, (1,))

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            class_weights=self.class_weights,
            ce_weight=self.ce_weight,
            dice_weight=self.dice_weight,
            dice_per_image=self.dice_per_image,
            share_weight=self.share_weight,
        )
        return config


def lovasz_hinge_per_image(logits, truth):
    """Lovász hinge (Berman et al., 2018) of a binary logit map, on each image, averaged: a convex
    surrogate of 1 - IoU of the positive class. `logits` and `truth` (0/1) are N x ... (flattened)."""
    n = ops.shape(logits)[0]
    logits = ops.reshape(logits, (n, -1))
    truth = ops.reshape(ops.cast(truth, "float32"), (n, -1))
    errors = 1.0 - logits * (2.0 * truth - 1.0)
    order = ops.argsort(-errors, axis=1)
    errors = ops.take_along_axis(errors, order, axis=1)
    gt = ops.take_along_axis(truth, order, axis=1)
    total = ops.sum(truth, axis=1, keepdims=True)
    jaccard = 1.0 - (total - ops.cumsum(gt, axis=1)) / (total + ops.cumsum(1.0 - gt, axis=1))
    # the IoU loss's gain from each next error, in decreasing order of error
    grad = ops.concatenate([jaccard[:, :1], jaccard[:, 1:] - jaccard[:, :-1]], axis=1)
    return ops.mean(ops.sum(ops.relu(errors) * ops.stop_gradient(grad), axis=1))


@keras.saving.register_keras_serializable(package="corroscope")
class HierarchicalLoss(keras.losses.Loss):
    """The loss of the hierarchical head (`training.models.HierarchicalProbabilities`).

    `y_pred` holds (corrosion, asset, background) = (P(pipe) s, P(pipe) (1 - s), 1 - P(pipe)), with
    s = P(corrosion | pipe); the loss reads the two heads back from them. Pipe head: class-weighted
    binary cross-entropy over every pixel (a pixel counts with its true class's weight) plus soft Dice of
    pipe and background. Split head: the same on true pipe pixels only (true corrosion or asset), so where
    the pipe is has no say in how it is split. Optionally a per-image Lovász hinge on the pipe logit.
    """

    def __init__(
        self,
        class_weights: Sequence[float],
        ce_weight: float = 1.0,
        dice_weight: float = 1.0,
        dice_per_image: bool = False,
        lovasz_weight: float = 0.0,
        name: str = "hierarchical",
        **kwargs,
    ) -> None:
        super().__init__(name=name, **kwargs)
        if len(class_weights) != 3:
            raise ValueError(f"the hierarchical loss wants 3 class weights, got {len(class_weights)}")
        self.class_weights = [float(w) for w in class_weights]
        self.ce_weight = float(ce_weight)
        self.dice_weight = float(dice_weight)
        self.dice_per_image = bool(dice_per_image)
        self.lovasz_weight = float(lovasz_weight)

    def call(self, y_true, y_pred):
        y_pred = ops.cast(y_pred, "float32")
        ids = ops.cast(ops.reshape(y_true, ops.shape(y_pred)[:-1]), "int32")
        onehot = ops.one_hot(ids, 3, dtype="float32")
        is_corr, is_asset = onehot[..., 0], onehot[..., 1]
        is_pipe = is_corr + is_asset
        corr, asset, bg = y_pred[..., 0], y_pred[..., 1], y_pred[..., 2]
        log_pipe = ops.log(ops.maximum(corr + asset, _TINY))
        log_bg = ops.log(ops.maximum(bg, _TINY))
        log_corr_given = ops.log(ops.maximum(corr, _TINY)) - log_pipe
        log_asset_given = ops.log(ops.maximum(asset, _TINY)) - log_pipe
        pixel_w = ops.sum(onehot * ops.convert_to_tensor(self.class_weights, dtype="float32"), axis=-1)
        pipe_ce = -(is_pipe * log_pipe + (1.0 - is_pipe) * log_bg)
        split_ce = -(is_corr * log_corr_given + is_asset * log_asset_given)
        ce = ops.sum(pixel_w * pipe_ce) / ops.maximum(ops.sum(pixel_w), _EPS)
        ce += ops.sum(pixel_w * split_ce) / ops.maximum(ops.sum(pixel_w * is_pipe), _EPS)
        total = self.ce_weight * ce
        if self.dice_weight:
            total += self.dice_weight * (1.0 - ops.mean(self._dice(onehot, y_pred, log_corr_given)))
        if self.lovasz_weight:
            total += self.lovasz_weight * lovasz_hinge_per_image(log_pipe - log_bg, is_pipe)
        return ops.reshape(total, (1,))

    def _dice(self, onehot, y_pred, log_corr_given):
        """Soft Dice of pipe and background, and of corrosion and asset given pipe on true pipe pixels."""
        is_pipe = onehot[..., 0] + onehot[..., 1]
        pipe_pred = ops.stack([y_pred[..., 0] + y_pred[..., 1], y_pred[..., 2]], axis=-1)
        pipe_true = ops.stack([is_pipe, onehot[..., 2]], axis=-1)
        s = ops.exp(log_corr_given)
        split_pred = ops.stack([s, 1.0 - s], axis=-1) * is_pipe[..., None]
        axes = _dice_axes(y_pred, self.dice_per_image)
        dice = [_soft_dice(pipe_true, pipe_pred, axes), _soft_dice(onehot[..., :2], split_pred, axes)]
        return ops.concatenate(dice, axis=-1)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            class_weights=self.class_weights,
            ce_weight=self.ce_weight,
            dice_weight=self.dice_weight,
            dice_per_image=self.dice_per_image,
            lovasz_weight=self.lovasz_weight,
        )
        return config


def loss_for(
    model_settings: dict,
    class_weights: Sequence[float],
    dice_weight: float = 1.0,
    dice_per_image: bool = False,
    lovasz_weight: float = 0.0,
    share_weight: float = 0.0,
) -> keras.losses.Loss:
    """The loss that fits the model built with `model_settings`: its head decides."""
    if model_settings.get("head", "softmax") == "hierarchical":
        if share_weight:
            raise ValueError("the share term is on the softmax head; the hierarchical head has none")
        names = tuple(c.name for c in DEFAULT_CLASSES)
        if names != ("corrosion", "asset", "background"):  # the order HierarchicalProbabilities gives
            raise ValueError(f"the hierarchical head gives corrosion, asset, background, not {names}")
        return HierarchicalLoss(
            class_weights, dice_weight=dice_weight, dice_per_image=dice_per_image, lovasz_weight=lovasz_weight
        )
    if lovasz_weight:
        raise ValueError('the Lovász hinge is on the pipe head: add --model-setting head="hierarchical"')
    return WeightedCEDiceLoss(
        class_weights, dice_weight=dice_weight, dice_per_image=dice_per_image, share_weight=share_weight
    )
