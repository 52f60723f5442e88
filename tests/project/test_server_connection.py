"""A project's connections to its server: libpq's TCP keepalives, so a server that vanished (no reset
ever comes) is noticed in bounded time (read back from the live connection; a URL's own value wins),
and `Project.abort`, which ends a query another thread waits on when the server stalls."""

from __future__ import annotations

import sys
import threading
import time

import pytest
import sqlalchemy as sa

from app.core.errors import ProjectError
from app.core.project import Project
from app.core.project import engine as eng
from tests.helpers.tcp_proxy import FreezableProxy


def _live_parameters(project: Project) -> dict[str, str]:
    """The connection parameters libpq holds for the project's connection (psycopg's `info`)."""
    with project._engine.connect() as conn:
        return dict(conn.connection.dbapi_connection.info.get_parameters())


def test_keepalives_reach_libpq(pg_database: str) -> None:
    with Project.create(pg_database) as project:
        params = _live_parameters(project)
    for key, value in eng.KEEPALIVES.items():
        assert params.get(key) == str(value), key
    if sys.platform.startswith("linux"):
        assert params.get("tcp_user_timeout") == str(eng.TCP_USER_TIMEOUT_MS)
    assert params.get("connect_timeout") == str(eng.CONNECT_SECONDS)
    # the dead-server bound the docs promise: idle, then every probe unanswered
    idle, interval, count = (
        eng.KEEPALIVES[k] for k in ("keepalives_idle", "keepalives_interval", "keepalives_count")
    )
    assert idle + interval * count <= 30 and eng.TCP_USER_TIMEOUT_MS <= 30_000


def test_a_urls_own_keepalive_settings_win(pg_database: str) -> None:
    Project.create(pg_database).close()
    url = sa.engine.make_url(pg_database).update_query_dict(
        {"keepalives_idle": "60", "tcp_user_timeout": "5000", "keepalives": "0"}
    )
    with Project.open(url.render_as_string(hide_password=False)) as project:
        params = _live_parameters(project)
    assert params.get("keepalives_idle") == "60"
    assert params.get("tcp_user_timeout") == "5000"
    assert params.get("keepalives") == "0"
    assert params.get("keepalives_interval") == str(eng.KEEPALIVES["keepalives_interval"])  # the rest ours


def test_abort_ends_a_query_that_waits_on_a_stalled_server(pg_database: str) -> None:
    Project.create(pg_database).close()
    url = sa.engine.make_url(pg_database)
    with FreezableProxy((url.host or "127.0.0.1", url.port or 5432)) as proxy:
        safety = threading.Timer(20, proxy.close)  # without abort the read would wait for this
        safety.start()
        project = Project.open(url.set(port=proxy.port).render_as_string(hide_password=False))
        project.assets()  # a connection in the pool, to be pinged when the next read takes it
        outcome: list[object] = []

        def read() -> None:
            try:
                outcome.append(project.assets())
            except ProjectError as exc:
                outcome.append(exc)

        proxy.freeze()
        reader = threading.Thread(target=read)
        reader.start()
        time.sleep(0.5)
        assert reader.is_alive() and not outcome, "the stalled server holds the read"
        start = time.monotonic()
        project.abort()
        reader.join(10)
        took = time.monotonic() - start
        safety.cancel()
    assert not reader.is_alive() and took < 5, f"the read still waited {took:.1f} s after abort"
    assert len(outcome) == 1 and isinstance(outcome[0], ProjectError), outcome
    assert "Cannot read" in str(outcome[0])
    with pytest.raises(ProjectError, match="closed"):
        project.assets()  # no new connection after abort


def test_abort_of_a_file_project_is_close(tmp_path) -> None:
    project = Project.create(tmp_path / "site.corroscope")
    project.abort()
    assert Project.open(tmp_path / "site.corroscope").assets() == []


def test_a_server_project_is_named_as_its_user_writes_it(tmp_path) -> None:
    """The driver psycopg is the app's business: messages show the URL typed, never its password."""
    loc = eng.locate("postgresql://ann:secret@db.site:5433/inspections")
    assert loc.url.drivername == "postgresql+psycopg"  # what connects
    assert loc.display == "postgresql://ann:***@db.site:5433/inspections"
    assert loc.server == "db.site:5433"
    assert eng.locate("postgresql://ann@db.site/x").server == "db.site"
    file = eng.locate(tmp_path / "site.corroscope")
    assert file.display == str(tmp_path / "site.corroscope") and file.server == ""
