"""The project's error on the banner goes once it no longer holds: a failed open's when a project opens,
a failed read's after a successful Reload, an export's when another project opens; a message from
elsewhere stays."""

from __future__ import annotations

from pathlib import Path

from app.core.project import Project
from app.ui import project_panel_widget
from tests.ui.conftest import TIMEOUT_MS


def _open(qtbot, win, target: str) -> None:
    with qtbot.waitSignal(win.projects.project_changed, timeout=TIMEOUT_MS):
        win.projects.open(target)
    qtbot.waitUntil(lambda: not win.projects.panel.loading, timeout=TIMEOUT_MS)


def _error(qtbot, win, text: str) -> None:
    qtbot.waitUntil(lambda: win.banner.level == "error" and text in win.banner.text, timeout=TIMEOUT_MS)


def test_a_failed_opens_error_goes_when_a_readable_project_opens(qtbot, window, tmp_path: Path) -> None:
    Project.create(tmp_path / "site.corroscope").close()
    (tmp_path / "junk.corroscope").write_bytes(b"not a database, not a project" * 100)
    window.projects.open(str(tmp_path / "junk.corroscope"))
    _error(qtbot, window, "junk.corroscope")
    _open(qtbot, window, str(tmp_path / "site.corroscope"))
    assert window.banner.text == ""


def test_a_failed_reads_error_goes_after_a_successful_reload(qtbot, window, tmp_path, monkeypatch) -> None:
    Project.create(tmp_path / "site.corroscope").close()
    _open(qtbot, window, str(tmp_path / "site.corroscope"))
    real = project_panel_widget.load_view

    def refused(project):
        raise OSError("Cannot read the project: connection refused")

    monkeypatch.setattr(project_panel_widget, "load_view", refused)
    panel = window.projects.panel
    panel.reload_button.click()
    _error(qtbot, window, "connection refused")
    monkeypatch.setattr(project_panel_widget, "load_view", real)
    assert "connection refused" in window.statusBar().currentMessage()
    with qtbot.waitSignal(panel.loaded, timeout=TIMEOUT_MS):
        panel.reload_button.click()
    assert window.banner.text == ""
    assert window.statusBar().currentMessage() == ""  # its copy there goes too


def test_an_export_error_goes_when_another_project_opens_and_others_messages_stay(
    qtbot, window, tmp_path
) -> None:
    for name in ("a", "b"):
        Project.create(tmp_path / f"{name}.corroscope").close()
    _open(qtbot, window, str(tmp_path / "a.corroscope"))
    window.projects.errors.show("The project was not exported: disk full")
    _open(qtbot, window, str(tmp_path / "b.corroscope"))
    assert window.banner.text == ""
    window.projects.errors.show("The project was not exported: disk full")
    window.show_message("Cannot read photo.png", "error")  # someone else's, later: not ours to take down
    _open(qtbot, window, str(tmp_path / "a.corroscope"))
    assert window.banner.text == "Cannot read photo.png"


def test_a_jobs_connection_error_goes_after_a_successful_reload_and_no_other(
    qtbot, window, tmp_path, monkeypatch
) -> None:
    from app.core.errors import ProjectError
    from app.ui import project_jobs

    Project.create(tmp_path / "site.corroscope").close()
    _open(qtbot, window, str(tmp_path / "site.corroscope"))
    where = window.projects.project.location.display
    message = f"Cannot open {where}: connection failed: Connection refused"

    def refused(*_args):  # the job reopens the project by its target: the server was down
        raise ProjectError(message)

    monkeypatch.setattr(project_jobs, "relocate_job", refused)
    window.projects.relocate(tmp_path)
    _error(qtbot, window, "Connection refused")
    panel = window.projects.panel
    with qtbot.waitSignal(panel.loaded, timeout=TIMEOUT_MS):
        panel.reload_button.click()
    assert window.banner.text == ""

    def broken(*_args):  # not about reaching the project: a read does not answer it
        raise ProjectError("no photos found in the folder")

    monkeypatch.setattr(project_jobs, "relocate_job", broken)
    window.projects.relocate(tmp_path)
    _error(qtbot, window, "no photos found")
    with qtbot.waitSignal(panel.loaded, timeout=TIMEOUT_MS):
        panel.reload_button.click()
    assert window.banner.text == "no photos found in the folder"
