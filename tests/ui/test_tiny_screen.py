"""The main window on a 1024 x 600 screen at 150 %: 683 x 400 logical pixels. Its minimum was 752 px wide
(a model's long file name in the status bar's busy line), so the window opened 1127 device pixels wide and
its title-bar buttons were off screen (pytest-qt, real window, tiny ONNX model)."""

from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtWidgets import QApplication

from app.ui.main_window import MainWindow, default_size
from app.ui.screen_fit import FRAME_H, FRAME_W
from tests.helpers.pipe_photos import photo_folder
from tests.ui.conftest import TIMEOUT_MS, open_and_wait, photo

TINY_SCREEN = QSize(683, 400)  # 1024 x 600 at QT_SCALE_FACTOR=1.5, in the window's pixels
ROOM = QSize(TINY_SCREEN.width() - FRAME_W, TINY_SCREEN.height() - FRAME_H)
LOADING = "Loading model corrosion-deeplabv3plus-mobilenetv2.int8.onnx…"


def _least(window) -> QSize:
    QApplication.processEvents()
    return window.minimumSizeHint().expandedTo(window.minimumSize())


def test_with_a_photo_a_batch_and_a_busy_line_the_window_fits_a_tiny_screen(qtbot, window, tmp_path) -> None:
    open_and_wait(qtbot, window, photo(tmp_path, 5)[0])
    folder = photo_folder(tmp_path / "batch", 2, 0.1, seed=4, size=(48, 64))
    with qtbot.waitSignal(window.controller.batch_finished, timeout=TIMEOUT_MS):
        window.open_folder(folder)
    window.busy_label.setText(LOADING)  # as at the start, while the default model loads
    least = _least(window)
    assert least.width() <= ROOM.width() and least.height() <= ROOM.height(), least
    window.resize(default_size(TINY_SCREEN))  # the window opens at its default size: it takes it
    qtbot.waitUntil(lambda: window.width() <= ROOM.width() and window.height() <= ROOM.height())
    assert window.busy_label.text() == LOADING  # elided on screen, whole in text()
    window.busy_label.setText("")
    assert window.busy_label.minimumSizeHint().width() <= 1 or window.busy_label.minimumWidth() == 0


def _one_line(window) -> int:
    """A dock's title and one line of text, with room to spare."""
    return 3 * window.fontMetrics().height() + 24


def test_before_any_batch_the_batch_dock_is_one_line(qtbot, window, settings, tmp_path) -> None:
    """It took 200 of 600 px (an empty table, a progress bar, greyed buttons) above the status bar."""
    window.resize(1016, 560)
    qtbot.waitUntil(lambda: window.height() == 560)
    dock = window._dock_batch
    assert dock.height() <= _one_line(window), dock.height()
    assert not window.batch.table.isVisible()  # not an empty Tab stop either
    assert window.centralWidget().height() >= 560 // 2
    folder = photo_folder(tmp_path / "batch", 2, 0.1, seed=4, size=(48, 64))
    with qtbot.waitSignal(window.controller.batch_finished, timeout=TIMEOUT_MS):
        window.open_folder(folder)
    qtbot.waitUntil(lambda: dock.height() >= 560 // 4)  # room for rows once a batch runs
    assert window.batch.table.isVisible()


def test_a_restored_tall_batch_dock_is_one_line_until_a_batch(qtbot, settings) -> None:
    first = MainWindow(settings)
    qtbot.addWidget(first)
    first.resize(1016, 560)
    first.show()
    first.batch.start(0)  # a batch ran: the dock got taller, and was saved so
    first._make_room_for_batch()
    qtbot.waitUntil(lambda: first._dock_batch.height() >= 150)
    settings.window_state = first.saveState()
    first.controller.shutdown()
    second = MainWindow(settings)
    qtbot.addWidget(second)
    second.resize(1016, 560)
    second.show()
    qtbot.waitExposed(second)
    assert second._dock_batch.height() <= _one_line(second), second._dock_batch.height()
    second.controller.shutdown()
