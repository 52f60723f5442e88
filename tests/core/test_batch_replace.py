"""A photo's outputs replaced as one set: a failure part-way (a full disk) keeps the earlier set whole,
and earlier outputs of ours that a new run does not write again go, so none contradicts the new record.
Resume redoes a photo whose figures would differ (its mask changed in place, other figure options) and
never replaces signed figures, or another photo's intact results, unasked."""

from __future__ import annotations

import csv
import dataclasses
import errno
import json
from pathlib import Path

import numpy as np
import pytest

from app.core import exporters
from app.core.export import CSV_NAME
from app.core.files import write_png
from app.core.grading import ReviewPolicy
from app.core.model import SegmentationModel
from app.core.pipeline import BatchOptions, run_batch
from app.core.reviewed import ReviewState, write_reviewed_mask
from app.core.synthetic import synthetic_pipe
from tests.helpers.outputs import output_paths

JPEG = exporters.OVERLAY_JPEG_KIND


def _photo(folder: Path, seed: int = 0) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return write_png(folder / f"pipe_{seed:02d}.png", synthetic_pipe(seed=seed, size=(48, 64))[0])


@pytest.fixture
def disk_full_at_the_overlay():
    """The overlay's writer fails as a full disk makes it fail, after the mask was written."""
    kind = exporters.get("overlay")

    def full(path: Path, data: exporters.ExportInput, overwrite: bool) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    exporters.register(dataclasses.replace(kind, write=full))
    yield
    exporters.register(kind)


def test_a_failed_overwrite_keeps_the_earlier_outputs_whole(
    tmp_path: Path, tiny_model: SegmentationModel, request
) -> None:
    photo, out = _photo(tmp_path / "in"), tmp_path / "out"
    assert run_batch(tiny_model, [photo], out).done == (photo,)
    outs = output_paths(out, photo.stem)
    before = {p: (p.read_bytes(), p.stat().st_ino) for p in (outs.mask, outs.overlay, outs.json)}
    request.getfixturevalue("disk_full_at_the_overlay")
    summary = run_batch(tiny_model, [photo], out, BatchOptions(overwrite=True))
    assert summary.failures and "No space left on device" in summary.failures[0].reason
    after = {p: (p.read_bytes(), p.stat().st_ino) for p in before if p.exists()}
    assert after == before, "the mask written before the failure never landed: the same files stay"
    assert sorted(p.name for p in out.glob(".*.part")) == []


def test_an_overwrite_removes_the_earlier_outputs_it_does_not_write_again(
    tmp_path: Path, tiny_model: SegmentationModel
) -> None:
    photos = [_photo(tmp_path / "in", 0), _photo(tmp_path / "in", 1)]
    out = tmp_path / "out"
    first = BatchOptions(exports=("mask", JPEG, "json"))
    assert run_batch(tiny_model, photos, out, first).ok
    jpegs = [out / f"{p.stem}_overlay.jpg" for p in photos]
    assert all(j.is_file() for j in jpegs)
    jpegs[1].write_bytes(jpegs[1].read_bytes() + b"edited")  # changed since: no longer provably ours
    summary = run_batch(tiny_model, photos, out, BatchOptions(overwrite=True))  # mask, overlay PNG, JSON
    assert summary.ok and summary.removed == (jpegs[0],), "what was removed is said"
    assert not jpegs[0].exists(), "an overlay of the earlier run would contradict the new record"
    assert jpegs[1].is_file(), "a file changed since the earlier run is not ours to remove"
    assert output_paths(out, photos[0].stem).overlay.is_file()


def test_a_resume_never_removes_an_earlier_output(tmp_path: Path, tiny_model: SegmentationModel) -> None:
    photo, out = _photo(tmp_path / "in"), tmp_path / "out"
    assert run_batch(tiny_model, [photo], out, BatchOptions(exports=("mask", JPEG, "json"))).ok
    jpeg = out / f"{photo.stem}_overlay.jpg"
    summary = run_batch(tiny_model, [photo], out)  # the PNG overlay asked for now: the photo is redone
    assert summary.done == (photo,) and summary.removed == ()
    assert jpeg.is_file(), "only --overwrite removes what an earlier run wrote"


def _signed_mask(folder: Path, photo: Path, corroded_rows: int, by: str = "Ann") -> Path:
    """A signed mask for the 48 x 64 photo: asset everywhere, corrosion in the top `corroded_rows`."""
    labels = np.full((48, 64), 1, np.uint8)
    labels[:corroded_rows] = 0
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{photo.stem}_mask.reviewed.png"
    target.unlink(missing_ok=True)
    return write_reviewed_mask(target, labels, review=ReviewState.reviewed_now(by))


