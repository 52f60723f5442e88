"""The window's status bar: a passing message is elided with "…" to the room left of the permanent
widgets (cursor readout, busy, zoom, provider) and keeps a gap to them; its whole text is the tooltip."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QPainter, QPaintEvent
from PySide6.QtWidgets import QLabel, QMainWindow, QSizeGrip, QStatusBar, QStyle, QStyleOption, QWidget

from app.ui.readout_widget import CursorReadoutLabel, ElidedLabel
from app.ui.result_state import ResultState
from app.ui.settings import AppSettings
from app.ui.workers import alive

GAP = 16  # px between the message and the readout: cut text ran straight into "x 3081, y 2673"


class StatusBar(QStatusBar):
    """QStatusBar clips a long message at the first permanent widget, mid-letter and with no gap; this
    one paints it elided ("…ölm…" rather than "ölman") and puts the whole text in the tooltip."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.messageChanged.connect(self.setToolTip)  # "" when it goes: no stale tooltip

    def _permanent(self) -> list[QWidget]:
        # the window adds permanent widgets only; a message hides any others anyway
        children = self.findChildren(QWidget, options=Qt.FindChildOption.FindDirectChildrenOnly)
        return [w for w in children if w.isVisible() and not isinstance(w, QSizeGrip)]

    def message_rect(self) -> QRect:
        """Where the message is painted: from the left edge to a gap before the first permanent widget."""
        right = min([self.width() - 12, *(w.x() - GAP for w in self._permanent())])
        return QRect(6, 0, max(0, right - 6), self.height())

    def shown_message(self) -> str:
        """The message as painted, elided to its room."""
        width = self.message_rect().width()
        return self.fontMetrics().elidedText(self.currentMessage(), Qt.TextElideMode.ElideRight, width)

    def paintEvent(self, event: QPaintEvent) -> None:
        if not self.currentMessage():
            super().paintEvent(event)
            return
        # QStatusBar's own painting, with the message elided in `message_rect`
        painter = QPainter(self)
        option = QStyleOption()
        option.initFrom(self)
        self.style().drawPrimitive(QStyle.PrimitiveElement.PE_PanelStatusBar, option, painter, self)
        for widget in self._permanent():
            option.rect = widget.geometry().adjusted(-1, -1, 1, 1)
            self.style().drawPrimitive(QStyle.PrimitiveElement.PE_FrameStatusBarItem, option, painter, widget)
        painter.setPen(self.palette().windowText().color())
        align = Qt.AlignmentFlag.AlignLeading | Qt.AlignmentFlag.AlignVCenter
        painter.drawText(self.message_rect(), align | Qt.TextFlag.TextSingleLine, self.shown_message())


def status_widgets(
    window: QMainWindow, state: ResultState
) -> tuple[CursorReadoutLabel, QLabel, QLabel, ElidedLabel]:
    """Give `window` a `StatusBar` with its permanent widgets: readout, busy, zoom and provider labels."""
    window.setStatusBar(StatusBar())
    readout, zoom = CursorReadoutLabel(state), QLabel()
    # elided: "Loading model <a long file name>…" made the window 752 px wide at least (a 683 px screen)
    busy = ElidedLabel(max_width=360, mode=Qt.TextElideMode.ElideRight)
    provider = ElidedLabel(max_width=480, mode=Qt.TextElideMode.ElideRight)
    for label in (readout, busy, zoom, provider):
        window.statusBar().addPermanentWidget(label)
    provider.setText("No model loaded")
    return readout, busy, zoom, provider


def watch_settings(window: QMainWindow, settings: AppSettings, say: Callable[[str, str], None]) -> QLabel:
    """When the settings cannot be saved: `say` it once (the banner) and keep "Settings not saved" in the
    status bar, the reason and file in its tooltip (a banner goes when a photo opens)."""
    label = QLabel("⚠ Settings not saved")
    label.setObjectName("settings_unsaved")
    label.setStyleSheet("color: #a04000;")
    window.statusBar().insertPermanentWidget(0, label)
    label.hide()

    def told(text: str) -> None:
        if not alive(label):  # the settings outlived this window (tests reuse them)
            return
        label.setToolTip(text)
        label.show()
        say(text, "warning")

    settings.on_unsaved = told
    settings.check_saved()
    return label
