"""Mark reviewed from the keyboard: the name kept, the note typed, Ctrl+Enter signs; Enter in the note is a
new line; a photo name is shown as text, never as markup."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel

from app.ui.review_dialog import ReviewDialog


def test_ctrl_enter_signs_from_the_note_and_enter_is_a_new_line(qtbot) -> None:
    dialog = ReviewDialog("pipe.jpg", "Ann Inspector")
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    assert dialog.focusWidget() is dialog.note_edit, "the name is known: the note takes the keys"
    qtbot.keyClicks(dialog.note_edit, "weld seam repainted")
    qtbot.keyClick(dialog.note_edit, Qt.Key.Key_Return)
    assert dialog.isVisible() and dialog.note_edit.toPlainText() == "weld seam repainted\n"
    qtbot.keyClick(dialog.note_edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert dialog.result() == QDialog.DialogCode.Accepted and dialog.name == "Ann Inspector"


def test_ctrl_enter_does_not_sign_without_a_name(qtbot) -> None:
    dialog = ReviewDialog("pipe.jpg", "")
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    qtbot.keyClick(dialog.note_edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert dialog.isVisible() and dialog.result() != QDialog.DialogCode.Accepted
    assert dialog.note_edit.toPlainText() == "", "nor does it add a line"


def test_a_photo_name_with_markup_is_shown_as_written(qtbot) -> None:
    name = "<i>pipe</i> & <b>7</b>.jpg"
    dialog = ReviewDialog(name, "Ann")
    qtbot.addWidget(dialog)
    label = next(w for w in dialog.findChildren(QLabel) if "will come from this mask" in w.text())
    assert "&lt;i&gt;pipe&lt;/i&gt; &amp; &lt;b&gt;7&lt;/b&gt;.jpg" in label.text()


def test_a_pasted_name_with_a_terminal_escape_cannot_sign(qtbot) -> None:
    from PySide6.QtWidgets import QDialogButtonBox

    from app.core.reviewed import ReviewState

    dialog = ReviewDialog("pipe.jpg", "")
    qtbot.addWidget(dialog)
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    dialog.name_edit.setText("Ann\x1b[31m")  # as a paste would
    assert not ok.isEnabled() and "control character (\\x1b)" in ok.toolTip()
    dialog.name_edit.setText("Ann Müller")
    assert ok.isEnabled() and ok.toolTip() == ""
    with pytest.raises(ValueError, match="control character"):
        ReviewState.reviewed_now("Ann\u202eX")


def test_the_reason_shown_under_the_note_never_covers_the_note(qtbot) -> None:
    """A 205-character name showed its red reason over the note box's lower half: the dialog kept its
    height when the wrapped reason appeared."""
    dialog = ReviewDialog("ORI_010.png")
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.name_edit.setText("Z" * 205)
    qtbot.wait(50)
    label, note = dialog.problem_label, dialog.note_edit
    assert label.isVisible() and "205 characters" in label.text()
    assert label.geometry().top() >= note.geometry().bottom(), (label.geometry(), note.geometry())
    assert label.height() >= label.heightForWidth(label.width())


def _type(qtbot, dialog, *keys: str | Qt.Key) -> None:
    """Type into whatever has the focus, as a keyboard does: text as keys, a `Qt.Key` as one press."""
    for key in keys:
        if isinstance(key, str):
            qtbot.keyClicks(dialog.focusWidget(), key)
        else:
            qtbot.keyClick(dialog.focusWidget(), key)


def test_tab_leaves_the_note_for_the_button_and_enter_there_signs(qtbot) -> None:
    """Name, Tab, note, Tab, Enter typed a tab character and then a new line into the note; only Ctrl+Enter
    signed, and the placeholder saying so went as soon as the note had text."""
    dialog = ReviewDialog("pipe.jpg", "")
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    assert dialog.focusWidget() is dialog.name_edit
    _type(qtbot, dialog, "Ann Inspector", Qt.Key.Key_Tab, "ok")
    assert dialog.focusWidget() is dialog.note_edit
    _type(qtbot, dialog, Qt.Key.Key_Tab)
    assert dialog.note_edit.toPlainText() == "ok"
    assert dialog.focusWidget() is dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    hint = dialog.findChild(QLabel, "review_hint")
    assert hint is not None and hint.isVisible() and "Ctrl+Enter" in hint.text(), "said once text is typed"
    _type(qtbot, dialog, Qt.Key.Key_Backtab)
    assert dialog.focusWidget() is dialog.note_edit, "Shift+Tab goes back into the note"
    _type(qtbot, dialog, Qt.Key.Key_Tab, Qt.Key.Key_Return)
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert (dialog.name, dialog.note) == ("Ann Inspector", "ok")


def test_a_pasted_tab_in_the_note_is_a_space(qtbot) -> None:
    """Tab can no longer type one; a pasted one (a spreadsheet's cells) signs as a space, as typed text
    would read, and line breaks stay."""
    dialog = ReviewDialog("pipe.jpg", "Ann")
    qtbot.addWidget(dialog)
    dialog.note_edit.setPlainText("pit\t3 mm\nweld\tok")
    assert dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).isEnabled()
    assert dialog.note == "pit 3 mm\nweld ok"
