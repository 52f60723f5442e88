"""Window sizes that fit the screen: a dialog's preferred size, cut to the screen's free area so its
bottom (buttons, the last table rows) never runs off a small screen (1280 x 720, 1024 x 768); panels in
scroll areas, so a dock never forces the main window wider or taller than the screen."""

from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QFrame, QScrollArea, QWidget

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
