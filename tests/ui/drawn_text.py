"""What a PDF report draws where: every `QPainter.drawText` of a render with its page, the box it was
given and the box its text takes as Qt lays it out; layout tests read these instead of the PDF's text."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from PySide6.QtCore import QRectF
from PySide6.QtGui import QPainter, QPdfWriter, QTextOption


@dataclass(frozen=True)
class Drawn:
    """One text as drawn: its page (1 = first), the box asked for, the box its glyphs take."""

    page: int
    text: str
    rect: QRectF
    ink: QRectF

    @property
    def clipped(self) -> bool:
        """Whether Qt's layout of the text reaches out of the box it was drawn in (a cut caption)."""
        return self.ink.width() > self.rect.width() + 0.5 or self.ink.height() > self.rect.height() + 0.5


@contextmanager
def recording(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Drawn]]:
    """Record every text drawn into a box while the block runs (`Canvas` draws through Python calls)."""
    drawn: list[Drawn] = []
    pages = [1]
    draw_text, new_page = QPainter.drawText, QPdfWriter.newPage

    def recorded(painter: QPainter, *args) -> None:
        draw_text(painter, *args)
        if not args or not isinstance(args[0], QRectF):
            return
        rect, rest = args[0], args[1:]
        if len(rest) == 2 and isinstance(rest[1], QTextOption):
            text, ink = rest[0], painter.boundingRect(rect, rest[0], rest[1])
        else:
            flags, text = (int(rest[0]), rest[1]) if len(rest) == 2 else (0, rest[0])
            ink = painter.boundingRect(rect, flags, text)
        drawn.append(Drawn(pages[0], text, QRectF(rect), ink))

    def turned(writer: QPdfWriter) -> bool:
        pages[0] += 1
        return new_page(writer)

    monkeypatch.setattr(QPainter, "drawText", recorded)
    monkeypatch.setattr(QPdfWriter, "newPage", turned)
    try:
        yield drawn
    finally:
        monkeypatch.setattr(QPainter, "drawText", draw_text)
        monkeypatch.setattr(QPdfWriter, "newPage", new_page)
