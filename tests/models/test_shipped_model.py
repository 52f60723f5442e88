"""The model shipped in models/ loads, follows the contract, segments a photo and matches its model card."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np
import pytest

from app.core.model import SegmentationModel, default_model_path
from app.core.palette import DEFAULT_CLASSES

ROOT = Path(__file__).resolve().parents[2]
CARD = ROOT / "models" / "MODEL_CARD.md"


@pytest.fixture(scope="module")
def shipped() -> SegmentationModel:
    path = default_model_path()
    assert path is not None, "no model in models/: the app would start without one"
    assert path.parent == ROOT / "models"
    return SegmentationModel.load(path, device="cpu")


def test_shipped_model_follows_the_contract(shipped: SegmentationModel) -> None:
    assert shipped.classes == DEFAULT_CLASSES
    assert shipped.input_size == (256, 256)
    assert shipped.metadata["corroscope.architecture"] == "deeplabv3plus"
    assert shipped.metadata["corroscope.backbone"] == "mobilenetv2"
    assert shipped.path.stat().st_size < 100 * 1024 * 1024


def test_shipped_model_matches_the_card(shipped: SegmentationModel) -> None:
    card = CARD.read_text(encoding="utf-8")
    listed = re.findall(r"SHA-256[^`]*`([0-9a-f]{64})`", card)
    assert listed, "the model card names no SHA-256"
    assert shipped.sha256 == listed[0] == hashlib.sha256(shipped.path.read_bytes()).hexdigest()
    assert shipped.path.name in card


def test_shipped_model_gives_probabilities(shipped: SegmentationModel) -> None:
    from app.core.synthetic import synthetic_pipe

    rgb, _ = synthetic_pipe(seed=3, size=(256, 256))
    probs = shipped.predict(rgb[None])
    assert probs.shape == (1, 256, 256, 3)
    np.testing.assert_allclose(probs.sum(axis=-1), 1.0, atol=1e-4)
    # A trained model is not constant: several classes win somewhere on a pipe photo.
    assert len(np.unique(probs.argmax(axis=-1))) >= 2
