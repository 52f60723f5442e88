"""The window's status bar: a passing message is elided with "…" to the room left of the permanent
widgets (cursor readout, busy, zoom, provider) and keeps a gap to them; its whole text is the tooltip."""

from __future__ import annotations

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QPainter, QPaintEvent
from PySide6.QtWidgets import QLabel, QMainWindow, QSizeGrip, QStatusBar, QStyle, QStyleOption, QWidget

from app.ui.readout_widget import CursorReadoutLabel, ElidedLabel
from app.ui.result_state import ResultState

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
    readout, busy, zoom = CursorReadoutLabel(state), QLabel(), QLabel()
    provider = ElidedLabel(max_width=480, mode=Qt.TextElideMode.ElideRight)
    for label in (readout, busy, zoom, provider):
        window.statusBar().addPermanentWidget(label)
    provider.setText("No model loaded")
    return readout, busy, zoom, provider
