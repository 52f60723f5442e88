"""Re-run model on a stored photo another window removed from the project says it was removed (reload),
not that it moved (pytest-qt, the real window and a real SQLite project)."""

from __future__ import annotations

from app.core.inference import InferenceMode, InferenceOptions
from app.core.project import Project
from app.ui.project_panel_widget import ROLE
from tests.ui.conftest import TIMEOUT_MS
from tests.ui.test_projects import project_window  # noqa: F401  (the fixture)

GONE = "The photo is no longer in the project (removed meanwhile?); reload it"


def _fine_detail(win) -> None:
    """Model ▸ Fine detail: a re-run gives other figures than the stored ones (else it is declined)."""
    win.controller.options = InferenceOptions(mode=InferenceMode.TILES)


def test_a_rerun_of_a_photo_removed_elsewhere_says_it_was_removed(qtbot, project_window) -> None:  # noqa: F811
    win, target = project_window
    item = win.projects.panel.tree.topLevelItem(0).child(0).child(1)
    photo_id = item.data(0, ROLE)[1]
    with Project.open(target) as project:  # another window, meanwhile
        project.remove_photo(photo_id)
    _fine_detail(win)
    win.projects.rerun(photo_id)
    qtbot.waitUntil(lambda: "Re-run of photo_001.png failed" in win.banner.text, timeout=TIMEOUT_MS)
    assert win.banner.text == f"Re-run of photo_001.png failed: {GONE}"


def test_a_photo_removed_while_it_was_re_analysed_is_said_removed(qtbot, project_window, monkeypatch) -> None:  # noqa: F811
    from app.ui import project_worker_jobs

    win, target = project_window
    item = win.projects.panel.tree.topLevelItem(0).child(0).child(1)
    photo_id = item.data(0, ROLE)[1]
    real = project_worker_jobs.analyse_record

    def removed_meanwhile(*args, **kwargs):
        with Project.open(target) as project:
            project.remove_photo(photo_id)
        return real(*args, **kwargs)

    monkeypatch.setattr(project_worker_jobs, "analyse_record", removed_meanwhile)
    _fine_detail(win)
    win.projects.rerun(photo_id)
    qtbot.waitUntil(lambda: "Re-run of photo_001.png failed" in win.banner.text, timeout=TIMEOUT_MS)
    assert win.banner.text == f"Re-run of photo_001.png failed: {GONE}"
