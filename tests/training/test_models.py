"""One shared test base that every architecture passes: shape, softmax, any size, save/load, settings."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np
import pytest

from training.models import DeepLabConfig, build_model, count_flops, load_model, rebuild

ARCHS = [("deeplabv3plus", "mobilenetv2"), ("deeplabv3plus", "resnet50"), ("unet", None)]
IDS = ["deeplab-mobilenetv2", "deeplab-resnet50", "unet"]


def _photos(n: int, h: int, w: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0, 255, (n, h, w, 3)).astype(np.float32)


@pytest.fixture(params=ARCHS, ids=IDS)
def arch(request):
    return request.param


def test_forward_gives_softmax_probabilities_at_input_size(arch):
    model = build_model(*arch, input_shape=(64, 64, 3), num_classes=3)
    probs = np.asarray(model(_photos(2, 64, 64), training=False))
    assert probs.shape == (2, 64, 64, 3)
    assert probs.dtype == np.float32
    np.testing.assert_allclose(probs.sum(axis=-1), 1.0, atol=1e-5)
    assert (probs >= 0).all()
    # Different photos give different outputs: the input reaches the output. (Untrained BatchNorm in
    # inference mode shrinks activations to ~1e-6 through a deep net, so compare in training mode.)
    train_probs = np.asarray(model(_photos(2, 64, 64), training=True))
    assert np.abs(train_probs[0] - train_probs[1]).max() > 1e-3


@pytest.mark.parametrize("shape", [(128, 96, 3), (None, None, 3)], ids=["128x96", "dynamic"])
def test_any_size_divisible_by_16(arch, shape):
    model = build_model(*arch, input_shape=shape, num_classes=4)
    for h, w in [(128, 96)] if shape[0] else [(64, 64), (128, 96), (48, 80)]:
        probs = np.asarray(model(_photos(1, h, w), training=False))
        assert probs.shape == (1, h, w, 4)
        np.testing.assert_allclose(probs.sum(axis=-1), 1.0, atol=1e-5)


def test_save_and_load_round_trip_in_safe_mode(arch, tmp_path):
    model = build_model(*arch, input_shape=(None, None, 3))
    photos = _photos(1, 64, 64, seed=3)
    before = np.asarray(model(photos, training=False))
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = load_model(path)
    np.testing.assert_allclose(np.asarray(loaded(photos, training=False)), before, atol=1e-6)
    assert loaded.name == model.name


def test_mixed_precision_keeps_float32_softmax(arch):
    keras.mixed_precision.set_dtype_policy("mixed_float16")
    try:
        model = build_model(*arch, input_shape=(64, 64, 3))
        assert any(layer.compute_dtype == "float16" for layer in model.layers)
        probs = model(_photos(1, 64, 64), training=False)
        assert probs.dtype == "float32"
        np.testing.assert_allclose(np.asarray(probs).sum(axis=-1), 1.0, atol=1e-3)
    finally:
        keras.mixed_precision.set_dtype_policy("float32")


def test_bad_input_shape_says_what_to_do():
    with pytest.raises(ValueError, match="multiples of 16"):
        build_model("deeplabv3plus", "mobilenetv2", input_shape=(100, 100, 3))
    with pytest.raises(ValueError, match=r"\(H, W, 3\)"):
        build_model("unet", input_shape=(64, 64, 1))


def test_unknown_names_and_settings_are_refused():
    with pytest.raises(ValueError, match="unknown architecture"):
        build_model("segformer")
    with pytest.raises(ValueError, match="unknown DeepLabV3\\+ backbone"):
        build_model("deeplabv3plus", "vgg16")
    with pytest.raises(ValueError, match="aspp_ratez"):
        build_model("deeplabv3plus", "mobilenetv2", aspp_ratez=(1, 2))
    with pytest.raises(ValueError, match="no backbone"):
        build_model("unet", "resnet50")


def test_deeplab_settings_reach_the_graph():
    model = build_model(
        "deeplabv3plus",
        "mobilenetv2",
        input_shape=(64, 64, 3),
        aspp_rates=[3, 6],
        decoder_filters=32,
        aspp_filters=64,
        dropout=0.0,
    )
    names = {layer.name for layer in model.layers}
    assert {"aspp_rate3_depthwise", "aspp_rate6_depthwise", "decoder_conv2_depthwise"} <= names
    assert "aspp_rate12_depthwise" not in names and "aspp_dropout" not in names
    assert model.get_layer("aspp_rate6_depthwise").dilation_rate == (6, 6)
    assert model.get_layer("decoder_conv2_pointwise_conv").filters == 32
    bns = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    assert bns and all(bn.momentum == DeepLabConfig().bn_momentum == 0.9 for bn in bns)
    plain = build_model(
        "deeplabv3plus",
        "mobilenetv2",
        input_shape=(64, 64, 3),
        decoder_filters=32,
        aspp_filters=64,
        aspp_rates=[3, 6],
        dropout=0.0,
        separable=False,
    )
    assert plain.get_layer("decoder_conv1_conv").kernel_size == (3, 3)
    assert count_flops(plain) > count_flops(model) > 0


def test_mobilenet_encoder_taps_strides_and_dilation():
    model = build_model("deeplabv3plus", "mobilenetv2", input_shape=(128, 128, 3))
    assert model.get_layer("mnv2_block4_expand_relu").output.shape[1:] == (32, 32, 144)  # stride 4
    assert model.get_layer("mnv2_block17_project_bn").output.shape[1:] == (8, 8, 320)  # stride 16
    assert model.get_layer("mnv2_block14_dw").strides == (1, 1)  # stride 32 replaced by dilation
    assert model.get_layer("mnv2_block15_dw").dilation_rate == (2, 2)


def test_count_flops_matches_a_hand_count():
    inputs = keras.Input((32, 32, 3))
    x = keras.layers.Conv2D(8, 3, padding="same", use_bias=False)(inputs)
    x = keras.layers.DepthwiseConv2D(3, padding="same", use_bias=False)(x)
    x = keras.layers.Conv2DTranspose(4, 2, strides=2, use_bias=False)(x)
    model = keras.Model(inputs, x)
    expected = 2 * (32 * 32 * 9 * 3 * 8 + 32 * 32 * 9 * 8 + 32 * 32 * 4 * 8 * 4)
    assert count_flops(model, (32, 32, 3)) == pytest.approx(expected / 1e9)


def test_rebuild_changes_input_size_and_precision_keeping_weights():
    keras.mixed_precision.set_dtype_policy("mixed_float16")
    try:
        model = build_model("unet", input_shape=(32, 32, 3), base_filters=4, depth=2)
    finally:
        keras.mixed_precision.set_dtype_policy("float32")
    copy = rebuild(model, (64, 48, 3), float32=True)
    assert copy.input_shape == (None, 64, 48, 3)
    assert all(layer.compute_dtype == "float32" for layer in copy.layers)
    for a, b in zip(model.get_weights(), copy.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    photos = _photos(1, 64, 48)
    dynamic = rebuild(model, (None, None, 3), float32=True)
    np.testing.assert_allclose(np.asarray(copy(photos)), np.asarray(dynamic(photos)), atol=1e-6)


def test_rebuild_turns_keras_normalization_into_rescaling():
    inputs = keras.Input((None, None, 3))
    x = keras.layers.Normalization(mean=[120.0, 110.0, 100.0], variance=[3600.0, 2500.0, 1600.0])(inputs)
    model = keras.Model(inputs, keras.layers.Conv2D(2, 1)(x))
    copy = rebuild(model)
    assert not any(isinstance(layer, keras.layers.Normalization) for layer in copy.layers)
    photos = _photos(2, 16, 16)
    np.testing.assert_allclose(np.asarray(copy(photos)), np.asarray(model(photos)), rtol=1e-5, atol=1e-5)
