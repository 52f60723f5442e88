"""`project add` (and the window's Add inspection, through `add_inspection_photos`) on a project that
cannot be written says so before any photo is analysed, and `add` exits 3: nothing was stored."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from app import cli
from app.core.errors import ProjectUnavailable
from app.core.project import Project, add_inspection_photos, ingest
from app.core.project import engine as eng
from tests.helpers.pipe_photos import photo_folder

DATE = "2024-03-01"


@pytest.fixture
def analysed(monkeypatch) -> list[Path]:
    """The photos the model was run on (none is, here)."""
    seen: list[Path] = []
    monkeypatch.setattr(ingest, "analyse_record", lambda _m, path, _o: seen.append(path) or {})
    return seen


def test_add_to_a_project_on_a_read_only_medium_analyses_nothing(
    tmp_path: Path, tiny_model_path: Path, analysed: list[Path], monkeypatch, capsys
) -> None:
    project = tmp_path / "site.corroscope"
    Project.create(project).close()
    monkeypatch.setattr(eng, "on_read_only_medium", lambda _path: True)  # as a read-only mount answers
    folder = photo_folder(tmp_path / "p", 2, 0.1)
    args = ["project", "add", str(project), str(folder), "--asset", "P-1", "--date", DATE]
    assert cli.main([*args, "--model", str(tiny_model_path), "--device", "cpu"]) == 3
    err = capsys.readouterr().err
    assert "it is on a read-only medium; nothing was stored" in err and analysed == []


def test_add_to_a_server_gone_analyses_nothing(
    pg_database: str, tmp_path: Path, tiny_model, analysed: list[Path]
) -> None:
    Project.create(pg_database).close()
    photos = sorted(photo_folder(tmp_path / "p", 2, 0.1).iterdir())
    project = Project.open(pg_database)
    project.abort()  # every connection ends and none is made again, as with a server shut down
    with pytest.raises(ProjectUnavailable, match="Cannot write to"):
        add_inspection_photos(project, tiny_model, "P-1", dt.date(2024, 3, 1), photos)
    assert analysed == []


def test_add_exits_3_when_the_write_at_the_end_fails(
    tmp_path: Path, tiny_model_path: Path, monkeypatch, capsys
) -> None:
    project = tmp_path / "site.corroscope"
    Project.create(project).close()

    def gone(*_args, **_kwargs):
        raise ProjectUnavailable("Cannot write to site: server closed the connection")

    monkeypatch.setattr(Project, "add_inspection", gone)
    folder = photo_folder(tmp_path / "p", 1, 0.1)
    args = ["project", "add", str(project), str(folder), "--asset", "P-1", "--date", DATE]
    assert cli.main([*args, "--model", str(tiny_model_path), "--device", "cpu"]) == 3
    assert "nothing was stored" in capsys.readouterr().err


@pytest.fixture
def reader_url(pg_database: str) -> str:
    """The project's URL for a role that may only read its tables (dropped afterwards)."""
    import uuid

    import psycopg
    from sqlalchemy.engine import make_url

    Project.create(pg_database).close()
    role = f"auditor_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_database, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {role} LOGIN")
        conn.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}")
    yield make_url(pg_database).set(username=role, password=None).render_as_string(hide_password=False)
    with psycopg.connect(pg_database, autocommit=True) as conn:
        conn.execute(f"DROP OWNED BY {role}")
        conn.execute(f"DROP ROLE {role}")


def test_add_with_a_role_that_may_only_read_analyses_nothing(
    reader_url: str, tmp_path: Path, tiny_model_path: Path, analysed: list[Path], capsys
) -> None:
    with Project.open(reader_url) as project:  # it may read
        assert project.assets() == []
    folder = photo_folder(tmp_path / "p", 2, 0.1)
    args = ["project", "add", reader_url, str(folder), "--asset", "P-1", "--date", DATE]
    assert cli.main([*args, "--model", str(tiny_model_path), "--device", "cpu"]) == 3
    err = capsys.readouterr().err
    assert "may not write the project's tables (it lacks INSERT on assets, UPDATE on assets, " in err
    assert "ask the server's administrator to grant it" in err and analysed == []
    assert "Model:" not in err  # the model was not loaded
