"""Fitting the calibrated range from a cross-validation folder whose errors are known by construction,
measuring it on held-out folds, and writing the figures into a copy of a model file."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from app.core.grading import GradeScale, grade
from app.core.model import SegmentationModel
from app.core.model_accuracy import ModelAccuracy
from app.core.range_calibration import RangeCalibration
from tests.helpers.tiny_models import channel_model
from training.model_figures import accuracy_from_rows, main
from training.range_fit import calibrate_cv, conformal_quantile, load_cv

N, FOLDS = 150, 5


def _write_cv(root: Path, seed: int = 0) -> Path:
    """A training.cv folder: photo i's pipe has top-class probability 1 - u_i, and its share error is
    drawn with a spread growing with u_i (0.5 + 40 u points), so uncertainty predicts the error."""
    rng = np.random.default_rng(seed)
    rows, probs = [], {k: [] for k in range(FOLDS)}
    for i in range(N):
        fold, u = i % FOLDS, rng.uniform(0.01, 0.4)
        pred = rng.uniform(5, 95)
        true = float(np.clip(pred + rng.normal(0, 0.5 + 40 * u), 0, 100))
        p = np.full((16, 16, 3), u / 2)
        p[:, :8, 0], p[:, 8:12, 1], p[:, 12:, 2] = 1 - u, 1 - u, 1 - u
        probs[fold].append((f"{i:03d}", np.rint(p * 255).astype(np.uint8)))
        cm = np.zeros((3, 3), int)
        cm[1, 1] = 40 + i % 30  # the truth's asset: small on some photos
        cm[2, 2] = 600  # under 10 % of the frame for about half the photos
        rows.append(
            {
                "id": f"{i:03d}",
                "fold": fold,
                "share_pred": pred,
                "share_true": true,
                "d610_pred": grade(pred, GradeScale.ASTM_D610).value,
                "d610_true": grade(true, GradeScale.ASTM_D610).value,
                "mean_confidence": 1 - u,
                "confusion": cm.tolist(),
            }
        )
    rows.append({**rows[0], "id": "none", "share_pred": None, "d610_pred": None})  # no asset seen
    for k, items in probs.items():
        (root / f"fold{k}").mkdir(parents=True)
        ids = np.array([i for i, _ in items])
        np.savez_compressed(
            root / f"fold{k}" / "oof-probs.npz", ids=ids, probs=np.stack([p for _, p in items])
        )
    (root / "oof.json").write_text(json.dumps({"photos": rows}), encoding="utf-8")
    return root


def test_the_conformal_quantile_is_the_finite_sample_one() -> None:
    scores = np.arange(1, 11, dtype=float)  # n = 10: ceil(11 x 0.8) = 9th smallest
    assert conformal_quantile(scores, 0.8) == 9.0
    assert conformal_quantile(scores, 0.95) == 10.0  # capped at the largest


def test_the_training_conditional_quantile_reaches_the_coverage_with_the_stated_confidence() -> None:
    # With uniform scores the k-th smallest of n IS the coverage an unseen photo gets: draw many
    # calibration sets and count how often each quantile falls short of 80 %.
    rng = np.random.default_rng(0)
    draws = rng.uniform(size=(4000, 155))
    plain = np.array([conformal_quantile(d, 0.8) for d in draws[:400]])
    conditional = np.array([conformal_quantile(d, 0.8, confidence=0.9) for d in draws])
    assert np.mean(plain < 0.8) > 0.3  # the average promise: short of 80 % about half the time
    assert np.mean(conditional < 0.8) <= 0.1 + 0.015  # 10 % allowed, plus the draws' own noise
    assert np.mean(conditional < 0.8) > 0.05  # and not far more cautious than asked
    assert conformal_quantile(np.arange(1, 11, dtype=float), 0.8, confidence=0.9) == 10.0  # n = 10: all


def test_the_calibration_states_its_confidence_and_older_files_still_read(tmp_path: Path) -> None:
    cal, _, _ = calibrate_cv(_write_cv(tmp_path / "cv"), 0.8)
    assert cal.confidence == 0.9
    again = RangeCalibration.from_json(json.loads(json.dumps(cal.to_json())))
    assert again == cal
    older = {k: v for k, v in cal.to_json().items() if k != "confidence"}
    assert RangeCalibration.from_json(older).confidence is None


def test_held_out_coverage_reaches_the_target_and_hard_photos_get_wide_ranges(tmp_path: Path) -> None:
    cv = _write_cv(tmp_path / "cv")
    _, photos = load_cv(cv)
    assert len(photos) == N  # the photo without a predicted asset has no range
    cal, per_photo, rows = calibrate_cv(cv, 0.8)
    held = cal.held_out
    assert held["folds"] == FOLDS and held["photos"] == N
    assert held["coverage"] >= 0.8  # at least 80 % with 90 % confidence; measured on folds the fit never saw
    assert held["small_asset"]["photos"] > 0 and held["small_asset"]["coverage"] is not None
    unc = {p.id: p.x[0] for p in photos}  # mean uncertainty
    widths = sorted((unc[r["id"]], r["high"] - r["low"]) for r in per_photo)
    easy, hard = widths[: N // 3], widths[-N // 3 :]
    assert np.mean([w for _, w in easy]) * 2 < np.mean([w for _, w in hard])
    assert cal.weights[0] > 0  # uncertainty widens the range
    assert len(rows) == N + 1


def test_the_review_width_leaves_no_unflagged_photo_far_off_inside_the_fit(tmp_path: Path) -> None:
    cal, _, _ = calibrate_cv(_write_cv(tmp_path / "cv"), 0.8)
    held = cal.held_out
    assert cal.review_max_width is not None and cal.review_max_width > 0
    assert 0 <= held["unflagged_off_by_more_than_10"] <= held["unflagged"] <= held["photos"]
    assert set(held["per_fold"]) == {str(k) for k in range(FOLDS)}


def test_accuracy_figures_from_the_rows() -> None:
    rows = [
        {"share_pred": 10.0, "share_true": 12.0, "d610_pred": 4, "d610_true": 4},
        {"share_pred": None, "share_true": 5.0, "d610_pred": None, "d610_true": 4},  # counts as 0 %
        {"share_pred": 50.0, "share_true": 30.0, "d610_pred": 1, "d610_true": 2},
        {"share_pred": 3.0, "share_true": None, "d610_pred": 5, "d610_true": None},  # no truth: left out
    ]
    acc = accuracy_from_rows(rows, "test")
    assert (acc.median_error, acc.mean_error, acc.photos) == (5.0, 9.0, 3)
    assert acc.p90_error == pytest.approx(np.percentile([2, 5, 20], 90))
    assert acc.d610_same == pytest.approx(1 / 3)


def test_the_tool_writes_the_figures_into_a_copy_and_never_in_place(tmp_path: Path) -> None:
    cv = _write_cv(tmp_path / "cv")
    src = channel_model(tmp_path / "m.onnx")
    before = hashlib.sha256(src.read_bytes()).hexdigest()
    out = tmp_path / "with-figures.onnx"
    assert main(["--model", str(src), "--cv", str(cv), "--out", str(out)]) == 0
    assert hashlib.sha256(src.read_bytes()).hexdigest() == before
    model = SegmentationModel.load(out, "cpu")
    assert model.range_calibration is not None and model.range_note is None
    assert model.range_calibration.held_out["coverage"] >= 0.75
    assert isinstance(model.accuracy, ModelAccuracy) and model.accuracy.photos == N + 1
    assert model.accuracy_line.startswith("Model estimate: typically within ±")
    assert model.split == "argmax"  # the CV drew each pixel's likelier class
    report = json.loads((tmp_path / "with-figures.figures.json").read_text(encoding="utf-8"))
    assert len(report["held_out_photos"]) == N
    assert main(["--model", str(src), "--cv", str(cv), "--out", str(src)]) == 1  # never in place
    assert main(["--model", str(src), "--cv", str(cv), "--out", str(out)]) == 1  # exists: not replaced
    assert main(["--model", str(src), "--cv", str(cv), "--out", str(out), "--overwrite"]) == 0
    assert hashlib.sha256(src.read_bytes()).hexdigest() == before
    assert (
        main(["--model", str(src), "--cv", str(tmp_path / "nothing"), "--out", str(tmp_path / "x.onnx")]) == 1
    )


def test_figures_measured_with_the_expected_share_split_make_the_model_draw_it(tmp_path: Path) -> None:
    cv = _write_cv(tmp_path / "cv")
    record = json.loads((cv / "oof.json").read_text(encoding="utf-8"))
    (cv / "oof.json").write_text(json.dumps({**record, "levers": ["expected-share"]}), encoding="utf-8")
    out = tmp_path / "split.onnx"
    assert main(["--model", str(channel_model(tmp_path / "m.onnx")), "--cv", str(cv), "--out", str(out)]) == 0
    assert SegmentationModel.load(out, "cpu").split == "expected-share"
