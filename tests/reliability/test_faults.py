"""Faults during a batch: a disk that fills up, a folder that refuses writes, the model file removed or
replaced under a running app, a cancel. Afterwards only whole files exist, nothing was overwritten
silently, and running again finishes the job with the CSV of one clean run."""

from __future__ import annotations

import errno
import json
import os
import tempfile
import types
from collections.abc import Iterator
from pathlib import Path

import pytest

from app import cli
from app.core import files
from app.core.errors import ExportError, ModelContractError
from app.core.export import CSV_NAME, companion_path, output_stems
from app.core.model import SegmentationModel
from app.core.photos import read_image
from app.core.pipeline import DONE, SKIPPED, BatchOptions, run_batch
from tests.helpers.killed_run import die_while_writing
from tests.helpers.outputs import output_paths
from tests.helpers.tiny_models import channel_model
from tests.reliability.conftest import read_csv, small_photos
from tests.reliability.integrity import assert_only_whole_files, snapshot

RESULTS = {CSV_NAME, companion_path(CSV_NAME).name}  # rebuilt by every run


class _DiskFull:
    """Stands in for the `os` module inside `app.core.files`: files opened through `fdopen` can take
    `budget` more bytes in all; the write that crosses it stores what fits, then fails with ENOSPC,
    like a real full disk. Everything else is the real `os`."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.hits = 0

    def __getattr__(self, name: str):
        return getattr(os, name)

    def fdopen(self, fd: int, mode: str = "r", *args, **kwargs):
        real = os.fdopen(fd, mode, *args, **kwargs)
        disk = self

        class _File(types.SimpleNamespace):
            def write(self, data: bytes) -> int:
                room = max(0, disk.budget)
                real.write(data[:room])
                disk.budget -= len(data)
                if len(data) > room:
                    disk.hits += 1
                    real.flush()
                    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
                return len(data)

            def __enter__(self):
                return self

            def __exit__(self, *exc):
                real.close()
                return False

            def __getattr__(self, name: str):
                return getattr(real, name)

        return _File()


@pytest.fixture
def photos(tmp_path: Path) -> list[Path]:
    return small_photos(tmp_path / "photos", 12)


@pytest.fixture
def reference(photos: list[Path], model: SegmentationModel, tmp_path: Path) -> list[dict[str, str]]:
    """The CSV of one clean, uninterrupted run."""
    return read_csv(run_batch(model, photos, tmp_path / "reference").csv_path)


def test_disk_full_mid_batch_leaves_whole_files_and_the_rerun_finishes(
    photos: list[Path],
    model: SegmentationModel,
    reference: list[dict[str, str]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    out = tmp_path / "out"
    disk = _DiskFull(budget=20_000)  # a few photos' outputs, then full
    monkeypatch.setattr(files, "os", disk)
    summary = run_batch(model, photos, out)
    monkeypatch.undo()  # space freed
    assert disk.hits > 0
    assert 0 < len(summary.done) < len(photos)
    assert summary.failures and all("No space left on device" in f.reason for f in summary.failures)
    assert summary.csv_error is not None and "No space left on device" in summary.csv_error
    assert not (out / CSV_NAME).exists(), "no half-written CSV"
    assert_only_whole_files(out, temp_files_allowed=False)
    before = snapshot(out)

    again = run_batch(model, photos, out)
    assert again.ok and set(again.skipped) == set(summary.done)
    assert read_csv(again.csv_path) == reference
    after = snapshot(out)
    for name in before.keys() & after.keys():
        if name.endswith(".json"):  # a complete photo's files are never rewritten
            stem = name.removesuffix(".json")
            for f in (name, f"{stem}_mask.png", f"{stem}_overlay.png"):
                assert after[f] == before[f], f
    assert_only_whole_files(out, temp_files_allowed=False)


def test_disk_full_in_the_cli_is_a_plain_message(
    photos: list[Path], model_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.setattr(files, "os", _DiskFull(budget=20_000))
    rc = cli.main(
        ["analyze", str(photos[0].parent), "--out", str(tmp_path / "o"), "--model", str(model_path)]
    )
    captured = capsys.readouterr()
    assert rc == cli.EXIT_FAILED
    assert "No space left on device" in captured.err
    assert "the CSV could not be written" in captured.err
    assert_only_whole_files(tmp_path / "o", temp_files_allowed=False)


@pytest.fixture
def refusing_folder(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Path]]:
    """Folders (listed in the yielded list) where creating a file fails with EACCES. Monkeypatched:
    a chmod'ed folder stops nobody when the tests run as root."""
    refused: list[Path] = []
    real = tempfile.mkstemp

    def mkstemp(*args, dir=None, **kwargs):
        if dir is not None and any(Path(dir).resolve() == r.resolve() for r in refused):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(dir))
        return real(*args, dir=dir, **kwargs)

    monkeypatch.setattr(files.tempfile, "mkstemp", mkstemp)
    yield refused


def test_a_read_only_output_folder_fails_every_photo_with_the_reason(
    photos: list[Path], model: SegmentationModel, tmp_path: Path, refusing_folder: list[Path]
) -> None:
    out = tmp_path / "read-only"
    out.mkdir()
    refusing_folder.append(out)
    summary = run_batch(model, photos, out)
    assert not summary.done
    assert len(summary.failures) == len(photos)
    assert all("Permission denied" in f.reason for f in summary.failures)
    assert summary.csv_error is not None and "Permission denied" in summary.csv_error
    assert list(out.iterdir()) == []


