"""A project on a server asks libpq for TCP keepalives, so a server that vanished (no reset ever comes)
is noticed in bounded time; read back from the live connection, and a URL's own value wins."""

from __future__ import annotations

import sys

import sqlalchemy as sa

from app.core.project import Project
from app.core.project import engine as eng


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
