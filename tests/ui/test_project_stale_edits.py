"""Correct inspection… and Asset details… write only what the user changed in the dialog: a change made
meanwhile from the command line stays, one to a field the user changed too is refused with a reload
(pytest-qt, real widgets, a real SQLite project, the real `corroscope project` command)."""

from __future__ import annotations

import datetime as dt

from app import cli
from app.core.project import Project
from tests.ui.conftest import TIMEOUT_MS
from tests.ui.test_project_edits import _pick_inspection
from tests.ui.test_projects import _read, project_window  # noqa: F401  (the fixture)

FIRST = "2022-05-01"


def _redate_from_the_command_line(target, to: str) -> None:
    args = ["project", "inspection", str(target), "--asset", "P-101-A", "--date", FIRST]
    assert cli.main([*args, "--inspector", "inspector 0", "--set-date", to, "--by", "Other"]) == 0


def test_a_note_typed_on_an_old_view_keeps_the_date_changed_meanwhile(qtbot, project_window) -> None:  # noqa: F811
    win, target = project_window
    _pick_inspection(win, 0)
    _redate_from_the_command_line(target, "2023-01-02")  # the window has not read it
    win.projects.panel.correct_button.click()
    dialog = win.projects.edits.dialog
    dialog.notes.setPlainText("north side")
    with qtbot.waitSignal(win.projects.edits.corrected, timeout=TIMEOUT_MS):
        dialog.accept()
    _read(qtbot, win)
    with Project.open(target) as project:
        first = project.inspections()[0]
        said = [c.what for c in project.changes()]
    assert (first.date, first.inspector, first.notes) == (dt.date(2023, 1, 2), "inspector 0", "north side")
    assert said == ["date 2022-05-01 → 2023-01-02", "notes were (none)"]
    assert f"Corrected the inspection P-101-A {FIRST} by inspector 0: notes." in win.banner.text


def test_a_date_both_changed_is_refused_with_a_reload(qtbot, project_window) -> None:  # noqa: F811
    win, target = project_window
    _pick_inspection(win, 0)
    _redate_from_the_command_line(target, "2023-01-02")
    win.projects.panel.correct_button.click()
    dialog = win.projects.edits.dialog
    dialog.date.setDate(dt.date(2023, 3, 3))
    dialog.accept()
    said = f"The inspection P-101-A {FIRST} by inspector 0 was changed meanwhile (date now 2023-01-02)"
    said += "; reload it"
    qtbot.waitUntil(lambda: said in win.banner.text, timeout=TIMEOUT_MS)
    qtbot.wait(200)  # a refusal of another kind would open the dialog again by now
    assert win.projects.edits.dialog is dialog and not dialog.isVisible()
    with Project.open(target) as project:
        assert project.inspections()[0].date == dt.date(2023, 1, 2)


def test_asset_details_keep_a_location_set_meanwhile(qtbot, project_window) -> None:  # noqa: F811
    win, target = project_window
    panel = win.projects.panel
    panel.tree.setCurrentItem(panel.tree.topLevelItem(0))
    with Project.open(target) as project:
        project.ensure_asset("P-101-A", "Other", location="Rack 3")  # meanwhile, elsewhere
    panel.correct_button.click()
    dialog = win.projects.edits.details
    dialog.fields["material"].setText("carbon steel")
    with qtbot.waitSignal(win.projects.edits.details_saved, timeout=TIMEOUT_MS):
        dialog.accept()
    _read(qtbot, win)
    with Project.open(target) as project:
        asset = project.asset("P-101-A")
    assert (asset.location, asset.material) == ("Rack 3", "carbon steel")
