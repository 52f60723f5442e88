"""A model file's own figures are trusted only where they are plausible: a range calibration or accuracy
figures that could not come from a measurement (a zero quantile, NaN, a coverage of 5730 %, an error of
0 on every photo) count as none, with the reason naming the field: no range, every photo flagged,
"accuracy unknown". What training and adaptation honestly write still passes."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from app.core import contract
from app.core.analysis import analyze_rgb
from app.core.model import SegmentationModel
from app.core.model_accuracy import ModelAccuracy, read_accuracy
from app.core.range_calibration import FEATURE_NAMES, RangeCalibration, read_calibration
from app.core.share_range import ShareRange
from app.core.synthetic import synthetic_pipe
from tests.helpers.tiny_models import channel_model, figures_metadata

_GOOD_RANGE = json.loads(figures_metadata(confidence=0.9)[contract.KEY_SHARE_RANGE])
_GOOD_ACCURACY = json.loads(figures_metadata()[contract.KEY_ACCURACY])
_BOUNDARY = FEATURE_NAMES.index("boundary_ratio")


def _range_text(**change) -> str:
    raw = json.loads(json.dumps(_GOOD_RANGE))
    raw.update(change)
    return json.dumps(raw)


# (what is wrong, the metadata text, words the reason must hold: the field it names)
BAD_RANGES = [
    ("quantile 0", _range_text(quantile=0.0), "quantile"),
    ("bias -1e6", _range_text(bias=-1e6), "bias"),
    ("review width NaN", _range_text(review_max_width=math.nan), "review_max_width"),
    ("review width negative", _range_text(review_max_width=-5), "review_max_width"),
    ("review width 1e308", _range_text(review_max_width=1e308), "review_max_width"),
    ("held-out coverage 57.3", _range_text(held_out={"coverage": 57.3, "photos": 194}), "held_out.coverage"),
    ("held-out photos -3", _range_text(held_out={"coverage": 0.8, "photos": -3}), "held_out.photos"),
    ("held-out photos 2.5", _range_text(held_out={"coverage": 0.8, "photos": 2.5}), "held_out.photos"),
    ("held-out width NaN", _range_text(held_out={"coverage": 0.8, "mean_width": math.nan}), "mean_width"),
    ("coverage 0.99999", _range_text(coverage=0.99999), "coverage"),
    ("coverage 0.3", _range_text(coverage=0.3), "coverage"),
    ("confidence 0.99999", _range_text(confidence=0.99999), "confidence"),
    ("quantile a string", _range_text(quantile="lots"), "quantile"),
    ("bias true", _range_text(bias=True), "bias"),
    ("bias 1e400", _range_text(bias=10**400), "bias"),
    ("a weight NaN", _range_text(weights=[math.nan] + [0.0] * 6), "weights"),
    ("a weight infinite", _range_text(weights=[math.inf] + [0.0] * 6), "weights"),
    # a ragged pipe (boundary ratio up to sqrt of its pixels) would shrink the range to nothing
    ("boundary weight -5", _range_text(weights=[2.0, 0, 0, -5.0, 0, 0, 0]), "weights"),
    ("mean missing", json.dumps({k: v for k, v in _GOOD_RANGE.items() if k != "mean"}), "mean"),
    ("coverage NaN", '{"coverage": NaN}', "coverage"),
]


@pytest.mark.parametrize(("what", "text", "field"), BAD_RANGES, ids=[b[0] for b in BAD_RANGES])
def test_an_implausible_range_calibration_counts_as_none_naming_the_field(what, text, field) -> None:
    cal, note = read_calibration({contract.KEY_SHARE_RANGE: text})
    assert cal is None, what
    assert note is not None and "unusable" in note and field in note, note
    assert len(note) < 400 and "\x1b" not in note


def test_a_model_with_an_implausible_calibration_shows_no_range_and_flags_every_photo(tmp_path: Path) -> None:
    """The hostile file's photo read "No review needed" with "80 % range 83.2-83.2 %"."""
    meta = {**figures_metadata(), contract.KEY_SHARE_RANGE: _range_text(quantile=0.0, review_max_width=1e308)}
    model = SegmentationModel.load(channel_model(tmp_path / "q0.onnx", metadata=meta), "cpu")
    assert model.range_calibration is None and model.range_note is not None and "quantile" in model.range_note
    rgb, _ = synthetic_pipe(seed=11, size=(120, 160))
    result = analyze_rgb(model, rgb, "pipe.png")
    assert result.stats.corroded_share is not None and result.measures.share_range is None
    assert result.assessment.needs_review and model.range_note in result.assessment.reasons


