"""AdamW with an encoder learning-rate multiplier and a frozen start."""

from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from training.optimizer import EncoderScaledAdamW  # noqa: E402


def _model() -> keras.Model:
    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="enc_conv")(inputs)
    outputs = keras.layers.Conv2D(3, 1, activation="softmax", name="decoder_conv")(x)
    return keras.Model(inputs, outputs)


def _fit(optimizer, steps: int):
    keras.utils.set_random_seed(0)
    model = _model()
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy")
    before = {v.path: v.numpy().copy() for v in model.trainable_variables}
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, (4, 8, 8, 3)).astype(np.float32)
    y = rng.integers(0, 3, (4, 8, 8))
    model.fit(x, y, batch_size=4, epochs=steps, verbose=0)
    moved = {v.path: not np.allclose(v.numpy(), before[v.path]) for v in model.trainable_variables}
    return model, moved


def test_zero_multiplier_keeps_the_encoder_and_trains_the_head():
    opt = EncoderScaledAdamW(learning_rate=1e-2, encoder_lr_multiplier=0.0)
    _, moved = _fit(opt, 3)
    assert opt.is_encoder("enc_conv/kernel") and not opt.is_encoder("decoder_conv/kernel")
    assert not moved["enc_conv/kernel"] and not moved["enc_conv/bias"]
    assert moved["decoder_conv/kernel"]


def test_frozen_start_then_the_encoder_trains():
    _, moved = _fit(EncoderScaledAdamW(learning_rate=1e-2, freeze_steps=2), 2)
    assert not moved["enc_conv/kernel"] and moved["decoder_conv/kernel"]
    _, moved = _fit(EncoderScaledAdamW(learning_rate=1e-2, freeze_steps=2), 3)
    assert moved["enc_conv/kernel"]


def test_config_round_trip():
    opt = EncoderScaledAdamW(learning_rate=1e-3, encoder_lr_multiplier=0.1, freeze_steps=5)
    again = EncoderScaledAdamW.from_config(opt.get_config())
    assert again.encoder_lr_multiplier == 0.1 and again.freeze_steps == 5
