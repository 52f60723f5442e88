"""Review flags that never lie, in the real window: an edit stays "needs review" until someone signs
it, a signed mask says who and when, a stray smart-select click changes nothing, and Ctrl+S saves the
correction where the user will find it (`<photo folder> results`), named by whether it is signed."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtWidgets import QFileDialog

from app.core.report_header import time_text
from app.ui import review_actions
from tests.ui.conftest import TIMEOUT_MS, open_and_wait, photo
from tests.ui.test_edit_gui import drag


@pytest.fixture(autouse=True)
def _discard_on_close(monkeypatch) -> None:
    monkeypatch.setattr(review_actions, "ask_discard_edits", lambda parent, names, action: True)
    monkeypatch.setattr(review_actions, "ask_unsaved_on_quit", lambda parent, names: "discard")


@pytest.fixture
def opened(qtbot, window, tmp_path: Path):
    folder = tmp_path / "site photos"
    folder.mkdir()
    path, _rgb = photo(folder, 3, size=(96, 128))
    open_and_wait(qtbot, window, path)
    return window, path


def _paint(qtbot, win, class_name: str = "corrosion") -> None:
    win.editing.set_tool("brush")
    win.editing.set_class(class_name)
    drag(qtbot, win, [(20, 20), (70, 50)])
    qtbot.waitUntil(lambda: win.controller.state.edited, timeout=TIMEOUT_MS)


def test_an_edit_needs_review_until_signed_then_says_who_and_when(qtbot, opened) -> None:
    win, _path = opened
    _paint(qtbot, win)
    flag, source = win.figures.review_label.text(), win.figures.source_label.text()
    assert flag.startswith("⚠ Needs review: edited, not reviewed") and "No review needed" not in flag
    assert flag.count("edited") == 1, flag  # the headline says it; the reasons after it do not again
    model_reasons = win.controller.state.model_result.assessment.reasons
    assert model_reasons and all(flag.count(r) == 1 for r in model_reasons), flag  # each said once
    assert "model's mask:" not in flag, flag  # the line already heads them as the model's
    assert "edited, not reviewed" in source and "reviewed mask" not in source
    win.editing.edits.mark_reviewed("Ann Inspector")
    review = win.controller.state.review
    assert review.reviewed_by == "Ann Inspector" and review.reviewed_at
    assert (
        win.figures.review_label.text() == f"✔ Reviewed by Ann Inspector on {time_text(review.reviewed_at)}."
    )
    assert "reviewed mask" in win.figures.source_label.text()
    share_range = win.figures.values()["Share range"]
    assert "reviewed mask" in share_range and "not signed" not in share_range
    assert win.figures.accuracy_label.isHidden()  # the model's typical error is no longer the figures'
    _paint(qtbot, win, "background")  # an edit after the sign-off drops it
    assert win.figures.review_label.text().startswith("⚠ Needs review: edited, not reviewed")


def test_signing_again_after_an_edit_takes_the_banners_warning_away(qtbot, opened, monkeypatch) -> None:
    from app.ui.review_dialog import ReviewDialog

    win, path = opened
    signed = ReviewDialog(path.name, "Ann Inspector")
    monkeypatch.setattr(win.editing.review, "ask_inspector", lambda _name="": signed)
    _paint(qtbot, win)
    win.editing.review.mark_reviewed()
    _paint(qtbot, win, "background")  # an edit after the sign-off: the banner says to sign again
    assert win.banner.text == "Edited after the review: mark it reviewed again to sign it"
    win.editing.review.mark_reviewed()
    assert win.banner.text == ""  # signed again: no warning left over a signed mask
    assert win.figures.review_label.text().startswith("✔ Reviewed by Ann Inspector")


def test_a_revert_takes_the_edited_after_review_warning_away(qtbot, opened, monkeypatch) -> None:
    """Edit ▸ Revert left "Edited after the review: mark it reviewed again" over the model's mask."""
    from app.ui import review_actions

    win, _path = opened
    _paint(qtbot, win)
    win.editing.edits.mark_reviewed("Ann Inspector")
    _paint(qtbot, win, "background")
    assert win.banner.text == "Edited after the review: mark it reviewed again to sign it"
    monkeypatch.setattr(review_actions, "ask_discard_edits", lambda *_a: True)
    win.editing.review.revert()
    assert win.banner.text == "" and win.editing.edits.session is None


