"""The models shipped in models/ load, follow the contract, segment a photo and match the model card.

The float file is what `default_model_path()` gives for CUDA; its int8 variant, when shipped beside it,
is what the CPU gets. Each is checked the same way."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import numpy as np
import pytest

from app.core import contract
from app.core.model import INT8_SUFFIX, SegmentationModel, default_model_path
from app.core.palette import DEFAULT_CLASSES

ROOT = Path(__file__).resolve().parents[2]
CARD = ROOT / "models" / "MODEL_CARD.md"


def _shipped_paths() -> list[Path]:
    float_path = default_model_path("cuda")
    cpu_path = default_model_path("cpu")
    return sorted({p for p in (float_path, cpu_path) if p is not None})


@pytest.fixture(scope="module", params=_shipped_paths() or [None], ids=lambda p: p.name if p else "none")
def shipped(request) -> SegmentationModel:
    path = request.param
    assert path is not None, "no model in models/: the app would start without one"
    assert path.parent == ROOT / "models"
    return SegmentationModel.load(path, device="cpu")


def test_the_float_model_is_shipped() -> None:
    path = default_model_path("cuda")
    assert path is not None and not path.name.endswith(INT8_SUFFIX)


def test_shipped_model_follows_the_contract(shipped: SegmentationModel) -> None:
    assert shipped.classes == DEFAULT_CLASSES
    assert shipped.input_size == (256, 256)
    assert shipped.metadata["corroscope.architecture"] == "deeplabv3plus"
    assert shipped.metadata["corroscope.backbone"] == "mobilenetv2"
    assert shipped.path.stat().st_size < 100 * 1024 * 1024


def test_shipped_model_matches_the_card(shipped: SegmentationModel) -> None:
    card = CARD.read_text(encoding="utf-8")
    name = re.escape(shipped.path.name)
    listed = re.findall(rf"`{name}`[^\n]*?`([0-9a-f]{{64}})`", card)
    assert listed, f"the model card gives no SHA-256 on the line naming `{shipped.path.name}`"
    assert shipped.sha256 == listed[0] == hashlib.sha256(shipped.path.read_bytes()).hexdigest()


def test_shipped_model_gives_probabilities(shipped: SegmentationModel) -> None:
    from app.core.synthetic import synthetic_pipe

    rgb, _ = synthetic_pipe(seed=3, size=(256, 256))
    probs = shipped.predict(rgb[None])
    assert probs.shape == (1, 256, 256, 3)
    np.testing.assert_allclose(probs.sum(axis=-1), 1.0, atol=1e-4)
    # A trained model is not constant: several classes win somewhere on a pipe photo.
    assert len(np.unique(probs.argmax(axis=-1))) >= 2


def test_a_shipped_int8_variant_names_its_float_model_and_carries_its_own_figures() -> None:
    float_path, cpu_path = default_model_path("cuda"), default_model_path("cpu")
    if cpu_path == float_path:
        pytest.skip("no int8 variant shipped: the CPU runs the float file")
    float_model = SegmentationModel.load(float_path, device="cpu")
    int8_model = SegmentationModel.load(cpu_path, device="cpu")
    made = json.loads(int8_model.metadata["corroscope.quantization"])
    assert made["float_model_sha256"] == float_model.sha256
    own = int8_model.metadata.get(contract.KEY_METRICS)
    assert own is not None and own != float_model.metadata.get(contract.KEY_METRICS)


def test_shipped_ranges_held_at_least_their_coverage_on_held_out_folds(shipped: SegmentationModel) -> None:
    cal = shipped.range_calibration
    assert cal is not None, shipped.range_note
    held = cal.held_out
    assert held["photos"] >= 150 and held["folds"] >= 5
    assert held["coverage"] >= cal.coverage == 0.8  # the "80 % range" held 80 % of unseen photos or more
    assert cal.confidence is not None and cal.confidence >= 0.9  # and promises it, not just on average
    card = CARD.read_text(encoding="utf-8")
    assert (
        f"{held['coverage'] * 100:.0f} % ({round(held['coverage'] * held['photos'])} of {held['photos']})"
        in card
    )
