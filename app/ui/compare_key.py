"""Hold a key (Space) to see the plain photo; release to see the overlay again."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QFocusEvent, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QLineEdit,
    QPlainTextEdit,
    QTextEdit,
    QWidget,
)

from app.ui.overlay_state import OverlayState

COMPARE_KEY = Qt.Key.Key_Space
_TEXT_INPUTS = (QLineEdit, QTextEdit, QPlainTextEdit, QAbstractSpinBox)
_KEYBOARD_FOCUS = (Qt.FocusReason.TabFocusReason, Qt.FocusReason.BacktabFocusReason)
# the focus coming back to where it was (the window, a menu closed): how it got there still holds
_BACK = (Qt.FocusReason.ActiveWindowFocusReason, Qt.FocusReason.PopupFocusReason)
# what Space works when reached from the keyboard: buttons, check boxes ("Needs review only" has no
# other key) and combo boxes
_SPACE_WORKS = (QAbstractButton, QComboBox)


class CompareKeyFilter(QObject):
    """An application event filter: the key goes to `state.set_comparing` while `window` is active."""

    def __init__(self, window: QWidget, state: OverlayState) -> None:
        super().__init__(window)
        self._window = window
        self._state = state
        self._tabbed_to: QObject | None = None  # the button or box the user reached with Tab / Shift+Tab

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        # (a style's event filter passes each focus event on again: only a widget's own counts)
        focus_in = (
            kind == QEvent.Type.FocusIn and isinstance(event, QFocusEvent) and isinstance(watched, QWidget)
        )
        if focus_in and event.reason() not in _BACK:
            # Space presses a button or ticks a box reached from the keyboard (the only way to without a
            # mouse), never one that merely kept the focus after a click: there Space still compares
            tabbed = isinstance(watched, _SPACE_WORKS) and event.reason() in _KEYBOARD_FOCUS
            self._tabbed_to = watched if tabbed else None
            return False
        if kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease) and isinstance(event, QKeyEvent):
            if event.key() != COMPARE_KEY or not self._applies():
                return False
            if not event.isAutoRepeat():
                self._state.set_comparing(kind == QEvent.Type.KeyPress)
            return True  # eaten: Space must not also press a button clicked before, or a check box
        if kind == QEvent.Type.WindowDeactivate and watched is self._window:
            self._state.set_comparing(False)
        return False

    def _applies(self) -> bool:
        focus = QApplication.focusWidget()
        if isinstance(focus, _TEXT_INPUTS) or (focus is not None and focus is self._tabbed_to):
            return False
        active = QApplication.activeWindow()
        return active is None or active is self._window
