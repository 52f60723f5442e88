"""The corrosion/asset split drawn at the share the probabilities expect, for a model that asks for it."""

from __future__ import annotations

import numpy as np
import pytest

from app.core.errors import ModelContractError
from app.core.expected_share import (
    EXPECTED_SHARE,
    METADATA_KEY,
    expected_share,
    read_split,
    split_at_expected_share,
)
from app.core.inference import probabilities, segment
from app.core.model import SegmentationModel
from app.core.palette import DEFAULT_CLASSES
from app.core.stats import area_stats
from tests.helpers.tiny_models import channel_model, figures_metadata

C, A, B = 0, 1, 2  # corrosion, asset, background


def _painted(probs: np.ndarray) -> float:
    return area_stats(probs.argmax(axis=-1).astype(np.uint8), DEFAULT_CLASSES).corroded_share


def test_every_pixel_likelier_rust_is_painted_at_the_expected_share_not_all_rust() -> None:
    rng = np.random.default_rng(0)
    p_rust = rng.uniform(0.5, 0.7, size=(20, 20))  # each pixel a little likelier rust than steel
    probs = np.zeros((20, 20, 3), np.float32)
    probs[..., C], probs[..., A], probs[..., B] = 0.9 * p_rust, 0.9 * (1 - p_rust), 0.1
    probs[:5] = (0.05, 0.05, 0.9)  # background rows
    want = expected_share(probs, DEFAULT_CLASSES)
    assert _painted(probs) == 100.0 and 55 < want < 65
    split = split_at_expected_share(probs, DEFAULT_CLASSES)
    assert abs(_painted(split) - want) <= 100 / 300 + 1e-9  # within one of the 300 pipe pixels
    assert np.allclose(split.sum(axis=-1), 1.0, atol=1e-5)
    assert np.array_equal(split.argmax(axis=-1)[:5], probs.argmax(axis=-1)[:5])  # background stays
    assert np.array_equal(split.max(axis=-1), probs.max(axis=-1))  # each pixel's confidence too
    rusty = split.argmax(axis=-1)[5:] == C  # the likeliest rust is what stays rust
    assert p_rust[5:][rusty].min() >= p_rust[5:][~rusty].max()


def test_nothing_to_split_leaves_the_probabilities_as_they_are() -> None:
    background = np.zeros((4, 4, 3), np.float32)
    background[..., B] = 1.0
    assert expected_share(background, DEFAULT_CLASSES) is None
    assert split_at_expected_share(background, DEFAULT_CLASSES) is background


def test_the_split_is_read_from_the_metadata_and_an_unknown_one_refused(tmp_path) -> None:
    assert read_split({}) == "argmax" and read_split({METADATA_KEY: EXPECTED_SHARE}) == EXPECTED_SHARE
    with pytest.raises(ValueError, match="knows argmax, expected-share"):
        read_split({METADATA_KEY: "median"})
    newer = channel_model(tmp_path / "newer.onnx", metadata={**figures_metadata(), METADATA_KEY: "median"})
    with pytest.raises(ModelContractError, match=r"corroscope\.split is 'median'"):
        SegmentationModel.load(newer, device="cpu")


def test_a_model_that_asks_for_it_paints_its_expected_share(tmp_path) -> None:
    plain = channel_model(tmp_path / "plain.onnx", sharpness=3.0, metadata=figures_metadata())
    split = channel_model(
        tmp_path / "split.onnx", sharpness=3.0, metadata={**figures_metadata(), METADATA_KEY: EXPECTED_SHARE}
    )
    rng = np.random.default_rng(1)
    rgb = np.zeros((32, 32, 3), np.uint8)
    rgb[..., 0] = rng.integers(120, 200, (32, 32))  # red: corrosion, mostly a little ahead of blue
    rgb[..., 2] = rng.integers(90, 170, (32, 32))  # blue: asset
    rgb[:6, :, 1] = 255  # green rows: background
    m_plain, m_split = (
        SegmentationModel.load(plain, device="cpu"),
        SegmentationModel.load(split, device="cpu"),
    )
    assert m_plain.split == "argmax" and m_split.split == EXPECTED_SHARE
    want = expected_share(probabilities(m_plain, rgb), DEFAULT_CLASSES)
    painted_plain = area_stats(segment(m_plain, rgb).labels, DEFAULT_CLASSES).corroded_share
    painted_split = area_stats(segment(m_split, rgb).labels, DEFAULT_CLASSES).corroded_share
    assert abs(painted_plain - want) > 5, "the argmax pushes the share towards the majority"
    assert abs(painted_split - want) <= 1.0  # pixels where both classes tie stay corrosion: a few pixels
    # what smart select is seeded by draws the same split as the mask shown
    assert _painted(probabilities(m_split, rgb)) == pytest.approx(painted_split)
