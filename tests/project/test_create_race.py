"""`Project.create` on one path from two threads at once makes one project and tells the other it
exists (it never deletes the file the first one made); a folder on a read-only medium is one line."""

from __future__ import annotations

import errno
import os
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

from app import cli
from app.core.errors import ProjectError
from app.core.project import Project

ROUNDS = 40


def _race(path: Path) -> list[str]:
    barrier, outcomes = threading.Barrier(2), []

    def create() -> None:
        barrier.wait()
        try:
            Project.create(path).close()
            outcomes.append("created")
        except ProjectError as exc:
            outcomes.append(str(exc))

    threads = [threading.Thread(target=create) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return outcomes


def test_two_creates_at_once_make_one_project_and_say_the_other_exists(tmp_path: Path) -> None:
    for n in range(ROUNDS):
        path = tmp_path / f"site{n}.corroscope"
        outcomes = _race(path)
        assert outcomes.count("created") == 1, outcomes
        refused = next(o for o in outcomes if o != "created")
        assert refused == f"{path} already exists; open it, or choose another name", outcomes
        with Project.open(path) as project:  # the one made is whole
            assert project.assets() == []


def test_a_failed_create_removes_only_what_it_made(tmp_path: Path, monkeypatch) -> None:
    from app.core.project import engine as eng

    path = tmp_path / "site.corroscope"
    wal = Path(f"{path}-wal")
    wal.write_bytes(b"another program's")  # there before: not ours to delete

    def fail(_engine) -> None:
        raise sa.exc.OperationalError("CREATE TABLE", {}, Exception("refused"))

    monkeypatch.setattr(eng, "create_schema", fail)
    with pytest.raises(ProjectError, match="refused"):
        Project.create(path)
    assert not path.exists() and wal.read_bytes() == b"another program's"


def test_create_on_a_read_only_medium_is_one_line(tmp_path: Path, monkeypatch, capsys) -> None:
    path = tmp_path / "site.corroscope"
    real_open = os.open

    def read_only(file, flags, *args, **kwargs):  # as a folder mounted read-only answers
        if Path(file) == path and flags & os.O_CREAT:
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(file))
        return real_open(file, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", read_only)
    assert cli.main(["project", "create", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"error: Cannot create {path}: the folder is on a read-only medium"]
    assert not path.exists()
