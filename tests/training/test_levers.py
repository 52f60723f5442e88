"""The post-processing levers: the guided filter against a direct computation of its definition, that the
refinement follows the photo's edges, and the flip average on real ONNX and Keras models."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from app.core.inference import InferenceOptions, segment
from app.core.model import SegmentationModel
from tests.helpers.tiny_models import channel_model
from training.levers import Averaged, FlipAveraged, GuidedRefined, box_mean, guided_filter, refine, wrap


def _naive_guided(guide: np.ndarray, src: np.ndarray, r: int, eps: float) -> np.ndarray:
    """He et al.'s definition: a ridge fit src ~ a . guide + b in each (border-cut) window, and each pixel
    the mean of the fits of the windows that hold it, evaluated at its own guide colour."""
    h, w, _ = guide.shape
    a = np.zeros((h, w, 3, src.shape[2]))
    b = np.zeros((h, w, src.shape[2]))
    for y in range(h):
        for x in range(w):
            gi = guide[max(0, y - r) : y + r + 1, max(0, x - r) : x + r + 1].reshape(-1, 3)
            pi = src[max(0, y - r) : y + r + 1, max(0, x - r) : x + r + 1].reshape(-1, src.shape[2])
            gc, pc = gi - gi.mean(0), pi - pi.mean(0)
            a[y, x] = np.linalg.solve(gc.T @ gc / len(gi) + eps * np.eye(3), gc.T @ pc / len(gi))
            b[y, x] = pi.mean(0) - gi.mean(0) @ a[y, x]
    out = np.zeros_like(src, dtype=np.float64)
    for y in range(h):
        for x in range(w):
            win = (slice(max(0, y - r), y + r + 1), slice(max(0, x - r), x + r + 1))
            out[y, x] = guide[y, x] @ a[win].reshape(-1, 3, src.shape[2]).mean(0) + b[win].reshape(
                -1, src.shape[2]
            ).mean(0)
    return out


def test_box_mean_cuts_windows_at_the_border():
    x = np.arange(20, dtype=float).reshape(4, 5)
    got = box_mean(x, 1)
    assert got[0, 0] == pytest.approx(x[:2, :2].mean())
    assert got[2, 3] == pytest.approx(x[1:4, 2:5].mean())
    assert got[3, 4] == pytest.approx(x[2:, 3:].mean())


def test_guided_filter_matches_its_definition():
    rng = np.random.default_rng(0)
    guide = rng.uniform(size=(9, 11, 3))
    src = rng.uniform(size=(9, 11, 3))
    np.testing.assert_allclose(
        guided_filter(guide, src, 2, 0.01), _naive_guided(guide, src, 2, 0.01), atol=1e-9
    )


def test_refinement_snaps_a_blocky_boundary_to_the_photo_edge():
    """A photo with a diagonal colour edge; probabilities seen at 1/8 resolution (block means, upsampled
    by repetition), as a coarse network sees them. Refined, the boundary follows the photo's edge."""
    yy, xx = np.mgrid[:48, :48]
    truth = xx >= 12 + 0.5 * yy
    rgb = np.where(truth[..., None], np.array([40, 60, 160]), np.array([150, 70, 30])).astype(float)
    rgb = np.clip(rgb + np.random.default_rng(1).normal(0, 6, rgb.shape), 0, 255).astype(np.uint8)
    coarse = np.kron(truth.reshape(6, 8, 6, 8).mean((1, 3)), np.ones((8, 8)))
    probs = np.stack([1 - coarse, coarse, np.zeros_like(coarse)], -1).astype(np.float32)
    refined = refine(rgb, probs)
    assert refined.dtype == np.float32 and (refined >= 0).all()
    np.testing.assert_allclose(refined.sum(-1), 1.0, atol=1e-6)
    wrong_before = np.count_nonzero((probs.argmax(-1) == 1) != truth)
    wrong_after = np.count_nonzero((refined.argmax(-1) == 1) != truth)
    assert wrong_before > 50 and wrong_after < wrong_before / 5
    flat = np.full((48, 48, 3), 1 / 3, np.float32)
    np.testing.assert_allclose(refine(rgb, flat), flat, atol=1e-6)  # nothing to refine


