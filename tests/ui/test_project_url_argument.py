"""A PostgreSQL URL on the window's command line opens that project, as a path to a project file does:
never a batch of one missing photo, and its password is never written to the log (pytest-qt, the real
window, the real server of tests/project/conftest.py)."""

from __future__ import annotations

import logging

from sqlalchemy.engine import make_url

from app.core.project import Project
from tests.project.conftest import pg_database  # noqa: F401  (the fixture)
from tests.ui.conftest import TIMEOUT_MS


def test_a_server_url_on_the_command_line_opens_the_project(
    qtbot,
    settings,
    model_path,
    pg_database: str,  # noqa: F811
    caplog,
) -> None:
    import app.ui.main as main_module

    Project.create(pg_database).close()
    # a local test server does not ask for it: the password only has to stay unseen
    url = make_url(pg_database).set(password="S3cr@t").render_as_string(hide_password=False)
    assert "S3cr%40t" in url
    caplog.set_level(logging.INFO)
    args = main_module.parse_args([url, "--model", str(model_path), "--device", "cpu"])
    win = main_module.create_window(args, settings)
    qtbot.addWidget(win)
    qtbot.waitUntil(lambda: win.projects.project is not None, timeout=TIMEOUT_MS)
    assert win.projects.project.location.url.database == make_url(pg_database).database
    assert win.batch_model.rowCount() == 0 and win.controller.result is None
    assert "S3cr" not in caplog.text and "S3cr" not in win.banner.text
    win.controller.shutdown()
