"""A dismissable message strip above the viewer: errors and notices that never block the app."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QSizePolicy, QToolButton, QWidget

from app.ui.long_words import fit_words, plain_tooltip

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
        self._text = ""  # the message as given; the label shows it with over-wide words elided
        self._label = QLabel()
        self._label.setTextFormat(Qt.TextFormat.PlainText)  # file names and reasons, as written
        self._label.setWordWrap(True)
        self._label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # a word-wrapped label is at least as wide as its longest word: a long name or path made the whole
        # window thousands of pixels wide; it takes the width it is given, and `_fit` elides what is wider
        self._label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self._label.setMinimumWidth(1)
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
        return self._text if not self.isHidden() else ""

    @property
    def level(self) -> str:
        return self._level

    def show_message(self, text: str, level: str = "info") -> None:
        if level not in _STYLES:
            raise ValueError(f"unknown banner level {level!r}")
        self._level = level
        self.setStyleSheet(f"BannerWidget {{{_STYLES[level]}}}")
        self._text = text
        self._fit()
        self.show()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        shown = fit_words(self._text, self._label.fontMetrics(), self._label.contentsRect().width())
        if shown != self._label.text():
            self._label.setText(shown)
            self._label.setToolTip(plain_tooltip(self._text) if shown != self._text else "")  # the whole

    def dismiss(self) -> None:
        self.hide()
        self.dismissed.emit()
