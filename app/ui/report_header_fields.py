"""The report header's fields (asset ID, location, client, inspector, inspection date) as a form, in the
export dialog and in the small dialog the batch PDF asks first."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from app.core.report_header import ReportHeader, field_problem


class WrappedLabel(QLabel):
    """A word-wrapped label whose every line shows: a window does not grow for a label's height at its
    width (Qt sizes windows without height-for-width), so the label asks for that height as its minimum."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)

    def setText(self, text: str) -> None:
        super().setText(text)
        self._fit()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        height = self.heightForWidth(self.width()) if self.text() else 0
        if height != self.minimumHeight():
            self.setMinimumHeight(height)


class ReportHeaderFields(QWidget):
    """One line edit per header field; `header()` reads them back, `problem()` says why they cannot be
    printed, naming the field (a control or bidi character, more than `HEADER_LIMIT` characters, a date
    that is no real YYYY-MM-DD date, before 1900 or later than tomorrow), shown under the form while it
    is enabled."""

    problem_changed = Signal(object)  # the problem's text, or None once the fields are fine

    def __init__(self, header: ReportHeader | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        self.edits: dict[str, QLineEdit] = {}
        for name, label in ReportHeader.LABELS:
            edit = QLineEdit()
            edit.setObjectName(f"report_{name}")
            edit.setPlaceholderText("not given")
            self.edits[name] = edit
            form.addRow(label, edit)
        self.edits["inspection_date"].setPlaceholderText("YYYY-MM-DD, e.g. 2026-12-06")
        self.problem_label = WrappedLabel()
        self.problem_label.setObjectName("report_header_problem")
        self.problem_label.setStyleSheet("color: #b00020;")
        form.addRow(self.problem_label)
        self._shown: str | None = None
        for edit in self.edits.values():
            edit.textChanged.connect(self._check)
        self.set_header(header or ReportHeader())
        self._check()

    def set_header(self, header: ReportHeader) -> None:
        for name, value in header.to_dict().items():
            self.edits[name].setText(value)

    def header(self) -> ReportHeader:
        return ReportHeader(**{name: edit.text() for name, edit in self.edits.items()})

    def problem(self) -> str | None:
        found = self.field_problem()
        return None if found is None else found[1]

    def field_problem(self) -> tuple[str, str] | None:
        """(field name, why) of the first field that cannot be printed, as typed (before `ReportHeader`
        turns a tab or line break into a space)."""
        for name, edit in self.edits.items():
            if (problem := field_problem(name, edit.text())) is not None:
                return name, problem
        return None

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.EnabledChange:  # e.g. no PDF ticked: no header printed, no problem
            self._check()

    def _check(self, *_args) -> None:
        problem = self.problem()
        self.problem_label.setText(f"{problem}." if problem else "")
        self.problem_label.setVisible(problem is not None and self.isEnabled())
        if problem != self._shown:
            self._shown = problem
            self.problem_changed.emit(problem)


class ReportHeaderDialog(QDialog):
    """What the batch report prints atop every page; OK goes on to choose where to save it (not while
    a field is refused: the report would print it on every page)."""

    def __init__(self, header: ReportHeader, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("report_header_dialog")
        self.setWindowTitle("Report header")
        self.setMinimumWidth(440)  # an asset ID or a client's name fits without scrolling the field
        self.fields = ReportHeaderFields(header)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.fields.problem_changed.connect(self._update_ok)
        self._update_ok(self.fields.problem())
        layout = QVBoxLayout(self)
        layout.addWidget(self.fields)
        layout.addWidget(self.buttons)

    def _update_ok(self, problem: str | None) -> None:
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(problem is None)

    def accept(self) -> None:
        found = self.fields.field_problem()
        if found is not None:  # OK is disabled then; this holds for any other way in
            self.fields.edits[found[0]].setFocus()
            return
        super().accept()
