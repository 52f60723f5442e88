"""The hierarchical head: the three contract probabilities from a pipe head and a split head, its loss
(by hand, and blind to the split of background pixels), the Lovász hinge, training, resume and export."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from training import export  # noqa: E402
from training.losses import (  # noqa: E402
    HierarchicalLoss,
    WeightedCEDiceLoss,
    loss_for,
    lovasz_hinge_per_image,
)
from training.models import HierarchicalProbabilities, build_model, load_model  # noqa: E402

SMALL = {"aspp_filters": 16, "decoder_filters": 16, "low_level_filters": 8}


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _heads(pipe: np.ndarray, split: np.ndarray) -> np.ndarray:
    """(corrosion, asset, background) from P(pipe) and P(corrosion | pipe)."""
    return np.stack([pipe * split, pipe * (1 - split), 1 - pipe], axis=-1).astype(np.float32)


def test_head_gives_three_probabilities_that_factor_and_sum_to_one():
    keras.utils.set_random_seed(0)
    model = build_model("deeplabv3plus", "mobilenetv2", input_shape=(64, 64, 3), head="hierarchical", **SMALL)
    photos = np.random.default_rng(0).uniform(0, 255, (2, 64, 64, 3)).astype(np.float32)
    probs = np.asarray(model(photos, training=False))
    assert probs.shape == (2, 64, 64, 3) and probs.dtype == np.float32
    np.testing.assert_allclose(probs.sum(-1), 1.0, atol=1e-6)
    logits = np.asarray(keras.Model(model.input, model.get_layer("classifier_upsample").output)(photos))
    assert logits.shape[-1] == 2
    expected = _heads(_sigmoid(logits[..., 0]), _sigmoid(logits[..., 1]))
    np.testing.assert_allclose(probs, expected, atol=1e-6)


def test_layer_keeps_tiny_probabilities_and_round_trips():
    layer = HierarchicalProbabilities()
    out = np.asarray(layer(np.array([[[[-60.0, 3.0], [60.0, -40.0]]]], np.float32)))
    assert out[0, 0, 0, 0] > 0 and out[0, 0, 0, 2] == pytest.approx(1.0)  # P(pipe) ~ 1e-26, not 0
    assert out[0, 0, 1, 1] > 0.99 and out[0, 0, 1, 2] > 0  # background ~ 1e-26, not 1 - 1
    again = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert isinstance(again, HierarchicalProbabilities)


def test_loss_by_hand():
    y_true = np.array([[[0, 1], [2, 2]]], np.uint8)  # corrosion, asset, background, background
    pipe = np.array([[[0.9, 0.6], [0.2, 0.3]]])
    split = np.array([[[0.8, 0.3], [0.5, 0.9]]])
    p = _heads(pipe, split)
    w = [2.0, 1.0, 0.5]
    ce = float(HierarchicalLoss(w, dice_weight=0.0)(y_true, p))
    pipe_ce = (2 * -np.log(0.9) + 1 * -np.log(0.6) + 0.5 * -np.log(0.8) + 0.5 * -np.log(0.7)) / 4.0
    split_ce = (2 * -np.log(0.8) + 1 * -np.log(0.7)) / 3.0  # true pipe pixels only
    assert ce == pytest.approx(pipe_ce + split_ce, rel=1e-5)

    def dice(inter, truth, pred):
        return (2 * inter + 1) / (truth + pred + 1)

    pipe_dice = dice(0.9 + 0.6, 2, 0.9 + 0.6 + 0.2 + 0.3)
    bg_dice = dice(0.8 + 0.7, 2, 0.1 + 0.4 + 0.8 + 0.7)
    corr_dice = dice(0.8, 1, 0.8 + 0.3)
    asset_dice = dice(0.7, 1, 0.2 + 0.7)
    expected_dice = 1 - (pipe_dice + bg_dice + corr_dice + asset_dice) / 4
    assert float(HierarchicalLoss(w, ce_weight=0.0)(y_true, p)) == pytest.approx(expected_dice, rel=1e-5)


@pytest.mark.parametrize("per_image", [False, True])
def test_split_of_background_pixels_does_not_count(per_image):
    y_true = np.array([[[0, 1], [2, 2]], [[2, 2], [2, 2]]], np.uint8)
    pipe = np.array([[[0.9, 0.6], [0.2, 0.3]], [[0.4, 0.1], [0.2, 0.3]]])
    split = np.array([[[0.8, 0.3], [0.5, 0.9]], [[0.5, 0.5], [0.5, 0.5]]])
    resplit = split.copy()
    resplit[0, 1], resplit[1] = [0.05, 0.99], 0.01  # background pixels only
    loss = HierarchicalLoss([2.0, 1.0, 0.5], dice_per_image=per_image, lovasz_weight=1.0)
    base = float(loss(y_true, _heads(pipe, split)))
    assert float(loss(y_true, _heads(pipe, resplit))) == pytest.approx(base, rel=1e-6)
    resplit[0, 0, 1] = 0.9  # the true asset pixel now leans to corrosion: the split head pays
    assert float(loss(y_true, _heads(pipe, resplit))) > base + 0.1


def _lovasz_reference(logits: np.ndarray, truth: np.ndarray) -> float:
    """Berman et al.'s `lovasz_hinge(per_image=True)`, in numpy."""
    losses = []
    for z, t in zip(logits.reshape(len(logits), -1), truth.reshape(len(truth), -1), strict=True):
        errors = 1.0 - z * (2.0 * t - 1.0)
        order = np.argsort(-errors, kind="stable")
        gt = t[order]
        inter = gt.sum() - np.cumsum(gt)
        union = gt.sum() + np.cumsum(1 - gt)
        jaccard = 1.0 - inter / union
        jaccard[1:] = jaccard[1:] - jaccard[:-1]
        losses.append(float(np.maximum(errors[order], 0) @ jaccard))
    return float(np.mean(losses))


