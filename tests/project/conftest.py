"""Fixtures of the project tests: every store test runs on a SQLite file and on a real PostgreSQL server.

The server is `CORROSCOPE_PG_URL` when set (CI: `.ci/run` starts one), else one found on localhost
(`scripts/start-postgres`'s port, then the default port). Without one the PostgreSQL cases skip
saying so, except under `CI=true`, where a missing server fails.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

LOCAL_SERVERS = (
    "postgresql://postgres@127.0.0.1:55432/postgres",
    "postgresql://postgres@127.0.0.1:5432/postgres",
)
BACKENDS = ("sqlite", "postgresql")
_server: list[str | None] = []


def _reachable(url: str) -> bool:
    try:
        import psycopg
    except ImportError:
        return False
    try:
        with psycopg.connect(url, connect_timeout=3):
            return True
    except psycopg.Error:
        return False


def server_url() -> str | None:
    """The PostgreSQL server to test against, found once per run."""
    if not _server:
        env = os.environ.get("CORROSCOPE_PG_URL")
        candidates = [env] if env else list(LOCAL_SERVERS)
        _server.append(next((u for u in candidates if _reachable(u)), None))
    return _server[0]


def _no_server(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI needs a PostgreSQL server for the project tests: {reason}")
    pytest.skip(f"no PostgreSQL server ({reason}); start one with scripts/start-postgres")


@pytest.fixture
def pg_database() -> Iterator[str]:
    """A fresh, empty database on the server for one test (dropped afterwards); its URL."""
    base = server_url()
    if base is None:
        env = os.environ.get("CORROSCOPE_PG_URL")
        _no_server(f"CORROSCOPE_PG_URL={env} does not answer" if env else "none on localhost")
    import psycopg
    from sqlalchemy.engine import make_url

    name = f"corroscope_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield make_url(base).set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=BACKENDS)
def target(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where a test's project lives: a new `*.corroscope` path, or a new PostgreSQL database URL."""
    if request.param == "sqlite":
        return str(tmp_path / "site.corroscope")
    return request.getfixturevalue("pg_database")
