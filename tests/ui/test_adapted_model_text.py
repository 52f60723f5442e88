"""What a site-adapted model's results say about it: why its photos have no range (plainly: adapted models
carry none of their own), and the photo PDF's Model section naming it adapted, on how many reviewed
photos, from which base file (escaped, from the model's own metadata)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.core.adapt import KEY_ADAPTATION, AdaptSettings, adapt_model, reviewed_pairs
from app.core.analysis import analyze_rgb
from app.core.model import SegmentationModel
from app.core.overlay import blend_overlay
from app.core.range_calibration import NO_CALIBRATION_ADAPTED
from app.core.synthetic import synthetic_pipe
from app.report import render_pdf_report
from app.report.pdf import model_rows
from tests.core.test_adapt import _site, site_model
from tests.helpers.tiny_models import channel_model
from tests.ui.test_report_content import pages_text


@pytest.fixture(scope="module")
def adapted(tmp_path_factory: pytest.TempPathFactory) -> SegmentationModel:
    """A model made by `adapt_model` from `base.onnx` on 4 signed masks."""
    root = tmp_path_factory.mktemp("adapted")
    photos, masks = _site(root, 4)
    base = site_model(root / "base.onnx")
    out = root / "site-model.onnx"
    adapt_model(base, reviewed_pairs(photos, masks), out, AdaptSettings(steps=30, min_photos=3))
    return SegmentationModel.load(out, "cpu")


def test_an_adapted_models_photos_say_plainly_why_they_have_no_range(adapted):
    """It said "the model file carries no range calibration (corroscope.share_range)", as for a model
    someone forgot to calibrate; an adapted model has none by design."""
    assert adapted.range_note == NO_CALIBRATION_ADAPTED
    assert "adapted models carry no range of their own" in adapted.range_note
    assert "corroscope.share_range" not in adapted.range_note
    rgb, _labels = synthetic_pipe(3, (96, 128))
    result = analyze_rgb(adapted, rgb, "site/pipe.png")
    assert NO_CALIBRATION_ADAPTED in result.assessment.reasons


def test_the_photo_pdf_says_the_model_is_adapted_on_how_many_photos_from_which_base(qapp, adapted):
    rows = dict(model_rows(adapted))
    assert rows["Adapted"] == "site-adapted model, adapted on 4 reviewed photos from base.onnx"
    rgb, _labels = synthetic_pipe(3, (96, 128))
    result = analyze_rgb(adapted, rgb, "site/pipe.png")
    pages = pages_text(
        render_pdf_report(result, blend_overlay(rgb, result.labels, result.classes), rgb, adapted)
    )
    assert len(pages) == 1  # one row more, still one page
    text = pages[0].replace("\u2011", "-")
    assert "site-adapted model, adapted on 4 reviewed photos from base.onnx" in text
    assert "adapted models carry no range of their own" in text


def test_the_base_models_name_is_escaped_and_unsigned_masks_are_not_called_reviewed(tmp_path: Path):
    photos = [{"photo": f"p{i}.png", "reviewed_by": "A. Inspector" if i < 3 else ""} for i in range(5)]
    record = {"base_model": {"file": "evil\x1b[31m\u202e.onnx", "sha256": "0" * 64}, "photos": photos}
    model = SegmentationModel.load(
        channel_model(tmp_path / "m.onnx", metadata={KEY_ADAPTATION: json.dumps(record)}), "cpu"
    )
    row = dict(model_rows(model))["Adapted"]
    assert row == (
        "site-adapted model, adapted on 5 photos with corrected masks (3 of them signed) from "
        "evil\\x1b[31m\\u202e.onnx"
    )
    unreadable = channel_model(tmp_path / "u.onnx", metadata={KEY_ADAPTATION: "{not json"})
    assert "not readable" in dict(model_rows(SegmentationModel.load(unreadable, "cpu")))["Adapted"]
    plain = channel_model(tmp_path / "p.onnx")
    assert "Adapted" not in dict(model_rows(SegmentationModel.load(plain, "cpu")))
