"""The review workflow's faults a tester found: a saved mask applied to another photo of the same name,
signing refused without a word, long or marked-up reviewer names."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from app.core.files import write_png
from app.core.reviewed import read_reviewed_mask, reviewed_mask_path
from app.core.synthetic import synthetic_pipe
from app.ui import review_actions
from tests.ui.conftest import TIMEOUT_MS, exported_pdf_text, open_and_wait, photo


class _Answer:
    def __init__(self, name: str, note: str = "") -> None:
        self.name, self.note = name, note


@pytest.fixture(autouse=True)
def _discard_on_close(monkeypatch) -> None:
    monkeypatch.setattr(review_actions, "ask_discard_edits", lambda parent, names, action: True)
    monkeypatch.setattr(review_actions, "ask_unsaved_on_quit", lambda parent, names: "discard")


def _sign_and_save(qtbot, win, path: Path, monkeypatch, name: str = "Bo") -> Path:
    """Mark the model's mask reviewed by `name` and save it beside the photo, as Ctrl+S would."""
    ui = win.editing
    monkeypatch.setattr(ui.review, "ask_inspector", lambda name_="": _Answer(name))
    ui.review.mark_reviewed()
    target = reviewed_mask_path(path.parent, path.stem)
    with qtbot.waitSignal(win.controller.export_finished, timeout=TIMEOUT_MS):
        ui.review.save_reviewed_mask(target)
    return target


def test_a_signed_mask_is_not_applied_to_another_photo_saved_under_its_name(
    qtbot, window, tmp_path, monkeypatch
) -> None:
    path, _rgb = photo(tmp_path, 3, size=(96, 128), name="ORI_003.png")
    open_and_wait(qtbot, window, path)
    target = _sign_and_save(qtbot, window, path, monkeypatch)
    assert read_reviewed_mask(target).review.photo_sha256, "the mask records its photo"
    window.editing.edits.sessions.clear()  # as in a new run of the app
    other, _ = synthetic_pipe(11, (96, 128))
    write_png(path, other, overwrite=True)  # another photo of the same size, under the same name
    with qtbot.waitSignal(window.editing.edits.message, timeout=TIMEOUT_MS):
        open_and_wait(qtbot, window, path)
    text = window.banner.text
    assert "ORI_003.png changed since its mask ORI_003_mask.reviewed.png was saved" in text
    assert "the mask was not applied" in text and "reviewed by" not in text
    assert window.editing.edits.session is None, "the model's own mask of the new photo stays"
    assert window.controller.result.labels_source == "model"
    assert "Reviewed by" not in window.figures.review_label.text()


def test_a_batch_row_of_a_changed_photo_does_not_take_its_old_signed_mask(
    qtbot, window, tmp_path, monkeypatch
) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    path, _rgb = photo(folder, 3, size=(96, 128))
    open_and_wait(qtbot, window, path)
    _sign_and_save(qtbot, window, path, monkeypatch)
    window.editing.edits.sessions.clear()
    write_png(path, synthetic_pipe(11, (96, 128))[0], overwrite=True)
    with qtbot.waitSignal(window.controller.batch_finished, timeout=TIMEOUT_MS):
        window.open_folder(folder)
    row = window.batch_model.row(0)
    assert row.failed and "changed since its mask" in row.reason


def test_the_dialog_refuses_a_note_with_a_bidi_override_and_says_why_in_itself(qtbot) -> None:
    from PySide6.QtWidgets import QDialogButtonBox

    from app.ui.review_dialog import ReviewDialog

    dialog = ReviewDialog("pipe.jpg", "Ann")
    qtbot.addWidget(dialog)
    dialog.show()
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    assert ok.isEnabled() and not dialog.problem_label.isVisible()
    dialog.note_edit.setPlainText("weld seam \u202eredaer")
    assert not ok.isEnabled()
    assert dialog.problem_label.isVisible(), "the reason is in the dialog, not only in a tooltip"
    assert "The note holds a control character (\\u202e)" in dialog.problem_label.text()
    dialog.note_edit.setPlainText("weld seam\nrepainted")  # line breaks are fine in a note
    assert ok.isEnabled() and not dialog.problem_label.isVisible()
    dialog.name_edit.setText("Ann\x1b[31m")
    assert not ok.isEnabled() and "The name holds a control character (\\x1b)" in dialog.problem_label.text()