def test_resume_without_the_masks_keeps_the_reviewed_results(tmp_path: Path, tiny_model) -> None:
    photo, out, masks = _photo(tmp_path / "in"), tmp_path / "out", tmp_path / "masks"
    _signed_mask(masks, photo, 12)
    assert run_batch(tiny_model, [photo], out, BatchOptions(reviewed_masks=masks)).ok
    json_path = output_paths(out, photo.stem).json
    before = json_path.read_bytes()
    summary = run_batch(tiny_model, [photo], out)  # --reviewed-masks left out
    assert summary.failures and "--reviewed-masks" in summary.failures[0].reason
    assert json_path.read_bytes() == before, "signed figures are not replaced by the model's unasked"
    assert [r["source"] for r in _rows(out)] == ["reviewed"]
    (masks / f"{photo.stem}_mask.reviewed.png").unlink()  # the mask gone: said so, still kept
    gone = run_batch(tiny_model, [photo], out, BatchOptions(reviewed_masks=masks))
    assert "is no longer there" in gone.failures[0].reason and json_path.read_bytes() == before
    assert run_batch(tiny_model, [photo], out, BatchOptions(overwrite=True)).ok
    assert [r["source"] for r in _rows(out)] == ["model"]


def test_resume_redoes_a_photo_whose_mask_changed_in_place(tmp_path: Path, tiny_model) -> None:
    photo, out, masks = _photo(tmp_path / "in"), tmp_path / "out", tmp_path / "masks"
    options = BatchOptions(reviewed_masks=masks)
    _signed_mask(masks, photo, 12)
    assert run_batch(tiny_model, [photo], out, options).ok
    assert run_batch(tiny_model, [photo], out, options).skipped == (photo,)
    _signed_mask(masks, photo, 36, by="Bo")  # the same file, corrected again and signed by another
    summary = run_batch(tiny_model, [photo], out, options)
    assert summary.done == (photo,)
    (row,) = _rows(out)
    assert row["reviewed_by"] == "Bo" and float(row["corroded_share"]) == pytest.approx(75.0)


def test_resume_redoes_photos_made_with_other_figure_options(tmp_path: Path, tiny_model) -> None:
    photo, out = _photo(tmp_path / "in"), tmp_path / "out"
    assert run_batch(tiny_model, [photo], out).ok
    scaled = BatchOptions(mm_per_px=0.5)
    assert run_batch(tiny_model, [photo], out, scaled).done == (photo,), "areas asked for: not skipped"
    assert _rows(out)[0]["corrosion_area_mm2"] != ""
    assert run_batch(tiny_model, [photo], out, scaled).skipped == (photo,)
    stricter = BatchOptions(mm_per_px=0.5, policy=ReviewPolicy(min_confidence=0.9))
    assert run_batch(tiny_model, [photo], out, stricter).done == (photo,)


def test_a_same_named_photo_of_another_folder_keeps_the_earlier_row(tmp_path: Path, tiny_model) -> None:
    first, other, out = _photo(tmp_path / "a", 0), tmp_path / "b" / "pipe_00.png", tmp_path / "out"
    other.parent.mkdir()
    write_png(other, synthetic_pipe(seed=5, size=(48, 64))[0])  # the same name, another photo
    assert run_batch(tiny_model, [first], out, BatchOptions(input_folders=(first.parent,))).ok
    row = _rows(out)
    summary = run_batch(tiny_model, [other], out, BatchOptions(input_folders=(other.parent,)))
    assert summary.failures and "another photo" in summary.failures[0].reason
    assert _rows(out) == row, "the earlier photo's files are still there, and so is its row"
    folders = json.loads((out / "results.json").read_text(encoding="utf-8"))["input_folders"]
    assert folders == [str(other.parent.absolute()), str(first.parent.absolute())]


