"""A project file SQLite cannot read because the disk failed or the file is damaged is said to be so,
with SQLite's reason, never "not a Corroscope project" (which invites throwing it away)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from app.core.errors import ProjectError
from app.core.project import Project, engine


def test_a_truncated_project_file_is_damaged_not_another_kind_of_file(tmp_path: Path) -> None:
    path = tmp_path / "site.corroscope"
    Project.create(path).close()
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])  # a copy cut off half-way
    with pytest.raises(ProjectError) as refused:
        Project.open(path)
    said = str(refused.value)
    assert "the file is damaged (SQLite: database disk image is malformed)" in said
    assert "not a Corroscope project" not in said
    assert path.read_bytes() == data[: len(data) // 2]  # left as it is
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site.corroscope"]  # no -wal, -shm made beside it


@pytest.mark.parametrize(
    ("code", "reason", "said"),
    [
        (sqlite3.SQLITE_IOERR, "disk I/O error", "the file could not be read (SQLite: "),
        (sqlite3.SQLITE_FULL, "database or disk is full", "the disk is full (SQLite: "),
        (sqlite3.SQLITE_NOTADB, "file is not a database", "not a Corroscope project ("),
    ],
)
def test_a_disk_that_fails_is_named_with_sqlites_reason(
    tmp_path: Path, monkeypatch, code: int, reason: str, said: str
) -> None:
    path = tmp_path / "site.corroscope"
    Project.create(path).close()

    def failing(*_args, **_kwargs):
        exc = sqlite3.OperationalError(reason)
        exc.sqlite_errorcode = code
        raise exc

    monkeypatch.setattr(engine.sqlite3, "connect", failing)
    with pytest.raises(ProjectError) as refused:
        Project.open(path)
    assert f"{said}{reason})" in str(refused.value)


def test_an_empty_file_is_said_empty_not_another_programs(tmp_path: Path) -> None:
    path = tmp_path / "site.corroscope"
    path.write_bytes(b"")  # a copy or save cut off before anything was written
    with pytest.raises(ProjectError) as refused:
        Project.open(path)
    assert str(refused.value) == (
        f"Cannot open {path}: the file is empty (0 bytes): no project was written to it, or a copy or save "
        "of it was cut off; use a backup of the project"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site.corroscope"] and path.read_bytes() == b""


def test_a_disk_i_o_error_on_a_full_disk_says_the_disk_is_full(tmp_path: Path, monkeypatch) -> None:
    """SQLite says "disk I/O error" when it cannot make its -shm file on a full disk (seen on a full
    tmpfs): `list` and the window then say the disk is full."""
    import shutil

    path = tmp_path / "site.corroscope"
    Project.create(path).close()

    def failing(*_args, **_kwargs):
        exc = sqlite3.OperationalError("disk I/O error")
        exc.sqlite_errorcode = sqlite3.SQLITE_IOERR
        raise exc

    monkeypatch.setattr(engine.sqlite3, "connect", failing)
    usage = shutil.disk_usage(tmp_path)
    monkeypatch.setattr(shutil, "disk_usage", lambda _p: usage._replace(free=0))  # as a full disk answers
    with pytest.raises(ProjectError) as refused:
        Project.open(path)
    said = str(refused.value)
    assert (
        said
        == f"Cannot open {path}: the disk is full (SQLite: disk I/O error); free some space and open it again"
    )