def test_undo_then_redo_back_to_the_signed_mask_brings_its_signature_back(qtbot, opened) -> None:
    win, _path = opened
    _paint(qtbot, win)
    win.editing.edits.mark_reviewed("Ann Inspector")
    signed = win.controller.state.review
    win.editing.actions["undo"].trigger()  # the map is no longer the one signed: the signature goes
    assert not win.controller.state.review.is_reviewed
    assert win.banner.text.startswith("Undone past the review: it no longer applies (Redo brings")
    assert win.figures.review_label.text().startswith("⚠ Needs review")
    win.editing.actions["redo"].trigger()  # the very map signed again: the same signature, not a new one
    assert win.controller.state.review == signed
    assert win.figures.review_label.text().startswith("✔ Reviewed by Ann Inspector")
    assert win.banner.text == ""  # the "edited after the review" warning is answered
    assert "review by Ann Inspector stands again" in win.statusBar().currentMessage()
    win.editing.actions["undo"].trigger()
    _paint(qtbot, win, "background")  # another edit where the signed one was: nothing brings it back
    assert not win.editing.actions["redo"].isEnabled()
    assert not win.controller.state.review.is_reviewed


def test_a_smart_select_click_without_a_box_changes_nothing_and_says_what_to_do(qtbot, opened) -> None:
    win, _path = opened
    before = win.controller.result.labels.copy()
    figures = win.figures.values()
    win.editing.set_tool("smart")
    drag(qtbot, win, [(40, 40)])  # a click, no box drawn
    qtbot.wait(100)
    assert win.editing.edits.session is None and not win.editing.edits.busy
    assert np.array_equal(win.controller.result.labels, before) and win.figures.values() == figures
    assert "drag a box around the pipe" in win.banner.text


def _save_with_dialog(qtbot, win, monkeypatch) -> tuple[Path, Path]:
    """Ctrl+S through its dialog, accepting the proposed name; (the proposed path, the written one)."""
    proposed: list[str] = []

    def dialog(parent, title, start, *args, **kwargs):
        proposed.append(start)
        assert Path(start).parent.is_dir(), "the dialog opens in a folder that exists"
        return start, ""

    monkeypatch.setattr(QFileDialog, "getSaveFileName", dialog)
    with qtbot.waitSignal(win.controller.export_finished, timeout=TIMEOUT_MS) as written:
        win.editing.actions["save_reviewed"].trigger()
    return Path(proposed[0]), Path(written.args[0][0])


def test_ctrl_s_saves_an_unsigned_edit_as_edited_in_the_photos_results_folder(
    qtbot, opened, monkeypatch
) -> None:
    win, path = opened
    _paint(qtbot, win)
    proposed, written = _save_with_dialog(qtbot, win, monkeypatch)
    results = path.parent.parent / "site photos results"
    assert proposed == written == results / f"{path.stem}_mask.edited.png"
    assert written.is_file() and not (results / f"{path.stem}_mask.reviewed.png").exists()
    assert str(written) in win.banner.text and "edited (not reviewed)" in win.banner.text
    win.editing.edits.mark_reviewed("Bo")
    proposed, written = _save_with_dialog(qtbot, win, monkeypatch)
    assert written == results / f"{path.stem}_mask.reviewed.png" and written.is_file()


def test_a_cancelled_save_leaves_no_results_folder_behind(qtbot, opened, monkeypatch) -> None:
    win, path = opened
    _paint(qtbot, win)
    results = path.parent.parent / "site photos results"
    seen = []
    cancel = lambda *_a, **_k: seen.append(results.is_dir()) or ("", "")  # noqa: E731
    monkeypatch.setattr(QFileDialog, "getSaveFileName", cancel)
    win.editing.actions["save_reviewed"].trigger()
    assert seen == [True], "the dialog opened in the results folder"
    assert not results.exists(), "made for the dialog, empty, and nothing saved: it goes again"