def test_a_refused_signature_says_so_keeps_the_text_and_the_old_name(qtbot, window, tmp_path) -> None:
    path, _rgb = photo(tmp_path, 3, size=(96, 128))
    open_and_wait(qtbot, window, path)
    window.settings.inspector_name = "Old Name"
    ui = window.editing.review
    asked: list[tuple] = []

    def answer(name: str = "", note: str = "") -> _Answer:
        asked.append((name, note))
        return _Answer("Ann", "weld \u202e seam")  # what the dialog once let through

    ui.ask_inspector = answer
    ui.mark_reviewed()
    assert window.banner.level == "error"
    assert window.banner.text.startswith("Nothing was signed: the review's note holds a control character")
    assert not window.editing.edits.session or not window.editing.edits.session.review.is_reviewed
    assert window.settings.inspector_name == "Old Name", "a name that signed nothing is not remembered"
    ui.mark_reviewed()
    assert asked[-1] == ("Ann", "weld \u202e seam"), "the next dialog opens with what was typed"


def test_the_dialog_takes_a_reviewer_name_of_at_most_200_characters(qtbot) -> None:
    from PySide6.QtWidgets import QDialogButtonBox

    from app.ui.review_dialog import ReviewDialog

    dialog = ReviewDialog("pipe.jpg", "A" * 615)  # as a tester pasted it
    qtbot.addWidget(dialog)
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    assert not ok.isEnabled()
    assert (
        "The name is 615 characters long; at most 200 fit in a report header" in dialog.problem_label.text()
    )
    dialog.name_edit.setText("A" * 200)
    assert ok.isEnabled()


def test_a_long_reviewer_name_or_path_never_widens_the_window_or_the_panel(qtbot, window, tmp_path) -> None:
    from app.ui.figures_widget import FiguresWidget

    path, _rgb = photo(tmp_path, 3, size=(96, 128))
    open_and_wait(qtbot, window, path)
    figures = window.findChild(FiguresWidget)
    panel_before = figures.minimumSizeHint().width()
    name = "A" * 615  # as an older version let a mask be signed
    window.editing.edits.mark_reviewed(name)
    deep = "/".join(["folder"] * 60) + "/ORI_003_mask.reviewed.png"
    message = f"Opened the reviewed mask {deep} (reviewed by {name} on 2026-12-06 12:07 UTC)"
    window.show_message(message, "info")
    qtbot.wait(100)  # the layout settles
    assert window.width() <= 1000 and window.minimumSizeHint().width() < 1000
    assert window.banner.text == message, "the message itself is kept whole"
    shown = window.banner._label.text()
    assert "…" in shown and window.banner._label.toolTip(), "the long words elided, the whole in the tooltip"
    assert "ORI_003_mask.reviewed.png" in shown or "…" in shown
    assert window.banner.width() <= window.width()
    assert figures.minimumSizeHint().width() <= max(panel_before, 400), "no horizontal scroll bar"
    assert "Reviewed by AAAA" in figures.review_label.text() and "…" in figures.review_label.text()


def test_markup_in_a_reviewer_name_is_shown_as_typed(qtbot, window, tmp_path) -> None:
    from PySide6.QtCore import Qt

    from app.ui.batch_table import COLUMNS

    folder = tmp_path / "photos"
    folder.mkdir()
    photo(folder, 3, size=(96, 128))
    with qtbot.waitSignal(window.controller.batch_finished, timeout=TIMEOUT_MS):
        window.open_folder(folder)
    table = window.batch.table
    rect = table.visualRect(window.batch.proxy.index(0, 0))
    with qtbot.waitSignal(window.controller.photo_analyzed, timeout=TIMEOUT_MS):
        qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    window.editing.edits.mark_reviewed("Ann <i>Lee</i>")
    label = window.figures.review_label
    assert label.textFormat() == Qt.TextFormat.PlainText and "Ann <i>Lee</i>" in label.text()
    assert "Ann &lt;i&gt;Lee&lt;/i&gt;" in window.figures.source_label.text()
    model = window.batch_model
    reason = model.index(0, COLUMNS.index("Reason"))
    qtbot.waitUntil(lambda: "Ann <i>Lee</i>" in model.data(reason), timeout=TIMEOUT_MS)
    tip = model.data(reason, Qt.ItemDataRole.ToolTipRole)
    assert "&lt;i&gt;Lee&lt;/i&gt;" in tip and "<i>Lee</i>" not in tip, "a tooltip would render the markup"


def test_a_failed_save_is_called_a_save_and_says_what_to_do(qtbot, window, tmp_path, monkeypatch) -> None:
    from app.core.errors import CorroscopeError
    from app.ui import edit_controller

    path, _rgb = photo(tmp_path, 3, size=(96, 128))
    open_and_wait(qtbot, window, path)
    window.editing.edits.mark_reviewed("Bo")

    def refuse(target, *args, **kwargs):
        raise CorroscopeError(f"Cannot write {Path(target).name}: Operation not permitted")

    monkeypatch.setattr(edit_controller, "write_reviewed_mask", refuse)
    target = reviewed_mask_path(tmp_path / "photos results", path.stem)
    window.editing.review.save_reviewed_mask(target)
    qtbot.waitUntil(lambda: window.banner.level == "error", timeout=TIMEOUT_MS)
    text = window.banner.text
    assert text.startswith("Save failed: Cannot write pipe_03_mask.reviewed.png: Operation not permitted")
    assert "File ▸ Save corrected mask…" in text and "Export failed" not in text
    assert window.editing.edits.unsaved_sessions(), "still unsaved"


