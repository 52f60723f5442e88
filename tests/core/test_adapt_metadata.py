"""What an adapted model's metadata says of itself: never a record borrowed from its base model, and an
accuracy line no surer than the few photos it was measured on."""

from __future__ import annotations

import json
from pathlib import Path

import onnx

from app.core.adapt import adapt_model, reviewed_pairs
from app.core.adapt_scores import LooFigures, comparison_text, loo_accuracy
from app.core.files import sha256_file
from app.core.model import SegmentationModel
from app.core.model_accuracy import ModelAccuracy
from tests.core.test_adapt import _site, site_model

KEY_QUANTIZATION = "corroscope.quantization"  # training.quantize's key


def test_an_adapted_model_does_not_claim_its_bases_quantization(tmp_path: Path) -> None:
    """The base's record (quantised from a float model, float_model_sha256) went into the adapted file,
    as though it had been quantised from that float model."""
    base = site_model(tmp_path / "base.onnx")
    model = onnx.load(str(base))
    entry = model.metadata_props.add()
    entry.key, entry.value = KEY_QUANTIZATION, json.dumps({"float_model_sha256": "ab" * 32, "method": "QDQ"})
    onnx.save(model, str(base))
    photos, masks = _site(tmp_path, 5)
    result = adapt_model(base, reviewed_pairs(photos, masks), tmp_path / "site.onnx")
    made = json.loads(SegmentationModel.load(result.path, "cpu").metadata[KEY_QUANTIZATION])
    assert "float_model_sha256" not in made
    assert made["adapted_from_int8_model_sha256"] == sha256_file(base)
    plain = adapt_model(
        site_model(tmp_path / "float.onnx"), reviewed_pairs(photos, masks), tmp_path / "f.onnx"
    )
    assert KEY_QUANTIZATION not in SegmentationModel.load(plain.path, "cpu").metadata


def _accuracy(errors: tuple[float, ...], same: float, total: int | None = None) -> ModelAccuracy:
    figures = LooFigures(sum(errors) / len(errors), same, len(errors), errors)
    accuracy = loo_accuracy(figures, None, total)
    assert accuracy is not None
    return ModelAccuracy.from_json(json.loads(json.dumps(accuracy.to_json())))  # as the file holds it


def test_an_adapted_models_line_claims_no_more_than_its_few_photos_support() -> None:
    """Six photos read "typically within ±2 points ... (90 % within ±20)": a median pulled down by
    near-zero photos, a 90 % figure from six values, though the mean error was 7.4 and one photo 22.8."""
    six = _accuracy((0.4, 0.9, 1.2, 2.8, 16.3, 22.8), 5 / 6).line()
    assert six == (
        "Model estimate, a rough figure from 6 photos by leave-one-out: on average 7 points off its "
        "corrected masks (the worst photo 23 off); D610 grade equal on 5 of the 6. Review before signing."
    )
    two = _accuracy((1.0, 5.0), 1.0).line()  # --min-photos 2: "90 % within ±5 ... 100 % of the 2 photos"
    assert "90 %" not in two and "from 2 photos" in two and "equal on 2 of the 2" in two
    ten = _accuracy(tuple(float(e) for e in range(1, 11)), 0.8).line()
    assert "(the worst photo 10 off; 90 % within ±9)" in ten and "on average 6 points" in ten


def test_an_adapted_adapted_model_counts_the_photos_it_was_measured_on() -> None:
    """Adapted on 8, measured on the 3 new ones: it said "100 % of the 3 photos it was adapted on"."""
    line = _accuracy((2.0, 3.0, 6.0), 1.0, total=8).line()
    assert "from 3 photos by leave-one-out" in line and "equal on 3 of the 3" in line
    assert "adapted on" not in line


def test_the_before_and_after_says_it_is_one_value_per_photo() -> None:
    base = LooFigures(7.0, 0.5, 3, (8.9, 6.0, 6.1))
    adapted = LooFigures(9.0, 0.5, 3, (22.8, 2.0, 2.2))
    assert comparison_text(base, adapted) == (
        "each error is a mean of 3 values, one per photo: a rough comparison; the adapted model came closer "
        "on 2 of the 3 and further on 1, at worst 8.9 → 22.8 points"
    )
