"""Window sizes that fit the screen: a dialog's preferred size, cut to the screen's free area so its
bottom (buttons, the last table rows) never runs off a small screen (1280 x 720, 1024 x 768); panels in
scroll areas, so a dock never forces the main window wider or taller than the screen."""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QEvent, QObject, QSize, Qt, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QDockWidget, QFrame, QMainWindow, QScrollArea, QWidget

# title bar and borders, not known before the window is shown
FRAME_W, FRAME_H = 8, 40


def fit_size(wanted: QSize, available: QSize) -> QSize:
    """`wanted`, or less where the screen's free area (less the window frame) is smaller."""
    return QSize(
        min(wanted.width(), available.width() - FRAME_W), min(wanted.height(), available.height() - FRAME_H)
    )


def resize_on_screen(widget: QWidget, width: int, height: int) -> None:
    """Resize `widget` to width x height, or as much of it as its screen has room for."""
    screen = widget.screen() or QGuiApplication.primaryScreen()
    if screen is None:
        widget.resize(width, height)
        return
    widget.resize(fit_size(QSize(width, height), screen.availableGeometry().size()))


GEOMETRY_MAGIC = bytes.fromhex("01d9d0cb")  # QWidget.saveGeometry's data starts so
MAXIMIZED_AT = 44  # its byte "maximised": after the magic, the version, two rectangles and the screen


def saved_maximized(saved: QByteArray) -> bool:
    """Whether `saved` (QWidget.saveGeometry's bytes) is of a maximised window."""
    data = bytes(saved.data())
    return len(data) > MAXIMIZED_AT and data.startswith(GEOMETRY_MAGIC) and data[MAXIMIZED_AT] != 0


def restore_window(window: QWidget, saved: QByteArray | None, default: QSize) -> None:
    """The window's saved geometry, else the `default` size (cut to the screen) and, if the window was
    maximised when saved, maximised again. Qt refuses geometry saved on a bigger screen (3840 x 2160 on a
    1024 x 600 one): the window came back at an arbitrary size, neither maximised nor fitted."""
    if saved is not None and window.restoreGeometry(saved) and not _shrunk(window, default):
        return
    resize_on_screen(window, default.width(), default.height())
    if saved is not None and saved_maximized(saved):
        window.setWindowState(window.windowState() | Qt.WindowState.WindowMaximized)


def _shrunk(window: QWidget, default: QSize) -> bool:
    """Whether the restored window is under half the default size either way: a damaged geometry record
    that Qt still accepts (it gave 1 x 1 px, a 440 x 290 window with the banner cut to two words)."""
    size = window.size()
    return size.width() < default.width() // 2 or size.height() < default.height() // 2


def scrolled(widget: QWidget, min_width: int = 0) -> QScrollArea:
    """`widget` in a frameless scroll area: the dock holding it may be narrower and shorter than the
    widget's minimum (it scrolls) and keeps the width it had (`min_width`, 0: the scroll bars' only)."""
    area = QScrollArea()
    area.setWidget(widget)
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    if min_width:
        area.setMinimumWidth(min_width)
    return area


class PhotoRoom(QObject):
    """Keeps the photo (the window's central widget) at least `share` of the window's width on a small
    screen by narrowing `dock` (down to `least` px): at 1280 x 720 and 150 % the project dock and the side
    panel left the photo 146 of 845 px. Only ever narrows the dock; the user may widen it again."""

    def __init__(self, window: QMainWindow, dock: QDockWidget, share: float = 0.4, least: int = 120) -> None:
        super().__init__(window)
        self._window, self._dock, self._share, self._least = window, dock, share, least
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._fit)
        window.installEventFilter(self)
        dock.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in (QEvent.Type.Resize, QEvent.Type.Show):
            self._timer.start(0)  # once the layout has placed the docks
        return False

    def _fit(self) -> None:
        window, dock = self._window, self._dock
        central = window.centralWidget()
        if central is None or not dock.isVisible() or dock.isFloating():
            return
        missing = int(self._share * window.width()) - central.width()
        if missing > 0 and dock.width() > self._least:
            width = max(self._least, dock.width() - missing)
            window.resizeDocks([dock], [width], Qt.Orientation.Horizontal)
            if dock.width() < width + missing:  # it gave way: look again once laid out (a resize in steps)
                self._timer.start(50)
