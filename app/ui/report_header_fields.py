"""The report header's fields (asset ID, location, client, inspector, inspection date) as a form, in the
export dialog and in the small dialog the batch PDF asks first."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLineEdit, QVBoxLayout, QWidget

from app.core.report_header import ReportHeader


class ReportHeaderFields(QWidget):
    """One line edit per header field; `header()` reads them back."""

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
        self.edits["inspection_date"].setPlaceholderText("e.g. 2026-12-06")
        self.set_header(header or ReportHeader())

    def set_header(self, header: ReportHeader) -> None:
        for name, value in header.to_dict().items():
            self.edits[name].setText(value)

    def header(self) -> ReportHeader:
        return ReportHeader(**{name: edit.text() for name, edit in self.edits.items()})


class ReportHeaderDialog(QDialog):
    """What the batch report prints atop every page; OK goes on to choose where to save it."""

    def __init__(self, header: ReportHeader, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("report_header_dialog")
        self.setWindowTitle("Report header")
        self.setMinimumWidth(440)  # an asset ID or a client's name fits without scrolling the field
        self.fields = ReportHeaderFields(header)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.fields)
        layout.addWidget(buttons)
