"""The window's Export CSV writes a table and its run record as a pair: a full disk at the record leaves
the old pair (or nothing) as it was, never a new CSV beside an old or missing record."""

from __future__ import annotations

import contextlib
import errno
from pathlib import Path

import pytest

from app.core import files
from app.core.analysis import analyze_rgb
from app.core.batch_reduce import write_table
from app.core.errors import ExportError
from app.core.palette import DEFAULT_CLASSES
from app.core.synthetic import synthetic_pipe

NAMES = [c.name for c in DEFAULT_CLASSES]


def _full_disk_at(monkeypatch: pytest.MonkeyPatch, fails) -> None:
    """Each write of a path `fails(path)` accepts fails as on a full disk (ENOSPC from the write itself);
    other files go through."""
    real = files.atomic_write

    @contextlib.contextmanager
    def write(path, overwrite=False):
        with real(path, overwrite) as fh:
            if fails(Path(path)):
                raise OSError(errno.ENOSPC, "No space left on device")
            yield fh

    monkeypatch.setattr(files, "atomic_write", write)


@pytest.fixture
def full_disk_at_json(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every `.json` write fails; other files go through."""
    _full_disk_at(monkeypatch, lambda path: path.suffix == ".json")


def _figures(tiny_model, tmp_path: Path):
    rgb, _ = synthetic_pipe(seed=4, size=(40, 60))
    return [analyze_rgb(tiny_model, rgb, tmp_path / "pipe.png").figures()]


def test_a_full_disk_at_the_record_keeps_the_old_pair(tiny_model, tmp_path: Path, full_disk_at_json) -> None:
    csv_path, record = tmp_path / "t.csv", tmp_path / "t.json"
    csv_path.write_text("old table\n")
    record.write_text('{"old": "record"}\n')
    with pytest.raises(ExportError, match=r"t\.json: No space left on device"):
        write_table(csv_path, _figures(tiny_model, tmp_path), NAMES, overwrite=True)
    assert csv_path.read_text() == "old table\n", "the CSV stays its record's"
    assert record.read_text() == '{"old": "record"}\n'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.csv", "t.json"], "no temp file left"


def test_a_full_disk_at_the_record_leaves_no_csv_alone(tiny_model, tmp_path: Path, full_disk_at_json) -> None:
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(ExportError, match="No space left on device"):
        write_table(out / "t.csv", _figures(tiny_model, tmp_path), NAMES, overwrite=False)
    assert list(out.iterdir()) == []


def test_a_batch_whose_run_record_cannot_be_written_leaves_no_results_csv_alone(
    tiny_model_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    """`analyze` on a disk full by the time of `results.json` printed "Results: …/results.csv" and left
    that CSV without its run record."""
    from app.cli import main
    from app.core.files import write_png

    photos = [write_png(tmp_path / f"p{i}.png", synthetic_pipe(seed=i, size=(30, 40))[0]) for i in range(2)]
    out = tmp_path / "out"
    real = files.atomic_write
    _full_disk_at(monkeypatch, lambda path: path.name == "results.json")
    args = [
        "analyze",
        *map(str, photos),
        "--out",
        str(out),
        "--model",
        str(tiny_model_path),
        "--device",
        "cpu",
    ]
    assert main(args) != 0
    printed = capsys.readouterr()
    assert "Results:" not in printed.out
    assert "neither results.csv nor results.json was written" in printed.out + printed.err
    assert not (out / "results.csv").exists() and not (out / "results.json").exists()
    assert (out / "p0.json").exists() and (out / "p1.json").exists()  # each photo's own set is whole
    monkeypatch.setattr(files, "atomic_write", real)
    assert main(args) == 0  # space again: the same command writes the pair
    assert (out / "results.csv").exists() and (out / "results.json").exists()