def test_ctrl_s_on_the_models_own_mask_saves_nothing(qtbot, opened, monkeypatch) -> None:
    win, path = opened
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: pytest.fail("no dialog expected"))
    win.editing.actions["save_reviewed"].trigger()
    assert "Nothing to save" in win.banner.text
    assert not (path.parent.parent / "site photos results").exists()
    _paint(qtbot, win)
    assert win.banner.text == "", "the notice is no longer true once the mask is edited: it goes"


def test_reopening_a_photo_finds_its_edited_mask_and_says_so(qtbot, opened, monkeypatch) -> None:
    win, path = opened
    _paint(qtbot, win)
    edited = win.controller.result.labels.copy()
    _proposed, written = _save_with_dialog(qtbot, win, monkeypatch)
    win.editing.edits.sessions.clear()  # as in a new run of the app
    with qtbot.waitSignal(win.editing.edits.mask_opened, timeout=TIMEOUT_MS):
        open_and_wait(qtbot, win, path)
    assert np.array_equal(win.controller.result.labels, edited)
    assert f"Opened the edited mask {written}: edited, not reviewed" in win.banner.text
    assert win.figures.review_label.text().startswith("⚠ Needs review: edited, not reviewed")


def test_reopening_opens_the_newer_unsigned_edit_and_names_the_older_signature(
    qtbot, opened, monkeypatch
) -> None:
    """Signed, then edited and saved unsigned: the latest work is the edit. Reopening (and a batch row,
    its CSV and PDF, which find masks the same way) shows it as edited, not reviewed, and names the
    signed mask whose review no longer applies (the signed mask's figures were shown as reviewed)."""
    from app.core.saved_corrections import CorrectionSearch

    win, path = opened
    _paint(qtbot, win)
    win.editing.edits.mark_reviewed("Bo")
    _proposed, signed = _save_with_dialog(qtbot, win, monkeypatch)
    _paint(qtbot, win, "background")  # edited after the review, saved unsigned beside it
    edited_labels = win.controller.result.labels.copy()
    _proposed, edited = _save_with_dialog(qtbot, win, monkeypatch)
    assert edited.name.endswith("_mask.edited.png")
    os.utime(signed, ns=(1_000_000_000, 1_000_000_000))  # the signed one surely older
    assert CorrectionSearch().find(path) == edited  # what a batch row reads too
    win.editing.edits.sessions.clear()  # as in a new run of the app
    with qtbot.waitSignal(win.editing.edits.mask_opened, timeout=TIMEOUT_MS):
        open_and_wait(qtbot, win, path)
    assert np.array_equal(win.controller.result.labels, edited_labels)
    assert f"Opened the edited mask {edited}: edited, not reviewed" in win.banner.text
    assert f"saved after the signed mask {signed}, whose review no longer applies" in win.banner.text
    assert win.banner.level == "warning"
    assert win.figures.review_label.text().startswith("⚠ Needs review: edited, not reviewed")


def test_a_save_that_ends_at_once_still_says_so_and_reaches_the_project(qtbot, opened, monkeypatch) -> None:
    """A small mask can be written before the code that started the save connects to its worker: the
    message and the project's review must not depend on who is faster."""
    from app.ui.workers import WorkerPool

    win, path = opened
    _paint(qtbot, win)
    win.editing.edits.mark_reviewed("Bo")

    def at_once(pool, worker):  # the worker runs to its end before start() returns
        worker.run()
        return worker

    monkeypatch.setattr(WorkerPool, "start", at_once)
    reached = []
    win.editing.review.signed_masks_saved.connect(reached.append)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda parent, title, start, *a, **k: (start, ""))
    win.editing.actions["save_reviewed"].trigger()
    written = path.parent.parent / "site photos results" / f"{path.stem}_mask.reviewed.png"
    assert written.is_file()
    assert f"Saved the reviewed mask: {written}" in win.banner.text
    assert reached == [[(path, written)]]


