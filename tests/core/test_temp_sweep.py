"""Temp files of batch runs: a run removes its own when it releases its output folder (a Dask worker killed
mid-photo leaves them while the batch goes on), and a later run removes those of every run that is over;
never a live run's, nor a `.part` file that is not a batch temp file of ours."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.errors import OutputLockedError
from app.core.outlock import LOCK_NAME, OutputLock


def _temp(folder: Path, name: str, token: str, rand: str = "j8qa4et6") -> Path:
    """A temp file as `files.atomic_write` names one inside a batch run of `token`."""
    path = folder / f".{name}.{token}.{rand}.part"
    path.write_bytes(b"half a file")
    return path


def test_a_run_removes_its_own_temp_files_on_release_and_the_next_run_those_of_runs_over(
    tmp_path: Path,
) -> None:
    others = [tmp_path / ".notes.part", tmp_path / ".p03.json.ab12cd34.part"]  # a user's; an untagged save
    for path in others:
        path.write_bytes(b"not a batch temp file")
    lock = OutputLock.acquire(tmp_path)
    own = [
        _temp(tmp_path, "new_line.json", lock.token),
        _temp(tmp_path, "p_mask.png", lock.token, "_x9y8z7w"),
    ]
    over = _temp(tmp_path, "p_overlay.jpg", "3d6e7167509d0acf")  # of a run whose lock file is long gone
    lock.release()
    assert not any(p.exists() for p in own), "a killed worker's temp files of this run stayed"
    assert over.exists() and all(p.exists() for p in others)
    assert not (tmp_path / LOCK_NAME).exists()
    OutputLock.acquire(tmp_path).release()  # a later run (no lock file names the run that made `over`)
    assert not over.exists()
    assert all(p.exists() for p in others)


def test_a_live_run_keeps_its_temp_files(tmp_path: Path) -> None:
    live = OutputLock.acquire(tmp_path)
    writing = _temp(tmp_path, "p.json", live.token)
    with pytest.raises(OutputLockedError):
        OutputLock.acquire(tmp_path)
    assert writing.exists()
    live.release()
    assert not writing.exists()


def test_a_lock_file_that_cannot_be_written_is_not_left_behind_and_a_full_disk_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a disk already full the lock file was created empty, its write failed, and the empty file stayed."""
    import errno

    from app.core import outlock
    from app.core.errors import ExportError

    def no_space(_fd: int, _text: str) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(outlock, "_rewrite", no_space)
    with pytest.raises(
        ExportError, match=r"No space left on device \(the disk of the output folder is full\)"
    ):
        OutputLock.acquire(tmp_path)
    assert not (tmp_path / LOCK_NAME).exists()
    monkeypatch.undo()
    OutputLock.acquire(tmp_path).release()  # the folder is usable as soon as there is room
