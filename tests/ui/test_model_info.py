"""The model info dialog shows the training pipeline's evaluation summary as per-class tables."""

from __future__ import annotations

from app.ui.model_info_dialog import _metrics_html

SUMMARY = {
    "split": "val",
    "n_photos": 22,
    "per_photo": {
        "per_class": {
            "corrosion": {"iou": 0.6264, "dice": 0.7199, "precision": 0.7181, "recall": 0.7803},
            "asset": {"iou": 0.352, "dice": 0.4766, "precision": 0.4903, "recall": 0.5788},
        },
        "mean_iou": 0.5332,
    },
    "pooled": {"per_class": {"corrosion": {"iou": 0.6746}}, "mean_iou": 0.5797},
}


def test_summary_becomes_percent_tables_per_protocol() -> None:
    html = "".join(_metrics_html(SUMMARY))
    assert "per photo, averaged over photos" in html and "pooled over all pixels" in html
    assert "62.64" in html and "35.20" in html and "67.46" in html
    assert "mean IoU 53.32 %" in html and "mean IoU 57.97 %" in html
    assert "per_class" not in html  # no raw JSON dump
    assert "<b>Split</b>: val" in html and "<b>Photos</b>: 22" in html and "n_photos" not in html


def test_model_information_states_the_typical_error_and_the_range(tiny_model, uncalibrated_model) -> None:
    from app.ui.model_info_dialog import model_info_html

    html = model_info_html(tiny_model)
    assert "Model estimate: typically within ±9 points of an inspector&#x27;s mask (90 % within ±19)" in html
    assert "80 % range: held 81 % of inspectors&#x27; shares on held-out photos, mean width 20 points" in html
    plain = model_info_html(uncalibrated_model)
    assert "accuracy unknown" in plain and "carries no range calibration" in plain


def test_model_information_states_the_ranges_promise_when_the_file_carries_one(tmp_path) -> None:
    from app.core.model import SegmentationModel
    from app.ui.model_info_dialog import model_info_html
    from tests.helpers.tiny_models import channel_model, figures_metadata

    path = channel_model(tmp_path / "m.onnx", metadata=figures_metadata(confidence=0.9))
    html = model_info_html(SegmentationModel.load(path, "cpu"))
    assert "calibrated to hold at least 80 % of unseen photos&#x27; shares with 90 % confidence" in html
