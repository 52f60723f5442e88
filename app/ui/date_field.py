"""The inspection date of the project's dialogs: typed as yyyy-MM-dd or picked from a calendar, and never
changed behind the typist's back: a date Qt would refuse or fix up, or one out of range, is a `problem()`
the dialog shows under the field and keeps OK off for."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable

from PySide6.QtCore import QDate, QEvent, Qt, Signal
from PySide6.QtGui import QFocusEvent, QKeyEvent
from PySide6.QtWidgets import QDateEdit, QWidget

from app.core.dates import EARLIEST_YEAR, parse_iso_date
from app.ui.report_header_fields import WrappedLabel

EARLIEST = _dt.date(EARLIEST_YEAR, 1, 1)
_WIDTHS = (4, 2, 2)  # digits of year, month and day as shown


def _qdate(date: _dt.date) -> QDate:
    return QDate(date.year, date.month, date.day)


def _padded(parts: list[str]) -> str:
    """The parts as the date they spell, each padded to its width ("2023-0-12" was month 00)."""
    return "-".join(p.zfill(w) if p else p for p, w in zip(parts, _WIDTHS, strict=False))


class DateField(QDateEdit):
    """A date typed as yyyy-MM-dd or picked from a calendar. Tab leaves the field, as in every other
    field of a form (a plain QDateEdit steps through year, month and day with Tab, so a name typed after
    two Tabs was lost in the date); a date typed in full ("2023-05-03") is taken as typed: a "-" right
    after a part that filled itself (and so moved on) is not a second move, and never leaves the field.
    Qt's own range is kept wide so it clamps no year; [1900-01-01, `latest`] is checked here instead."""

    problem_changed = Signal(object)  # the problem's text, or None once the date is fine

    def __init__(self, date: _dt.date, latest: _dt.date) -> None:
        super().__init__(_qdate(date))
        self.latest = latest
        self._moved_on = False  # the last key filled a part and the cursor moved to the next one
        self._typing: int | None = None  # the part digits are being typed into (no reselect between them)
        self._digits = ""  # the digits typed into that part so far
        self._refused: tuple[int, str] | None = None  # (part, the date as typed) Qt refused or fixed up
        self._in_key = False
        self._shown: str | None = None
        # Qt would quietly clamp 2205 to the latest year and 1899 to its earliest: it may hold any year.
        self.setDateRange(QDate(100, 1, 1), QDate(9999, 12, 31))
        self.setCalendarPopup(True)
        self.setDisplayFormat("yyyy-MM-dd")
        self.dateChanged.connect(self._date_changed)
        self._check()

    def value(self) -> _dt.date:
        d = self.date()
        return _dt.date(d.year(), d.month(), d.day())

    def problem(self) -> str | None:
        """Why the date cannot be taken: typed as no real date (Qt refused a digit or fixed a part up), or
        before 1900, or later than `latest`. None when it can."""
        shown = self.value()
        if self._refused is not None:
            typed = self._refused[1]
            try:
                parse_iso_date(typed)
                why = f"{typed!r} was not taken"
            except ValueError as exc:
                why = str(exc)
            return f"{why}; the field shows {shown}, type the date again or pick it from the calendar"
        if shown < EARLIEST:
            return f"too early: {shown} is before {EARLIEST_YEAR} (check the year)"
        if shown > self.latest:
            return f"{shown} is in the future (the latest date taken is {self.latest})"
        return None

    def _check(self) -> None:
        problem = self.problem()
        if problem != self._shown:
            self._shown = problem
            self.problem_changed.emit(problem)

    def _date_changed(self, *_args) -> None:
        if not self._in_key:  # picked from the calendar, stepped with the wheel, set by the program
            self._refused = None
        self._check()

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
                QWidget.focusNextPrevChild(self, not back)  # its focus-out checks the date
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
            if self._typing != self.currentSectionIndex():
                self._digits = ""
            self._digits += event.text()
        before = self.currentSectionIndex()
        self._watch(lambda: super(DateField, self).keyPressEvent(event), digit)
        self._moved_on = digit and self.currentSectionIndex() != before
        self._typing = self.currentSectionIndex() if digit and not self._moved_on else None

    def focusOutEvent(self, event: QFocusEvent) -> None:
        self._watch(lambda: super(DateField, self).focusOutEvent(event))

    def _watch(self, handle: Callable[[], object], digit: bool = False) -> None:
        """Run Qt's handling of a key or focus change; a digit it refused, or a part typed half that it
        then fixed up (to the old value or another), becomes the refusal `problem()` names."""
        line = self.lineEdit()
        before, part = line.text(), self.currentSectionIndex()
        intermediate = before != self.textFromDateTime(self.dateTime())
        self._in_key = True
        try:
            handle()
        finally:
            self._in_key = False
        after = line.text()
        fixed_up = not digit and intermediate and after == self.textFromDateTime(self.dateTime())
        if digit and after == before:  # refused: "0" after "2024-02-3", "3" after "2023-1"
            parts = before.split("-")
            parts[part : part + 1] = [self._digits]
            self._refused = (part, _padded(parts))
        elif fixed_up and after != before:
            typed = _padded(before.split("-"))
            if typed != after:  # "2023-0" then "-": Qt put the old month back
                self._refused = (part, typed)
        elif after != before and self._refused is not None and self._refused[0] == part:
            self._refused = None  # the refused part typed anew
        self._check()

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


def date_problem_label(field: DateField) -> WrappedLabel:
    """A red line, for under `field`, saying what is wrong with its date (hidden while nothing is)."""
    label = WrappedLabel()
    label.setObjectName("date_problem")
    label.setStyleSheet("color: #b00020;")

    def show(problem: str | None) -> None:
        label.setText(f"Date: {problem}." if problem else "")
        label.setVisible(problem is not None)

    field.problem_changed.connect(show)
    show(field.problem())
    return label
