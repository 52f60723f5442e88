"""A dismissable message strip above the viewer: errors and notices that never block the app."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QHideEvent, QResizeEvent
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QSizePolicy, QToolButton, QWidget

from app.ui.long_words import fit_words, plain_tooltip

_STYLES = {
    "info": "background:#e8f0fe; color:#123; border:1px solid #9ab;",
    "warning": "background:#fff4d6; color:#432; border:1px solid #cb8;",
    "error": "background:#fde2e1; color:#511; border:1px solid #c88;",
}
_SEVERITY = {"info": 0, "warning": 1, "error": 2}


class BannerWidget(QFrame):
    """Shows a message with a level (info, warning, error) and a close button. A message shown `sticky`
    (the outcome of a long run) stays above the messages that follow until the banner is dismissed."""

    dismissed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._level = "info"
        self._text = ""  # the message as given; the label shows it with over-wide words elided
        self._sticky: tuple[str, str] | None = None  # (text, level) kept above later messages
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
        """The newest message (a sticky one above it is not part of it)."""
        return self._text if not self.isHidden() else ""

    @property
    def sticky_text(self) -> str:
        """The sticky message shown above the newest ("" when none or hidden)."""
        return self._sticky[0] if self._sticky is not None and not self.isHidden() else ""

    @property
    def level(self) -> str:
        return self._level

    def show_message(self, text: str, level: str = "info", sticky: bool = False) -> None:
        if level not in _STYLES:
            raise ValueError(f"unknown banner level {level!r}")
        if sticky:
            self._sticky = (text, level)
        self._level, self._text = level, text
        shown = max(level, self._sticky[1], key=_SEVERITY.__getitem__) if self._sticky else level
        self.setStyleSheet(f"BannerWidget {{{_STYLES[shown]}}}")
        self._fit()
        self.show()

    @property
    def whole(self) -> str:
        """What the banner says: the sticky message, then the newest below it."""
        if self._sticky is None or self._sticky[0] == self._text:
            return self._text
        return f"{self._sticky[0]}\n{self._text}"

    def hideEvent(self, event: QHideEvent) -> None:
        super().hideEvent(event)
        if not event.spontaneous():  # dismissed or taken down, not the window minimised
            self._sticky = None

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        whole = self.whole
        shown = fit_words(whole, self._label.fontMetrics(), self._label.contentsRect().width())
        if shown != self._label.text():
            self._label.setText(shown)
            self._label.setToolTip(plain_tooltip(whole) if shown != whole else "")  # the whole

    def dismiss(self) -> None:
        self.hide()
        self.dismissed.emit()
