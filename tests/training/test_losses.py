"""The weighted cross-entropy + Dice loss: its value by hand, serialisation, and that training lowers it."""

from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from training.losses import WeightedCEDiceLoss  # noqa: E402
from training.schedule import WarmupDecay  # noqa: E402


def test_value_matches_hand_computation():
    y_true = np.array([[[0, 1], [2, 2]]], np.uint8)  # 1x2x2
    p = np.array([[[[0.7, 0.2, 0.1], [0.1, 0.6, 0.3]], [[0.2, 0.2, 0.6], [0.1, 0.1, 0.8]]]], np.float32)
    w = [2.0, 1.0, 0.5]
    ce_only = float(WeightedCEDiceLoss(w, ce_weight=1.0, dice_weight=0.0)(y_true, p))
    expected_ce = (2 * -np.log(0.7) + 1 * -np.log(0.6) + 0.5 * -np.log(0.6) + 0.5 * -np.log(0.8)) / 4.0
    assert ce_only == pytest.approx(expected_ce, rel=1e-5)
    dice_only = float(WeightedCEDiceLoss(w, ce_weight=0.0, dice_weight=1.0)(y_true, p))
    # soft Dice per class with +1 smoothing: (2*sum(p*t) + 1) / (sum(t) + sum(p) + 1)
    d0 = (2 * 0.7 + 1) / (1 + (0.7 + 0.1 + 0.2 + 0.1) + 1)
    d1 = (2 * 0.6 + 1) / (1 + (0.2 + 0.6 + 0.2 + 0.1) + 1)
    d2 = (2 * (0.6 + 0.8) + 1) / (2 + (0.1 + 0.3 + 0.6 + 0.8) + 1)
    assert dice_only == pytest.approx(1 - (d0 + d1 + d2) / 3, rel=1e-5)
    both = float(WeightedCEDiceLoss(w)(y_true, p))
    assert both == pytest.approx(expected_ce + 1 - (d0 + d1 + d2) / 3, rel=1e-5)


def test_per_image_dice_averages_each_photo():
    """Two photos: a class filling one photo and absent from the other counts once per photo."""
    y_true = np.array([[[0, 0]], [[1, 1]]], np.uint8)  # 2x1x2
    p = np.array([[[[0.9, 0.1, 0.0], [0.5, 0.5, 0.0]]], [[[0.2, 0.8, 0.0], [0.0, 1.0, 0.0]]]], np.float32)
    loss = WeightedCEDiceLoss([1.0, 1.0, 1.0], ce_weight=0.0, dice_per_image=True)

    def dice(inter, truth, pred):
        return (2 * inter + 1) / (truth + pred + 1)

    photo1 = [dice(1.4, 2, 1.4), dice(0, 0, 0.6), dice(0, 0, 0)]
    photo2 = [dice(0, 0, 0.2), dice(1.8, 2, 1.8), dice(0, 0, 0)]
    expected = 1 - (sum(photo1) + sum(photo2)) / 6
    assert float(loss(y_true, p)) == pytest.approx(expected, rel=1e-5)
    pooled = WeightedCEDiceLoss([1.0, 1.0, 1.0], ce_weight=0.0)
    assert float(pooled(y_true, p)) != pytest.approx(expected, rel=1e-3)


def test_share_term_is_the_mean_l1_of_each_pipe_photos_soft_share():
    """Photo 1: truth 1 corroded of 2 pipe pixels (0.5); soft share (0.6 + 0.2) / (0.6 + 0.2 + 0.3 + 0.7)
    = 0.444. Photo 2: background only, no share: left out of the mean."""
    y_true = np.array([[[0, 1], [2, 2]], [[2, 2], [2, 2]]], np.uint8)  # 2x2x2
    p1 = [[[0.6, 0.3, 0.1], [0.2, 0.7, 0.1]], [[0.0, 0.0, 1.0], [0.0, 0.0, 1.0]]]
    p2 = [[[0.5, 0.2, 0.3], [0.0, 0.0, 1.0]], [[0.0, 0.0, 1.0], [0.0, 0.0, 1.0]]]
    p = np.array([p1, p2], np.float32)
    share_only = WeightedCEDiceLoss([1.0, 1.0, 1.0], ce_weight=0.0, dice_weight=0.0, share_weight=2.0)
    assert float(share_only(y_true, p)) == pytest.approx(2.0 * abs(0.8 / 1.8 - 0.5), rel=1e-5)
    plain = WeightedCEDiceLoss([1.0, 1.0, 1.0])
    assert float(WeightedCEDiceLoss([1.0, 1.0, 1.0], share_weight=1.0)(y_true, p)) == pytest.approx(
        float(plain(y_true, p)) + abs(0.8 / 1.8 - 0.5), rel=1e-5
    )
    again = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(share_only))
    assert again.share_weight == 2.0


def test_perfect_prediction_is_near_zero():
    y_true = np.array([[[0, 1], [2, 2]]], np.uint8)
    p = np.eye(3, dtype=np.float32)[y_true]
    assert float(WeightedCEDiceLoss([1.0, 1.0, 1.0])(y_true, p)) < 1e-3


def test_config_round_trip():
    loss = WeightedCEDiceLoss([3.0, 1.0, 0.5], dice_weight=0.5, dice_per_image=True)
    again = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(loss))
    assert again.class_weights == [3.0, 1.0, 0.5] and again.dice_weight == 0.5 and again.dice_per_image


def test_schedule_warms_up_then_decays_to_the_floor():
    s = WarmupDecay(1e-3, total_steps=100, warmup_steps=10, kind="cosine", min_ratio=0.01)
    lrs = [float(s(i)) for i in range(0, 120, 5)]
    assert lrs[0] < lrs[1] < float(s(10))
    assert float(s(10)) == pytest.approx(1e-3, rel=1e-3)
    assert float(s(55)) == pytest.approx(1e-5 + (1e-3 - 1e-5) * 0.5, rel=1e-3)
    assert float(s(100)) == pytest.approx(1e-5, rel=1e-3) and float(s(119)) == pytest.approx(1e-5, rel=1e-3)
    poly = WarmupDecay(1e-3, total_steps=100, warmup_steps=0, kind="poly", power=1.0, min_ratio=0.0)
    assert float(poly(50)) == pytest.approx(5e-4, rel=1e-3)


def test_training_lowers_the_loss(pipe_pair):
    """A tiny conv net on synthetic pipes: the loss after 30 steps is clearly below the first one."""
    keras.utils.set_random_seed(0)
    pairs = [pipe_pair(s, 32) for s in range(8)]
    x = np.stack([p[0] for p in pairs]).astype(np.float32)
    y = np.stack([p[1] for p in pairs])
    inputs = keras.Input((32, 32, 3))
    h = keras.layers.Rescaling(1 / 255.0)(inputs)
    h = keras.layers.Conv2D(8, 3, padding="same", activation="relu")(h)
    h = keras.layers.Conv2D(8, 3, padding="same", activation="relu")(h)
    outputs = keras.layers.Conv2D(3, 1, activation="softmax")(h)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss=WeightedCEDiceLoss([2.0, 1.0, 1.0]))
    first = float(model.evaluate(x, y, verbose=0))
    model.fit(x, y, batch_size=4, epochs=15, verbose=0)
    last = float(model.evaluate(x, y, verbose=0))
    assert last < 0.7 * first
