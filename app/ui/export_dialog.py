"""Choose what to export and where; ask before overwriting anything."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

import app.report
from app.core import exporters
from app.core.report_header import ReportHeader
from app.ui.questions import names_list
from app.ui.report_header_fields import ReportHeaderFields

app.report.register_exporter()  # the window writes PDF reports: it composes the report with core


def export_kinds() -> dict[str, str]:
    """Kind -> title of every registered per-photo format, in registry order."""
    return {e.kind: e.title for e in exporters.available()}


class ExportDialog(QDialog):
    """Folder + the kinds of file to write for the photo on screen + the PDF report's header."""

    def __init__(
        self, folder: str | Path, parent: QWidget | None = None, header: ReportHeader | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export results")
        folder = Path(folder).absolute()  # where the files go, whatever folder the app was started in
        self.folder_edit = QLineEdit(str(folder))
        # wide enough to read the whole folder (up to a point): where the files go must be seen
        text_width = self.folder_edit.fontMetrics().horizontalAdvance(str(folder)) + 24
        self.folder_edit.setMinimumWidth(max(320, min(text_width, 620)))
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(QLabel("Folder"))
        row.addWidget(self.folder_edit, 1)
        row.addWidget(browse)
        self.checks = {kind: QCheckBox(text) for kind, text in export_kinds().items()}
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        for check in self.checks.values():
            check.setChecked(True)
            check.toggled.connect(self._update_ok)
            layout.addWidget(check)
        box = QGroupBox("PDF report header (on every page)")
        self.header_fields = ReportHeaderFields(header)
        QVBoxLayout(box).addWidget(self.header_fields)
        layout.addWidget(box)
        if "pdf" in self.checks:
            self.checks["pdf"].toggled.connect(box.setEnabled)
            box.setEnabled(self.checks["pdf"].isChecked())
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Export")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.folder_edit.textChanged.connect(self._update_ok)
        self.header_fields.problem_changed.connect(self._update_ok)
        self._update_ok()

    @property
    def folder(self) -> Path:
        """The folder typed or picked, whole (a relative one is taken from where the app started)."""
        return Path(self.folder_edit.text().strip()).absolute()

    @property
    def header(self) -> ReportHeader:
        return self.header_fields.header()

    @property
    def kinds(self) -> set[str]:
        return {kind for kind, check in self.checks.items() if check.isChecked()}

    def _header_problem(self) -> str | None:
        """Why the PDF's header cannot be printed (a field refused); None when fine or no PDF is written."""
        return self.header_fields.problem() if "pdf" in self.kinds else None

    def _update_ok(self, *_args) -> None:
        ok = bool(self.kinds) and bool(self.folder_edit.text().strip()) and self._header_problem() is None
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(ok)

    def accept(self) -> None:
        if self._header_problem() is not None:  # OK is disabled then; this holds for any other way in
            found = self.header_fields.field_problem()
            self.header_fields.edits[found[0] if found else "inspection_date"].setFocus()
            return
        super().accept()

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export to folder", self.folder_edit.text())
        if folder:
            self.folder_edit.setText(folder)


KEEP_BOTH = "Keep both"


def replace_or_keep(parent: QWidget | None, existing: Sequence[Path], other_name: str) -> str | None:
    """Ask before replacing files, offering to write under `other_name` instead: "replace", "keep",
    or None (cancelled: nothing is written)."""
    box = _overwrite_box(parent, existing)
    keep = box.addButton(f"{KEEP_BOTH} (save as “{other_name}”)", QMessageBox.ButtonRole.AcceptRole)
    box.exec()
    if box.clickedButton() is keep:
        return "keep"
    return "replace" if box.clickedButton() is box.button(QMessageBox.StandardButton.Yes) else None


def _overwrite_box(parent: QWidget | None, existing: Sequence[Path]) -> QMessageBox:
    names = names_list([p.name for p in existing])
    box = QMessageBox(parent)
    box.setObjectName("overwrite_question")
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle("Replace files?" if len(existing) > 1 else "Replace file?")
    count = f"{len(existing)} files already exist" if len(existing) > 1 else "A file already exists"
    box.setText(f"{count} in {existing[0].parent}:\n{names}")
    box.setInformativeText("Replace them?" if len(existing) > 1 else "Replace it?")
    box.setStandardButtons(QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
    box.button(QMessageBox.StandardButton.Yes).setText("&Replace")  # Alt+R, Alt+C from the keyboard
    box.button(QMessageBox.StandardButton.No).setText("&Cancel")
    box.setDefaultButton(QMessageBox.StandardButton.No)
    return box


def confirm_overwrite(parent: QWidget | None, existing: Sequence[Path]) -> bool:
    """Ask before replacing files; True only when the user says Yes."""
    if not existing:
        return True
    return _overwrite_box(parent, existing).exec() == QMessageBox.StandardButton.Yes