def test_a_read_only_output_folder_in_the_cli(
    photos: list[Path], model_path: Path, tmp_path: Path, refusing_folder: list[Path], capsys
) -> None:
    out = tmp_path / "read-only"
    out.mkdir()
    refusing_folder.append(out)
    rc = cli.main(["analyze", str(photos[0]), "--out", str(out), "--model", str(model_path)])
    err = capsys.readouterr().err
    assert rc == cli.EXIT_USAGE, err  # found before the model loads: the folder is the user's to change
    assert f"Cannot write into the output folder {out}: Permission denied" in err


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes into a chmod 555 folder")
def test_a_chmod_read_only_output_folder(
    photos: list[Path], model: SegmentationModel, tmp_path: Path
) -> None:
    out = tmp_path / "ro"
    out.mkdir()
    out.chmod(0o555)
    try:
        summary = run_batch(model, photos[:2], out)
    finally:
        out.chmod(0o755)
    assert len(summary.failures) == 2 and summary.csv_error


def test_an_existing_file_in_the_way_is_never_overwritten_silently(
    photos: list[Path], model: SegmentationModel, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    first = run_batch(model, photos[:3], out)
    assert first.ok
    before = snapshot(out)
    # --no-resume: everything is in the way and nothing may be replaced
    again = run_batch(model, photos[:3], out, BatchOptions(resume=False))
    assert len(again.failures) == 3 and all("already exists" in f.reason for f in again.failures)
    assert {k: v for k, v in snapshot(out).items() if k not in RESULTS} == {
        k: v for k, v in before.items() if k not in RESULTS
    }
    # results of another model are never replaced without --overwrite
    other = SegmentationModel.load(channel_model(tmp_path / "other.onnx", sharpness=7.0), device="cpu")
    blocked = run_batch(other, photos[:3], out)
    assert len(blocked.failures) == 3 and all("another model" in f.reason for f in blocked.failures)
    assert {k: v for k, v in snapshot(out).items() if k not in RESULTS} == {
        k: v for k, v in before.items() if k not in RESULTS
    }
    replaced = run_batch(other, photos[:3], out, BatchOptions(overwrite=True))
    assert replaced.ok and len(replaced.done) == 3


def test_the_model_file_removed_while_the_app_runs(
    photos: list[Path], tmp_path: Path, reference: list[dict[str, str]]
) -> None:
    path = channel_model(tmp_path / "models" / "in use.onnx")
    model = SegmentationModel.load(path, device="cpu")
    sha = model.sha256
    path.unlink()
    summary = run_batch(model, photos, tmp_path / "out")  # the loaded session keeps working
    assert summary.ok
    same = ("seconds", "analysed_at", "model_file")  # the file name is not the fixture's
    assert read_csv(summary.csv_path, same) == [
        {k: v for k, v in r.items() if k != "model_file"} for r in reference
    ]
    with pytest.raises(ModelContractError, match=r"Model file not found: .*in use\.onnx"):
        SegmentationModel.load(path, device="cpu")
    # replaced by another file: what ran is still reported as what was loaded
    channel_model(path, sharpness=3.0)
    again = run_batch(model, photos[:2], tmp_path / "out2")
    assert json.loads(companion_path(again.csv_path).read_text(encoding="utf-8"))["model"]["sha256"] == sha
    assert SegmentationModel.load(path, device="cpu").sha256 != sha


def test_cancel_leaves_only_complete_results_and_resume_finishes(
    photos: list[Path], model: SegmentationModel, tmp_path: Path, reference: list[dict[str, str]]
) -> None:
    out = tmp_path / "out"
    handled: list[str] = []
    summary = run_batch(
        model, photos, out, progress=lambda e: handled.append(e.state), cancelled=lambda: len(handled) >= 5
    )
    assert summary.cancelled and not summary.ok
    assert handled == [DONE] * 5
    assert [r["status"] for r in read_csv(summary.csv_path)] == ["ok"] * 5 + ["not analysed"] * 7
    stems = output_stems(photos)
    for i, photo in enumerate(photos):
        outs = output_paths(out, stems[photo])
        assert all(p.exists() for p in outs.all()) == (i < 5)
        assert not any(p.exists() for p in outs.all()) or i < 5
    assert_only_whole_files(out, temp_files_allowed=False)
    states: list[str] = []
    again = run_batch(model, photos, out, progress=lambda e: states.append(e.state))
    assert states == [SKIPPED] * 5 + [DONE] * 7
    assert read_csv(again.csv_path) == reference


def test_an_output_folder_that_cannot_be_created(model: SegmentationModel, tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(ExportError, match="Cannot create the output folder"):
        run_batch(model, [], tmp_path / "file" / "out")


def test_stale_temp_files_of_a_killed_run_are_cleaned_and_never_read(
    photos: list[Path],
    model: SegmentationModel,
    model_path: Path,
    tmp_path: Path,
    reference: list[dict[str, str]],
) -> None:
    out = tmp_path / "out"
    stem = output_stems(photos)[photos[0]]
    # a real kill during the JSON write: the PNGs and the JSON only as temp files of that run (a photo's
    # outputs land together)
    die_while_writing("json", model_path, photos, out)
    assert len(list(out.glob(f".{stem}.json.*.part"))) == 1 and not (out / f"{stem}_mask.png").exists()
    assert len(list(out.glob(f".{stem}_mask.png.*.part"))) == 1
    (out / f".{stem}.json.x1y2.part").write_text('{"model_sha256": "trunc')  # named like ours, not ours
    summary = run_batch(model, photos, out)
    assert summary.ok and photos[0] in summary.done
    assert read_csv(summary.csv_path) == reference
    assert [p.name for p in out.glob(".*.part")] == [f".{stem}.json.x1y2.part"]
    mask = read_image(out / f"{stem}_mask.png")  # a real mask, not the half-written temp file
    colours = {tuple(c) for c in mask.reshape(-1, 3)}
    assert colours <= {c.color for c in model.classes}