def _rows(out: Path) -> list[dict[str, str]]:
    with open(out / CSV_NAME, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    return [{k: v for k, v in r.items() if k not in ("seconds", "analysed_at")} for r in rows]


def test_same_named_photos_of_two_folders_keep_their_outputs_and_rows_whatever_the_batch(
    tmp_path: Path, tiny_model
) -> None:
    """`a/pipe_00.png` alone is written as `pipe_00.*`, beside `b/pipe_00.png` as `pipe_00_<hash>.*`: a
    later batch of other composition keeps each photo's earlier set and row, never a second of either."""
    a, b, out = _photo(tmp_path / "a", 0), tmp_path / "b" / "pipe_00.png", tmp_path / "out"
    b.parent.mkdir()
    write_png(b, synthetic_pipe(seed=5, size=(48, 64))[0])
    assert run_batch(tiny_model, [a], out).done == (a,)
    both = run_batch(tiny_model, [a, b], out)
    assert both.skipped == (a,) and both.done == (b,)
    rows = _rows(out)
    assert len(rows) == 2 and {r["json_file"] for r in rows} >= {"pipe_00.json"}
    assert run_batch(tiny_model, [b], out).skipped == (b,), "its earlier set, not a third"
    assert _rows(out) == rows and len(list(out.glob("*.json"))) == 3  # two records and results.json


def test_same_named_photos_of_two_folders_are_told_apart_in_the_csv(tmp_path: Path, tiny_model) -> None:
    """Two cameras' `IMG_0001.jpg` in two folders read the same `file` cell: the `input_folder` column
    says which folder each row's photo is in, failures included."""
    a, b, out = _photo(tmp_path / "a", 0), tmp_path / "b" / "pipe_00.png", tmp_path / "out"
    b.parent.mkdir()
    write_png(b, synthetic_pipe(seed=5, size=(48, 64))[0])
    (tmp_path / "b" / "bad.png").write_bytes(b"not a photo")
    folders = (a.parent, b.parent)
    run_batch(tiny_model, [a, b, tmp_path / "b" / "bad.png"], out, BatchOptions(input_folders=folders))
    cells = [(r["file"], r["input_folder"]) for r in _rows(out)]
    assert cells == [
        ("pipe_00.png", str(a.parent.absolute())),
        ("pipe_00.png", str(b.parent.absolute())),
        ("bad.png", str(b.parent.absolute())),
    ]


def test_a_results_table_of_an_earlier_version_is_resumed_with_the_new_column(
    tmp_path: Path, tiny_model
) -> None:
    """A `results.csv` written before `input_folder` was added is still ours: its rows are kept, padded."""
    a, b, out = _photo(tmp_path / "a", 0), _photo(tmp_path / "a", 1), tmp_path / "out"
    run_batch(tiny_model, [a], out, BatchOptions(input_folders=(a.parent,)))
    with open(out / CSV_NAME, encoding="utf-8-sig", newline="") as fh:
        table = list(csv.reader(fh))
    cut = table[0].index("input_folder")
    old = [row[:cut] for row in table]  # the earlier version's header and rows (the later columns too)
    with open(out / CSV_NAME, "w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh).writerows(old)
    summary = run_batch(tiny_model, [a, b], out, BatchOptions(input_folders=(a.parent,)))
    assert summary.skipped == (a,) and summary.done == (b,) and not summary.failures
    rows = _rows(out)
    assert [r["file"] for r in rows] == ["pipe_00.png", "pipe_01.png"]
    assert [r["input_folder"] for r in rows] == [str(a.parent.absolute())] * 2  # the kept one: its record


def test_a_failed_overwrite_keeps_the_earlier_rows_of_the_sets_that_stand(
    tmp_path: Path, tiny_model: SegmentationModel, request
) -> None:
    """A full disk under --overwrite: the photos' earlier sets stand whole, and so do their rows; a photo
    without an earlier set gets its failure row."""
    photos, out = [_photo(tmp_path / "in", 0), _photo(tmp_path / "in", 1)], tmp_path / "out"
    assert run_batch(tiny_model, photos, out).ok
    before = _rows(out)
    new = _photo(tmp_path / "in", 2)
    request.getfixturevalue("disk_full_at_the_overlay")
    summary = run_batch(tiny_model, [*photos, new], out, BatchOptions(overwrite=True))
    assert len(summary.failures) == 3
    assert "earlier results stand as they were" in summary.failures[0].reason
    rows = _rows(out)
    assert rows[:2] == before, "the rows still point at the earlier sets, which are whole"
    assert [r["status"] for r in rows] == ["ok", "ok", "failed"] and rows[2]["json_file"] == ""


def test_a_full_disk_stops_the_batch_after_a_few_photos(
    tmp_path: Path, tiny_model: SegmentationModel, request, caplog
) -> None:
    """Every photo after the disk filled would be analysed only to fail writing: a few in a row stop the
    batch, the rest listed as not analysed; the lock file's own failure is warned of once."""
    from app.core import outlock
    from app.core.batch_types import DISK_FULL_STOP

    photos, out = [_photo(tmp_path / "in", i) for i in range(DISK_FULL_STOP + 4)], tmp_path / "out"
    request.getfixturevalue("disk_full_at_the_overlay")
    caplog.set_level("INFO", logger="app.core.outlock")
    summary = run_batch(tiny_model, photos, out)
    assert summary.disk_full and summary.cancelled and not summary.ok
    assert len(summary.failures) == DISK_FULL_STOP == len(summary.outcomes)
    statuses = [r["status"] for r in _rows(out)]
    assert statuses == ["failed"] * DISK_FULL_STOP + ["not analysed"] * 4
    for _ in range(3):
        outlock._append(-1, b"x", out)  # a lock file that cannot be written (EBADF here, ENOSPC there)
    levels = [r.levelname for r in caplog.records if "lock file" in r.getMessage()]
    assert levels == ["WARNING", "INFO", "INFO"]


def test_the_command_says_the_disk_is_full_and_how_to_resume(
    tmp_path: Path, tiny_model_path: Path, request, capsys
) -> None:
    from app import cli

    for i in range(8):
        _photo(tmp_path / "in", i)
    request.getfixturevalue("disk_full_at_the_overlay")
    args = ["analyze", str(tmp_path / "in"), "--out", str(tmp_path / "out"), "--model", str(tiny_model_path)]
    assert cli.main([*args, "--overlay-png"]) == cli.EXIT_FAILED
    err = capsys.readouterr().err
    assert "error: the disk of --out is full: stopped after " in err
    assert "free space and run the same command again to resume" in err and "Stopped before" not in err
