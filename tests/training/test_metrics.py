"""Metrics against values worked out by hand on small made-up masks."""

from __future__ import annotations

import math

import numpy as np
import pytest

from training import metrics

NAMES = ("corrosion", "asset", "background")

# Photo A (2x4): truth / prediction
#   truth 0 0 1 1     pred 0 1 1 1
#         2 2 2 2          2 2 0 2
TRUTH_A = np.array([[0, 0, 1, 1], [2, 2, 2, 2]], np.uint8)
PRED_A = np.array([[0, 1, 1, 1], [2, 2, 0, 2]], np.uint8)
# Photo B (2x2): no corrosion anywhere; asset everywhere in truth, predicted on 1 pixel only.
TRUTH_B = np.array([[1, 1], [1, 1]], np.uint8)
PRED_B = np.array([[1, 2], [2, 2]], np.uint8)


def test_confusion_matrix_counts():
    cm = metrics.confusion_matrix(TRUTH_A, PRED_A, 3)
    # rows truth, columns prediction
    np.testing.assert_array_equal(cm, [[1, 1, 0], [0, 2, 0], [1, 0, 3]])
    assert cm.sum() == TRUTH_A.size


def test_class_scores_by_hand():
    s = metrics.class_scores(metrics.confusion_matrix(TRUTH_A, PRED_A, 3))
    # corrosion: tp 1, fp 1 (a background pixel), fn 1 (an asset prediction)
    assert s["iou"][0] == pytest.approx(1 / 3)
    assert s["dice"][0] == pytest.approx(2 / 4)
    assert s["precision"][0] == pytest.approx(1 / 2) and s["recall"][0] == pytest.approx(1 / 2)
    # asset: tp 2, fp 1, fn 0
    assert s["iou"][1] == pytest.approx(2 / 3)
    assert s["dice"][1] == pytest.approx(4 / 5) == s["f1"][1]
    assert s["precision"][1] == pytest.approx(2 / 3) and s["recall"][1] == 1.0
    # background: tp 3, fp 0, fn 1
    assert s["iou"][2] == pytest.approx(3 / 4) and s["precision"][2] == 1.0 and s["recall"][2] == 0.75
    assert metrics.pixel_accuracy(metrics.confusion_matrix(TRUTH_A, PRED_A, 3)) == pytest.approx(6 / 8)


def test_pooled_protocol_sums_pixels_first():
    cms = metrics.photo_confusions([TRUTH_A, TRUTH_B], [PRED_A, PRED_B], 3)
    r = metrics.pooled_report(cms, NAMES)
    # pooled asset: tp 2+1, fp 1+0, fn 0+3  -> IoU 3/7
    assert r.per_class["asset"]["iou"] == pytest.approx(3 / 7)
    # pooled background: tp 3, fp 0+3, fn 1 -> IoU 3/7
    assert r.per_class["background"]["iou"] == pytest.approx(3 / 7)
    assert r.per_class["corrosion"]["iou"] == pytest.approx(1 / 3)
    assert r.pixel_accuracy == pytest.approx((6 + 1) / 12)
    assert r.mean_iou == pytest.approx((1 / 3 + 3 / 7 + 3 / 7) / 3)


def test_per_photo_protocol_averages_photos_and_skips_undefined():
    cms = metrics.photo_confusions([TRUTH_A, TRUTH_B], [PRED_A, PRED_B], 3)
    r = metrics.per_photo_report(cms, NAMES)
    # corrosion is absent from truth and prediction of B: only photo A counts.
    assert r.per_class["corrosion"]["iou"] == pytest.approx(1 / 3)
    assert r.n_photos["corrosion"]["iou"] == 1
    # asset: A 2/3, B 1/4 -> mean
    assert r.per_class["asset"]["iou"] == pytest.approx((2 / 3 + 1 / 4) / 2)
    assert r.n_photos["asset"]["iou"] == 2
    # background in B: tp 0, fp 3, fn 0 -> IoU 0 (predicted but absent: defined, and 0); recall undefined.
    assert r.per_class["background"]["iou"] == pytest.approx((3 / 4 + 0) / 2)
    assert r.per_class["background"]["recall"] == pytest.approx(0.75)
    assert r.n_photos["background"]["recall"] == 1
    assert r.pixel_accuracy == pytest.approx((6 / 8 + 1 / 4) / 2)
    expected_miou = (1 / 3 + (2 / 3 + 1 / 4) / 2 + 3 / 8) / 3
    assert r.mean_iou == pytest.approx(expected_miou)


def test_perfect_prediction_scores_one():
    cm = metrics.confusion_matrix(TRUTH_A, TRUTH_A, 3)
    s = metrics.class_scores(cm)
    for name in metrics.SCORE_NAMES:
        np.testing.assert_allclose(s[name], 1.0)


def test_undefined_everywhere_is_nan_not_zero():
    cms = metrics.photo_confusions([TRUTH_B], [TRUTH_B], 3)
    r = metrics.per_photo_report(cms, NAMES)
    assert math.isnan(r.per_class["corrosion"]["iou"]) and r.n_photos["corrosion"]["iou"] == 0
    assert r.per_class["asset"]["iou"] == 1.0


def test_shape_mismatch_is_refused():
    with pytest.raises(ValueError, match="differ in shape"):
        metrics.confusion_matrix(TRUTH_A, TRUTH_B, 3)


def test_origin_scoring_counts_absent_classes_as_perfect():
    cms = metrics.photo_confusions([TRUTH_A, TRUTH_B], [PRED_A, PRED_B], 3)
    o = metrics.origin_scores(cms, NAMES, background=2)
    # corrosion: A 1/3; B absent from truth and prediction -> 1.0 under the origin's smoothing.
    assert o.iou["corrosion"] == pytest.approx((1 / 3 + 1) / 2)
    assert o.dice["corrosion"] == pytest.approx((2 / 4 + 1) / 2)
    assert o.iou["asset"] == pytest.approx((2 / 3 + 1 / 4) / 2)
    # background predicted on B but absent from its truth: 0, as in our protocol.
    assert o.iou["background"] == pytest.approx((3 / 4 + 0) / 2, abs=1e-6)
    # pipe = corrosion + asset: A 4 of 5 pixels in the union agree, B 1 of 4.
    assert o.pipe_iou == pytest.approx((4 / 5 + 1 / 4) / 2)
    assert o.to_json()["smoothing"] == metrics.ORIGIN_SMOOTHING
