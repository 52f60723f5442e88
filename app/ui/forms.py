"""Small helpers for form panels and labels."""

from __future__ import annotations

import datetime as _dt

from PySide6.QtCore import QDate, QEvent, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QDateEdit, QFormLayout, QLabel, QWidget

# A wrapping field is kept at least this wide beside its label; where label and field do not both fit,
# the form (`WrapLongRows`) puts the field under its label, so a narrow panel still reads a sentence per
# line rather than three words per line.
FIELD_MIN_WIDTH = 170


def form_values(form: QFormLayout) -> dict[str, str]:
    """What a form shows, label -> text (for tests and copy)."""
    out = {}
    for row in range(form.rowCount()):
        label = form.itemAt(row, QFormLayout.ItemRole.LabelRole)
        field = form.itemAt(row, QFormLayout.ItemRole.FieldRole)
        if label and field:
            out[label.widget().text().rstrip(":")] = field.widget().text()
    return out


def plain_label(text: str = "") -> QLabel:
    """A label that shows its text as written: names and notes typed by people (an asset tag, a file
    name, a reviewer's note) are never read as rich text, which would hide "<weld>" or draw "<b>"."""
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    return label


class DateField(QDateEdit):
    """A date typed as yyyy-MM-dd or picked from a calendar. Tab leaves the field, as in every other
    field of a form (a plain QDateEdit steps through year, month and day with Tab, so a name typed after
    two Tabs was lost in the date); a date typed in full ("2023-05-03") is taken as typed: a "-" right
    after a part that filled itself (and so moved on) is not a second move, and never leaves the field."""

    def __init__(self, date: _dt.date, latest: _dt.date) -> None:
        super().__init__(QDate(date.year, date.month, date.day))
        self._moved_on = False  # the last key filled a part and the cursor moved to the next one
        self._typing: int | None = None  # the part digits are being typed into (no reselect between them)
        self.setMaximumDate(QDate(latest.year, latest.month, latest.day))
        self.setCalendarPopup(True)
        self.setDisplayFormat("yyyy-MM-dd")

    def event(self, event: QEvent) -> bool:
        # Only the Tab key itself: the date's own separator moves between its parts through the same
        # focusNextPrevChild, which must stay as it is.
        if event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            plain = not event.modifiers() & (
                Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier
            )
            if plain and event.key() in (Qt.Key.Key_Tab, Qt.Key.Key_Backtab):
                back = event.key() == Qt.Key.Key_Backtab or bool(
                    event.modifiers() & Qt.KeyboardModifier.ShiftModifier
                )
                QWidget.focusNextPrevChild(self, not back)
                return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.text() == "-" and (self._moved_on or self.currentSectionIndex() == self.sectionCount() - 1):
            self._moved_on = False
            event.accept()
            return
        digit = event.text().isdigit()
        if digit:
            self._select_part_to_type()
        before = self.currentSectionIndex()
        super().keyPressEvent(event)
        self._moved_on = digit and self.currentSectionIndex() != before
        self._typing = self.currentSectionIndex() if digit and not self._moved_on else None

    def _select_part_to_type(self) -> None:
        """A digit replaces the part it is typed into: Qt drops digits typed over the whole text (Ctrl+A)
        or at a cursor inside a full part (after a click), which kept the old year without a word."""
        line = self.lineEdit()
        if line.hasSelectedText() and line.selectedText() == line.text():
            self.setSelectedSection(self.sectionAt(0))  # the whole date typed anew: from its year
        elif not line.hasSelectedText() and self._typing != self.currentSectionIndex():
            self.setSelectedSection(self.currentSection())

    def focusInEvent(self, event) -> None:
        self._typing = None
        super().focusInEvent(event)

    def mousePressEvent(self, event) -> None:
        self._typing = None  # the cursor moved: the next digit starts the part under it
        super().mousePressEvent(event)
