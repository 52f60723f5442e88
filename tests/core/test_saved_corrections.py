"""A photo's own saved correction: where it is looked for, signed before unsigned, and a batch that
takes its figures from it (the window's batch) with the review in the record and the CSV."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np

from app.core.export import CSV_NAME
from app.core.files import write_png
from app.core.model import SegmentationModel
from app.core.pipeline import BatchOptions, iter_batch
from app.core.reviewed import ReviewState, write_reviewed_mask
from app.core.saved_corrections import CorrectionSearch
from app.core.synthetic import synthetic_pipe


def _photo(folder: Path, name: str, seed: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    rgb, _labels = synthetic_pipe(seed, (64, 80))
    path = folder / name
    write_png(path, rgb)
    return path


def test_a_signed_correction_is_found_before_an_edit_in_any_of_the_folders(tmp_path: Path) -> None:
    photo = _photo(tmp_path / "site", "p1.png", 1)
    results = tmp_path / "site results"
    search = CorrectionSearch(home=tmp_path / "home")
    assert search.folders(photo) == [photo.parent, results], "never an export folder: copies go there"
    assert search.find(photo) is None
    labels = np.zeros((64, 80), np.uint8)
    edited = write_reviewed_mask(photo.parent / "p1_mask.edited.png", labels)
    assert search.find(photo) == edited
    assert search.find_signed(photo) is None, "an unsigned edit is no review"
    results.mkdir()
    signed = write_reviewed_mask(
        results / "p1_mask.reviewed.png", labels, review=ReviewState.reviewed_now("Ann")
    )
    assert search.find(photo) == signed and search.find_signed(photo) == signed


def test_the_newest_saved_correction_is_found_and_an_older_signature_is_named(
    tmp_path: Path,
) -> None:
    photo = _photo(tmp_path / "site", "p1.png", 1)
    results = tmp_path / "site results"
    results.mkdir()
    search = CorrectionSearch(home=tmp_path / "home")
    labels = np.zeros((64, 80), np.uint8)
    old = write_reviewed_mask(
        results / "p1_mask.reviewed.png", labels, review=ReviewState.reviewed_now("Ann")
    )
    new = write_reviewed_mask(
        photo.parent / "p1_mask.reviewed.png", labels, review=ReviewState.reviewed_now("Bo")
    )
    os.utime(old, ns=(1_000_000_000, 1_000_000_000))
    os.utime(new, ns=(2_000_000_000, 2_000_000_000))
    assert search.find(photo) == new == search.find_signed(photo), "not the first folder's: the newest"
    os.utime(old, ns=(3_000_000_000, 3_000_000_000))
    assert search.find(photo) == old
    assert search.older_signed(photo, old) is None
    edit = write_reviewed_mask(photo.parent / "p1_mask.edited.png", labels)
    assert search.find(photo) == edit, "an unsigned edit saved after the signature is the latest work"
    assert search.older_signed(photo, edit) == old and search.find_signed(photo) == old
    os.utime(edit, ns=(2_500_000_000, 2_500_000_000))
    assert search.find(photo) == old, "an edit older than the signature: the signed mask"
    os.utime(edit, ns=(3_000_000_000, 3_000_000_000))
    assert search.find(photo) == old, "saved at the same time: the signed one"


def test_a_batch_with_a_correction_search_takes_the_signed_masks_figures(
    tiny_model: SegmentationModel, tmp_path: Path
) -> None:
    photos = [_photo(tmp_path / "site", f"p{i}.png", i) for i in range(2)]
    results = tmp_path / "site results"
    results.mkdir()
    all_asset = np.full((64, 80), 1, np.uint8)  # every pixel asset: no corrosion
    review = ReviewState.reviewed_now("Ann", note="asset only")
    write_reviewed_mask(results / "p1_mask.reviewed.png", all_asset, review=review)
    options = BatchOptions(corrections=CorrectionSearch(home=tmp_path / "home"))
    out = tmp_path / "out"
    outcomes = list(iter_batch(tiny_model, photos, out, options, keep_results=True))
    corrected = outcomes[1]
    assert corrected.result.stats.corroded_share == 0.0
    assert ReviewState.of_record(corrected.record) == ReviewState(
        "reviewed", "Ann", review.reviewed_at, "asset only"
    )
    assert ReviewState.of_record(outcomes[0].record) == ReviewState()
    with (out / CSV_NAME).open(encoding="utf-8-sig", newline="") as f:
        rows = {Path(r["file"]).name: r for r in csv.DictReader(f)}
    assert rows["p1.png"]["source"] == "reviewed" and rows["p1.png"]["reviewed_by"] == "Ann"
    assert rows["p0.png"]["source"] == "model"
