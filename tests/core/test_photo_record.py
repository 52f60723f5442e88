"""The per-photo record has one owner (`app.core.record.PhotoRecord`): built, reviewed, sealed, written and
read back (checked) there; and a batch record holds its photo file's identity, so a photo re-shot under
the same name is analysed again instead of skipped as complete."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import numpy as np
import pytest

from app.core.analysis import analyze_rgb
from app.core.export import csv_row, write_result_json
from app.core.files import write_png
from app.core.model import SegmentationModel
from app.core.pipeline import BatchOptions, run_batch
from app.core.record import NETWORK_INPUT, RECORD_SCHEMA, ModelFigures, PhotoRecord, RecordError
from app.core.reviewed import ReviewState

ROOT = Path(__file__).resolve().parents[2]


def _plate(rust: bool) -> np.ndarray:
    """Asset (blue) on background (green); with a corroded (red) rectangle when `rust`."""
    rgb = np.zeros((40, 50, 3), np.uint8)
    rgb[..., 1] = 200
    rgb[5:35, 5:45] = (0, 0, 200)
    if rust:
        rgb[10:30, 10:40] = (200, 0, 0)
    return rgb


@pytest.fixture()
def record(tiny_model: SegmentationModel, tmp_path: Path) -> PhotoRecord:
    result = analyze_rgb(tiny_model, _plate(True), tmp_path / "p.png")
    return PhotoRecord.from_result(result, {"json": "p.json"})


def test_a_record_round_trips_through_its_file_and_is_frozen(record: PhotoRecord, tmp_path: Path) -> None:
    path = write_result_json(tmp_path / "p.json", record)
    again = PhotoRecord.from_json(json.loads(path.read_text("utf-8")))
    assert again == record and again["schema"] == RECORD_SCHEMA
    with pytest.raises(AttributeError):
        record.data = {}  # type: ignore[misc]
    copy = record.to_json()
    copy["corroded_share"] = 0.0
    assert record["corroded_share"] > 0  # nobody holds its data
    assert csv_row(record) == csv_row(record.to_json())


def test_review_batch_fields_and_the_seal_each_give_a_new_record(record: PhotoRecord) -> None:
    figures = ModelFigures(12.5, "6-G", "Ri 3")
    state = ReviewState.reviewed_now("A. Inspector", note="flange checked")
    reviewed = record.with_review(state, model_figures=figures)
    assert record.figures_source == "model" and "figures_source" not in record
    assert reviewed.figures_source == "reviewed" and reviewed.model_figures == figures
    who = reviewed.review()
    assert who["reviewed_by"] == "A. Inspector" and who["note"] == "flange checked"
    sealed = reviewed.for_batch("/photos/p.png", {}, None).seal()
    assert sealed.sealed and not reviewed.sealed and sealed.source == "/photos/p.png"
    assert PhotoRecord.from_json(sealed.to_json(), batch=True) == sealed
    assert not sealed.with_outputs({"mask": "p_mask.png"}).sealed  # any change breaks the seal


@pytest.mark.parametrize(
    ("change", "why"),
    [
        (lambda d: ["not", "a", "record"], "is not a Corroscope record (it lacks our fields)"),
        (
            lambda d: {**d, "schema": 1},
            f"was written by another version (record schema 1, not {RECORD_SCHEMA})",
        ),
        (lambda d: {**d, "percent": "lots"}, "field 'percent' is missing or wrong"),
        (lambda d: {**d, "needs_review": 1}, "field 'needs_review' is missing or wrong"),
        (lambda d: {k: v for k, v in d.items() if k != "width"}, "field 'width' is missing or wrong"),
        (lambda d: {**d, "photo": {"bytes": "12", "mtime_ns": 1, "sha256": ""}}, "field 'photo.bytes'"),
        (lambda d: {k: v for k, v in d.items() if k != "source"}, "field 'source' is missing or wrong"),
        (lambda d: {**d, "corroded_share": 1.0}, "was changed after Corroscope wrote it (edited by hand?)"),
    ],
)
def test_a_bad_record_file_is_refused_with_the_reason(record: PhotoRecord, change, why: str) -> None:
    sealed = record.for_batch("/photos/p.png", {}, None).seal().to_json()
    with pytest.raises(RecordError, match=None) as caught:
        PhotoRecord.from_json(change(sealed), batch=True)
    assert why in str(caught.value)


def test_a_record_the_window_exported_is_named_so_not_called_foreign(record: PhotoRecord) -> None:
    """The window's File ▸ Export writes a record without a batch's identity, files or seal: a batch
    into that folder keeps it, saying what it is (it said "not a Corroscope record of this version")."""
    with pytest.raises(RecordError) as caught:
        PhotoRecord.from_json(record.to_json(), batch=True)
    assert str(caught.value) == "is a record exported from the window (File ▸ Export), not one a batch wrote"


def test_a_record_of_the_previous_schema_is_still_read(record: PhotoRecord) -> None:
    old = {k: v for k, v in record.for_batch("/p.png", {}, None).to_json().items() if k != "photo"}
    old["schema"] = 3
    assert PhotoRecord.from_json(PhotoRecord(old).seal().to_json(), batch=True).photo is None


def test_only_the_record_module_writes_the_record_keys() -> None:
    """The keys only the record has (review, seal, identity, measures) appear as text in app.core.record
    alone among the modules that built or read the record before it had an owner."""
    keys = {
        "figures_source",
        "model_figures",
        "reviewed_mask",
        "record_sha256",
        "corroded_share_low",
        "astm_d610_with_distribution",
        "review_reasons_by_scale",
        "range_label",
        "range_note",
    }
    former_owners = [
        "app/core/export.py",
        "app/core/measures.py",
        "app/core/review_source.py",
        "app/core/ownership.py",
        "app/core/batch_photo.py",
        "app/core/batch_reduce.py",
        "app/ui/export_jobs.py",
        "app/report/pdf.py",
    ]
    for name in former_owners:
        tree = ast.parse((ROOT / name).read_text("utf-8"))
        strings = {
            n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)
        }
        assert not strings & keys, f"{name} spells record keys {sorted(strings & keys)}"


def test_a_photo_replaced_under_the_same_name_is_analysed_again(
    tiny_model: SegmentationModel, tmp_path: Path
) -> None:
    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    photo = write_png(src / "pipe.png", _plate(True))
    first = run_batch(tiny_model, [photo], out)
    assert first.done == (photo,)
    record = first.outcomes[0].record
    assert record is not None and record["corroded_share"] > 50
    assert record.photo is not None and record.photo.same_file(photo)
    write_png(photo, _plate(False), overwrite=True)  # re-shot: the same name, another picture
    second = run_batch(tiny_model, [photo], out, BatchOptions())
    assert second.done == (photo,) and second.skipped == () and second.changed == (photo,)
    assert second.outcomes[0].record["corroded_share"] == 0.0
    row = second.csv_path.read_text("utf-8-sig").splitlines()[1].split(",")
    assert row[0] == str(photo) and "0.0000" in row
    third = run_batch(tiny_model, [photo], out)  # unchanged since: complete
    assert third.skipped == (photo,) and third.changed == ()


def test_a_record_of_another_network_input_is_redone_on_resume(
    tiny_model: SegmentationModel, tmp_path: Path
) -> None:
    """Records written before the reduced decode (no `network_input`) describe figures of another network
    input: a resumed batch analyses those photos again rather than mix the two in one table."""
    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    photo = write_png(src / "pipe.png", _plate(True))
    first = run_batch(tiny_model, [photo], out)
    record = first.outcomes[0].record
    assert record is not None and record["network_input"] == NETWORK_INPUT
    json_path = out / "pipe.json"
    old = {k: v for k, v in json.loads(json_path.read_text("utf-8")).items() if k != "network_input"}
    json_path.write_bytes(PhotoRecord(old).seal().to_bytes())
    again = run_batch(tiny_model, [photo], out)
    assert again.done == (photo,) and again.skipped == ()
    assert json.loads(json_path.read_text("utf-8"))["network_input"] == NETWORK_INPUT
    third = run_batch(tiny_model, [photo], out)
    assert third.skipped == (photo,)
