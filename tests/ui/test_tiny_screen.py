"""The main window on a 1024 x 600 screen at 150 %: 683 x 400 logical pixels. Its minimum was 752 px wide
(a model's long file name in the status bar's busy line), so the window opened 1127 device pixels wide and
its title-bar buttons were off screen (pytest-qt, real window, tiny ONNX model)."""

from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtWidgets import QApplication

from app.ui.main_window import default_size
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
