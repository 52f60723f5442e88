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


def test_an_adapted_models_information_shows_its_provenance_and_names_the_base_models_figures(tmp_path):
    """Made by `adapt_model`: the base model's SHA-256, each photo and mask with their SHA-256s, who
    signed them, the settings and the leave-one-out before and after; the trained-on text is the base's."""
    from app.core import contract
    from app.core.adapt import AdaptSettings, adapt_model, reviewed_pairs
    from app.core.files import sha256_file
    from app.core.model import SegmentationModel
    from app.ui.model_info_dialog import model_info_html
    from tests.core.test_adapt import _site, site_model

    photos, masks = _site(tmp_path, 4, reviewer="B. Welder")
    base = site_model(tmp_path / "base.onnx")
    pairs = reviewed_pairs(photos, masks)
    adapt_model(base, pairs, tmp_path / "site.onnx", AdaptSettings(steps=30, min_photos=3))
    model = SegmentationModel.load(tmp_path / "site.onnx", "cpu")
    html = model_info_html(model)
    section = html[html.index("<h3>Adaptation</h3>") :]
    assert f"base.onnx (SHA-256 {sha256_file(base)})" in section
    for photo, mask in pairs:
        assert photo.name in section and sha256_file(photo) in section
        assert mask.name in section and sha256_file(mask) in section
    assert section.count("B. Welder") == 4 and "2026-12-01T10:00:00+00:00" in section
    assert "steps 30" in section and "min_photos 3" in section
    assert "→" in section and "of 4 photos: base model → adapted" in section
    trained = model.metadata[contract.KEY_TRAINED_ON]
    assert "this file: adapted to 4 reviewed photos; its base model (not this file) was trained on" in html
    assert trained.partition(";")[0] in html


def test_an_adapted_model_calls_unsigned_masks_what_they_are_and_its_members_its_bases(tmp_path):
    """ "Reviewed" only for signed masks; an ensemble's member files are the base model's (their final
    classifiers were refitted), so the row says so instead of listing them as this file's."""
    import json

    from app.core import contract
    from app.core.adapt import KEY_ADAPTATION
    from app.core.model import SegmentationModel
    from app.ui.model_info_dialog import model_info_html
    from tests.helpers.tiny_models import channel_model

    photos = [{"photo": f"p{i}.png", "mask": f"p{i}_mask.edited.png"} for i in range(6)]
    members = [{"file": "m1.onnx", "sha256": "1" * 64}, {"file": "m2.onnx", "sha256": "2" * 64}]
    meta = {
        KEY_ADAPTATION: json.dumps({"photos": photos}),
        contract.KEY_ENSEMBLE: json.dumps(members),
    }
    html = model_info_html(SegmentationModel.load(channel_model(tmp_path / "m.onnx", metadata=meta), "cpu"))
    assert "Adapted on 6 photos with corrected masks, 0 of them signed" in html
    assert "6 reviewed photos" not in html
    assert "its base model&#x27;s: mean of 2 models: m1.onnx" in html and "refitted here" in html


def test_a_hostile_adaptation_record_is_cut_and_escaped(tmp_path):
    import json

    from app.core import contract
    from app.core.adapt import KEY_ADAPTATION
    from app.core.model import SegmentationModel
    from app.ui.model_info_dialog import model_info_html
    from tests.helpers.tiny_models import channel_model

    photo = {"photo": "<b>x</b>" + "y" * 5000, "sha256": 7, "reviewed_by": "<script>", "pixels": {}}
    record = {"base_model": "not a dict", "photos": [photo] * 150, "settings": [1], "leave_one_out": {}}
    meta = {
        KEY_ADAPTATION: json.dumps(record),
        contract.KEY_TRAINED_ON: "site photos, figures on its val split (22); adapted to 5 reviewed photos",
    }
    html = model_info_html(SegmentationModel.load(channel_model(tmp_path / "m.onnx", metadata=meta), "cpu"))
    assert "<script>" not in html and "<b>x</b>" not in html and "&lt;script&gt;" in html
    assert "y" * 1000 not in html and len(html) < 200_000
    assert "… and 50 more photos" in html
    assert "its base model (not this file) was trained on: site photos, figures on its val split (22)" in html
    unreadable = {KEY_ADAPTATION: "{" * 10}
    html = model_info_html(
        SegmentationModel.load(channel_model(tmp_path / "u.onnx", metadata=unreadable), "cpu")
    )
    assert "its record of how is not readable" in html


def test_model_information_says_why_implausible_figures_were_set_aside(tmp_path) -> None:
    """Figures a file states but the app refused (an error of 0 on every photo, a held-out coverage of
    5730 %) are not shown; the rows say which field and why, as the PDF's statement leaves them out."""
    import json

    from app.core import contract
    from app.core.model import SegmentationModel
    from app.ui.model_info_dialog import model_info_html
    from tests.helpers.tiny_models import channel_model, figures_metadata

    meta = figures_metadata(confidence=0.9)
    accuracy = json.loads(meta[contract.KEY_ACCURACY])
    accuracy.update(share_error={"median": 0, "mean": 0, "p90": 0}, d610_same_share=1.0, photos=1)
    calibration = json.loads(meta[contract.KEY_SHARE_RANGE])
    calibration["held_out"] = {"coverage": 57.3, "photos": -3, "mean_width": 20.0}
    meta = {contract.KEY_ACCURACY: json.dumps(accuracy), contract.KEY_SHARE_RANGE: json.dumps(calibration)}
    html = model_info_html(SegmentationModel.load(channel_model(tmp_path / "m.onnx", metadata=meta), "cpu"))
    assert "within ±0" not in html and "5730" not in html and "held 81 %" not in html
    assert "accuracy unknown" in html and "Accuracy set aside" in html and "share_error.p90" in html
    assert "held_out.coverage must be a share from 0 to 1, got 57.3" in html


def test_an_adapted_adapted_models_information_lists_every_adaptation() -> None:
    import json

    from app.core.adapt import KEY_ADAPTATION
    from app.ui.adaptation_info import adaptation_html

    a, b = "a" * 64, "b" * 64
    chain = [
        {"base_model": {"file": "shipped.onnx", "sha256": "1" * 64}, "photos": 1, "photo_sha256": [a]},
        {"base_model": {"file": "site\x1b.onnx", "sha256": "2" * 64}, "photos": 2, "photo_sha256": [a, b]},
    ]
    loo = {"share_error": 5.0, "d610_agreement": 0.5, "photos": 1}
    record = {
        "chain": chain,
        "leave_one_out": {"base": loo, "adapted": loo, "left_out_used_before": ["x.png"]},
    }
    html = "".join(adaptation_html({KEY_ADAPTATION: json.dumps(record)}))
    assert "1. shipped.onnx (SHA-256 111111111111…), 1 photo; 2. site\\x1b.onnx" in html
    assert "2 photos, 1 of them used before" in html
    assert "not scored: the 1 photo an earlier adaptation used (the base saw them)" in html
