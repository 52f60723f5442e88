"""The corroded share's calibrated range: difficulty features with a known answer, the calibration read
from a model file's metadata (and the reason without one), ranges that widen with difficulty, the text and
record fields, and the uncertainty layer."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from app.core import contract
from app.core.analysis import analyze_rgb
from app.core.grading import GradeScale, assess
from app.core.measures import measure_photo
from app.core.model import SegmentationModel
from app.core.palette import DEFAULT_CLASSES
from app.core.physical import OBLIQUE_NOTE
from app.core.range_calibration import (
    NO_CALIBRATION,
    DifficultyFeatures,
    RangeCalibration,
    difficulty_features,
    read_calibration,
)
from app.core.record import CSV_FIELDS, csv_cells
from app.core.record import measure_fields as record_fields
from app.core.share_range import ShareRange, range_text, uncertainty_layer
from app.core.stats import area_stats
from app.core.synthetic import synthetic_pipe
from tests.helpers.tiny_models import channel_model, figures_metadata

CORROSION, ASSET, BACKGROUND = 0, 1, 2


def _probs(top: float, h: int = 20, w: int = 20) -> np.ndarray:
    """A 20x20 photo: the left half corrosion, the next quarter asset, the rest background, every pixel's
    top class at probability `top` (the rest split evenly)."""
    p = np.full((h, w, 3), (1.0 - top) / 2, np.float32)
    p[:, :10, CORROSION] = top
    p[:, 10:15, ASSET] = top
    p[:, 15:, BACKGROUND] = top
    return p


def _calibration() -> RangeCalibration:
    return RangeCalibration.from_json(json.loads(figures_metadata()[contract.KEY_SHARE_RANGE]))


def test_difficulty_features_of_probabilities_with_a_known_answer() -> None:
    f = difficulty_features(_probs(0.9), DEFAULT_CLASSES)
    assert f is not None
    assert f.mean_uncertainty == pytest.approx(0.1)
    assert f.uncertain_share == 0.0 and f.ambiguous_share == 0.0
    assert f.pipe_fraction == pytest.approx(0.75)  # 15 of 20 columns
    # The pipe is a 20x15 block touching the frame on three sides: only its right column is boundary.
    assert f.boundary_ratio == pytest.approx(20 / np.sqrt(300))
    unsure = difficulty_features(_probs(0.6), DEFAULT_CLASSES)
    assert unsure.uncertain_share == 1.0 and unsure.mean_uncertainty == pytest.approx(0.4)
    # uint8 x 255 (a cross-validation's oof-probs.npz) gives the same features
    as_uint8 = difficulty_features(np.rint(_probs(0.6) * 255).astype(np.uint8), DEFAULT_CLASSES)
    assert as_uint8.mean_uncertainty == pytest.approx(0.4, abs=0.003)
    assert difficulty_features(np.tile([0.0, 0.0, 1.0], (4, 4, 1)), DEFAULT_CLASSES) is None
    with pytest.raises(ValueError):
        difficulty_features(np.zeros((4, 4, 2)), DEFAULT_CLASSES)


def test_an_ambiguous_pipe_counts_as_ambiguous() -> None:
    p = _probs(0.9)
    p[:, :10] = (0.45, 0.4, 0.15)  # corrosion by argmax, but nearly asset
    f = difficulty_features(p, DEFAULT_CLASSES)
    assert f.ambiguous_share == pytest.approx(10 / 15)


def test_easy_photos_get_narrow_ranges_and_hard_ones_wide() -> None:
    cal = _calibration()
    easy = cal.range_for(30.0, difficulty_features(_probs(0.95), DEFAULT_CLASSES))
    hard = cal.range_for(30.0, difficulty_features(_probs(0.55), DEFAULT_CLASSES))
    assert easy.low <= 30.0 <= easy.high and hard.low <= 30.0 <= hard.high
    assert easy.width < hard.width
    # scale e^(1 + 2 x mean uncertainty), half-width 1.5 x scale
    assert easy.width == pytest.approx(2 * 1.5 * np.exp(1 + 2 * 0.05), rel=1e-4)
    assert easy.label == "80 % range" and easy.review_max_width == 30.0
    clipped = cal.range_for(1.0, difficulty_features(_probs(0.55), DEFAULT_CLASSES))
    assert clipped.low == 0.0


def test_the_calibration_round_trips_and_refuses_nonsense() -> None:
    cal = _calibration()
    assert RangeCalibration.from_json(json.loads(json.dumps(cal.to_json()))) == cal
    raw = cal.to_json()
    for key, bad in (("coverage", 1.5), ("quantile", -1.0), ("features", ["a"]), ("method", "thresholds")):
        with pytest.raises(ValueError):
            RangeCalibration.from_json({**raw, key: bad})


def test_a_model_without_calibration_gets_no_range_and_says_why(
    uncalibrated_model: SegmentationModel,
) -> None:
    model = uncalibrated_model
    assert model.range_calibration is None and model.range_note == NO_CALIBRATION
    rgb, _ = synthetic_pipe(seed=11, size=(120, 160))
    result = analyze_rgb(model, rgb, "pipe.png")
    assert result.stats.corroded_share is not None
    assert result.measures.share_range is None and result.measures.range_note == NO_CALIBRATION
    assert result.assessment.needs_review and NO_CALIBRATION in result.assessment.reasons
    assert record_fields(result.measures)["range_note"] == NO_CALIBRATION
    cal, note = read_calibration({contract.KEY_SHARE_RANGE: "{not json"})
    assert cal is None and note is not None and "unusable" in note


def test_a_calibrated_model_gives_every_photo_its_range(tmp_path: Path) -> None:
    model = SegmentationModel.load(channel_model(tmp_path / "m.onnx", metadata=figures_metadata()), "cpu")
    assert model.range_calibration is not None and model.range_note is None
    rgb, _ = synthetic_pipe(seed=11, size=(120, 160))
    result = analyze_rgb(model, rgb, "pipe.png")
    r = result.measures.share_range
    assert r is not None and r.share == pytest.approx(result.stats.corroded_share)
    assert r.low <= r.share <= r.high and r.label == "80 % range"
    fields = record_fields(result.measures)
    assert fields["corroded_share_low"] == pytest.approx(r.low) and fields["range_label"] == "80 % range"
    a = result.assessment
    assert a.needs_review == (r.spans_cutoff("astm_d610") or r.too_wide or bool(a.reasons))


def test_a_photo_unlike_the_calibration_photos_gets_no_range_and_needs_review(tmp_path: Path) -> None:
    """The range vouches for photos like those it was calibrated on: a thumbnail of a few pixels, or a
    strip that resize mode squeezes square, gets no range and a reason naming why (tiles mode does not
    squeeze, so a strip keeps its range there)."""
    from app.core.inference import InferenceMode, InferenceOptions
    from app.core.share_range import MIN_SIDE_PX, outside_calibration

    model = SegmentationModel.load(channel_model(tmp_path / "m.onnx", metadata=figures_metadata()), "cpu")
    tiny, _ = synthetic_pipe(seed=11, size=(MIN_SIDE_PX - 1, 100))
    strip = np.concatenate([synthetic_pipe(seed=11, size=(80, 100))[0]] * 5, axis=1)  # 80 x 500: 6:1
    for rgb, words in ((tiny, "too small to measure"), (strip, "tiles mode")):
        result = analyze_rgb(model, rgb, "odd.png")
        assert result.stats.corroded_share is not None and result.measures.share_range is None
        note = result.measures.range_note
        assert note is not None and words in note and note in result.assessment.reasons
        assert result.assessment.needs_review and record_fields(result.measures)["range_note"] == note
    tiles = analyze_rgb(model, strip, "odd.png", InferenceOptions(mode=InferenceMode.TILES))
    assert tiles.measures.share_range is not None
    assert outside_calibration(256, 256, False) is None and outside_calibration(400, 100, False) is None
    assert outside_calibration(MIN_SIDE_PX, 4 * MIN_SIDE_PX, False) is None


def test_range_text_gives_the_grades_of_both_bounds_and_the_coverage() -> None:
    r = ShareRange(4.1, 2.6, 6.0)
    assert r.grades("astm_d610") == ("5", "4")
    assert range_text(r, "astm_d610") == "D610 4-5 (share 4.1 %, 80 % range 2.6-6.0 %)"
    assert range_text(r, GradeScale.ISO_4628_3) == "Ri 3-4 (share 4.1 %, 80 % range 2.6-6.0 %)"
    assert r.spans_cutoff("astm_d610") and r.spans_cutoff("iso_4628_3")
    narrow = ShareRange(5.0, 4.0, 6.0)
    assert range_text(narrow, "astm_d610") == "D610 4 (share 5.0 %, 80 % range 4.0-6.0 %)"
    assert not narrow.spans_cutoff("iso_4628_3") and not narrow.too_wide
    assert ShareRange(5.0, 1.0, 9.0, review_max_width=5.0).too_wide
    # cut short by 100 %: only 20 points wide, but as unsure as 2 x 18 points below the share
    near_full = ShareRange(98.0, 80.0, 100.0, review_max_width=30.0)
    assert near_full.width == 20.0 and near_full.spread == 36.0 and near_full.too_wide


def test_uncertainty_layer_is_one_minus_the_top_probability() -> None:
    confidence = np.array([[255, 128], [0, 200]], np.uint8)
    np.testing.assert_array_equal(uncertainty_layer(confidence), [[0, 127], [255, 55]])
    with pytest.raises(ValueError):
        uncertainty_layer(confidence.astype(np.float32))


def _labels() -> np.ndarray:
    """200 corrosion pixels, 800 asset, 200 background (30 x 40)."""
    return np.array([CORROSION] * 200 + [ASSET] * 800 + [BACKGROUND] * 200, np.uint8).reshape(30, 40)


def test_record_fields_of_a_photo_with_a_scale_and_probabilities() -> None:
    labels = _labels()
    probs = np.eye(3, dtype=np.float32)[labels] * 0.9 + 0.1 / 3
    m = measure_photo(
        labels, DEFAULT_CLASSES, probs, mm_per_px=2.0, min_patch_pixels=1, calibration=_calibration()
    )
    stats = area_stats(labels, DEFAULT_CLASSES)
    fields = record_fields(m, assess(stats, 0.9).astm)
    assert fields["patch_count"] == 1 and fields["largest_patch_share"] == pytest.approx(20.0)
    assert fields["corroded_share_low"] <= 20.0 <= fields["corroded_share_high"]
    assert fields["mm_per_px"] == 2.0 and fields["corrosion_area_mm2"] == 800.0  # 200 px x 4 mm²
    assert fields["class_areas_mm2"] == {"corrosion": 800.0, "asset": 3200.0, "background": 800.0}
    assert fields["d610_distribution"] == "S"  # one patch: spot rust
    assert fields["astm_d610_with_distribution"] == f"{assess(stats, 0.9).astm.label}-S" == "2-S"
    assert fields["area_note"] == OBLIQUE_NOTE
    assert fields["patches"]["largest"]["area_mm2"] == 800.0
    json.dumps(fields)
    cells = csv_cells(fields)
    assert len(cells) == len(CSV_FIELDS)
    assert dict(zip(CSV_FIELDS, cells, strict=True))["mm_per_px"] == "2"
    assert dict(zip(CSV_FIELDS, cells, strict=True))["patch_count"] == "1"


def test_record_fields_are_empty_where_they_do_not_apply() -> None:
    background = np.full((20, 20), BACKGROUND, np.uint8)
    probs = np.tile(np.float32([0.0, 0.0, 1.0]), (20, 20, 1))
    fields = record_fields(measure_photo(background, DEFAULT_CLASSES, probs, 1.0, calibration=_calibration()))
    empty = (
        "corroded_share_low",
        "corroded_share_high",
        "d610_distribution",
        "patch_count",
        "largest_patch_share",
        "corrosion_area_mm2",
        "patches",
        "astm_d610_with_distribution",
        "range_note",  # no asset: nothing to explain
    )
    for name in empty:
        assert fields[name] is None, name
    assert fields["mm_per_px"] == 1.0  # the scale was set; there is just no asset to measure
    unscaled = record_fields(measure_photo(_labels(), DEFAULT_CLASSES))
    assert unscaled["mm_per_px"] is None and unscaled["corrosion_area_mm2"] is None
    assert unscaled["class_areas_mm2"] is None and unscaled["area_note"] is None
    assert unscaled["corroded_share_low"] is None  # no probabilities given
    assert unscaled["patch_count"] == 1
    assert "mm2" not in json.dumps(unscaled["patches"])
    assert csv_cells(unscaled)[:3] == ["", "", "S"]


def test_features_round_trip_as_json() -> None:
    f = difficulty_features(_probs(0.8), DEFAULT_CLASSES)
    again = DifficultyFeatures.from_json(json.loads(json.dumps(f.to_json())))
    assert again.mean_uncertainty == pytest.approx(f.mean_uncertainty, abs=1e-6)


def test_tiles_mode_measures_the_features_at_the_networks_input_size(tiny_model: SegmentationModel) -> None:
    from app.core.inference import InferenceOptions
    from app.core.range_calibration import at_size

    fine = np.repeat(np.repeat(_probs(0.9), 2, axis=0), 2, axis=1)  # 40 x 40, twice the 20 x 20 grid
    shrunk = at_size(fine, (20, 20))
    assert shrunk.shape == (20, 20, 3)
    assert difficulty_features(shrunk, DEFAULT_CLASSES) == difficulty_features(_probs(0.9), DEFAULT_CLASSES)
    assert at_size(None, (20, 20)) is None
    rgb, _ = synthetic_pipe(seed=11, size=(120, 160))
    tiles = analyze_rgb(tiny_model, rgb, "pipe.png", InferenceOptions(mode="tiles"))
    assert tiles.measures.share_range is not None  # the fine grid (1.75 x) shrunk to 32 x 32 first
