"""What an adapted model's metadata says of itself: never a record borrowed from its base model."""

from __future__ import annotations

import json
from pathlib import Path

import onnx

from app.core.adapt import adapt_model, reviewed_pairs
from app.core.files import sha256_file
from app.core.model import SegmentationModel
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
