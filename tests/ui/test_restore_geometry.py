"""A window saved on a big screen opens on a small one: saved maximised on 3840 x 2160, it came back as a
normal 752 x 400 window on 1024 x 600; saved 3000 x 1800, at an arbitrary size. Qt refuses such geometry
(restoreGeometry returns False): the window is now maximised again, or fitted to the screen (pytest-qt,
real window; the offscreen platform's screen is 800 x 800, smaller than those saved)."""

from __future__ import annotations

from PySide6.QtCore import QByteArray, Qt

from app.ui.main_window import MainWindow, default_size
from app.ui.screen_fit import saved_maximized

# QWidget.saveGeometry() of the main window on a 3840 x 2160 screen (Qt 6.11, X11), as the settings held it
MAXIMISED_4K = (
    "01d9d0cb00030000000000000000000000000eff0000086f00000500000002a5000009ff000005d8"
    "00000000020000000f00000000000000001300000eff0000086f"
)
BIG_4K = (  # a normal window 3000 x 1800 at (600, 230)
    "01d9d0cb0003000000000257000000e600000e100000080600000258000000fa00000e0f00000801"
    "00000000000000000f0000000258000000fa00000e0f00000801"
)


def _opened(qtbot, settings, saved: str) -> MainWindow:
    settings.window_geometry = QByteArray.fromHex(saved.encode())
    window = MainWindow(settings)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


def test_the_saved_data_says_whether_the_window_was_maximised() -> None:
    assert saved_maximized(QByteArray.fromHex(MAXIMISED_4K.encode()))
    assert not saved_maximized(QByteArray.fromHex(BIG_4K.encode()))
    assert not saved_maximized(QByteArray(b"not a geometry, but long enough to hold the maximised byte"))


def test_a_window_maximised_on_a_big_screen_opens_maximised_on_a_small_one(qtbot, settings) -> None:
    window = _opened(qtbot, settings, MAXIMISED_4K)
    assert window.windowState() & Qt.WindowState.WindowMaximized
    window.controller.shutdown()


def test_a_window_bigger_than_the_screen_opens_fitted_to_it(qtbot, settings) -> None:
    window = _opened(qtbot, settings, BIG_4K)
    free = window.screen().availableGeometry().size()
    assert not window.windowState() & Qt.WindowState.WindowMaximized
    assert window.size() == default_size(free), (window.size(), free)
    window.controller.shutdown()


# A damaged record Qt still accepts: every rectangle 1 x 1 px at (100, 100), on an 800 px wide screen.
TINY = "01d9d0cb00030000" + "00000064" * 8 + "00000000" + "0000" + "00000320" + "00000064" * 4


def test_a_damaged_geometry_that_qt_accepts_opens_at_the_default_size(qtbot, settings) -> None:
    """Qt restored it as a window a few hundred pixels across, the banner cut to two words."""
    window = _opened(qtbot, settings, TINY)
    free = window.screen().availableGeometry().size()
    assert window.size() == default_size(free), (window.size(), free)
    window.controller.shutdown()
