"""Hold a key (Space) to see the plain photo; release to see the overlay again."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QAbstractSpinBox, QApplication, QLineEdit, QPlainTextEdit, QTextEdit, QWidget

from app.ui.overlay_state import OverlayState

COMPARE_KEY = Qt.Key.Key_Space
_TEXT_INPUTS = (QLineEdit, QTextEdit, QPlainTextEdit, QAbstractSpinBox)


class CompareKeyFilter(QObject):
    """An application event filter: the key goes to `state.set_comparing` while `window` is active."""

    def __init__(self, window: QWidget, state: OverlayState) -> None:
        super().__init__(window)
        self._window = window
        self._state = state

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease) and isinstance(event, QKeyEvent):
            if event.key() != COMPARE_KEY or not self._applies():
                return False
            if not event.isAutoRepeat():
                self._state.set_comparing(kind == QEvent.Type.KeyPress)
            return True  # eaten: Space must not also press a focused button or check box
        if kind == QEvent.Type.WindowDeactivate and watched is self._window:
            self._state.set_comparing(False)
        return False

    def _applies(self) -> bool:
        focus = QApplication.focusWidget()
        if isinstance(focus, _TEXT_INPUTS):
            return False
        active = QApplication.activeWindow()
        return active is None or active is self._window
