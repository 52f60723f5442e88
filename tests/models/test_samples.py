"""The bundled sample photos: rendered by our generator, and the shipped model reads them as it reads
real photos (its corroded share within 5 points of each photo's exact truth mask, on the CPU)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from app.core.analysis import analyze_photo
from app.core.model import SegmentationModel, default_model_path
from app.core.palette import DEFAULT_CLASSES, decode_mask
from app.core.paths import samples_dir
from app.core.photos import read_image
from app.core.stats import area_stats
from app.core.synthetic import main as render_samples

SAMPLES = sorted(samples_dir().glob("*.jpg"))
SHARE_TOLERANCE = 5.0  # percentage points of the corroded share


def _truth(photo: Path) -> np.ndarray:
    labels, off = decode_mask(read_image(photo.parent / "truth" / f"{photo.stem}.png"))
    assert off == 0
    return labels


@pytest.fixture(scope="module")
def cpu_model() -> SegmentationModel:
    path = default_model_path("cpu")
    assert path is not None, "no model in models/"
    return SegmentationModel.load(path, device="cpu")


def test_there_are_samples_each_with_its_truth() -> None:
    assert len(SAMPLES) >= 3
    for photo in SAMPLES:
        assert (photo.parent / "truth" / f"{photo.stem}.png").is_file()


def test_samples_are_what_the_generator_renders(tmp_path: Path) -> None:
    render_samples(["--out", str(tmp_path), "--count", str(len(SAMPLES))])
    for photo in SAMPLES:
        np.testing.assert_array_equal(_truth(tmp_path / photo.name), _truth(photo))
        # JPEG encoders may differ by a level or two between OpenCV builds
        diff = cv2.absdiff(read_image(tmp_path / photo.name), read_image(photo))
        assert float(diff.mean()) < 1.0


@pytest.mark.parametrize("photo", SAMPLES, ids=lambda p: p.name)
def test_shipped_model_reads_each_sample_within_5_points(cpu_model: SegmentationModel, photo: Path) -> None:
    truth = area_stats(_truth(photo), DEFAULT_CLASSES).corroded_share
    result = analyze_photo(cpu_model, photo)
    assert truth is not None and result.stats.corroded_share is not None
    assert abs(result.stats.corroded_share - truth) <= SHARE_TOLERANCE, (
        f"{photo.name}: model {result.stats.corroded_share:.1f} %, truth {truth:.1f} %"
    )
    # corrosion as it looks, not only in total: the painted areas must overlap the truth
    pred, want = result.labels == DEFAULT_CLASSES[0].id, _truth(photo) == DEFAULT_CLASSES[0].id
    assert (pred & want).sum() / (pred | want).sum() > 0.5