def test_a_wrong_size_edit_is_not_called_a_reviewed_mask(qtbot, window, tmp_path) -> None:
    from app.core.reviewed import write_reviewed_mask

    path, _rgb = photo(tmp_path, 3, size=(96, 128))
    edited = reviewed_mask_path(tmp_path, path.stem, signed=False)
    write_reviewed_mask(edited, np.zeros((150, 200), np.uint8))
    with qtbot.waitSignal(window.editing.edits.message, timeout=TIMEOUT_MS):
        open_and_wait(qtbot, window, path)
    text = window.banner.text
    assert text.startswith(
        "Saved correction (edited, not reviewed) not used: pipe_03_mask.edited.png is 200x150"
    )
    assert "Reviewed mask" not in text and f"(in {tmp_path})" in text


def test_the_pdf_of_a_corrected_signed_mask_says_its_figures_are_the_inspectors(
    qtbot, window, tmp_path
) -> None:

    from app.report.pdf import accuracy_lines

    path, _rgb = photo(tmp_path, 3, size=(96, 128))
    open_and_wait(qtbot, window, path)
    state = window.controller.state
    labels = state.model_labels.copy()
    labels[10:60, 10:90] = 2  # a correction: background over part of the photo
    session = window.editing.edits.begin()
    session.editor.labels[:] = labels
    state.set_labels(session.editor.labels, session.editor.stats(window.controller.result.classes))
    window.editing.edits.mark_reviewed("A. Inspector")
    text = exported_pdf_text(qtbot, window, tmp_path / "results", path.stem)
    assert "Figures from the mask corrected and signed by A. Inspector on " in text
    assert "Figures proposed by a model; reviewed by" not in text
    untouched = accuracy_lines("typical", True, "Ann", "2026-12-06T12:07:00+00:00")  # the model's, signed
    assert untouched[1] == "Figures proposed by a model; reviewed by Ann on 2026-12-06 12:07 UTC."


def _slow_save(monkeypatch, fails: bool):
    """`write_reviewed_mask` held until the returned event is set, then failing or writing."""
    import threading

    from app.core.errors import CorroscopeError
    from app.ui import edit_controller

    release, real = threading.Event(), edit_controller.write_reviewed_mask

    def write(target, *args, **kwargs):
        release.wait(30)
        if fails:
            raise CorroscopeError(f"Cannot write {Path(target).name}: Operation not permitted")
        return real(target, *args, **kwargs)

    monkeypatch.setattr(edit_controller, "write_reviewed_mask", write)
    return release


@pytest.mark.parametrize("fails", [True, False])
def test_a_quit_waits_for_a_save_and_stays_open_when_it_fails(qtbot, window, tmp_path, monkeypatch, fails):
    """Ctrl+S then Ctrl+Q at once closed the window before the save had written: a save that then
    failed lost the edits without a word (the session counted as saved while it was written)."""
    path, _rgb = photo(tmp_path, 3, size=(96, 128))
    open_and_wait(qtbot, window, path)
    window.editing.edits.mark_reviewed("Bo")
    release = _slow_save(monkeypatch, fails)
    window.editing.review.save_reviewed_mask(reviewed_mask_path(tmp_path / "photos results", path.stem))
    assert window.editing.review.saving
    assert not window.close(), "the window waits for the save"
    assert window.isVisible() and "Writing the corrected mask first" in window.statusBar().currentMessage()
    release.set()
    if fails:
        qtbot.waitUntil(lambda: window.banner.level == "error", timeout=TIMEOUT_MS)
        qtbot.wait(50)  # the close that a successful save would make
        assert window.isVisible() and window.editing.edits.unsaved_sessions()
        assert "(not saved yet)" in window.figures.source_label.text(), "the panel says it is not saved"
    else:
        qtbot.waitUntil(lambda: not window.isVisible(), timeout=TIMEOUT_MS)
        assert not window.editing.edits.unsaved_sessions()


def test_a_revert_says_the_saved_correction_stays_and_comes_back(
    qtbot, window, tmp_path, monkeypatch
) -> None:
    """Revert showed the model's mask, and reopening the photo silently brought the saved correction back."""
    path, _rgb = photo(tmp_path, 3, size=(96, 128))
    open_and_wait(qtbot, window, path)
    target = _sign_and_save(qtbot, window, path, monkeypatch)
    window.editing.review.revert()
    text = window.banner.text
    assert (
        text.startswith("Reverted to the model's mask on screen. The saved correction")
        and str(target) in text
    )
    assert target.exists(), "nothing on disk is removed"
