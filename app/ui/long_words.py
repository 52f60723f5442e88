"""Long unbreakable words (a pasted 600-character name, a deep file path) in word-wrapped labels: a
`QLabel` never breaks inside a word, so one such word sets its minimum width, and with it the window's
or the panel's (a window 5,000 px wide, a panel with a horizontal scroll bar). They are elided in the
middle, so the label never asks for more room than it has; the full text stays in the data and the
exports."""

from __future__ import annotations

import html
import re

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontMetrics

ELLIPSIS = "…"
# characters of one word the figures panel shows whole: a name of this length fits its narrowest width
PANEL_WORD = 32
_WORD = re.compile(r"\S+")


def elide_long_words(text: str, limit: int = PANEL_WORD) -> str:
    """`text` with each run of non-space characters longer than `limit` cut in its middle to `limit`
    characters ("Aaaaaaaaaaa…aaaaaa"); shorter words and all spaces as they were."""

    def cut(match: re.Match[str]) -> str:
        word = match[0]
        if len(word) <= limit:
            return word
        head = (limit - 1) * 2 // 3
        return word[:head] + ELLIPSIS + word[len(word) - (limit - 1 - head) :]

    return _WORD.sub(cut, text)


def fit_words(text: str, metrics: QFontMetrics, width: int) -> str:
    """`text` with each word wider than `width` pixels elided in its middle to fit it (a file path keeps
    its start and its file name), for a word-wrapped label `width` wide."""
    if width <= 0:
        return text
    return _WORD.sub(
        lambda m: (
            m[0]
            if metrics.horizontalAdvance(m[0]) <= width
            else metrics.elidedText(m[0], Qt.TextElideMode.ElideMiddle, width)
        ),
        text,
    )


def plain_tooltip(text: str) -> str:
    """`text` for a tooltip, shown as written: Qt renders a tooltip that looks like markup as rich text,
    so a reviewer named "Ann <i>Lee</i>" would show in italics; such text goes escaped in a rich one."""
    if "<" not in text and "&" not in text:
        return text
    return "<qt>" + html.escape(text).replace("\n", "<br>") + "</qt>"
