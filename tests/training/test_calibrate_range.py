"""Calibrating the share's range: the narrowest thresholds on histograms with a known answer, the CLI on a
tiny dataset, and the shipped thresholds on the real validation split."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from app.core.model import SegmentationModel, default_model_path
from app.core.share_range import CALIBRATED
from training.calibrate_range import PhotoCounts, calibrate, choose, main, measure


def _counts(*level_pixels: tuple[int, int]) -> np.ndarray:
    counts = np.zeros(256, np.int64)
    for level, n in level_pixels:
        counts[level] += n
    return counts


# 100 pipe pixels each: (level, pixels) of corrosion probability, the predicted share, the true share.
PHOTOS = [
    PhotoCounts("right", _counts((200, 20), (0, 80)), 100, 20.0, 20.0),
    PhotoCounts("misses", _counts((250, 10), (100, 20), (0, 70)), 100, 10.0, 30.0),  # needs low <= 100
    PhotoCounts(
        "overcalls", _counts((220, 30), (120, 10), (0, 60)), 100, 40.0, 30.0
    ),  # needs high in 121..220
]


def test_the_narrowest_thresholds_that_hold_every_true_share() -> None:
    lo, hi = choose(PHOTOS, 1.0)
    assert 1 <= lo <= 100 and 121 <= hi <= 200  # widths 0, 20 and 10 points: no pair is narrower
    result = calibrate(PHOTOS, 1.0)
    assert result["coverage"] == 1.0 and result["mean_width"] == pytest.approx(10.0)
    assert [(p["low"], p["high"]) for p in result["per_photo"]] == [(20, 20), (10, 30), (30, 40)]


def test_a_lower_target_lets_the_worst_photo_fall_outside_for_a_narrower_range() -> None:
    lo, hi = choose(PHOTOS, 0.6)
    assert 101 <= lo <= hi <= 200  # photo "misses" is left out: widths 0, 0, 10
    result = calibrate(PHOTOS, 0.6)
    assert result["coverage"] == pytest.approx(2 / 3) and result["mean_width"] == pytest.approx(10 / 3)
    assert choose(PHOTOS[:1], 1.0) is not None


def test_the_cli_measures_once_and_reuses_its_cache(
    tiny_model_path: Path, tiny_origin_dataset: Path, tmp_path: Path
) -> None:
    out = tmp_path / "range.json"
    argv = [
        "--model",
        str(tiny_model_path),
        "--data",
        str(tiny_origin_dataset),
        "--split-file",
        str(tiny_origin_dataset / "val.txt"),
        "--out",
        str(out),
    ]
    assert main(argv) == 0
    first = json.loads(out.read_text())
    assert first["photos"] == 3 and first["coverage"] == 1.0  # the tiny model segments these exactly
    assert out.with_suffix(".cache.npz").is_file()
    assert main(argv) == 0
    assert json.loads(out.read_text()) == first


@pytest.mark.real_data
def test_the_shipped_thresholds_hold_80_percent_of_the_validation_shares(real_data: Path) -> None:
    path = default_model_path("cpu")
    model = SegmentationModel.load(path, "cpu")
    ids = (real_data / "val.txt").read_text().split()
    photos = measure(model, real_data, ids)
    result = calibrate(photos, 0.8)
    assert (result["levels"]["low"], result["levels"]["high"]) == CALIBRATED.levels, "re-run calibrate_range"
    assert result["coverage"] >= 0.8