def test_the_models_mask_signed_untouched_counts_as_any_signed_mask(qtbot, window, tmp_path) -> None:
    """Signed without an edit, the figures are the reviewer's: no model range on the batch row (nor on
    the batch report's card), as a batch or `analyze --reviewed-masks` reading the saved mask back gives."""
    from tests.ui.test_batch import make_folder, run_batch

    folder = make_folder(tmp_path, 2)
    run_batch(qtbot, window, folder)
    open_and_wait(qtbot, window, folder / "pipe_01.png")
    row = next(r for r in window.batch_model.rows if r.path.name == "pipe_01.png")
    assert row.result.measures.share_range is not None  # the model's own figures have one
    window.editing.edits.mark_reviewed("Ann Inspector")
    qtbot.waitUntil(lambda: window.batch_model.rows[1].review is not None, timeout=TIMEOUT_MS)
    signed = window.batch_model.rows[1].result
    assert signed.labels_source == "reviewed" and signed.measures.share_range is None
    assert "reviewed mask" in window.figures.values()["Share range"]


def test_a_name_typed_without_png_gets_it_and_is_asked_about_as_written(qtbot, opened, monkeypatch) -> None:
    win, path = opened
    _paint(qtbot, win, "corrosion")
    results = path.parent.parent / "site photos results"
    typed = [str(results / "mymask"), str(results / f"{path.stem}_mask.edited"), str(results / "mymask")]
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (typed.pop(0), ""))
    asked: list[list[Path]] = []
    replace = lambda parent, paths: asked.append(paths) or True  # noqa: E731
    monkeypatch.setattr(review_actions, "confirm_overwrite", replace)
    written = []
    for _ in range(3):
        with qtbot.waitSignal(win.controller.export_finished, timeout=TIMEOUT_MS) as done:
            win.editing.actions["save_reviewed"].trigger()
        written.append(Path(done.args[0][0]))
    mine = results / "mymask.png"
    assert written == [mine, results / f"{path.stem}_mask.edited.png", mine]
    assert not (results / "mymask").exists() and mine.is_file()
    assert asked == [[mine]], "replacing the file written before is asked about"
    win.editing.edits.sessions.clear()  # as in a new run of the app: the edit is found by its name
    with qtbot.waitSignal(win.editing.edits.mask_opened, timeout=TIMEOUT_MS):
        open_and_wait(qtbot, win, path)


def test_exports_name_the_saved_mask_their_figures_came_from(qtbot, window, tmp_path, monkeypatch) -> None:
    """A photo signed and saved in the window: its photo JSON names the mask with its SHA-256, and the
    batch CSV's reviewed_mask_file names it (both were empty for photos reviewed in the window)."""
    import csv
    import json

    from app.core.files import sha256_file
    from app.ui.batch_exports import start_batch_csv_export
    from app.ui.export_jobs import start_photo_export
    from tests.ui.test_batch import make_folder, run_batch

    folder = make_folder(tmp_path, 2)
    run_batch(qtbot, window, folder)
    open_and_wait(qtbot, window, folder / "pipe_01.png")
    _paint(qtbot, window)
    window.editing.edits.mark_reviewed("Ann Inspector")
    _proposed, saved = _save_with_dialog(qtbot, window, monkeypatch)
    out = tmp_path / "exports"
    with qtbot.waitSignal(window.controller.export_finished, timeout=TIMEOUT_MS):
        start_photo_export(window, out, ["json"])
    record = json.loads((out / "pipe_01.json").read_text(encoding="utf-8"))
    assert record["reviewed_mask"] == str(saved) and record["reviewed_mask_sha256"] == sha256_file(saved)
    qtbot.waitUntil(lambda: window.batch_model.rows[1].review is not None, timeout=TIMEOUT_MS)
    table = tmp_path / "table.csv"
    with qtbot.waitSignal(window.controller.export_finished, timeout=TIMEOUT_MS):
        start_batch_csv_export(window, table)
    with open(table, encoding="utf-8-sig", newline="") as fh:
        rows = {r["file"]: r for r in csv.DictReader(fh)}
    assert rows["pipe_01.png"]["reviewed_mask_file"] == str(saved)
    assert rows["pipe_01.png"]["source"] == "reviewed"