def test_no_photo_gets_a_range_narrower_than_one_point() -> None:
    """Whatever a photo's features (within what they can be), the range is at least 1 point wide: the
    load-time rule bounds the narrowest scale, not only the typical photo's."""
    cal = RangeCalibration.from_json(_GOOD_RANGE)
    assert cal.narrowest_half() >= 0.5
    rng = np.random.default_rng(0)
    for _ in range(200):
        x = rng.uniform(0, 1, len(FEATURE_NAMES))
        x[_BOUNDARY] *= 500
        assert cal.quantile * cal.scale_of(x) >= cal.narrowest_half() - 1e-9


def test_a_review_width_that_is_not_a_number_never_lets_a_range_pass() -> None:
    assert ShareRange(83.2, 83.2, 83.2, review_max_width=math.nan).too_wide
    assert ShareRange(83.2, 80.0, 86.0, review_max_width=math.nan).too_wide
    assert not ShareRange(83.2, 80.0, 86.0, review_max_width=30.0).too_wide


def test_the_held_out_statement_and_the_figures_come_from_one_check() -> None:
    cal = RangeCalibration.from_json(_GOOD_RANGE)
    assert cal.statement() is None  # figures_metadata states no held-out photo count
    stated = RangeCalibration.from_json({**_GOOD_RANGE, "held_out": {"coverage": 0.84, "photos": 194}})
    assert stated.statement() == (
        "Its 80 % range held 84 % of inspectors' shares on 194 held-out photos; calibrated to hold at "
        "least 80 % of unseen photos' shares with 90 % confidence, on photos like those it was measured on."
    )
    assert stated.held.coverage == 0.84 and stated.held.photos == 194


def test_what_training_writes_for_a_review_width_of_zero_still_reads() -> None:
    """`training.range_fit.choose_review_width` writes 0 where no range is narrow enough to pass review
    alone: every photo is then flagged, the range still shown."""
    cal, note = read_calibration({contract.KEY_SHARE_RANGE: _range_text(review_max_width=0.0)})
    assert cal is not None and note is None and cal.review_max_width == 0.0


def _accuracy_text(**change) -> str:
    raw = json.loads(json.dumps(_GOOD_ACCURACY))
    for key, value in change.items():
        if key in ("median", "mean", "p90"):
            raw["share_error"][key] = value
        else:
            raw[key] = value
    return json.dumps(raw)


