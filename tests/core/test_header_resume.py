"""The report header (asset ID, location, client, inspector, inspection date) travels with each photo's
record and `results.csv` row, and a resumed run redoes a photo whose outputs were made under another
header, saying why, instead of skipping it as complete."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from app import cli
from app.core.export import CSV_NAME
from app.core.files import write_png
from app.core.model import SegmentationModel
from app.core.pipeline import BatchOptions, run_batch
from app.core.record import PhotoRecord
from app.core.report_header import ReportHeader
from app.core.synthetic import synthetic_pipe
from tests.helpers.outputs import output_paths

HEADER_COLUMNS = ("asset_id", "location", "client", "inspector", "inspection_date")  # as documented
NONE_GIVEN = dict.fromkeys(HEADER_COLUMNS)


def _photos(folder: Path, n: int = 2) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return [write_png(folder / f"pipe_{i}.png", synthetic_pipe(seed=i, size=(40, 56))[0]) for i in range(n)]


def _rows(out: Path) -> list[dict[str, str]]:
    with open(out / CSV_NAME, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def _header_of(out: Path, stem: str) -> dict:
    return json.loads(output_paths(out, stem).json.read_text(encoding="utf-8"))["report_header"]


def _cli(paths: list[Path], out: Path, model: Path, *extra: str) -> int:
    args = ["analyze", *map(str, paths), "--out", str(out), "--model", str(model), "--device", "cpu"]
    return cli.main([*args, *extra])


def test_the_header_is_in_each_record_and_in_the_last_columns_of_the_csv(
    tmp_path: Path, tiny_model_path: Path
) -> None:
    photos, out = _photos(tmp_path / "in"), tmp_path / "out"
    typed = ["--asset-id", "P-7", "--inspector", "Alice", "--inspection-date", "2026-11-30"]
    assert _cli(photos, out, tiny_model_path, *typed) == 0
    want = {**NONE_GIVEN, "asset_id": "P-7", "inspector": "Alice", "inspection_date": "2026-11-30"}
    assert [_header_of(out, p.stem) for p in photos] == [want, want]
    rows = _rows(out)
    assert list(rows[0])[-len(HEADER_COLUMNS) :] == list(HEADER_COLUMNS)  # appended: earlier CSVs resume
    assert [{k: r[k] for k in HEADER_COLUMNS} for r in rows] == [{k: v or "" for k, v in want.items()}] * 2


def test_a_run_under_another_header_redoes_the_photos_and_says_why(
    tmp_path: Path, tiny_model_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """It said "skipped (outputs already complete)" and kept the PDF and record of the first asset."""
    photos, out = _photos(tmp_path / "in"), tmp_path / "out"
    assert _cli(photos, out, tiny_model_path, "--asset-id", "WRONG-001", "--inspector", "Alice") == 0
    capsys.readouterr()
    assert _cli(photos, out, tiny_model_path, "--asset-id", "RIGHT-002", "--inspector", "Bob") == 0
    said = capsys.readouterr().out
    assert "2 photos: 2 analysed, 0 failed" in said and "skipped" not in said
    assert "2 photos analysed again: header changed" in said and all(str(p) in said for p in photos)
    right = {**NONE_GIVEN, "asset_id": "RIGHT-002", "inspector": "Bob"}
    assert [_header_of(out, p.stem) for p in photos] == [right, right]
    assert [(r["asset_id"], r["inspector"]) for r in _rows(out)] == [("RIGHT-002", "Bob")] * 2
    # the same header again: complete, skipped
    assert _cli(photos, out, tiny_model_path, "--asset-id", "RIGHT-002", "--inspector", "Bob") == 0
    said = capsys.readouterr().out
    assert "2 skipped (outputs already complete)" in said and "header changed" not in said
    # no header options: this run names no asset, so the outputs of one are redone, none recorded
    assert _cli(photos, out, tiny_model_path) == 0
    assert "2 photos analysed again: header changed" in capsys.readouterr().out
    assert [_header_of(out, p.stem) for p in photos] == [NONE_GIVEN, NONE_GIVEN]
    assert {r[k] for r in _rows(out) for k in HEADER_COLUMNS} == {""}


def test_records_and_a_results_csv_of_an_earlier_version_without_a_header_are_resumed(
    tmp_path: Path, tiny_model: SegmentationModel
) -> None:
    """A record written before the header was kept (no `report_header`) was made under none: a run with
    none skips it as complete; a `results.csv` without the header columns keeps its rows, padded."""
    photos, out = _photos(tmp_path / "in"), tmp_path / "out"
    assert run_batch(tiny_model, photos[:1], out).done == (photos[0],)
    json_path = output_paths(out, photos[0].stem).json
    data = json.loads(json_path.read_text(encoding="utf-8"))
    del data["report_header"]
    json_path.write_bytes(PhotoRecord(data).seal().to_bytes())  # as an earlier version sealed it
    with open(out / CSV_NAME, encoding="utf-8-sig", newline="") as fh:
        table = list(csv.reader(fh))
    cut = table[0].index(HEADER_COLUMNS[0])
    with open(out / CSV_NAME, "w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh).writerows(row[:cut] for row in table)
    summary = run_batch(tiny_model, photos, out)
    assert summary.skipped == (photos[0],) and summary.done == (photos[1],) and not summary.header_changed
    assert [r["asset_id"] for r in _rows(out)] == ["", ""]
    header = ReportHeader(asset_id="P-9")
    summary = run_batch(tiny_model, photos, out, BatchOptions(report_header=header))
    assert summary.done == tuple(photos) and summary.header_changed == tuple(photos)
    assert [r["asset_id"] for r in _rows(out)] == ["P-9", "P-9"]


def test_the_windows_batch_gives_no_header_and_resumes_its_own_folder(
    tmp_path: Path, tiny_model: SegmentationModel
) -> None:
    """The window's batch into a folder runs the same pipeline with no header: it still resumes."""
    photos, out = _photos(tmp_path / "in"), tmp_path / "out"
    options = BatchOptions(input_folders=(photos[0].parent,))  # as `AppController.batch_options` makes them
    assert run_batch(tiny_model, photos, out, options).done == tuple(photos)
    again = run_batch(tiny_model, photos, out, options)
    assert again.skipped == tuple(photos) and not again.header_changed
