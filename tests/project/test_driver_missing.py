"""A PostgreSQL project when the driver cannot load: from source, psycopg missing; in the packaged
program (which brings psycopg but uses the system's libpq), libpq missing. Each says what to install."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.core.errors import ProjectError
from app.core.project import engine

URL = "postgresql://insp:secret@db.example.com/corrosion"


def _failing(monkeypatch: pytest.MonkeyPatch, exc: ImportError) -> None:
    def create_engine(*_a, **_k):
        raise exc

    monkeypatch.setattr(sa, "create_engine", create_engine)


def test_psycopg_without_libpq_names_the_system_library(monkeypatch: pytest.MonkeyPatch) -> None:
    _failing(
        monkeypatch,
        ImportError(
            "no pq wrapper available.\nAttempts made:\n"
            "- couldn't import psycopg 'c' implementation: No module named 'psycopg_c'\n"
            "- couldn't import psycopg 'python' implementation: libpq library not found"
        ),
    )
    with pytest.raises(ProjectError) as caught:
        engine.make_engine(engine.locate(URL))
    text = str(caught.value)
    assert "needs the PostgreSQL client library libpq" in text and "apt install libpq5" in text
    assert text.endswith("couldn't import psycopg 'python' implementation: libpq library not found")
    assert "secret" not in text


def test_no_psycopg_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    _failing(monkeypatch, ModuleNotFoundError("No module named 'psycopg'"))
    with pytest.raises(ProjectError, match=r"pip install 'corroscope\[team\]'"):
        engine.make_engine(engine.locate(URL))
