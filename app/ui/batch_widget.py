"""The batch table: a QTableView over a QAbstractTableModel that fills row by row as photos finish."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.core import figures
from app.core.analysis import REVIEWED_LABELS, PhotoFigures
from app.core.grading import GradeScale
from app.core.reviewed import ReviewState
from app.core.text import safe_path
from app.report.thumbnails import Thumbnail
from app.ui.saved_masks import signature_text

_Index = QModelIndex | QPersistentModelIndex
SORT_ROLE = Qt.ItemDataRole.UserRole + 1  # numbers sort as numbers, not as text
# the widest text a column may hold while rows arrive (so "needs review" is never cut to "needs ...")
WIDEST = {"Status": "failed", "Review": "needs review", "Time (s)": "000.00", "Grade": "10-G"}


@dataclass(frozen=True)
class BatchRow:
    """One photo of a batch: its figures and JSON record, or the reason it failed; a thumbnail with its
    label map for the batch report."""

    path: Path
    result: PhotoFigures | None = None
    reason: str = ""
    record: Mapping[str, Any] | None = None
    thumbnail: Thumbnail | None = None
    pending: bool = False  # not analysed yet: the batch was cancelled before it (Continue runs it)
    review: ReviewState | None = None  # an inspector's edit or signature of this photo's mask in the window

    @property
    def failed(self) -> bool:
        return self.result is None and not self.pending


COLUMNS = (
    "Photo",
    "Status",
    "Corrosion %",
    "Corroded share %",
    "Grade",
    "Review",
    "Confidence",
    "Time (s)",
    "Reason",
)


class BatchTableModel(QAbstractTableModel):
    """Rows are appended as results arrive; no widget per row."""

    def __init__(self, grade_scale: GradeScale | str = GradeScale.ASTM_D610, parent=None) -> None:
        super().__init__(parent)
        self._rows: list[BatchRow] = []
        self._failed = 0
        self._scale = grade_scale

    @property
    def rows(self) -> tuple[BatchRow, ...]:
        return tuple(self._rows)

    @property
    def failed_count(self) -> int:
        return self._failed

    def row(self, index: int) -> BatchRow:
        return self._rows[index]

    def clear(self) -> None:
        self.beginResetModel()
        self._rows.clear()
        self._failed = 0
        self.endResetModel()

    @property
    def done_count(self) -> int:
        """Rows analysed (or failed): all but those still pending."""
        return sum(not r.pending for r in self._rows)

    def pending_paths(self) -> list[Path]:
        return [r.path for r in self._rows if r.pending]

    def add_pending(self, paths: list[Path]) -> None:
        """The photos a cancelled batch did not reach: kept in the table as "not analysed"."""
        known = {r.path for r in self._rows}
        paths = [p for p in paths if p not in known]
        if paths:
            n = len(self._rows)
            self.beginInsertRows(QModelIndex(), n, n + len(paths) - 1)
            self._rows += [BatchRow(p, pending=True) for p in paths]
            self.endInsertRows()

    def append(self, row: BatchRow) -> None:
        """A photo's row; it takes the place of its pending row when a batch is continued."""
        pending = next((i for i, r in enumerate(self._rows) if r.pending and r.path == row.path), None)
        if pending is not None:
            self._rows[pending] = row
            self._failed += row.failed
            self.dataChanged.emit(self.index(pending, 0), self.index(pending, len(COLUMNS) - 1))
            return
        n = len(self._rows)
        self.beginInsertRows(QModelIndex(), n, n)
        self._rows.append(row)
        self._failed += row.failed
        self.endInsertRows()

    def needs_review(self, index: int) -> bool:
        """The row's photo was analysed and its figures are flagged for review (the Review column)."""
        r = self._rows[index].result
        return r is not None and figures.needs_review(r.assessment, self._scale)

    def update_figures(self, path: Path, figures: PhotoFigures, review: ReviewState | None = None) -> bool:
        """The row of `path` shows these figures (an inspector's edit of its mask, signed or not, as
        `review` says); False: no such row."""
        for i, row in enumerate(self._rows):
            if row.path == path and row.result is not None:
                self._rows[i] = replace(row, result=figures, review=review)
                self.dataChanged.emit(self.index(i, 0), self.index(i, len(COLUMNS) - 1))
                return True
        return False

    def reviewed_in_window(self, path: Path) -> bool:
        """The row of `path` shows an inspector's edit or signature (a revert must bring the model's back)."""
        return any(row.path == path and row.review is not None for row in self._rows)

    def set_grade_scale(self, scale: str) -> None:
        self._scale = scale
        col = COLUMNS.index("Grade")
        self.headerDataChanged.emit(Qt.Orientation.Horizontal, col, col)
        if self._rows:
            self.dataChanged.emit(self.index(0, col), self.index(len(self._rows) - 1, col))

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 (Qt signature)
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 (Qt signature)
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal:
            name = COLUMNS[section]
            return figures.scale_title(self._scale) if name == "Grade" else name
        return str(section + 1)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        row = self._rows[index.row()]
        name = COLUMNS[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(row, name)
        if role == SORT_ROLE:
            return self._sort_key(row, name)
        if role == Qt.ItemDataRole.ToolTipRole:
            return str(row.path) if name == "Photo" else self._text(row, name)
        if role == Qt.ItemDataRole.ForegroundRole and row.failed:
            return QBrush(QColor(170, 20, 20))
        if role == Qt.ItemDataRole.TextAlignmentRole and name not in ("Photo", "Status", "Reason", "Grade"):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def _sort_key(self, row: BatchRow, name: str) -> object:
        r = row.result
        if name == "Photo":
            return row.path.name.lower()
        if name in ("Status", "Review", "Reason", "Grade") or r is None:
            text = self._text(row, name)
            return text if name in ("Status", "Review", "Reason", "Grade") else -1.0
        values = {
            "Corrosion %": figures.class_percent(r, "corrosion"),
            "Corroded share %": r.stats.corroded_share,
            "Confidence": r.mean_confidence,
            "Time (s)": r.seconds,
        }
        value = values.get(name)
        return -1.0 if value is None else float(value)

    def _text(self, row: BatchRow, name: str) -> str:
        if name == "Photo":
            return safe_path(row.path.name)  # odd bytes and control characters as \xNN, as in the CSV
        if name == "Status":
            return "not analysed" if row.pending else "failed" if row.failed else "done"
        if row.pending:
            return "cancelled: Continue analyses it" if name == "Reason" else ""
        if row.failed:
            return row.reason if name == "Reason" else ""
        r = row.result
        assert r is not None
        if name == "Corrosion %":
            return figures.percent_text(figures.class_percent(r, "corrosion"))
        if name == "Corroded share %":
            return figures.percent_text(r.stats.corroded_share)
        if name == "Grade":
            return figures.grade_value_text(r.assessment, self._scale, r.measures.distribution)
        if name == "Review":
            return figures.review_word(r, [self._scale])
        if name == "Confidence":
            return figures.confidence_text(r.mean_confidence)
        if name == "Time (s)":
            return f"{r.seconds:.2f}"
        if name == "Reason":
            if r.labels_source == REVIEWED_LABELS and row.review is not None:
                return f"reviewed by {signature_text(row.review)}"
            return "; ".join(figures.review_reasons(r.assessment, self._scale))
        return ""


class BatchFilter(QSortFilterProxyModel):
    """The table as shown: sorted by a column's value, and only the rows needing review when asked."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._review_only = False
        self.setSortRole(SORT_ROLE)

    @property
    def review_only(self) -> bool:
        return self._review_only

    def set_review_only(self, on: bool) -> None:
        if not hasattr(self, "beginFilterChange"):  # Qt < 6.10
            self._review_only = bool(on)
            self.invalidateRowsFilter()
            return
        self.beginFilterChange()  # Qt 6.10 deprecates invalidateFilter for this pair
        self._review_only = bool(on)
        self.endFilterChange()

    def filterAcceptsRow(self, source_row: int, source_parent: _Index) -> bool:
        model = self.sourceModel()
        return not self._review_only or (
            isinstance(model, BatchTableModel) and model.needs_review(source_row)
        )


class BatchWidget(QWidget):
    """Progress, cancel, CSV export, a "needs review only" filter and the sortable table; a click on a
    row asks to show that photo (a failed row: its reason)."""

    photo_activated = Signal(Path)
    failed_activated = Signal(Path, str)  # a failed row became current: its path and reason
    continue_requested = Signal(list)  # the paths a cancelled batch did not reach
    cancel_requested = Signal()
    export_csv_requested = Signal()

    def __init__(self, model: BatchTableModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._model = model
        self._total = 0
        self.progress = QProgressBar()
        self.progress.setFormat("%v / %m photos")
        self.status_label = QLabel("No batch yet: File ▸ Open folder…")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel_requested)
        self.continue_button = QPushButton("Continue")
        self.continue_button.setToolTip("Analyse the photos the cancelled batch did not reach")
        self.continue_button.setVisible(False)
        self.continue_button.clicked.connect(self._continue)
        self._keep_rows = False
        self.export_button = QPushButton("Export CSV…")
        self.export_button.setEnabled(False)
        self.export_button.clicked.connect(self.export_csv_requested)
        self.review_only = QCheckBox("Needs review only")
        self.review_only.setToolTip("Show only the photos whose figures are flagged for review")
        self.proxy = BatchFilter(self)
        self.proxy.setSourceModel(model)
        self.review_only.toggled.connect(self.proxy.set_review_only)
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)  # batch order
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        # No row-number header: sizing it asks headerData for every row on each insert.
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        self.table.verticalHeader().hide()
        self._scroll_timer = QTimer(self)
        self._scroll_timer.setSingleShot(True)
        self._scroll_timer.setInterval(0)
        self._scroll_timer.timeout.connect(self.table.scrollToBottom)
        self._follow_new_rows = True
        self._columns_fitted = False
        self.table.verticalScrollBar().valueChanged.connect(self._on_scrolled)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        # Fitting columns reads every cell of the rows it considers (the default is 1,000 rows, 1.4 s for a
        # 1,000-photo batch on the UI thread); the visible rows plus 50 give the widths just as well.
        header.setResizeContentsPrecision(50)
        header.setStretchLastSection(True)
        self.fit_header_texts()
        # The shown photo follows the current row however it moves (click, arrow keys, Page keys).
        self._syncing = False
        self.table.selectionModel().currentRowChanged.connect(self._on_current_row)
        top = QHBoxLayout()
        top.addWidget(self.status_label, 1)
        top.addWidget(self.progress, 1)
        top.addWidget(self.review_only)
        top.addWidget(self.cancel_button)
        top.addWidget(self.continue_button)
        top.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.table)
        # Rows can arrive faster than the screen refreshes: refresh the status at most every 50 ms.
        self._status_timer = QTimer(self)
        self._status_timer.setSingleShot(True)
        self._status_timer.setInterval(50)
        self._status_timer.timeout.connect(self._update_status)
        model.rowsInserted.connect(self._status_timer.start)

    @property
    def model(self) -> BatchTableModel:
        return self._model

    @property
    def total(self) -> int:
        """Photos in the batch that runs or ran last."""
        return self._total

    def keep_rest(self, paths: list[Path]) -> None:
        """A cancelled batch: the photos it did not reach stay as rows, and Continue is offered."""
        self._model.add_pending(paths)
        self.continue_button.setVisible(bool(paths))
        self.continue_button.setEnabled(bool(paths))

    def _continue(self) -> None:
        paths = self._model.pending_paths()
        if paths:
            self._keep_rows = True  # the next start adds to this table instead of clearing it
            self.continue_button.setEnabled(False)
            self.continue_requested.emit(paths)

    def start(self, total: int) -> None:
        keep, self._keep_rows = self._keep_rows, False
        self.continue_button.setVisible(False)
        if keep:
            total += self._model.done_count
        else:
            self._model.clear()
            self.table.selectionModel().clear()
        self._total = total
        self._follow_new_rows = True
        self._columns_fitted = False
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(0)
        self.progress.setFormat("%v / %m photos" if total else "no photos")
        self.cancel_button.setEnabled(True)
        self.export_button.setEnabled(False)
        self._update_status()

    def finish(self, message: str) -> None:
        self._status_timer.stop()
        self._update_status()
        self._fit_columns()
        self.cancel_button.setEnabled(False)
        self.export_button.setEnabled(bool(self._model.rowCount()))
        self.status_label.setText(message)

    def _update_status(self, *_args) -> None:
        done = self._model.done_count
        failed = self._model.failed_count
        self.progress.setValue(done)
        self.status_label.setText(
            f"{done} of {self._total} photos" + (f", {failed} failed" if failed else "")
        )
        if done and not self._columns_fitted:
            self._columns_fitted = True
            self._fit_columns()
        if done and self._follow_new_rows:
            self._scroll_timer.start()  # coalesced: one scroll per burst of rows

    def _on_scrolled(self, value: int) -> None:
        """Follow the newest row unless the user scrolled up to read earlier ones."""
        bar = self.table.verticalScrollBar()
        self._follow_new_rows = value >= bar.maximum() - 2 * self.table.verticalHeader().defaultSectionSize()

    def _fit_columns(self) -> None:
        header = self.table.horizontalHeader()
        header.setStretchLastSection(False)
        self.table.resizeColumnsToContents()
        self.fit_header_texts()
        header.setStretchLastSection(True)  # re-applied after the explicit sizes

    def _row_at(self, view_row: int) -> BatchRow:
        return self._model.row(self.proxy.mapToSource(self.proxy.index(view_row, 0)).row())

    def _on_current_row(self, index: QModelIndex, _previous: QModelIndex) -> None:
        if index.isValid() and not self._syncing:
            row = self._row_at(index.row())
            if row.failed:
                self.failed_activated.emit(row.path, row.reason)
            else:
                self.photo_activated.emit(row.path)

    def paths(self) -> list[Path]:
        """The photos of the table as shown (sorted, filtered)."""
        return [self._row_at(i).path for i in range(self.proxy.rowCount())]

    def select_path(self, path: Path | None) -> None:
        """Make the row of `path` current (none when it is not shown) without asking to show it."""
        rows = [i for i, p in enumerate(self.paths()) if p == path] if path is not None else []
        self._syncing = True
        try:
            if rows:
                self.table.selectRow(rows[0])
                self.table.scrollTo(self.proxy.index(rows[0], 0))
            else:
                self.table.selectionModel().clear()
        finally:
            self._syncing = False

    def current_path(self) -> Path | None:
        """The selected row's photo (whatever is on screen), None when no row is selected."""
        index = self.table.selectionModel().currentIndex()
        rows = self.table.selectionModel().selectedRows()
        return self._row_at(index.row()).path if index.isValid() and rows else None

    def select_step(self, path: Path, step: int) -> bool:
        """Select the row `step` rows from `path`'s in the order shown (the photo follows); False at
        either end."""
        paths = self.paths()
        if path not in paths or not 0 <= paths.index(path) + step < len(paths):
            return False
        self.table.selectRow(paths.index(path) + step)
        return True

    def fit_header_texts(self) -> None:
        """Every column at least as wide as its title ("Corroded share %" is never cut off)."""
        header = self.table.horizontalHeader()
        for col in range(self._model.columnCount()):
            title = str(self._model.headerData(col, Qt.Orientation.Horizontal))
            widest = max(title, WIDEST.get(COLUMNS[col], ""), key=header.fontMetrics().horizontalAdvance)
            width = header.fontMetrics().horizontalAdvance(widest) + 24  # margins and the sort indicator
            if header.sectionSize(col) < width:
                header.resizeSection(col, width)
