"""File ▸ Save all corrected masks: every photo edited or signed in the window and not saved is written to
its results folder in a worker, with no file dialog per photo; a file that is not the session's own is
replaced only if the user agrees."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QFileDialog

from app.core.reviewed import read_reviewed_mask
from app.ui import review_actions
from tests.ui.conftest import TIMEOUT_MS, open_and_wait
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
