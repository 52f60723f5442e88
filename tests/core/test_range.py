"""The corroded share's range on synthetic probabilities with a known answer, the uncertainty layer, and
the new record fields of one photo."""

from __future__ import annotations

import json

import numpy as np
import pytest

from app.core.grading import GradeScale, assess
from app.core.inference import InferenceOptions, segment
from app.core.measures import measure_photo
from app.core.model import SegmentationModel
from app.core.palette import DEFAULT_CLASSES
from app.core.physical import OBLIQUE_NOTE
from app.core.record import CSV_FIELDS, csv_cells
from app.core.record import measure_fields as record_fields
from app.core.share_range import (
    CALIBRATED,
    RangeThresholds,
    ShareRange,
    corrosion_histogram,
    range_from_histogram,
    range_text,
    share_range,
    uncertainty_layer,
)
from app.core.stats import area_stats
from app.core.synthetic import synthetic_pipe

CORROSION, ASSET, BACKGROUND = 0, 1, 2


def _photo() -> tuple[np.ndarray, np.ndarray]:
    """1000 pipe pixels and 200 background ones, with the corrosion probability of each (x 255).

    Corrosion by argmax: 100 sure (0.95) and 100 unsure (0.6) pixels; asset: 100 doubtful (0.3) and 700
    clean (0.05) ones; the background is orange-ish (0.7) and must not count.
    """
    labels = np.array([CORROSION] * 200 + [ASSET] * 800 + [BACKGROUND] * 200, np.uint8).reshape(30, 40)
    p = np.array([0.95] * 100 + [0.6] * 100 + [0.3] * 100 + [0.05] * 700 + [0.7] * 200)
    return labels, np.round(p * 255).astype(np.uint8).reshape(30, 40)


def test_range_counts_pixels_above_each_threshold_over_the_pipe() -> None:
    labels, prob = _photo()
    r = share_range(labels, prob, DEFAULT_CLASSES, RangeThresholds(low=0.25, high=0.9))
    assert (r.share, r.low, r.high) == (pytest.approx(20.0), pytest.approx(10.0), pytest.approx(30.0))
    assert r.width == pytest.approx(20.0)
    wide = share_range(labels, prob, DEFAULT_CLASSES, RangeThresholds(low=0.01, high=0.99))
    assert (wide.low, wide.high) == (pytest.approx(0.0), pytest.approx(100.0))


def test_the_range_always_holds_the_share_itself() -> None:
    labels, prob = _photo()
    # Both thresholds above the unsure corrosion (0.6): the upper bound alone would miss it.
    r = share_range(labels, prob, DEFAULT_CLASSES, RangeThresholds(low=0.8, high=0.9))
    assert r.low == pytest.approx(10.0) and r.high == pytest.approx(20.0) == r.share
    # Both below the doubtful asset (0.3): the lower bound alone would exceed the share.
    r = share_range(labels, prob, DEFAULT_CLASSES, RangeThresholds(low=0.1, high=0.2))
    assert r.low == pytest.approx(20.0) and r.high == pytest.approx(30.0)


def test_histogram_and_range_agree_and_no_pipe_gives_none() -> None:
    labels, prob = _photo()
    counts, graded, share = corrosion_histogram(labels, prob, DEFAULT_CLASSES)
    assert graded == 1000 and counts.sum() == 1000 and share == pytest.approx(20.0)
    assert counts[round(0.7 * 255)] == 0  # background is not in the histogram
    assert range_from_histogram(counts, graded, share) == share_range(labels, prob, DEFAULT_CLASSES)
    background = np.full((5, 5), BACKGROUND, np.uint8)
    assert share_range(background, np.zeros((5, 5), np.uint8), DEFAULT_CLASSES) is None
    assert share_range(labels, None, DEFAULT_CLASSES) is None
    with pytest.raises(ValueError):
        share_range(labels, prob.astype(np.float32), DEFAULT_CLASSES)


def test_range_text_gives_the_grades_of_both_bounds() -> None:
    r = ShareRange(4.1, 2.6, 6.0, CALIBRATED)
    assert r.grades("astm_d610") == ("5", "4")
    assert range_text(r, "astm_d610") == "D610 4-5 (share 4.1 %, range 2.6-6.0 %)"
    assert range_text(r, GradeScale.ISO_4628_3) == "Ri 3-4 (share 4.1 %, range 2.6-6.0 %)"
    assert r.spans_cutoff("astm_d610") and r.spans_cutoff("iso_4628_3")
    narrow = ShareRange(5.0, 4.0, 6.0, CALIBRATED)
    assert range_text(narrow, "astm_d610") == "D610 4 (share 5.0 %, range 4.0-6.0 %)"
    assert not narrow.spans_cutoff("iso_4628_3")
    assert range_text(ShareRange(0.05, 0.012, 0.1, CALIBRATED), "iso_4628_3").endswith("range 0.012-0.1 %)")


