"""One row per photo in `results.csv`, whatever the reruns: a photo named through its folder, then as a
file, is matched by its record; earlier rows are kept only while what they say still holds."""

from __future__ import annotations

import csv
import dataclasses
import json
import os
from pathlib import Path

import pytest

from app.core.export import CSV_NAME
from app.core.files import write_png
from app.core.model import SegmentationModel
from app.core.pipeline import BatchOptions, run_batch, select_inputs
from app.core.synthetic import synthetic_pipe


def _photos(folder: Path, n: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return [
        write_png(folder / f"pipe_{i:02d}.png", synthetic_pipe(seed=i, size=(48, 64))[0]) for i in range(n)
    ]


def _rows(out: Path) -> list[dict[str, str]]:
    with open(out / CSV_NAME, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def test_a_photo_named_as_a_file_after_its_folder_keeps_one_row(
    tmp_path: Path, tiny_model: SegmentationModel
) -> None:
    photos, out = _photos(tmp_path / "dup", 3), tmp_path / "out"
    folder = BatchOptions(input_folders=(photos[0].parent,))
    assert run_batch(tiny_model, photos, out, folder).ok
    assert run_batch(tiny_model, [photos[0]], out).skipped == (photos[0],)
    assert run_batch(tiny_model, photos, out).skipped == tuple(photos)  # `dup/*.png`
    assert run_batch(tiny_model, [photos[0]], out, BatchOptions(overwrite=True)).done == (photos[0],)
    records = [r["json_file"] for r in _rows(out)]
    assert sorted(records) == ["pipe_00.json", "pipe_01.json", "pipe_02.json"], "one row per photo"
    assert run_batch(tiny_model, photos, out, folder).ok  # and back through the folder
    assert sorted(r["json_file"] for r in _rows(out)) == sorted(records)


@pytest.mark.skipif(os.name != "posix", reason="a FIFO and a symbolic link")
def test_failure_rows_of_photos_gone_from_the_folders_go_with_them(
    tmp_path: Path, tiny_model: SegmentationModel
) -> None:
    """A FIFO and a dangling link fail; deleted, a rerun of their folder drops their rows (its totals then
    agree with the console); a failure row of another folder's photo stays."""
    folder, out = tmp_path / "in", tmp_path / "out"
    (photo,) = _photos(folder, 1)
    (folder / "c").mkdir()
    os.mkfifo(folder / "c" / "f.png")
    (folder / "dangling.png").symlink_to(tmp_path / "nowhere.png")
    elsewhere = tmp_path / "other" / "bad.png"
    elsewhere.parent.mkdir()
    elsewhere.write_bytes(b"not a photo")
    run_batch(tiny_model, [elsewhere], out, BatchOptions(input_folders=(elsewhere.parent,)))
    options = BatchOptions(input_folders=(folder,))
    first = run_batch(tiny_model, list(select_inputs([folder], out, recursive=True).photos), out, options)
    assert len(first.failures) == 2
    elsewhere.unlink()
    (folder / "c" / "f.png").unlink()
    (folder / "dangling.png").unlink()
    for overwrite in (False, True):
        again = run_batch(tiny_model, [photo], out, dataclasses.replace(options, overwrite=overwrite))
        assert again.ok
        rows = [(r["file"], r["status"]) for r in _rows(out)]
        assert rows == [("bad.png", "failed"), ("pipe_00.png", "ok")]
        totals = json.loads((out / "results.json").read_text(encoding="utf-8"))["photos"]
        assert (totals["rows"], totals["failed"]) == (2, 1), "outside this run's folder: kept"


def test_a_failure_row_goes_when_its_path_is_no_longer_a_photo(
    tmp_path: Path, tiny_model: SegmentationModel
) -> None:
    """A photo deleted and a folder made under its name (the batch then said "is a folder, not a photo"):
    the rerun's scan takes no photo there, so its failure row goes, and the totals agree with the console."""
    folder, out = tmp_path / "in", tmp_path / "out"
    photos = _photos(folder, 2)
    bad = folder / "pipe_09.png"
    bad.write_bytes(b"not a photo")
    options = BatchOptions(input_folders=(folder,))
    first = run_batch(tiny_model, list(select_inputs([folder], out).photos), out, options)
    assert [f.path for f in first.failures] == [bad]
    bad.unlink()
    bad.mkdir()  # now a folder of that name: the scan no longer lists it
    again = run_batch(tiny_model, list(select_inputs([folder], out).photos), out, options)
    assert again.ok and again.total == 2
    assert [(r["file"], r["status"]) for r in _rows(out)] == [(p.name, "ok") for p in photos]
    totals = json.loads((out / "results.json").read_text(encoding="utf-8"))["photos"]
    assert (totals["rows"], totals["failed"]) == (2, 0)
