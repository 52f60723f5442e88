"""What a project keeps of the past, read on a worker and shown in a window of its own: a stored photo's
history (every result, each model run and signed review, newest first, the counted one marked) and an
asset's change log (each correction or removal after the fact: who, when, what it was before)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import PurePath
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QObject, Qt
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
from app.core.project.changes import Change
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


def unbreakable(text: str) -> list[str]:
    """The pieces a wrapped cell cannot break: Qt wraps at spaces and after a hyphen before a letter, so
    a model's file name (corrosion-deeplabv3plus-mobilenetv2.int8.onnx) wraps and fits a 1024 px screen."""
    return [piece for piece in re.split(r"\s+|(?<=-)(?=[^\d\s])", text) if piece]


class HistoryDialog(QDialog):
    """A read-only table under a line that says what it lists (cells selectable to copy)."""

    def __init__(
        self,
        title: str,
        summary: str,
        header: Sequence[str],
        rows: Sequence[Sequence[str]],
        parent: QWidget | None = None,
        numbers: Sequence[int] = (),
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.summary = plain_label(summary)
        self.summary.setWordWrap(True)
        self.table = QTableWidget(len(rows), len(header))
        self.table.setObjectName("history_table")
        self.table.setHorizontalHeaderLabels(list(header))
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        head = self.table.horizontalHeader()
        head.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        # The last column (the model: file, SHA-256, provider, mode; a change) is the widest: it takes what
        # the others leave and wraps there, rows as tall as it needs, rather than end in "…".
        head.setSectionResizeMode(len(header) - 1, QHeaderView.ResizeMode.Stretch)
        self.table.setWordWrap(True)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        words = [w for row in rows for w in unbreakable(row[-1])]
        advance = self.table.fontMetrics().horizontalAdvance  # + 12: the cell's text margins, with room
        # no narrower than its longest unbreakable piece: narrower, Qt ends the cell in "…"; a window
        # narrower still scrolls rather than cut it
        self._last_floor = max([head.sectionSizeHint(len(header) - 1), *(advance(w) + 12 for w in words)])
        self.table.viewport().installEventFilter(self)
        right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        for n, row in enumerate(rows):
            for c, text in enumerate(row):
                item = QTableWidgetItem(text)
                if c in numbers:
                    item.setTextAlignment(right)
                self.table.setItem(n, c, item)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        resize_on_screen(self, self.wanted_width(), 360)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize and watched is self.table.viewport():
            self._fit_last_column()
        return super().eventFilter(watched, event)

    def _fit_last_column(self) -> None:
        """The last column takes the room the others leave, but never less than its floor."""
        t, head = self.table, self.table.horizontalHeader()
        last = t.columnCount() - 1
        room = t.viewport().width() - sum(head.sectionSize(c) for c in range(last))
        if room >= self._last_floor:
            head.setSectionResizeMode(last, QHeaderView.ResizeMode.Stretch)
        else:
            head.setSectionResizeMode(last, QHeaderView.ResizeMode.Interactive)
            head.resizeSection(last, self._last_floor)

    def wanted_width(self) -> int:
        """The width that shows every column on one line, at least 980 px (the screen may allow less: the
        last column then wraps)."""
        t = self.table
        columns = sum(
            max(t.sizeHintForColumn(c), t.horizontalHeader().sectionSizeHint(c))
            for c in range(t.columnCount())
        )
        margins = self.layout().contentsMargins()
        chrome = (
            2 * t.frameWidth() + t.verticalScrollBar().sizeHint().width() + margins.left() + margins.right()
        )
        return max(980, columns + chrome)

    def cells(self) -> list[list[str]]:
        """What the table shows, row by row."""
        t = self.table
        return [[t.item(r, c).text() for c in range(t.columnCount())] for r in range(t.rowCount())]


class PhotoHistoryDialog(HistoryDialog):
    """The results of one stored photo."""

    def __init__(self, name: str, results: Sequence[StoredResult], parent: QWidget | None = None) -> None:
        others = "; the others stay as a record" if len(results) > 1 else ""
        summary = (
            f"{name}: {counted(len(results), 'result')} stored, newest first. The project counts the "
            f"newest ({COUNTED}) in the tree, the trend, Compare and the export{others}."
        )
        rows = history_rows(results)
        super().__init__(f"History of {name}", summary, HISTORY_HEADER, rows, parent, numbers=(2, 3, 4))


CHANGES_HEADER = ("When", "By", "Changed item", "Change (what it was before)")


def change_rows(changes: Sequence[Change]) -> list[list[str]]:
    """One row per change, newest first."""
    return [
        [time_text(c.at), c.by or "not known", c.subject, c.what]
        for c in sorted(changes, key=lambda c: c.at, reverse=True)
    ]


class ChangeLogDialog(HistoryDialog):
    """An asset's change log."""

    def __init__(self, tag: str, changes: Sequence[Change], parent: QWidget | None = None) -> None:
        summary = (
            f"Asset {tag}: {counted(len(changes), 'change')} made after the fact (inspections corrected or "
            "removed, photos removed, details edited), newest first; the trend PDF lists them too."
            if changes
            else f"Asset {tag}: nothing was corrected or removed after it was stored."
        )
        rows = change_rows(changes)
        super().__init__(f"Change log of {tag}", summary, CHANGES_HEADER, rows, parent)


def _read(target: str, read: Callable[[Project], Any]) -> Any:
    with Project.open(target) as project:  # its own connection: this runs on a worker thread
        return read(project)


def _show_when_read(
    projects: ProjectsHost,
    key: str,
    read: Callable[[Project], Any],
    make: Callable[[Any], QDialog],
    what: str,
) -> Worker:
    """`read(project)` on a worker, then `make(what it read)` shown (`dialog_opened`); else why not."""
    return projects.panel.reads.run(
        key,
        _read,
        projects.target,
        read,
        done=lambda value: projects.dialog_opened.emit(projects.keep(make(value))),
        failed=lambda msg: projects.window.show_message(f"{what} was not read: {msg}", "error"),
    )


def show_change_log(projects: ProjectsHost, tag: str) -> Worker | None:
    """The asset's change log in its own window."""
    if projects.project is None:
        return None
    return _show_when_read(
        projects,
        "changes",
        lambda project: project.changes(tag),
        lambda changes: ChangeLogDialog(tag, changes, projects.window),
        "The change log",
    )


def show_photo_history(projects: ProjectsHost, photo_id: int) -> Worker | None:
    """The stored photo's results in their own window."""
    view = projects.view
    photo = None if view is None else view.photo(photo_id)
    if projects.project is None or photo is None:
        return None
    name = safe_path(PurePath(photo.path).name)
    return _show_when_read(
        projects,
        "history",
        lambda project: project.results(photo_id),
        lambda results: PhotoHistoryDialog(name, results, projects.window),
        "The photo's history",
    )
