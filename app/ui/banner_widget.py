"""A dismissable message strip above the viewer: errors and notices that never block the app."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QToolButton, QWidget

_STYLES = {
    "info": "background:#e8f0fe; color:#123; border:1px solid #9ab;",
    "warning": "background:#fff4d6; color:#432; border:1px solid #cb8;",
    "error": "background:#fde2e1; color:#511; border:1px solid #c88;",
}


class BannerWidget(QFrame):
    """Shows one message at a time with a level (info, warning, error) and a close button."""

    dismissed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._level = "info"
        self._label = QLabel()
        self._label.setTextFormat(Qt.TextFormat.PlainText)  # file names and reasons, as written
        self._label.setWordWrap(True)
        self._label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        close = QToolButton()
        close.setText("✕")
        close.setAutoRaise(True)
        close.setToolTip("Dismiss")
        close.clicked.connect(self.dismiss)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 4, 4)
        layout.addWidget(self._label, 1)
        layout.addWidget(close, 0, Qt.AlignmentFlag.AlignTop)
        self.hide()

    @property
    def text(self) -> str:
        return self._label.text() if not self.isHidden() else ""

    @property
    def level(self) -> str:
        return self._level

    def show_message(self, text: str, level: str = "info") -> None:
        if level not in _STYLES:
            raise ValueError(f"unknown banner level {level!r}")
        self._level = level
        self.setStyleSheet(f"BannerWidget {{{_STYLES[level]}}}")
        self._label.setText(text)
        self.show()

    def dismiss(self) -> None:
        self.hide()
        self.dismissed.emit()
