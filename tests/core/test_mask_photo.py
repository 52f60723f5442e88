"""A saved mask records its photo's SHA-256; another photo saved later under the same name never gets the
mask's figures (or its signature): not in `analyze --reviewed-masks`, not in an adaptation. Masks of
older versions (no photo SHA-256 in their record) are read as before."""

from __future__ import annotations

import csv
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from app import cli
from app.core.adapt import AdaptRefused, adapt_model, reviewed_pairs
from app.core.errors import ReviewedMaskError
from app.core.files import write_png
from app.core.mask_folder import MaskFolder
from app.core.reviewed import ReviewState, photo_sha256, read_reviewed_mask, write_reviewed_mask
from app.core.synthetic import synthetic_pipe
from tests.core.test_adapt import _site, site_model


def _photo_and_mask(root: Path, stem: str = "ORI_003") -> tuple[Path, Path, np.ndarray]:
    root.mkdir(parents=True, exist_ok=True)
    rgb, labels = synthetic_pipe(seed=3, size=(40, 56))
    photo = write_png(root / f"{stem}.png", rgb)
    review = replace(ReviewState.reviewed_now("Ann"), photo_sha256=photo_sha256(photo))
    mask = write_reviewed_mask(root / f"{stem}_mask.reviewed.png", labels, review=review)
    return photo, mask, labels


def _replace_photo(photo: Path, seed: int = 9) -> None:
    rgb, _ = synthetic_pipe(seed=seed, size=(40, 56))  # the same size: only its content tells
    write_png(photo, rgb, overwrite=True)


def test_a_mask_is_refused_for_another_photo_saved_under_its_photos_name(tmp_path: Path) -> None:
    photo, mask, labels = _photo_and_mask(tmp_path)
    size = (56, 40)
    assert np.array_equal(read_reviewed_mask(mask, size, photo=photo).labels, labels)
    assert read_reviewed_mask(mask, size).review.photo_sha256 == photo_sha256(photo)
    _replace_photo(photo)
    with pytest.raises(
        ReviewedMaskError, match=r"ORI_003\.png changed since its mask .* the mask was not applied"
    ):
        read_reviewed_mask(mask, size, photo=photo)
    with pytest.raises(ReviewedMaskError, match="changed since its mask"):
        MaskFolder(tmp_path).read("ORI_003", size, photo=photo)


def test_a_mask_of_an_older_version_without_a_photo_sha_is_applied_as_before(tmp_path: Path) -> None:
    rgb, labels = synthetic_pipe(seed=3, size=(40, 56))
    photo = write_png(tmp_path / "pipe.png", rgb)
    mask = write_reviewed_mask(
        tmp_path / "pipe_mask.reviewed.png", labels, review=ReviewState.reviewed_now("Ann")
    )
    _replace_photo(photo)
    read = read_reviewed_mask(mask, (56, 40), photo=photo)
    assert read.review.is_signed and read.review.photo_sha256 == ""


def test_analyze_with_reviewed_masks_fails_a_photo_that_changed_since_its_mask(
    tmp_path: Path, tiny_model_path: Path
) -> None:
    photo, _mask, _labels = _photo_and_mask(tmp_path / "site")
    _replace_photo(photo)
    out = tmp_path / "out"
    args = ["analyze", str(photo), "--out", str(out), "--model", str(tiny_model_path), "--device", "cpu"]
    assert cli.main([*args, "--reviewed-masks", str(tmp_path / "site")]) == cli.EXIT_FAILED
    with open(out / "results.csv", encoding="utf-8-sig", newline="") as fh:
        row = next(csv.DictReader(fh))
    assert row["status"] == "failed" and row["source"] != "reviewed"
    assert "changed since its mask ORI_003_mask.reviewed.png was saved" in row["error"]


def test_an_adaptation_never_trains_on_the_mask_of_another_photo(tmp_path: Path) -> None:
    photos, masks = _site(tmp_path, 5)
    for photo in photos:  # each mask records its photo, as the window saves them
        found = read_reviewed_mask(masks / f"{photo.stem}_mask.reviewed.png")
        review = replace(found.review, photo_sha256=photo_sha256(photo))
        write_reviewed_mask(found.path, found.labels, review=review, overwrite=True)
    rng = np.random.default_rng(5)
    write_png(
        photos[2], rng.integers(0, 255, (32, 32, 3), dtype=np.uint8), overwrite=True
    )  # another photo, same name
    out = tmp_path / "site.onnx"
    with pytest.raises(AdaptRefused, match=r"p2\.png changed since its mask p2_mask\.reviewed\.png"):
        adapt_model(site_model(tmp_path / "base.onnx"), reviewed_pairs(photos, masks), out)
    assert not out.exists()


def test_a_project_never_stores_the_signed_mask_of_another_photo(tmp_path: Path) -> None:
    """Edit ▸ Mark reviewed on a project's photo stores the mask's figures in the project: a mask saved
    for the photo before it was replaced went in unchecked."""
    from app.core.model import SegmentationModel
    from app.core.project.reviews import reviewed_record

    photo, mask, _labels = _photo_and_mask(tmp_path / "site")
    model = SegmentationModel.load(site_model(tmp_path / "m.onnx"), device="cpu")
    record, review = reviewed_record(model, photo, mask)
    assert review.is_signed and record["figures_source"] == "reviewed"
    _replace_photo(photo)
    with pytest.raises(ReviewedMaskError, match="changed since its mask"):
        reviewed_record(model, photo, mask)


def test_the_compare_dialog_never_draws_a_mask_over_the_photo_that_replaced_its_own(
    qapp, tmp_path: Path
) -> None:
    from app.core.photos import read_image
    from app.ui.compare_dialog import MASK, overlay_rgb

    photo, mask, _labels = _photo_and_mask(tmp_path)
    assert overlay_rgb(read_image(photo), photo, str(mask), None)[1] == MASK
    _replace_photo(photo)
    with pytest.raises(ReviewedMaskError, match="changed since its mask"):
        overlay_rgb(read_image(photo), photo, str(mask), None)