BAD_ACCURACY = [
    ("exact everywhere", _accuracy_text(median=0, mean=0, p90=0, d610_same_share=1.0, photos=1), "p90"),
    ("exact on 9 photos in 10", _accuracy_text(median=0, mean=0.5, p90=0), "p90"),
    ("median over p90", _accuracy_text(median=90, mean=50, p90=0.1), "median"),
    ("10^12 photos", _accuracy_text(photos=10**12), "photos"),
    ("one photo", _accuracy_text(photos=1), "photos"),
    ("photos 194.5", _accuracy_text(photos=194.5), "photos"),
    ("photos a string", _accuracy_text(photos="194"), "photos"),
    ("p90 NaN", _accuracy_text(p90=math.nan), "p90"),
    ("median infinite", _accuracy_text(median=math.inf), "median"),
    ("p90 over 100 points", _accuracy_text(p90=250.0), "p90"),
    ("mean 0 beside a p90", _accuracy_text(median=5, mean=0, p90=10), "mean"),
    ("D610 agreement 1.5", _accuracy_text(d610_same_share=1.5), "d610_same_share"),
    # the tester's file: "typically within ±0 points ... (90 % within ±0); D610 grade equal on 100 %"
    (
        "within 0 points of a million masks",
        _accuracy_text(median=0.3, mean=0.2, p90=0.4, d610_same_share=1.0, photos=1_000_000),
        "share_error.p90",
    ),
    ("typically within 0 points", _accuracy_text(median=0.4, mean=3.0, p90=12.0), "share_error.median"),
    ("median 0.5", _accuracy_text(median=0.5, mean=3.0, p90=12.0), "share_error.median"),
    ("median 0.5004, written 0.5", _accuracy_text(median=0.5004, mean=3.0, p90=12.0), "share_error.median"),
]


def test_the_smallest_errors_that_pass_read_as_one_point() -> None:
    accuracy = read_accuracy({contract.KEY_ACCURACY: _accuracy_text(median=0.501, mean=0.8, p90=0.6)})
    assert accuracy is not None
    assert "typically within ±1 points of an inspector's mask (90 % within ±1)" in accuracy.line()


@pytest.mark.parametrize(("what", "text", "field"), BAD_ACCURACY, ids=[b[0] for b in BAD_ACCURACY])
def test_implausible_accuracy_figures_count_as_none_naming_the_field(what, text, field, tmp_path) -> None:
    assert read_accuracy({contract.KEY_ACCURACY: text}) is None, what
    meta = {**figures_metadata(), contract.KEY_ACCURACY: text}
    model = SegmentationModel.load(channel_model(tmp_path / "m.onnx", metadata=meta), "cpu")
    assert model.accuracy is None
    assert model.accuracy_line.startswith("Model estimate: accuracy unknown")
    assert "within ±0" not in model.accuracy_line
    assert model.accuracy_note is not None and field in model.accuracy_note, model.accuracy_note


def test_the_accuracy_reason_is_logged_at_load(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    meta = {**figures_metadata(), contract.KEY_ACCURACY: _accuracy_text(p90=0, median=0)}
    with caplog.at_level("WARNING", logger="app.core.model"):
        SegmentationModel.load(channel_model(tmp_path / "m.onnx", metadata=meta), "cpu")
    assert any("share_error.p90" in r.getMessage() for r in caplog.records)


def test_what_training_and_adaptation_honestly_write_passes() -> None:
    """The shipped figures' form, `training.model_figures`' rows, and adaptation's leave-one-out over the
    fewest photos it accepts (2); adaptation states no error where its photos cannot support one."""
    from app.core.adapt_scores import LooFigures, loo_accuracy

    assert read_accuracy({contract.KEY_ACCURACY: json.dumps(_GOOD_ACCURACY)}) is not None
    shipped = {"share_error": {"median": 10.732, "mean": 15.65, "p90": 34.495}, "d610_same_share": 0.6443}
    assert read_accuracy({contract.KEY_ACCURACY: json.dumps({**shipped, "photos": 194})}) is not None
    two = loo_accuracy(LooFigures(4.0, 0.5, 2, (3.0, 5.0)))
    assert two is not None and two.photos == 2
    assert ModelAccuracy.from_json(json.loads(json.dumps(two.to_json()))) == two
    assert loo_accuracy(LooFigures(0.0, 1.0, 5, (0.0,) * 5)) is None  # five clean pipes, none off
    assert loo_accuracy(LooFigures(2.0, 1.0, 1, (2.0,))) is None  # one photo had a share
    # three of five clean pipes exactly right: "typically within ±0 points" is not what a few photos show
    assert loo_accuracy(LooFigures(1.0, 1.0, 5, (0.0, 0.0, 0.0, 2.0, 3.0))) is None
