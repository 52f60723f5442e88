"""One row per photo in `results.csv`, whatever the reruns: a photo named through its folder, then as a
file, is matched by its record; earlier rows are kept only while what they say still holds."""

from __future__ import annotations

import csv
from pathlib import Path

from app.core.export import CSV_NAME
from app.core.files import write_png
from app.core.model import SegmentationModel
from app.core.pipeline import BatchOptions, run_batch
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
