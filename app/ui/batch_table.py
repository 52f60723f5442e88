"""The batch table's rows and models: one `BatchRow` per photo, the table model that fills row by row as
photos finish, and the filter that sorts it and shows only the rows needing review."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QBrush, QColor

from app.core import figures
from app.core.analysis import REVIEWED_LABELS, PhotoFigures
from app.core.batch_inputs import common_folder, photo_name
from app.core.grading import GradeScale
from app.core.measure_text import with_scale
from app.core.reviewed import ReviewState
from app.core.text import safe_path
from app.report.thumbnails import Thumbnail, relabelled
from app.ui.long_words import plain_tooltip
from app.ui.saved_masks import review_line

_Index = QModelIndex | QPersistentModelIndex
SORT_ROLE = Qt.ItemDataRole.UserRole + 1  # numbers sort as numbers, not as text


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
        # The folder holding every row's photo (what the CSV's `file` and the report are relative to), and
        # each row's name in it: `sub2/ORI_000.png` beside `ORI_000.png`, never two rows of one name.
        self._folder: Path | None = None
        self._names: dict[Path, str] = {}

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
        self._folder, self._names = None, {}
        self.endResetModel()

    @property
    def folder(self) -> Path | None:
        """The folder holding every photo of the table (None: no rows)."""
        return self._folder

    def photo_name(self, row: BatchRow) -> str:
        """The row's photo as the table, the report and the CSV name it: its path inside `folder`."""
        name = self._names.get(row.path)
        if name is None:
            name = self._names[row.path] = photo_name(row.path, self._folder)
        return name

    def start_in(self, folders: list[Path]) -> None:
        """The folders a batch was asked to analyse: its photos are named inside them, as the CSV of
        `corroscope analyze FOLDER --recursive` names them (`sub2/ORI_000.png`, not `ORI_000.png`, for a
        folder whose photos all lie in `sub2`)."""
        self._take_folder(folders)

    def _take_folder(self, folders: list[Path]) -> None:
        """Grow `folder` to hold `folders`; when it grows, every name already shown changes with it."""
        folder = self._folder
        for other in folders:
            folder = common_folder(folder, other)
        if folder != self._folder:
            self._folder, self._names = folder, {}
            if self._rows:
                self.dataChanged.emit(self.index(0, 0), self.index(len(self._rows) - 1, 0))

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
            self._take_folder([p.parent for p in paths])
            n = len(self._rows)
            self.beginInsertRows(QModelIndex(), n, n + len(paths) - 1)
            self._rows += [BatchRow(p, pending=True) for p in paths]
            self.endInsertRows()

    def append(self, row: BatchRow) -> None:
        """A photo's row; it takes the place of its pending row when a batch is continued."""
        pending = next((i for i, r in enumerate(self._rows) if r.pending and r.path == row.path), None)
        self._take_folder([row.path.parent])
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

    def update_figures(
        self,
        path: Path,
        figures: PhotoFigures,
        review: ReviewState | None = None,
        labels: np.ndarray | None = None,
    ) -> bool:
        """The row of `path` shows these figures (an inspector's edit of its mask, signed or not, as
        `review` says) and its thumbnail `labels`, the map they count; False: no such row."""
        for i, row in enumerate(self._rows):
            if row.path == path and row.result is not None:
                thumbnail = row.thumbnail
                if thumbnail is not None and labels is not None:
                    thumbnail = relabelled(thumbnail, labels)  # the report's card shows what it counts
                # the analysis time stays the batch's: the window's own run of the photo is not the row's
                figures = replace(figures, seconds=row.result.seconds)
                self._rows[i] = replace(row, result=figures, review=review, thumbnail=thumbnail)
                self.dataChanged.emit(self.index(i, 0), self.index(i, len(COLUMNS) - 1))
                return True
        return False

    def set_scale(self, path: Path, mm_per_px: float | None) -> bool:
        """The row of `path` gives areas at this scale (None: none), as the panel and the photo's export
        do once a scale line is drawn on it; False: no analysed row of it."""
        for i, row in enumerate(self._rows):
            if row.path == path and row.result is not None:
                if row.result.measures.mm_per_px != mm_per_px:
                    measures = with_scale(row.result.measures, row.result, mm_per_px)
                    self._rows[i] = replace(row, result=replace(row.result, measures=measures))
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
            return plain_tooltip(safe_path(row.path) if name == "Photo" else self._text(row, name))
        if role == Qt.ItemDataRole.ForegroundRole and row.failed:
            return QBrush(QColor(170, 20, 20))
        if role == Qt.ItemDataRole.TextAlignmentRole and name not in ("Photo", "Status", "Reason", "Grade"):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def _sort_key(self, row: BatchRow, name: str) -> object:
        r = row.result
        if name == "Photo":
            return self.photo_name(row).lower()
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
            return safe_path(self.photo_name(row))  # odd bytes and control characters as \xNN, as in the CSV
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
            return figures.grade_value_text(r.assessment, self._scale, r.measures.distribution, False)
        if name == "Review":
            return figures.review_word(r, [self._scale])
        if name == "Confidence":
            return figures.confidence_text(r.mean_confidence)
        if name == "Time (s)":
            return f"{r.seconds:.2f}"
        if name == "Reason":
            if r.labels_source == REVIEWED_LABELS and row.review is not None:
                return review_line(row.review)
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