def test_thresholds_are_checked_and_quantised_like_the_plane() -> None:
    assert CALIBRATED.levels == (30, 205)
    assert RangeThresholds(0.25, 0.9).levels == (64, 230)
    for low, high in ((0.6, 0.4), (-0.1, 0.5), (0.5, 1.2)):
        with pytest.raises(ValueError):
            RangeThresholds(low, high)


def test_uncertainty_layer_is_one_minus_the_top_probability() -> None:
    confidence = np.array([[255, 128], [0, 200]], np.uint8)
    np.testing.assert_array_equal(uncertainty_layer(confidence), [[0, 127], [255, 55]])
    with pytest.raises(ValueError):
        uncertainty_layer(confidence.astype(np.float32))


def test_range_from_a_real_session_holds_the_share_and_feeds_the_review(
    tiny_model: SegmentationModel,
) -> None:
    rgb, _ = synthetic_pipe(seed=11, size=(120, 160))
    seg = segment(tiny_model, rgb, InferenceOptions(corrosion_probability=True))
    stats = area_stats(seg.labels, tiny_model.classes)
    r = share_range(seg.labels, seg.corrosion_probability, tiny_model.classes)
    assert r.share == pytest.approx(stats.corroded_share)
    assert r.low <= r.share <= r.high
    a = assess(stats, seg.mean_confidence, share_range=(r.low, r.high))
    assert a.needs_review == (r.spans_cutoff("astm_d610") or bool(a.reasons))


def test_record_fields_of_a_photo_with_a_scale_and_probabilities() -> None:
    labels, prob = _photo()
    m = measure_photo(labels, DEFAULT_CLASSES, prob, mm_per_px=2.0, min_patch_pixels=1)
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
    fields = record_fields(measure_photo(background, DEFAULT_CLASSES, np.zeros((20, 20), np.uint8), 1.0))
    empty = (
        "corroded_share_low",
        "corroded_share_high",
        "d610_distribution",
        "patch_count",
        "largest_patch_share",
        "corrosion_area_mm2",
        "patches",
        "astm_d610_with_distribution",
    )
    for name in empty:
        assert fields[name] is None, name
    assert fields["mm_per_px"] == 1.0  # the scale was set; there is just no asset to measure
    labels, _ = _photo()
    unscaled = record_fields(measure_photo(labels, DEFAULT_CLASSES))
    assert unscaled["mm_per_px"] is None and unscaled["corrosion_area_mm2"] is None
    assert unscaled["class_areas_mm2"] is None and unscaled["area_note"] is None
    assert unscaled["corroded_share_low"] is None  # no probability plane asked for
    assert unscaled["patch_count"] == 1
    assert "mm2" not in json.dumps(unscaled["patches"])
    assert csv_cells(unscaled)[:3] == ["", "", "S"]


def test_record_fields_name_the_thresholds_the_range_used() -> None:
    labels, prob = _photo()
    fields = record_fields(measure_photo(labels, DEFAULT_CLASSES, prob))
    assert fields["range_thresholds"] == {"low": round(30 / 255, 4), "high": round(205 / 255, 4)}


def test_the_histogram_in_bands_counts_every_pipe_pixel_once(monkeypatch: pytest.MonkeyPatch) -> None:
    import app.core.share_range as share_range_module

    rng = np.random.default_rng(3)
    labels = rng.integers(0, 3, (301, 77)).astype(np.uint8)
    prob = rng.integers(0, 256, (301, 77)).astype(np.uint8)
    pipe = labels != 2  # corrosion (0) or asset (1)
    want = np.bincount(prob[pipe], minlength=256)
    monkeypatch.setattr(share_range_module, "_EXACT", 1000)  # bands of 12 rows, the last one short
    counts, graded, share = share_range_module.corrosion_histogram(labels, prob, DEFAULT_CLASSES)
    np.testing.assert_array_equal(counts, want)
    assert graded == int(pipe.sum())
    assert share == pytest.approx(100.0 * np.count_nonzero(labels == 0) / graded)
