"""The batch table as an inspector uses it: stepping from the selected row past a failed one, the
failed row's reason where the photo would be, sorting, the "needs review only" filter, enough rows."""

from __future__ import annotations

from PySide6.QtCore import Qt

from app.ui.batch_table import COLUMNS
from tests.ui.conftest import TIMEOUT_MS, open_and_wait
from tests.ui.test_batch import make_folder, run_batch


def test_stepping_moves_from_the_selected_row_through_a_failed_one(qtbot, window, tmp_path) -> None:
    folder = make_folder(tmp_path, 3, broken=("pipe_01b.png",))  # sorts between pipe_01 and pipe_02
    run_batch(qtbot, window, folder)
    names = [p.name for p in window.batch.paths()]
    assert names == ["pipe_00.png", "pipe_01.png", "pipe_01b.png", "pipe_02.png"]
    open_and_wait(qtbot, window, folder / "pipe_01.png")
    assert window.zoom_label.text().startswith("Zoom ")
    window.actions["next_photo"].trigger()  # D: the failed row
    assert window.batch.current_path() == folder / "pipe_01b.png"
    assert window.controller.current is None and not window.viewer.has_photo()
    assert window.zoom_label.text() == "", "no photo on screen: no zoom to read"
    assert window.photo_area.currentWidget() is window.failed_label
    reason = window.batch_model.row(2).reason
    assert reason and reason in window.failed_label.text()
    assert "pipe_01b.png (failed)" in window.windowTitle()
    with qtbot.waitSignal(window.controller.photo_analyzed, timeout=TIMEOUT_MS):
        window.actions["next_photo"].trigger()  # D again: on past the failed row, not stuck on it
    assert window.controller.current.path == folder / "pipe_02.png" == window.batch.current_path()
    assert window.photo_area.currentWidget() is window.viewer
    window.actions["previous_photo"].trigger()  # A: back onto the failed row
    assert window.batch.current_path() == folder / "pipe_01b.png"
    with qtbot.waitSignal(window.controller.photo_analyzed, timeout=TIMEOUT_MS):
        window.actions["previous_photo"].trigger()
    assert window.controller.current.path == folder / "pipe_01.png"


def test_the_table_sorts_by_value_and_filters_to_needs_review(qtbot, window, tmp_path) -> None:
    folder = make_folder(tmp_path, 6, distinct=6)
    run_batch(qtbot, window, folder)
    model, table = window.batch_model, window.batch.table
    column = COLUMNS.index("Corroded share %")
    table.horizontalHeader().setSortIndicator(column, Qt.SortOrder.DescendingOrder)
    shares = {r.path: r.result.stats.corroded_share for r in model.rows}
    shown = [shares[p] for p in window.batch.paths()]
    assert shown == sorted(shares.values(), reverse=True)
    flagged = {model.row(i).path for i in range(model.rowCount()) if model.needs_review(i)}
    window.batch.review_only.setChecked(True)
    assert set(window.batch.paths()) == flagged
    review = COLUMNS.index("Review")
    assert all(
        window.batch.proxy.index(i, review).data() == "needs review"
        for i in range(window.batch.proxy.rowCount())
    )
    window.batch.review_only.setChecked(False)
    assert len(window.batch.paths()) == 6


def test_the_table_shows_a_dozen_rows_in_a_1600_by_1000_window(qtbot, window, tmp_path) -> None:
    window.resize(1600, 1000)
    folder = make_folder(tmp_path, 16, size=(48, 64))
    run_batch(qtbot, window, folder)
    qtbot.wait(50)
    table = window.batch.table
    rows = table.viewport().height() // table.verticalHeader().defaultSectionSize()
    assert rows >= 10, rows


def test_the_batch_dock_stays_small_until_a_batch_runs(qtbot, window, tmp_path) -> None:
    """Before any batch the photo gets the height; a batch makes room for its rows."""
    window.resize(1600, 1000)
    qtbot.wait(50)
    idle = window._dock_batch.height()
    assert idle <= 140, idle
    run_batch(qtbot, window, make_folder(tmp_path, 3, size=(48, 64)))
    qtbot.wait(50)
    assert window._dock_batch.height() >= 250


def test_a_name_with_a_control_character_reads_as_an_escape_in_the_title_and_the_table(
    qtbot, window, tmp_path
) -> None:
    folder = make_folder(tmp_path, 1)
    odd = folder / "pipe_\x1b[31mred.png"
    (folder / "pipe_00.png").rename(odd)
    run_batch(qtbot, window, folder)
    model = window.batch_model
    assert model.data(model.index(0, COLUMNS.index("Photo"))) == "pipe_\\x1b[31mred.png"
    open_and_wait(qtbot, window, odd)
    assert window.windowTitle() == "pipe_\\x1b[31mred.png – Corroscope"


def test_one_very_long_name_does_not_push_the_figures_out_of_view(qtbot, window, tmp_path) -> None:
    """A 200-character photo name widened the Photo column to the whole table: it is capped and cut in
    the middle, the whole path in its tooltip (escaped like the cell)."""
    folder = make_folder(tmp_path, 2)
    long = folder / ("site_" + "x" * 190 + "\u202e_07.png")
    (folder / "pipe_00.png").rename(long)
    window.resize(1400, 900)
    run_batch(qtbot, window, folder)
    table, model = window.batch.table, window.batch_model
    header = table.horizontalHeader()
    share = COLUMNS.index("Corroded share %")
    assert header.sectionViewportPosition(share) + header.sectionSize(share) <= header.viewport().width()
    assert table.textElideMode() == Qt.TextElideMode.ElideMiddle
    row = next(i for i in range(model.rowCount()) if model.row(i).path == long)
    tip = model.data(model.index(row, COLUMNS.index("Photo")), Qt.ItemDataRole.ToolTipRole)
    assert tip.endswith("\\u202e_07.png") and "\u202e" not in tip


def test_tab_leaves_the_batch_table(qtbot, window, tmp_path) -> None:
    """Tab stepped through every cell of the batch table and never reached the class switches after it."""
    run_batch(qtbot, window, make_folder(tmp_path, 2))
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    table = window.batch.table
    table.setFocus()
    table.setCurrentIndex(window.batch.proxy.index(0, 0))
    qtbot.waitUntil(table.hasFocus, timeout=TIMEOUT_MS)
    qtbot.keyClick(table, Qt.Key.Key_Tab)
    assert not table.hasFocus() and table.currentIndex().column() == 0
