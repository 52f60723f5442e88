"""Mark reviewed: the inspector's name (asked once, then kept in the settings) and an optional note;
and the question before edits are discarded."""

from __future__ import annotations

import html
from collections.abc import Sequence

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from app.core.report_header import HEADER_LIMIT
from app.core.reviewed import ReviewState
from app.core.text import counted, typed_problem
from app.ui.questions import names_list
from app.ui.saved_masks import shown_signature


class ReviewDialog(QDialog):
    """Asks the reviewer's name when it is not known yet, and a note."""

    def __init__(
        self, photo_name: str, name: str = "", parent: QWidget | None = None, note: str = ""
    ) -> None:
        super().__init__(parent)
        self.setObjectName("review_dialog")
        self.setWindowTitle("Mark reviewed")
        self.name_edit = QLineEdit(name)
        self.name_edit.setPlaceholderText("Your name, as it should appear on reports")
        self.note_edit = QPlainTextEdit(note)
        self.note_edit.setPlaceholderText("Optional: what you corrected, anything the report should say")
        self.note_edit.setFixedHeight(80)
        self.note_edit.setTabChangesFocus(True)  # Tab on to the button; Enter stays a new line
        # the placeholder goes with the first key: how to sign without leaving the note stays said here
        self.hint_label = QLabel("Ctrl+Enter marks reviewed; Enter starts a new line.")
        self.hint_label.setObjectName("review_hint")
        self.hint_label.setStyleSheet("color: #606060;")
        form = QFormLayout()
        form.addRow("Inspector:", self.name_edit)
        form.addRow("Note:", self.note_edit)
        form.addRow("", self.hint_label)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText("Mark reviewed")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.name_edit.textChanged.connect(self._update_ok)
        self.note_edit.textChanged.connect(self._update_ok)
        # why the button is off, in the dialog itself: a tooltip is found only by hovering the button
        self.problem_label = QLabel()
        self.problem_label.setObjectName("review_problem")
        self.problem_label.setTextFormat(Qt.TextFormat.PlainText)  # it quotes what was typed
        self.problem_label.setWordWrap(True)
        self.problem_label.setStyleSheet("color: #b00020;")
        self.problem_label.hide()
        layout = QVBoxLayout(self)
        text = QLabel(
            f"The figures of <b>{html.escape(photo_name)}</b> will come from this mask, "
            "signed with your name and the time."
        )
        text.setWordWrap(True)
        layout.addWidget(text)
        layout.addLayout(form)
        layout.addWidget(self.problem_label)
        layout.addWidget(self.buttons)
        QWidget.setTabOrder(self.note_edit, ok)  # Tab, Enter signs where a style puts Cancel first
        self._update_ok()
        (self.note_edit if name else self.name_edit).setFocus()
        self.note_edit.installEventFilter(self)  # Enter in the note is a new line; Ctrl+Enter signs

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            watched is self.note_edit
            and isinstance(event, QKeyEvent)
            and event.type() == QEvent.Type.KeyPress
            and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
            and event.modifiers() & Qt.KeyboardModifier.ControlModifier
        ):
            if self.buttons.button(QDialogButtonBox.StandardButton.Ok).isEnabled():
                self.accept()
            return True
        return super().eventFilter(watched, event)

    def _update_ok(self) -> None:
        problem = review_problem(self.name_edit.text(), self.note_edit.toPlainText())
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setEnabled(bool(self.name_edit.text().strip()) and problem is None)
        ok.setToolTip(problem or "")
        self.problem_label.setText(problem or "")
        self.problem_label.setVisible(problem is not None)
        self._fit_height()

    def _fit_height(self) -> None:
        """Grow to what the layout needs at this width: a wrapped reason appearing under the note was
        drawn over it, the dialog keeping the height it had without one."""
        layout = self.layout()
        if layout is None or not self.isVisible():  # before it shows, Qt sizes it from its layout
            return
        layout.activate()
        width = self.width()
        need = (
            layout.totalHeightForWidth(width)
            if layout.hasHeightForWidth()
            else layout.totalSizeHint().height()
        )
        if need > self.height():
            self.resize(width, need)

    @property
    def name(self) -> str:
        return self.name_edit.text().strip()

    @property
    def note(self) -> str:
        """The note as signed: a pasted tab (Tab cannot type one) is a space, as it reads."""
        return self.note_edit.toPlainText().replace("\t", " ").strip()


def review_problem(name: str, note: str) -> str | None:
    """Why this name and note cannot sign a mask (None: they can): the checks `ReviewState` makes, so the
    dialog never accepts what signing then refuses, and a name that fits a report header (the export
    dialog refuses a longer one)."""
    where = "a report header"
    return typed_problem(name, "The name", limit=HEADER_LIMIT, where=where) or typed_problem(
        note, "The note", lines=True
    )


def review_text(review: ReviewState, unsaved: bool, edited: bool) -> tuple[str, str]:
    """(what the figures panel says about where its figures come from, a style)."""
    if review.is_reviewed and review.reviewed_by.strip():  # signed: only then a "reviewed mask"
        note = f"<br><i>{html.escape(review.note)}</i>" if review.note else ""  # typed by people: as written
        saved = " (not saved yet)" if unsaved else ""
        signed = html.escape(shown_signature(review))
        source = f"✔ Figures from a <b>reviewed mask</b>: {signed}{saved}{note}"
        return source, "color: #205080;"
    if edited or review.is_reviewed:  # an unsigned mask is an edit, whatever its file says
        return "✎ Figures from an <b>edited mask</b>: edited, not reviewed", "color: #a04000;"
    return "Figures from the model's mask", "color: #606060;"


def _unsaved_edits_box(parent: QWidget | None, name: str, names: Sequence[str], question: str) -> QMessageBox:
    """The warning that these photos have unsaved edits, asking `question`; the caller adds the buttons."""
    box = QMessageBox(parent)
    box.setObjectName(name)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle("Unsaved edits")
    n, verb = len(names), "has" if len(names) == 1 else "have"
    box.setText(f"{counted(n, 'photo')} {verb} edits or reviews that are not saved:\n{names_list(names)}")
    box.setInformativeText(question)
    return box


def ask_discard_edits(parent: QWidget | None, names: Sequence[str], action: str) -> bool:
    """True when the user agrees to lose the unsaved edits of these photos (`action`: "Quit")."""
    box = _unsaved_edits_box(
        parent,
        "discard_edits_question",
        names,
        f"{action} and discard them? (File ▸ Save corrected mask keeps the edits of the photo on screen.)",
    )
    discard = box.addButton("Discard edits", QMessageBox.ButtonRole.DestructiveRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    box.exec()
    return box.clickedButton() is discard


SAVE_ALL, DISCARD, CANCEL = "save", "discard", "cancel"


def ask_unsaved_on_quit(parent: QWidget | None, names: Sequence[str]) -> str:
    """Quitting with unsaved edits: `SAVE_ALL` (each photo's corrected mask into its results folder),
    `DISCARD` or `CANCEL` (the default)."""
    box = _unsaved_edits_box(
        parent,
        "unsaved_edits_question",
        names,
        "Save all saves each one's corrected mask in its photo folder's results folder "
        "(.reviewed.png when signed, .edited.png otherwise).",
    )
    save = box.addButton("Save all", QMessageBox.ButtonRole.AcceptRole)
    discard = box.addButton("Discard edits", QMessageBox.ButtonRole.DestructiveRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(save)
    box.exec()
    clicked = box.clickedButton()
    return SAVE_ALL if clicked is save else DISCARD if clicked is discard else CANCEL
