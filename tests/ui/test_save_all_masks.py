"""File ▸ Save all corrected masks: every photo edited or signed in the window and not saved is written to
its results folder in a worker, with no file dialog per photo; a file that is not the session's own is
replaced only if the user agrees."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QFileDialog

from app.core.reviewed import read_reviewed_mask
from app.ui import export_jobs, review_actions
from app.ui.export_folders import remember_export_folder
from tests.ui.conftest import TIMEOUT_MS, open_and_wait
from tests.ui.conftest import photo as make_photo
from tests.ui.test_batch import make_folder, run_batch


def test_every_unsaved_correction_is_saved_to_its_results_folder(
    qtbot, window, tmp_path, monkeypatch
) -> None:
    folder = make_folder(tmp_path, 3, distinct=3)
    run_batch(qtbot, window, folder)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: pytest.fail("no file dialog"))
    action = window.editing.actions["save_all_reviewed"]
    photos = window.batch.paths()
    for photo in photos[:2]:
        open_and_wait(qtbot, window, photo)
        window.editing.edits.mark_reviewed("Ann Inspector")
    assert action.isEnabled() and action.shortcut().toString() == "Ctrl+Shift+S"
    results = folder.parent / f"{folder.name} results"
    in_the_way = results / f"{photos[1].stem}_mask.reviewed.png"
    in_the_way.parent.mkdir()
    in_the_way.write_bytes(b"someone else's file")
    asked: list[list] = []
    monkeypatch.setattr(review_actions, "confirm_overwrite", lambda _p, paths: asked.append(paths) or False)
    action.trigger()  # the user keeps the other file: nothing is written
    assert asked == [[in_the_way]] and in_the_way.read_bytes() == b"someone else's file"
    assert len(window.editing.edits.unsaved_sessions()) == 2
    monkeypatch.setattr(review_actions, "confirm_overwrite", lambda _p, paths: True)
    with qtbot.waitSignal(window.editing.review.signed_masks_saved, timeout=TIMEOUT_MS) as signed:
        action.trigger()  # the signed ones are offered to the project (it stores those it holds)
    expected = [(p, results / f"{p.stem}_mask.reviewed.png") for p in photos[:2]]
    assert sorted(signed.args[0]) == sorted(expected)
    for photo in photos[:2]:
        saved = read_reviewed_mask(results / f"{photo.stem}_mask.reviewed.png")
        assert saved.review.reviewed_by == "Ann Inspector"
    assert not (results / f"{photos[2].stem}_mask.reviewed.png").exists(), "an untouched photo: no file"
    assert not window.editing.edits.unsaved_sessions()
    qtbot.waitUntil(lambda: "Saved 2 corrected masks" in window.banner.text, timeout=TIMEOUT_MS)
    assert not action.isEnabled()


def _export_mask(qtbot, window, folder: Path) -> None:
    """Ctrl+E of the photo on screen to `folder` (remembered as the photo export folder), waited for."""
    remember_export_folder(window.settings, "photo", window.controller.current.path.parent, folder)
    written: list[list] = []
    window.controller.export_finished.connect(written.append)
    export_jobs.start_photo_export(window, folder, ["mask"])
    stem = window.controller.current.path.stem
    copies = (folder / f"{stem}_mask.reviewed.png", folder / f"{stem}_mask.edited.png")
    # the mask PNG (announced), then the corrected mask's copy (said in the status bar only)
    qtbot.waitUntil(lambda: len(written) == 1 and any(c.is_file() for c in copies), timeout=TIMEOUT_MS)


def test_saves_go_to_the_results_folder_whatever_was_exported_and_are_found_again(
    qtbot, window, tmp_path, monkeypatch
) -> None:
    folder = tmp_path / "site"
    folder.mkdir()
    photos = [make_photo(folder, seed, size=(96, 128))[0] for seed in (3, 4, 5)]
    results, exp4 = tmp_path / "site results", tmp_path / "exp4"
    open_and_wait(qtbot, window, photos[0])
    window.editing.edits.mark_reviewed("Ann Inspector")
    _export_mask(qtbot, window, exp4)
    copy = exp4 / f"{photos[0].stem}_mask.reviewed.png"
    assert read_reviewed_mask(copy).review.reviewed_by == "Ann Inspector"
    session = window.editing.edits.session
    assert session.unsaved and session.mask_path is None, "the export's copy is a copy: still to save"
    assert window.editing.review.default_mask_path() == results / copy.name
    for path in photos[1:]:
        open_and_wait(qtbot, window, path)
        window.editing.edits.mark_reviewed("Ann Inspector")
    monkeypatch.setattr(review_actions, "ask_unsaved_on_quit", lambda _p, _n: "save")
    assert window.editing.review.confirm_close()  # Ctrl+Q ▸ Save all
    for path in photos:
        assert read_reviewed_mask(results / f"{path.stem}_mask.reviewed.png").review.reviewed_by
    assert sorted(p.name for p in exp4.iterdir()) == sorted([f"{photos[0].stem}_mask.png", copy.name])
    window.editing.edits.sessions.clear()  # as in a new run of the app
    with qtbot.waitSignal(window.editing.edits.mask_opened, timeout=TIMEOUT_MS) as opened:
        open_and_wait(qtbot, window, photos[1])
    assert opened.args[0] == results / f"{photos[1].stem}_mask.reviewed.png"
    assert window.controller.state.review.reviewed_by == "Ann Inspector"


def test_a_mask_saved_to_another_folder_says_so_and_is_not_saved_there_again(
    qtbot, window, tmp_path, monkeypatch
) -> None:
    folder = tmp_path / "site"
    folder.mkdir()
    path = make_photo(folder, 3, size=(96, 128))[0]
    open_and_wait(qtbot, window, path)
    window.editing.edits.mark_reviewed("Bo")
    elsewhere = tmp_path / "mine" / f"{path.stem}_mask.reviewed.png"
    elsewhere.parent.mkdir()
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(elsewhere), ""))
    with qtbot.waitSignal(window.controller.export_finished, timeout=TIMEOUT_MS):
        window.editing.actions["save_reviewed"].trigger()
    qtbot.waitUntil(lambda: str(elsewhere) in window.banner.text, timeout=TIMEOUT_MS)
    assert "will not find it there by itself" in window.banner.text
    assert "File ▸ Open corrected mask…" in window.banner.text
    results = tmp_path / "site results"
    assert window.editing.review.default_mask_path() == results / elsewhere.name
    window.editing.edits.mark_reviewed("Cy")  # signed again: Save all writes where the app looks
    assert window.editing.review.mask_targets(window.editing.edits.unsaved_sessions())[0][1] == (
        results / elsewhere.name
    )
    monkeypatch.setattr(review_actions, "ask_unsaved_on_quit", lambda _p, _n: "discard")  # closing
