"""The main window fits a small screen: 1280 x 720 at 150 % leaves 853 x 480 logical pixels, and the
project dock, the side panel, the legend and the batch line made the window 966 x 489 at least, wider and
taller than that (pytest-qt, real window, tiny ONNX model)."""

from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtWidgets import QApplication

from app.ui.main_window import MainWindow
from app.ui.screen_fit import FRAME_H, FRAME_W
from tests.helpers.pipe_photos import photo_folder
from tests.ui.conftest import TIMEOUT_MS, open_and_wait
from tests.ui.test_projects import project_window  # noqa: F401  (a fixture)

SMALL_SCREEN = QSize(853, 480)  # 1280 x 720 at QT_SCALE_FACTOR=1.5, in the window's pixels
ROOM = QSize(SMALL_SCREEN.width() - FRAME_W, SMALL_SCREEN.height() - FRAME_H)  # less title bar, borders


def _fits(window: MainWindow) -> bool:
    QApplication.processEvents()
    least = window.minimumSizeHint()
    return least.width() <= ROOM.width() and least.height() <= ROOM.height()


def test_with_a_project_a_photo_and_a_batch_the_window_fits_a_small_screen(
    qtbot,
    project_window,  # noqa: F811
    tmp_path,
) -> None:
    win, target = project_window
    assert win.projects.dock.isVisible()
    open_and_wait(qtbot, win, next((target.parent / "insp0").iterdir()))
    assert _fits(win), win.minimumSizeHint()
    win.show_message("A long line of a message " * 8, "warning")
    folder = photo_folder(tmp_path / "batch", 2, 0.1, seed=4, size=(48, 64))
    with qtbot.waitSignal(win.controller.batch_finished, timeout=TIMEOUT_MS):
        win.open_folder(folder)
    assert _fits(win), win.minimumSizeHint()
    win.resize(ROOM)  # and it takes that size
    qtbot.waitUntil(lambda: win.width() <= ROOM.width() and win.height() <= ROOM.height())


def test_an_empty_project_dock_is_not_restored(qtbot, settings) -> None:
    first = MainWindow(settings)
    qtbot.addWidget(first)
    first.projects.dock.show()  # as a closed project's dock was, or one left open
    first.show()
    settings.window_state = first.saveState()
    first.controller.shutdown()
    second = MainWindow(settings)
    qtbot.addWidget(second)
    second.show()
    assert second.projects.project is None and not second.projects.dock.isVisible()
    second.projects.dock.show()  # shown by hand, empty: it still does not force the width
    assert _fits(second), second.minimumSizeHint()
    second.controller.shutdown()


def test_on_a_small_screen_the_photo_keeps_a_fair_share_of_the_width(
    qtbot,
    project_window,  # noqa: F811
) -> None:
    """1280 x 720 at 150 %: the project dock (~340 px) and the side panel (330 px) left the photo ~200 px
    of the 853; the project dock now gives way until the photo has at least 40 % of the window."""
    win, target = project_window
    open_and_wait(qtbot, win, next((target.parent / "insp0").iterdir()))
    win.resize(ROOM)
    qtbot.waitUntil(lambda: win.width() <= ROOM.width())
    qtbot.wait(100)
    share = win.centralWidget().width() / win.width()
    assert share >= 0.39, (win.centralWidget().width(), win.projects.dock.width(), win.width())
    assert win.projects.dock.width() >= 120, "the project tree stays usable"
    win.resize(1600, 900)  # a larger window later: the dock keeps the width it was given
    qtbot.wait(100)
    assert win.centralWidget().width() > win.width() * 0.4
