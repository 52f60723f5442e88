"""Adding an inspection in the window: notes stored with it, the batch's photos in one click, a photo
added by mistake taken off the list, and the analysis shown with progress and Cancel (nothing stored)."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox, QFileDialog, QProgressDialog, QPushButton

from app.core.project import Project
from app.core.project import ingest as ingest_module
from app.core.reviewed import ReviewState, write_reviewed_mask
from tests.helpers.pipe_photos import photo_folder
from tests.ui.conftest import TIMEOUT_MS
from tests.ui.test_batch import run_batch


@pytest.fixture
def project_window(qtbot, window, tmp_path: Path, monkeypatch):
    target = tmp_path / "site.corroscope"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(tmp_path / "site"), ""))
    with qtbot.waitSignal(window.projects.project_changed, timeout=TIMEOUT_MS):
        window.actions["new_project"].trigger()
    qtbot.waitUntil(lambda: not window.projects.panel.loading, timeout=TIMEOUT_MS)
    return window, target


def _open_dialog(win):
    win.projects.panel.add_button.click()
    dialog = win.projects.dialogs[-1]
    dialog.asset.setCurrentText("P-7")
    return dialog


def test_the_batchs_photos_notes_and_a_removed_photo(qtbot, project_window, tmp_path: Path) -> None:
    win, target = project_window
    folder = photo_folder(tmp_path / "photos", 3, 0.1, size=(48, 64))
    run_batch(qtbot, win, folder)
    dialog = _open_dialog(win)
    assert dialog.add_batch.isVisible() and dialog.add_batch.text() == "Batch photos (3)"
    with qtbot.waitSignal(dialog.listed, timeout=TIMEOUT_MS):
        dialog.add_batch.click()
    assert dialog.photos.count() == 3
    dialog.photos.item(1).setSelected(True)
    assert dialog.remove.isEnabled()
    qtbot.keyClick(dialog.photos, Qt.Key.Key_Delete)
    kept = dialog.request().paths
    assert len(kept) == 2 and sorted(folder.iterdir())[1] not in kept
    assert all(p.is_file() for p in folder.iterdir()) and len(list(folder.iterdir())) == 3, "files untouched"
    dialog.notes.setPlainText("North side only;\nladder access.")
    with qtbot.waitSignal(win.projects.inspection_added, timeout=TIMEOUT_MS):
        dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    with Project.open(target) as project:
        (inspection,) = project.inspections("P-7")
        assert inspection.notes == "North side only;\nladder access."
        assert len(project.photos(inspection.id)) == 2


def _held_add(qtbot, win, folder: Path, monkeypatch):
    """Add inspection of `folder` started, its worker held after the first photo until `release` is set;
    (its progress dialog, release)."""
    first_done, release = threading.Event(), threading.Event()
    real = ingest_module.analyse_record

    def slow(model, path, options):  # the first photo analysed, then the worker waits for the test
        record = real(model, path, options)
        first_done.set()
        release.wait(20)
        return record

    monkeypatch.setattr(ingest_module, "analyse_record", slow)
    dialog = _open_dialog(win)
    with qtbot.waitSignal(dialog.listed, timeout=TIMEOUT_MS):
        dialog.add_paths([folder])
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    progress = win.findChild(QProgressDialog, "add_inspection_progress")
    assert progress is not None and progress.isVisible()
    qtbot.waitUntil(first_done.is_set, timeout=TIMEOUT_MS)
    return progress, release


def test_adding_shows_progress_and_cancel_stores_nothing(
    qtbot, project_window, tmp_path: Path, monkeypatch
) -> None:
    win, target = project_window
    folder = photo_folder(tmp_path / "photos", 3, 0.1, size=(48, 64))
    progress, release = _held_add(qtbot, win, folder, monkeypatch)
    assert progress.windowTitle() == "Adding an inspection of P-7"
    next(b for b in progress.findChildren(QPushButton) if b.text() == "Cancel").click()
    with qtbot.waitSignal(win.projects.inspection_added, timeout=TIMEOUT_MS) as added:
        release.set()
    assert added.args[0].cancelled and added.args[0].outcome is None
    assert "cancelled; nothing was stored" in win.banner.text
    qtbot.waitUntil(
        lambda: win.findChild(QProgressDialog, "add_inspection_progress") is None, timeout=TIMEOUT_MS
    )
    with Project.open(target) as project:
        assert project.inspections() == []


def test_a_review_signed_and_saved_before_the_photo_was_added_comes_with_it(
    qtbot, project_window, tmp_path: Path
) -> None:
    """Batch, review, Save all, then Add inspection ▸ Batch photos: the signature reaches the project."""
    win, target = project_window
    folder = photo_folder(tmp_path / "photos", 3, 0.1, size=(48, 64))
    signed, edited = sorted(folder.iterdir())[:2]
    results = tmp_path / "photos results"
    results.mkdir()
    all_asset = np.full((48, 64), 1, np.uint8)
    review = ReviewState.reviewed_now("Ann")
    write_reviewed_mask(results / f"{signed.stem}_mask.reviewed.png", all_asset, review=review)
    write_reviewed_mask(results / f"{edited.stem}_mask.edited.png", all_asset)  # nobody signed it
    dialog = _open_dialog(win)
    with qtbot.waitSignal(dialog.listed, timeout=TIMEOUT_MS):
        dialog.add_paths([folder])
    with qtbot.waitSignal(win.projects.inspection_added, timeout=TIMEOUT_MS) as added:
        dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    assert added.args[0].reviewed == (signed,)
    assert "3 photos stored (1 with the review signed for it)" in win.banner.text
    with Project.open(target) as project:
        (inspection,) = project.inspections("P-7")
        newest = {Path(p.path).name: project.results(p.id)[-1] for p in project.photos(inspection.id)}
    assert newest[signed.name].reviewed_by == "Ann" and newest[signed.name].corroded_share == 0.0
    assert newest[edited.name].reviewed_by is None, "an unsigned edit is no review"


def test_a_new_tag_typed_replaces_the_proposed_asset(qtbot, project_window, tmp_path: Path) -> None:
    """The dialog proposes the asset picked in the tree; typing a new tag must not append to it."""
    win, _target = project_window
    folder = photo_folder(tmp_path / "photos", 1, 0.1, size=(48, 64))
    dialog = _open_dialog(win)
    with qtbot.waitSignal(dialog.listed, timeout=TIMEOUT_MS):
        dialog.add_paths([folder])
    with qtbot.waitSignal(win.projects.inspection_added, timeout=TIMEOUT_MS):
        dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    qtbot.waitUntil(lambda: win.projects.panel.tree.topLevelItemCount() == 1, timeout=TIMEOUT_MS)
    win.projects.panel.add_button.click()
    second = win.projects.dialogs[-1]
    assert second.asset.currentText() == "P-7"
    qtbot.keyClicks(second.asset.lineEdit(), "P-8")
    assert second.asset.currentText() == "P-8"
    second.reject()  # a modal dialog left open would take the keyboard from the tests after this one


def test_escape_on_the_progress_dialog_cancels_without_an_error(qtbot, project_window, tmp_path, monkeypatch):
    win, target = project_window
    folder = photo_folder(tmp_path / "photos", 2, 0.1, size=(48, 64))
    progress, release = _held_add(qtbot, win, folder, monkeypatch)
    progress.close()  # Escape closes it: the dialog goes (deleted on close) while the photo still ends
    with qtbot.waitSignal(win.projects.inspection_added, timeout=TIMEOUT_MS) as added:
        release.set()
    assert added.args[0].cancelled
    with Project.open(target) as project:
        assert project.inspections() == []