def test_lovasz_hinge_matches_the_reference():
    rng = np.random.default_rng(3)
    logits = rng.normal(0, 2, (3, 5, 7)).astype(np.float32)
    truth = (rng.uniform(size=(3, 5, 7)) < 0.4).astype(np.float32)
    truth[2] = 0  # an image with no pipe
    ours = float(lovasz_hinge_per_image(logits, truth))
    assert ours == pytest.approx(_lovasz_reference(logits, truth), rel=1e-5)
    confident = np.where(truth > 0, 5.0, -5.0).astype(np.float32)
    assert float(lovasz_hinge_per_image(confident, truth)) == 0.0
    assert float(lovasz_hinge_per_image(np.zeros_like(logits), truth)) == pytest.approx(1.0)


def test_loss_follows_the_head_and_round_trips():
    assert isinstance(loss_for({}, [1.0, 1.0, 1.0]), WeightedCEDiceLoss)
    loss = loss_for({"head": "hierarchical"}, [3.0, 1.0, 0.5], 0.5, True, 0.25)
    assert isinstance(loss, HierarchicalLoss)
    again = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(loss))
    assert isinstance(again, HierarchicalLoss) and again.get_config() == loss.get_config()
    with pytest.raises(ValueError, match="head="):
        loss_for({}, [1.0, 1.0, 1.0], lovasz_weight=1.0)
    with pytest.raises(ValueError, match="head"):
        build_model("deeplabv3plus", "mobilenetv2", input_shape=(64, 64, 3), head="tree")


@pytest.mark.slow
def test_train_resume_and_export(tiny_origin_dataset: Path, tmp_path: Path):
    """Trained by the CLI, stopped and resumed (the loss comes back with the model), then exported: the
    ONNX file gives the three probabilities, summing to 1, as Keras does."""
    from app.core.model import SegmentationModel
    from app.core.synthetic import synthetic_pipe
    from training.train import main

    out = tmp_path / "run"
    argv = [
        "--data",
        str(tiny_origin_dataset),
        "--out",
        str(out),
        "--arch",
        "deeplabv3plus",
        "--batch-size",
        "4",
        "--crop",
        "32",
        "--input-size",
        "64",
        "--split-from-lists",
        "--epochs",
        "2",
        "--lovasz-weight",
        "0.5",
        "--model-setting",
        'head="hierarchical"',
        *(f"--model-setting={k}={v}" for k, v in SMALL.items()),
    ]
    assert main([*argv, "--max-minutes", "0.0001"]) == 0  # stops after one epoch on the time budget
    state = json.loads((out / "state.json").read_text())
    assert state["epoch"] == 1 and not state["finished"]
    saved = keras.models.load_model(out / "last.keras")
    assert isinstance(saved.loss, HierarchicalLoss) and saved.loss.lovasz_weight == 0.5
    assert main(argv) == 0
    assert json.loads((out / "state.json").read_text())["finished"]
    config = json.loads((out / "config.json").read_text())
    assert config["model_settings"]["head"] == "hierarchical" and config["lovasz_weight"] == 0.5

    onnx_path, report = tmp_path / "h.onnx", tmp_path / "report.json"
    argv = [
        "--model",
        str(out / "best.keras"),
        "--out",
        str(onnx_path),
        "--parity-count",
        "3",
        "--report",
        str(report),
    ]
    assert export.main(argv) == 0
    parity = json.loads(report.read_text())["parity"]
    assert parity["max_abs_diff"] < 1e-4 and parity["argmax_agreement"] >= 99.9
    photos = np.stack([synthetic_pipe(200 + i, 64)[0] for i in range(2)])
    onnx_probs = SegmentationModel.load(onnx_path, device="cpu").predict(photos)
    assert onnx_probs.shape == (2, 64, 64, 3)
    np.testing.assert_allclose(onnx_probs.sum(-1), 1.0, atol=1e-5)
    keras_probs = np.asarray(load_model(out / "best.keras")(photos.astype(np.float32), training=False))
    np.testing.assert_allclose(onnx_probs, keras_probs, atol=1e-4)


@pytest.mark.slow
def test_a_few_steps_lower_the_loss_and_mixed_precision_keeps_float32():
    from app.core.synthetic import synthetic_pipe

    keras.utils.set_random_seed(1)
    pairs = [synthetic_pipe(10 + i, 32) for i in range(4)]
    x = np.stack([p[0] for p in pairs]).astype(np.float32)
    y = np.stack([p[1] for p in pairs])
    model = build_model("deeplabv3plus", "mobilenetv2", input_shape=(32, 32, 3), head="hierarchical", **SMALL)
    loss = HierarchicalLoss([1.0, 1.0, 1.0], lovasz_weight=0.5)
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss=loss)
    before = float(loss(y, model(x, training=False)))
    model.fit(x, y, batch_size=4, epochs=15, verbose=0)
    assert float(loss(y, model(x, training=False))) < before
    keras.mixed_precision.set_dtype_policy("mixed_float16")
    try:
        mixed = build_model(
            "deeplabv3plus", "mobilenetv2", input_shape=(32, 32, 3), head="hierarchical", **SMALL
        )
    finally:
        keras.mixed_precision.set_dtype_policy("float32")
    assert mixed.get_layer("classifier_logits").compute_dtype == "float16"
    probs = np.asarray(mixed(x, training=False))
    assert probs.dtype == np.float32
    np.testing.assert_allclose(probs.sum(-1), 1.0, atol=1e-6)
