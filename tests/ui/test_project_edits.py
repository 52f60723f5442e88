"""Correct an inspection (date, inspector, notes) or remove it, from the project panel (pytest-qt, real
widgets, a real SQLite project): stored on a worker, the tree read again, the photo files untouched."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import QDialog, QLabel, QProgressBar, QPushButton

from app.core.project import Project
from app.ui.project_panel_widget import ROLE
from tests.ui.conftest import TIMEOUT_MS, tab_into_date
from tests.ui.test_projects import _read, project_window  # noqa: F401  (the fixture)


def _pick_inspection(win, n: int) -> int:
    item = win.projects.panel.tree.topLevelItem(0).child(n)
    win.projects.panel.tree.setCurrentItem(item)
    return win.projects.panel.current_inspection()


def _inspections(target: Path) -> list[tuple[dt.date, str, str, int]]:
    with Project.open(target) as project:
        return [(i.date, i.inspector, i.notes, i.photo_count) for i in project.inspections()]


def test_the_edit_buttons_follow_what_is_picked(project_window) -> None:  # noqa: F811
    win, _target = project_window
    panel = win.projects.panel
    panel.tree.setCurrentItem(panel.tree.topLevelItem(0))  # the asset: its details, no removal
    assert panel.correct_button.text() == "Asset details…" and not panel.remove_button.isEnabled()
    panel.tree.setCurrentItem(panel.tree.topLevelItem(0).child(0).child(0))  # a photo: no correction
    assert not panel.correct_button.isEnabled() and panel.remove_button.text() == "Remove photo…"
    _pick_inspection(win, 0)
    assert panel.correct_button.isEnabled() and panel.remove_button.text() == "Remove inspection…"


def test_an_inspection_is_corrected_and_the_tree_follows(qtbot, project_window) -> None:  # noqa: F811
    win, target = project_window
    _pick_inspection(win, 0)
    win.projects.panel.correct_button.click()
    dialog = win.projects.edits.dialog
    assert dialog is not None and dialog.inspector.text() == "inspector 0"
    tomorrow = dt.date.today() + dt.timedelta(days=1)
    assert dialog.date.latest == tomorrow
    dialog.date.setDate(QDate(2023, 5, 2))
    dialog.inspector.setText("A. Prüfer")
    dialog.notes.setPlainText("date typed wrong on site")
    assert dialog.asset.currentText() == "P-101-A"
    with qtbot.waitSignal(win.projects.edits.corrected, timeout=TIMEOUT_MS):
        dialog.accept()
    _read(qtbot, win)
    assert _inspections(target)[0] == (dt.date(2023, 5, 2), "A. Prüfer", "date typed wrong on site", 3)
    assert win.projects.panel.tree.topLevelItem(0).child(0).text(0) == "2023-05-02 · A. Prüfer"
    said = (
        "Corrected the inspection P-101-A 2022-05-01 by inspector 0: "
        "date 2023-05-02, inspector A. Prüfer, notes."
    )
    assert said in win.banner.text
    _pick_inspection(win, 0)  # the panel sums the inspection up, its notes included
    lines = win.projects.panel.figures.text().splitlines()
    assert lines[0] == "Inspection P-101-A 2023-05-02 by A. Prüfer"
    assert lines[1].startswith("3 photos: 0 reviewed, ") and lines[1].endswith(" flagged for review")
    assert lines[2].startswith("Corroded share of the asset: mean ") and ", worst photo " in lines[2]
    assert lines[3].startswith("Worst grades: ASTM D610 ") and lines[-1] == "Notes: date typed wrong on site"
    assert re.match(r"Worst grades: ASTM D610 \d+-[GSPM], ISO", lines[3]), (
        "the grade with its type, as the trend"
    )


def test_a_correction_says_what_it_changed(qapp) -> None:
    from app.core.project import Inspection
    from app.ui.project_texts import correction_text

    before = Inspection(1, 1, "P-7", dt.date(2024, 5, 1), "Ann", "", 2)
    notes_only = correction_text(before, Inspection(1, 1, "P-7", dt.date(2024, 5, 1), "Ann", "north side", 2))
    assert notes_only == "Corrected the inspection P-7 2024-05-01 by Ann: notes."  # not "now" the same label
    moved = correction_text(before, Inspection(1, 2, "P-8", dt.date(2024, 5, 1), "", "", 2))
    assert moved == "Corrected the inspection P-7 2024-05-01 by Ann: asset P-8, inspector removed."


def test_a_correction_onto_another_inspection_is_refused(qtbot, project_window) -> None:  # noqa: F811
    win, target = project_window
    before = _inspections(target)
    _pick_inspection(win, 0)
    win.projects.panel.correct_button.click()
    dialog = win.projects.edits.dialog
    dialog.date.setDate(QDate(2024, 5, 1))
    dialog.inspector.setText("inspector 1")  # the second inspection's date and inspector
    dialog.accept()
    qtbot.waitUntil(lambda: "already has an inspection on 2024-05-01" in win.banner.text, timeout=TIMEOUT_MS)
    assert _inspections(target) == before
    edits = win.projects.edits  # open again with what was typed, to fix rather than retype
    qtbot.waitUntil(lambda: edits.dialog is not dialog and edits.dialog.isVisible(), timeout=TIMEOUT_MS)
    again = edits.dialog
    assert again.values()[1:3] == (dt.date(2024, 5, 1), "inspector 1")
    assert again.inspection.date == dt.date(2022, 5, 1)  # still the correction of the first inspection


def test_an_inspection_is_removed_only_when_confirmed_and_its_files_stay(qtbot, project_window) -> None:  # noqa: F811
    win, target = project_window
    files = sorted((target.parent / "insp0").iterdir())
    inspection_id = _pick_inspection(win, 0)
    asked = []
    assert win.projects.edits.remove(inspection_id, ask=lambda _w, i: asked.append(i) or False) is None
    assert len(asked) == 1 and asked[0].photo_count == 3 and len(_inspections(target)) == 2
    with qtbot.waitSignal(win.projects.edits.removed, timeout=TIMEOUT_MS):
        win.projects.edits.remove(inspection_id, ask=lambda _w, _i: True)
    _read(qtbot, win)
    assert [i[:2] for i in _inspections(target)] == [(dt.date(2024, 5, 1), "inspector 1")]
    with Project.open(target) as project:
        photos = [p for i in project.inspections() for p in project.photos(i.id)]
        assert len(photos) == 3 and all(project.results(p.id) for p in photos)
    assert all(f.is_file() for f in files)
    assert win.projects.panel.tree.topLevelItem(0).childCount() == 1
    assert "Removed P-101-A 2022-05-01 by inspector 0 (3 photos)" in win.banner.text


def test_the_removal_question_names_the_inspection_and_defaults_to_keeping_it(qapp) -> None:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox

    from app.core.project import Inspection
    from app.ui.project_edits import ask_remove_inspection

    seen: dict = {}

    def press_enter() -> None:  # Enter takes the default button
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, press_enter)
            return
        seen.update(
            text=box.text(), info=box.informativeText(), default=box.defaultButton().text().replace("&", "")
        )
        box.defaultButton().click()

    QTimer.singleShot(0, press_enter)
    inspection = Inspection(7, 1, "P-9", dt.date(2024, 1, 2), "", "", 1)
    assert ask_remove_inspection(None, inspection) is False
    assert seen["text"] == "Remove the inspection P-9 2024-01-02 from the project?"
    assert seen["default"] == "Keep it" and "reviews of its 1 photo leave the project" in seen["info"]


def test_an_inspection_moved_to_another_asset_shows_under_it(qtbot, project_window) -> None:  # noqa: F811
    win, target = project_window
    _pick_inspection(win, 1)
    win.projects.panel.correct_button.click()
    dialog = win.projects.edits.dialog
    dialog.asset.setCurrentText("P-202")  # a new tag: a new asset
    with qtbot.waitSignal(win.projects.edits.corrected, timeout=TIMEOUT_MS):
        dialog.accept()
    _read(qtbot, win)
    tree = win.projects.panel.tree
    assert [tree.topLevelItem(n).text(0) for n in range(tree.topLevelItemCount())] == ["P-101-A", "P-202"]
    assert tree.topLevelItem(1).child(0).text(0) == "2024-05-01 · inspector 1"
    with Project.open(target) as project:
        assert [(i.asset_tag, i.photo_count) for i in project.inspections()] == [("P-101-A", 3), ("P-202", 3)]


def test_an_assets_details_are_edited_from_the_panel_and_shown_there(qtbot, project_window) -> None:  # noqa: F811
    win, target = project_window
    panel = win.projects.panel
    panel.tree.setCurrentItem(panel.tree.topLevelItem(0))
    assert panel.correct_button.text() == "Asset details…" and not panel.remove_button.isEnabled()
    said = panel.figures.text().splitlines()
    assert "No name, location or material yet (Asset details…)." in said
    with Project.open(target) as project:
        trend = project.trend("P-101-A")
    latest = trend.rows[-1]
    assert f"{len(trend.rows)} inspections, {trend.rows[0].date} to {latest.date}" in said  # where it stands
    named = f"Latest ({latest.date} by {latest.inspector}): mean corroded share"
    assert f"{named} {latest.corroded_share_mean:.2f} %, worst photo " in said[-2]
    assert said[-1].startswith("Rate of change")
    panel.correct_button.click()
    dialog = win.projects.edits.details
    assert dialog is not None and dialog.windowTitle() == "Asset P-101-A"
    dialog.fields["location"].setText("Rack 3, north side")
    dialog.fields["material"].setText("carbon steel, epoxy coat")
    with qtbot.waitSignal(win.projects.edits.details_saved, timeout=TIMEOUT_MS):
        dialog.accept()
    _read(qtbot, win)
    with Project.open(target) as project:
        asset = project.asset("P-101-A")
    assert asset is not None and asset.location == "Rack 3, north side" and asset.name == ""
    assert asset.material == "carbon steel, epoxy coat"
    assert "Location: Rack 3, north side" in panel.figures.text()  # the asset still picked: its new details
    assert panel.correct_button.text() == "Asset details…"
    _pick_inspection(win, 0)
    assert panel.correct_button.text() == "Correct inspection…"


def test_a_photo_is_removed_from_its_inspection_when_confirmed(qtbot, project_window) -> None:  # noqa: F811
    win, target = project_window
    panel = win.projects.panel
    item = panel.tree.topLevelItem(0).child(0).child(1)
    panel.tree.setCurrentItem(item)
    assert panel.remove_button.text() == "Remove photo…" and panel.remove_button.isEnabled()
    photo_id = item.data(0, ROLE)[1]
    asked = []
    edits = win.projects.edits
    assert edits.remove_photo(photo_id, ask=lambda _w, name, i: asked.append((name, i.photo_count))) is None
    assert asked == [("photo_001.png", 3)]
    with qtbot.waitSignal(edits.photo_removed, timeout=TIMEOUT_MS):
        edits.remove_photo(photo_id, ask=lambda *_a: True)
    _read(qtbot, win)
    assert _inspections(target)[0][3] == 2 and (target.parent / "insp0" / "photo_001.png").is_file()
    assert "Removed photo_001.png from P-101-A 2022-05-01 by inspector 0; the file stays." in win.banner.text
    names = [panel.tree.topLevelItem(0).child(0).child(n).text(0) for n in range(2)]
    assert names == ["photo_000.png", "photo_002.png"]


def _pick_and_sign(qtbot, win, inspection: int, photo: int, by: str, note: str = "") -> int:
    """Open the stored photo (the asset's `inspection`-th, its `photo`-th) and sign its mask: its id."""
    item = win.projects.panel.tree.topLevelItem(0).child(inspection).child(photo)
    with qtbot.waitSignal(win.controller.photo_analyzed, timeout=TIMEOUT_MS):
        win.projects.panel.tree.setCurrentItem(item)
    win.editing.edits.mark_reviewed(by, note)
    return item.data(0, ROLE)[1]


def test_a_signed_and_saved_mask_of_a_stored_photo_becomes_its_reviewed_result(
    qtbot,
    project_window,  # noqa: F811
    tmp_path: Path,
) -> None:
    win, target = project_window
    panel = win.projects.panel
    photo_id = _pick_and_sign(qtbot, win, 1, 0, "Ann Inspector", "checked on site")
    mask = tmp_path / "masks" / "photo_000_mask.reviewed.png"
    mask.parent.mkdir()
    with qtbot.waitSignal(win.projects.reviews.stored, timeout=TIMEOUT_MS) as stored:
        win.editing.review.save_reviewed_mask(mask)
    qtbot.waitUntil(lambda: not win.projects.reviews.storing, timeout=TIMEOUT_MS)  # its job counted out
    assert [(s.name, [i.date for i in s.inspections]) for s in stored.args[0]] == [
        ("photo_000.png", [dt.date(2024, 5, 1)])
    ]
    _read(qtbot, win)
    with Project.open(target) as project:
        latest = project.latest_result(photo_id)
        assert latest is not None and len(project.results(photo_id)) == 2
        assert (latest.review_state, latest.reviewed_by) == ("reviewed", "Ann Inspector")
        assert latest.reviewed_mask == str(mask)
        assert latest.record["figures_source"] == "reviewed" and not latest.needs_review
    inspection = panel.tree.topLevelItem(0).child(1)
    assert inspection.text(1) == "3 · 1 ✔" and inspection.child(0).text(1).endswith(" ✔")
    flagged = sum(inspection.child(n).text(1).endswith("⚠") for n in range(3))
    assert inspection.toolTip(1) == f"3 photos: 1 reviewed, {flagged} to review"
    assert inspection.child(0).toolTip(1) == "Reviewed by Ann Inspector"
    assert not inspection.child(1).text(1).endswith("✔")
    panel.select_photo(photo_id)
    assert "Review: reviewed by Ann Inspector on " in panel.figures.text()
    assert "Reviewer's note: checked on site" in panel.figures.text()  # as the PDF and the figures panel
    assert f"Reviewed mask: {mask}" in panel.figures.text()
    assert "Model estimate" not in panel.figures.text()  # the figures are the reviewer's, not the model's
    said = win.statusBar().currentMessage()
    assert "Review stored in the project: photo_000.png in P-101-A 2024-05-01" in said


def _quit_while_storing_a_review(
    qtbot, win, monkeypatch, seconds: float, fail: bool = False
) -> tuple[int, QDialog]:
    """Sign a stored photo's mask, quit with Save all while its review takes `seconds` to store (and
    then fails, with `fail`): the photo's id and the dialog the window waits in."""
    import time

    from app.core.errors import ProjectError
    from app.ui import project_reviews, review_actions

    photo_id = _pick_and_sign(qtbot, win, 0, 2, "Bo")
    monkeypatch.setattr(review_actions, "ask_unsaved_on_quit", lambda _p, _n: "save")
    real_store = project_reviews.store_review

    def slow_store(*args, **kwargs):  # a review that takes a while (a large photo, a far server)
        time.sleep(seconds)
        if fail:
            raise ProjectError("the project is read-only")
        return real_store(*args, **kwargs)

    monkeypatch.setattr(project_reviews, "store_review", slow_store)
    assert not win.close()  # not yet: the review is under way
    dialog = win.findChild(QDialog, "reviews_wait")
    assert dialog is not None and dialog.isVisible()
    said = dialog.findChild(QLabel).text()
    assert said.startswith("Storing the signed masks' reviews in the project before closing")
    return photo_id, dialog


def test_a_review_saved_while_quitting_reaches_the_project_before_the_window_closes(
    qtbot,
    project_window,  # noqa: F811
    monkeypatch,
) -> None:
    win, target = project_window
    photo_id, dialog = _quit_while_storing_a_review(qtbot, win, monkeypatch, 0.5)
    assert "0 of 1 photo." in dialog.findChild(QLabel).text() and dialog.findChild(QProgressBar).value() == 0
    qtbot.waitUntil(lambda: not win.isVisible(), timeout=TIMEOUT_MS)  # the window answered meanwhile
    assert not dialog.isVisible()
    with Project.open(target) as project:
        latest = project.latest_result(photo_id)
    assert latest is not None and latest.review_state == "reviewed" and latest.reviewed_by == "Bo"
    assert latest.reviewed_mask is not None and latest.reviewed_mask.endswith("photo_002_mask.reviewed.png")


def test_keeping_the_window_open_while_reviews_are_stored_loses_nothing(
    qtbot,
    project_window,  # noqa: F811
    monkeypatch,
) -> None:
    win, target = project_window
    photo_id, dialog = _quit_while_storing_a_review(qtbot, win, monkeypatch, 1.0)
    keep = dialog.findChild(QPushButton, "keep_open")
    assert keep.text() == "Keep the window open"
    qtbot.mouseClick(keep, Qt.MouseButton.LeftButton)
    assert win.isVisible() and not dialog.isVisible()
    assert win.statusBar().currentMessage().startswith("The window stays open; the reviews are still being")
    with qtbot.waitSignal(win.projects.reviews.stored, timeout=TIMEOUT_MS):
        pass
    qtbot.waitUntil(lambda: not win.projects.reviews.storing, timeout=TIMEOUT_MS)
    assert win.isVisible()  # the storing's end does not close a window the user kept
    with Project.open(target) as project:
        latest = project.latest_result(photo_id)
    assert latest is not None and latest.review_state == "reviewed"
    assert win.close()  # nothing left to ask or wait for


def test_a_review_that_fails_while_quitting_keeps_the_window_open_with_its_reason(
    qtbot,
    project_window,  # noqa: F811
    monkeypatch,
) -> None:
    win, _target = project_window
    _photo_id, dialog = _quit_while_storing_a_review(qtbot, win, monkeypatch, 0.3, fail=True)
    qtbot.waitUntil(lambda: not win.projects.reviews.storing, timeout=TIMEOUT_MS)
    qtbot.wait(100)  # a close, had one been queued, would have run by now
    assert win.isVisible() and not dialog.isVisible()
    assert "The review was not stored in the project: the project is read-only" in win.banner.text
    assert (
        win.statusBar().currentMessage() == "The window stays open: a review was not stored in the project."
    )


def test_closing_without_waiting_ends_the_review_jobs_connections_and_closes(
    qtbot,
    project_window,  # noqa: F811
    monkeypatch,
) -> None:
    from app.core.project import Project as StoreProject

    aborted = []
    real_abort = StoreProject.abort

    def abort(project) -> None:  # a stalled server's query would fail at once (tested in the store)
        aborted.append(project.location.display)
        real_abort(project)

    monkeypatch.setattr(StoreProject, "abort", abort)
    win, target = project_window
    _photo_id, dialog = _quit_while_storing_a_review(qtbot, win, monkeypatch, 0.5)
    leave = dialog.findChild(QPushButton, "close_without_waiting")
    assert "until their masks are saved again" in leave.toolTip()
    qtbot.mouseClick(leave, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not win.isVisible(), timeout=TIMEOUT_MS)
    assert win.findChildren(QDialog, "reviews_wait") == [dialog]  # not asked to wait a second time
    assert aborted.count(str(target)) == 2  # the job's own connection, and the panel's
    assert "not stored" not in win.banner.text


def test_a_job_that_opens_its_project_after_the_window_gave_up_ends_at_once(tmp_path, monkeypatch) -> None:
    from app.core.project import Project as StoreProject
    from app.ui.project_reviews import OpenProjects

    aborted = []
    monkeypatch.setattr(StoreProject, "abort", lambda project: aborted.append(project))
    held = OpenProjects()
    with (
        StoreProject.create(tmp_path / "a.corroscope") as first,
        StoreProject.create(tmp_path / "b.corroscope") as late,
    ):
        held.add(first)
        held.abort_all()
        assert aborted == [first]
        held.add(late)  # its job got the connection after the abandon
        assert aborted == [first, late]
        held.discard(first)
        held.discard(late)


def test_the_tree_marks_reviewed_and_flagged_photos(qapp) -> None:
    from app.core.project import StoredResult
    from app.ui.project_texts import review_mark

    def stored(**kw) -> StoredResult:
        base = dict(corroded_share=10.0, astm_d610=5, iso_4628_3=2, needs_review=False, mean_confidence=0.9)
        return StoredResult(1, 1, "m.onnx", "ab", "CPU", "resize", **(base | kw), record={})

    assert review_mark(stored(review_state="reviewed", reviewed_by="Ann")) == (" ✔", "Reviewed by Ann")
    assert review_mark(stored(needs_review=True))[0] == " ⚠"
    assert review_mark(stored()) == ("", "The model's figures; no review needed")
    assert review_mark(None) == ("", "No result stored")


def test_re_running_a_reviewed_photo_asks_first_and_the_default_keeps_the_review(
    qtbot,
    project_window,  # noqa: F811
    tmp_path: Path,
) -> None:
    win, target = project_window
    photo_id = _pick_and_sign(qtbot, win, 1, 0, "Ann Inspector")
    mask = tmp_path / "photo_000_mask.reviewed.png"
    with qtbot.waitSignal(win.projects.reviews.stored, timeout=TIMEOUT_MS):
        win.editing.review.save_reviewed_mask(mask)
    _read(qtbot, win)
    asked = []
    assert win.projects.rerun(photo_id, ask=lambda *a: asked.append(a[1:]) or False) is None
    assert asked and asked[0][0] == "photo_000.png" and asked[0][1].reviewed_by == "Ann Inspector"
    with Project.open(target) as project:
        assert len(project.results(photo_id)) == 2 and project.latest_result(photo_id).is_reviewed
    with qtbot.waitSignal(win.projects.result_added, timeout=TIMEOUT_MS):
        win.projects.rerun(photo_id, ask=lambda *a: True)  # an explicit yes: the model's figures again
    with Project.open(target) as project:
        assert len(project.results(photo_id)) == 3 and not project.latest_result(photo_id).is_reviewed
        (overturned,) = project.changes()  # what a reviewer vouched for, replaced: logged
    assert overturned.what.startswith("photo photo_000.png: the figures Ann Inspector signed on 20")
    assert "replaced by the model's (corroded share " in overturned.what


def test_the_re_run_question_names_the_reviewer_and_defaults_to_keeping(qtbot, monkeypatch) -> None:
    from PySide6.QtWidgets import QMessageBox

    from app.core.project import StoredResult
    from app.ui import project_jobs

    seen = {}

    def answer(box: QMessageBox) -> int:
        seen["text"], seen["default"] = box.text(), box.defaultButton().text().replace("&", "")
        return 0

    monkeypatch.setattr(QMessageBox, "exec", answer)
    base = dict(corroded_share=10.0, astm_d610=5, iso_4628_3=2, needs_review=False, mean_confidence=0.9)
    review = dict(review_state="reviewed", reviewed_by="Bo", reviewed_at="2026-01-02T03:04:05+00:00")
    reviewed = StoredResult(1, 1, "m.onnx", "ab", "CPU", "resize", **base, record={}, **review)
    assert project_jobs.ask_rerun_reviewed(None, "p.jpg", reviewed) is False
    assert seen["text"].startswith("p.jpg counts with figures Bo reviewed on 2026-01-02")
    assert seen["default"] == "Keep the review"


def test_file_export_project_writes_what_the_command_writes_and_replaces_only_on_yes(
    qtbot,
    project_window,  # noqa: F811
    tmp_path: Path,
    monkeypatch,
) -> None:
    import csv

    from PySide6.QtWidgets import QFileDialog

    from app.ui import project_export_job

    win, _target = project_window
    assert win.actions["export_project"].isEnabled()
    out = tmp_path / "report"
    out.mkdir()
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(out))
    win.actions["export_project"].trigger()
    qtbot.waitUntil(lambda: "Exported 1 asset to" in win.banner.text, timeout=TIMEOUT_MS)
    assert sorted(p.name for p in out.iterdir()) == ["P-101-A_trend.pdf", "project.csv", "trends.csv"]
    assert f"Exported 1 asset to {out}: project.csv, trends.csv and 1 trend PDF." in win.banner.text
    with open(out / "project.csv", encoding="utf-8-sig", newline="") as f:
        assert len(list(csv.DictReader(f))) == 6  # a row per stored photo
    (out / "trends.csv").write_text("mine", encoding="utf-8")
    asked = []
    keep = lambda _w, _f, names: asked.append(names) or False  # noqa: E731  (the question's default)
    assert project_export_job.start_export(win.projects, replace=keep) is None
    assert asked == [["project.csv", "trends.csv", "P-101-A_trend.pdf"]]
    assert (out / "trends.csv").read_text(encoding="utf-8") == "mine"  # the default keeps the files
    worker = project_export_job.start_export(win.projects, replace=lambda *_a: True)
    with qtbot.waitSignal(worker.signals.finished, timeout=TIMEOUT_MS):
        pass
    assert (out / "trends.csv").read_text(encoding="utf-8-sig").startswith("asset,date,")
    win.projects.set_project(None)
    assert not win.actions["export_project"].isEnabled()


def test_a_date_typed_in_full_after_tab_changes_the_date_and_nothing_else(qtbot) -> None:
    """Tab from the asset into the date, type "2023-05-03": the date is that, the inspector as it was
    (a "-" after a part that moved on by itself once took the focus on to the inspector)."""

    from app.core.project import Inspection
    from app.ui.project_edits import CorrectInspectionDialog

    dialog = CorrectInspectionDialog(
        Inspection(1, 1, "P-7", dt.date(2023, 5, 2), "Jürgen Weiß", "", 2), ["P-7"]
    )
    tab_into_date(qtbot, dialog)
    qtbot.keyClicks(dialog.focusWidget(), "2023-05-03")
    assert dialog.date.hasFocus()
    assert dialog.values() == ("P-7", dt.date(2023, 5, 3), "Jürgen Weiß", "")
