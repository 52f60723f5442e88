"""Add inspection's Add photos… and Add folder… open beside the project (or where photos were last
added from), never in the app's own install (the bundled samples a new user's last folder points to)."""

from __future__ import annotations

from pathlib import Path

from app.core.paths import samples_dir
from app.core.project import Project
from app.ui.add_inspection_dialog import photos_start_folder
from tests.ui.conftest import TIMEOUT_MS


def test_add_inspection_starts_in_the_projects_folder_then_where_photos_came_from(
    qtbot, window, tmp_path: Path
) -> None:
    site = tmp_path / "site"
    site.mkdir()
    Project.create(site / "site.corroscope").close()
    window.settings.last_folder = str(samples_dir())  # as for a new user
    with qtbot.waitSignal(window.projects.project_changed, timeout=TIMEOUT_MS):
        window.projects.open(str(site / "site.corroscope"))
    dialog = window.projects.add_inspection_dialog()
    assert dialog is not None and dialog.folder == str(site)
    photos = tmp_path / "photos"
    photos.mkdir()
    dialog._folder = str(photos)  # as a folder picked with Add folder…
    dialog.accepted.emit()
    again = window.projects.add_inspection_dialog()
    assert again is not None and again.folder == str(photos)
    for d in (dialog, again):
        d.close()


def test_a_server_project_never_starts_in_the_apps_install(tmp_path: Path) -> None:
    assert photos_start_folder("", None, str(samples_dir())) == str(Path.home())
    assert photos_start_folder("", None, str(tmp_path)) == str(tmp_path)