def test_flip_average_of_a_per_pixel_model_is_the_model(tmp_path: Path):
    """The channel model decides each pixel from its own colour: mirroring commutes with it exactly."""
    model = SegmentationModel.load(channel_model(tmp_path / "c.onnx"), device="cpu")
    rgb = np.random.default_rng(0).integers(0, 256, (1, 32, 32, 3), dtype=np.uint8)
    np.testing.assert_allclose(FlipAveraged(model).predict(rgb), model.predict(rgb), atol=1e-6)
    assert FlipAveraged(model).input_size == model.input_size and FlipAveraged(model).classes == model.classes
    photo = np.random.default_rng(1).integers(0, 256, (50, 70, 3), dtype=np.uint8)
    plain = segment(model, photo, InferenceOptions())
    both = segment(wrap(["flip", "guided"])(model), photo, InferenceOptions())  # through the app's pipeline
    assert both.labels.shape == plain.labels.shape == (50, 70)


def test_flip_average_of_a_network_averages_the_mirrored_prediction(tmp_path: Path):
    keras = pytest.importorskip("keras")
    from training.evaluate import KerasSegmenter
    from training.models import build_model

    keras.utils.set_random_seed(0)
    path = tmp_path / "u.keras"
    build_model("unet", input_shape=(32, 32, 3), base_filters=4, depth=2).save(path)
    model = KerasSegmenter(path, (32, 32))
    batch = np.random.default_rng(2).integers(0, 256, (2, 32, 32, 3), dtype=np.uint8)
    plain, mirrored = model.predict(batch), model.predict(batch[:, :, ::-1].copy())[:, :, ::-1]
    assert np.abs(plain - mirrored).max() > 1e-4  # the network is not mirror-symmetric
    np.testing.assert_allclose(FlipAveraged(model).predict(batch), (plain + mirrored) / 2, atol=1e-6)
    refined = GuidedRefined(FlipAveraged(model)).predict(batch)
    np.testing.assert_allclose(refined[0], refine(batch[0], (plain[0] + mirrored[0]) / 2), atol=1e-5)


def test_an_ensemble_averages_its_members_before_the_levers():
    """Members' probabilities are averaged, then a lever sees that average (not one network's)."""

    class Fixed:
        input_size, classes = (4, 4), ("a", "b")

        def __init__(self, value: float) -> None:
            self.value = value

        def predict(self, batch: np.ndarray) -> np.ndarray:
            p = np.zeros((*batch.shape[:3], 2), np.float32)
            p[..., 0], p[..., 1] = self.value, 1 - self.value
            p[:, :, 0, 0] = 1.0  # column 0 only: flip then averages it with column 3
            return p

    batch = np.zeros((1, 4, 4, 3), np.uint8)
    averaged = Averaged(Fixed(0.9), [Fixed(0.3), Fixed(0.6)])
    np.testing.assert_allclose(averaged.predict(batch)[0, 1, 1], [0.6, 0.4], atol=1e-6)
    assert averaged.input_size == (4, 4)
    both = wrap(["flip"], [Fixed(0.3)])(Fixed(0.9)).predict(batch)[0]
    np.testing.assert_allclose(both[0, 0], [(1.0 + 0.6) / 2, 0.4], atol=1e-6)  # the average, mirrored in


def test_the_expected_share_lever_draws_the_split_as_the_app_does_for_such_a_model():
    from app.core.expected_share import split_at_expected_share
    from app.core.palette import DEFAULT_CLASSES
    from training.levers import ExpectedShareSplit

    class Soft:
        input_size, classes = (8, 8), DEFAULT_CLASSES

        def predict(self, batch: np.ndarray) -> np.ndarray:
            rust = np.linspace(0.5, 0.7, 64, dtype=np.float32).reshape(1, 8, 8)
            return np.stack([0.9 * rust, 0.9 * (1 - rust), np.full_like(rust, 0.1)], axis=-1)

    batch = np.zeros((1, 8, 8, 3), np.uint8)
    raw = Soft().predict(batch)
    drawn = wrap(["expected-share"])(Soft()).predict(batch)
    assert isinstance(wrap(["expected-share"])(Soft()), ExpectedShareSplit)
    np.testing.assert_allclose(drawn[0], split_at_expected_share(raw[0], DEFAULT_CLASSES), atol=1e-6)
    assert (raw[0].argmax(-1) == 0).all() and 0 < (drawn[0].argmax(-1) == 0).mean() < 1
