"""A stored photo's history: every result the project keeps of it (each model run, each signed review),
newest first, with the one the project counts marked; read on a worker, shown in its own window."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import PurePath
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core.figures import percent_text
from app.core.project import Project, StoredResult
from app.core.report_header import time_text
from app.core.text import counted, provider_name, safe_path
from app.ui.forms import plain_label
from app.ui.screen_fit import resize_on_screen
from app.ui.workers import Worker

if TYPE_CHECKING:
    from app.ui.host import ProjectsHost

HISTORY_HEADER = ("Stored", "Figures from", "Share %", "ASTM D610", "ISO 4628-3", "Review", "Model")
COUNTED = "counted"  # the first cell's mark on the result the project counts (its newest)


def history_rows(results: Sequence[StoredResult]) -> list[list[str]]:
    """One row per result, newest first (the project counts the newest in its tree, trend and export)."""
    newest = max(results, key=lambda r: r.id, default=None)
    rows = []
    for r in sorted(results, key=lambda r: r.id, reverse=True):
        stored = time_text(r.created_at) if r.created_at else "–"
        d610 = r.record.get("astm_d610_with_distribution") or r.astm_d610
        if r.is_reviewed:
            source = f"reviewed mask, {r.reviewed_by or 'reviewer not named'}"
            review = f"signed {time_text(r.reviewed_at)}" if r.reviewed_at else "signed"
        else:
            source = "model"
            review = "needs review" if r.needs_review else "no review needed"
        rows.append(
            [
                stored + (f" ({COUNTED})" if r is newest else ""),
                source,
                percent_text(r.corroded_share),
                "–" if d610 is None else str(d610),
                "–" if r.iso_4628_3 is None else f"Ri {r.iso_4628_3}",
                review,
                f"{r.model_name} ({r.model_sha256[:12]}), {provider_name(r.provider)}, {r.mode}",
            ]
        )
    return rows


class PhotoHistoryDialog(QDialog):
    """The results of one stored photo in a table (read-only, selectable to copy)."""

    def __init__(self, name: str, results: Sequence[StoredResult], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"History of {name}")
        others = "; the others stay as a record" if len(results) > 1 else ""
        self.summary = plain_label(
            f"{name}: {counted(len(results), 'result')} stored, newest first. The project counts the "
            f"newest ({COUNTED}) in the tree, the trend, Compare and the export{others}."
        )
        self.summary.setWordWrap(True)
        self.table = QTableWidget(0, len(HISTORY_HEADER))
        self.table.setObjectName("history_table")
        self.table.setHorizontalHeaderLabels(list(HISTORY_HEADER))
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        numbers = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        rows = history_rows(results)
        self.table.setRowCount(len(rows))
        for n, row in enumerate(rows):
            for c, text in enumerate(row):
                item = QTableWidgetItem(text)
                if 2 <= c <= 4:
                    item.setTextAlignment(numbers)
                self.table.setItem(n, c, item)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        resize_on_screen(self, 980, 320)

    def cells(self) -> list[list[str]]:
        """What the table shows, row by row."""
        t = self.table
        return [[t.item(r, c).text() for c in range(t.columnCount())] for r in range(t.rowCount())]


def _results_job(target: str, photo_id: int) -> list[StoredResult]:
    with Project.open(target) as project:  # its own connection: this runs on a worker thread
        return project.results(photo_id)


def show_photo_history(projects: ProjectsHost, photo_id: int) -> Worker | None:
    """Read the photo's results on a worker, then show them (`dialog_opened`)."""
    view = projects.view
    photo = None if view is None else view.photo(photo_id)
    if projects.project is None or photo is None:
        return None
    name = safe_path(PurePath(photo.path).name)
    return projects.panel.reads.run(
        "history",
        _results_job,
        projects.target,
        photo_id,
        done=lambda results: projects.dialog_opened.emit(
            projects.keep(PhotoHistoryDialog(name, results, projects.window))
        ),
        failed=lambda msg: projects.window.show_message(f"The photo's history was not read: {msg}", "error"),
    )
