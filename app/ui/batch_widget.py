"""The batch panel: progress, cancel and continue, CSV export, a "needs review only" filter, and a
QTableView over the batch table (`app.ui.batch_table`)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QFocusEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.ui.batch_table import COLUMNS, BatchFilter, BatchRow, BatchTableModel

# the widest text a column may hold while rows arrive (so "needs review" is never cut to "needs ...")
# Each column at least as wide as its longest usual text: the columns are fitted to the first photo done,
# and a camera's file name must not be cut to "IMG_2024…" on every later row.
QWIDGETSIZE_MAX = 16777215  # Qt's "no maximum"
PHOTO_COLUMN_CHARS = 40  # the Photo column's widest fit: a camera's names whole, a 200-character one cut
WIDEST = {
    "Photo": "IMG_20240501_123456.jpg",
    "Status": "failed",
    "Review": "needs review",
    "Time (s)": "000.00",
    "Grade": "10-G",
}


class BatchTableView(QTableView):
    """The batch's table. Tabbing into it with no row picked made the first row current, which showed
    that photo in place of the one being inspected: focus alone now picks nothing (Down then shows the
    first row)."""

    def focusInEvent(self, event: QFocusEvent) -> None:
        model = self.selectionModel()
        if model is None or self.currentIndex().isValid():
            super().focusInEvent(event)
            return
        model.blockSignals(True)  # the row Qt makes current on focus is not a row the user picked
        try:
            super().focusInEvent(event)
            model.setCurrentIndex(QModelIndex(), QItemSelectionModel.SelectionFlag.Clear)
        finally:
            model.blockSignals(False)
        self.viewport().update()


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
        self.status_label.setWordWrap(True)  # a long line wraps; unwrapped, it widened the window
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
        self.table = BatchTableView()
        self.table.setAccessibleName("Batch photos")  # it had none
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)  # a cut name keeps its number and type
        self.table.setTabKeyNavigation(False)  # Tab leaves the table (arrows, PgUp/PgDn move in it)
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
        self._scroll_timer.timeout.connect(self._scroll_to_newest)
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
        self._set_idle(True)

    def _set_idle(self, idle: bool) -> None:
        """Before the first batch only the line saying how to start one: an empty table, a progress bar and
        greyed buttons took about 180 of a 600 px screen (and the empty table was a Tab stop)."""
        for widget in (self.progress, self.review_only, self.cancel_button, self.export_button, self.table):
            widget.setVisible(not idle)
        self.setMaximumHeight(self.sizeHint().height() if idle else QWIDGETSIZE_MAX)
        vertical = QSizePolicy.Policy.Fixed if idle else QSizePolicy.Policy.Preferred
        self.setSizePolicy(QSizePolicy.Policy.Preferred, vertical)

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
            self._disable(self.continue_button)
            self.continue_requested.emit(paths)

    def _disable(self, button: QPushButton) -> None:
        """Disable a button; one that has the focus (clicked) hands it to the filter box first: Qt would
        pass it on to the table, whose first row would become current and its photo open unasked."""
        if button.hasFocus():
            self.review_only.setFocus(Qt.FocusReason.OtherFocusReason)
        button.setEnabled(False)

    def start(self, total: int) -> None:
        self._set_idle(False)
        keep, self._keep_rows = self._keep_rows, False
        self._disable(self.continue_button)
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
        """The batch ended (`message`: how, then the run's counts); the counts said are the table's, as the
        progress bar shows them: a continued batch whole, not only the part Continue ran."""
        self._status_timer.stop()
        self._update_status()
        self._fit_columns()
        self._disable(self.cancel_button)
        self.export_button.setEnabled(bool(self._model.rowCount()))
        if message.startswith("Batch "):  # "<how>: n of total photos, k failed"; a reason may hold ": "
            state, failed = message.rsplit(": ", 1)[0], self._model.failed_count
            message = f"{state}: {self._model.done_count} of {self._total} photos, {failed} failed"
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

    def _scroll_to_newest(self) -> None:
        # a scroll queued before the user picked a row must not take that row out of view
        if self._follow_new_rows:
            self.table.scrollToBottom()

    def _on_scrolled(self, value: int) -> None:
        """Follow the newest row unless the user scrolled up to read earlier ones."""
        bar = self.table.verticalScrollBar()
        self._follow_new_rows = value >= bar.maximum() - 2 * self.table.verticalHeader().defaultSectionSize()

    def _fit_columns(self) -> None:
        header = self.table.horizontalHeader()
        header.setStretchLastSection(False)
        self.table.resizeColumnsToContents()
        self.fit_header_texts()
        photo = COLUMNS.index("Photo")  # one long name must not push the figures out of view
        cap = header.fontMetrics().averageCharWidth() * PHOTO_COLUMN_CHARS
        if header.sectionSize(photo) > cap:
            header.resizeSection(photo, cap)  # the name is cut in the middle; its tooltip has it whole
        header.setStretchLastSection(True)  # re-applied after the explicit sizes

    def _row_at(self, view_row: int) -> BatchRow:
        return self._model.row(self.proxy.mapToSource(self.proxy.index(view_row, 0)).row())

    def _on_current_row(self, index: QModelIndex, _previous: QModelIndex) -> None:
        if index.isValid() and not self._syncing:
            # a row the user picked stays in view: new rows are no longer followed (until scrolled to
            # the bottom again)
            self._follow_new_rows = False
            self._scroll_timer.stop()
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

    def select_row(self, view_row: int) -> None:
        """Select the row shown at `view_row` (the photo follows)."""
        self.table.selectRow(view_row)
        self.table.scrollTo(self.proxy.index(view_row, 0))

    def has_focus(self) -> bool:
        return self.table.hasFocus()

    def fit_header_texts(self) -> None:
        """Every column at least as wide as its title ("Corroded share %" is never cut off)."""
        header = self.table.horizontalHeader()
        for col in range(self._model.columnCount()):
            title = str(self._model.headerData(col, Qt.Orientation.Horizontal))
            widest = max(title, WIDEST.get(COLUMNS[col], ""), key=header.fontMetrics().horizontalAdvance)
            width = header.fontMetrics().horizontalAdvance(widest) + 24  # margins and the sort indicator
            if header.sectionSize(col) < width:
                header.resizeSection(col, width)
