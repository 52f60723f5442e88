"""The small line of facts atop every report page (asset ID, location, client, inspector, date).

Each field is drawn on its own, its value in a bidi isolate: an Arabic client name reads right to left
within its field and can never reorder a neighbour or the date; a control character shows as an
escape. A field is at most three lines (cut with "…"), so the header never takes the page from the body."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QFont, QFontMetricsF, QPaintDevice, QPainter, QTextLayout, QTextOption

from app.core.text import visible_controls

FIELD_LINES = 3  # a field longer than this is cut: the header stays a few lines whatever it holds
# (three: a typed field's 200 characters with no space, "A" * 200, need them at the header's size)
SEPARATOR = "  ·  "
_FSI, _PDI = "\u2068", "\u2069"  # first-strong isolate: the value takes its own direction, alone


@dataclass(frozen=True)
class Placed:
    """One field's text at `x` on header line `line`, taking `lines` lines (a long one wraps)."""

    text: str
    x: float
    line: int
    lines: int = 1
    anywhere: bool = False  # broken anywhere, not at word boundaries first (a long unbroken value)


def field_text(label: str, value: str) -> str:
    """ "Label: value" with the value's controls escaped, and in an isolate when it holds right-to-left
    letters (Arabic, Hebrew), so it reads in its own direction."""
    value = visible_controls(value)
    if any(unicodedata.bidirectional(ch) in ("R", "AL") for ch in value):
        value = f"{_FSI}{value}{_PDI}"
    return f"{label}: {value}"


def _option(wrap: bool = True, anywhere: bool = False) -> QTextOption:
    option = QTextOption(Qt.AlignmentFlag.AlignLeft)
    mode = QTextOption.WrapMode
    option.setWrapMode(
        (mode.WrapAnywhere if anywhere else mode.WrapAtWordBoundaryOrAnywhere) if wrap else mode.NoWrap
    )
    option.setTextDirection(Qt.LayoutDirection.LeftToRight)  # the labels' direction, whatever a value's
    return option


def _line_ends(
    text: str, font: QFont, device: QPaintDevice, width: float, anywhere: bool = False
) -> list[tuple[int, float]]:
    """(end index, width) of each line `text` wraps into at `width`, as `drawText` breaks it."""
    layout = QTextLayout(text, font, device)
    layout.setTextOption(_option(anywhere=anywhere))
    layout.beginLayout()
    ends = []
    while (line := layout.createLine()).isValid():
        line.setLineWidth(width)
        ends.append((line.textStart() + line.textLength(), line.naturalTextWidth()))
    layout.endLayout()
    return ends


def _cut(label: str, value: str, font: QFont, device: QPaintDevice, width: float) -> str:
    """The field's text cut with "…" to fit `FIELD_LINES` lines of `width`."""
    text = field_text(label, value)
    ends = _line_ends(text, font, device, width)
    keep = len(value)
    while len(ends) > FIELD_LINES and keep > 0:
        # what the last allowed line ends at, less a little for the "…" (then a few letters a try)
        room = ends[FIELD_LINES - 1][0] - len(label) - 4
        keep = max(0, min(keep - 3, room))
        text = field_text(label, value[:keep].rstrip() + "…")
        ends = _line_ends(text, font, device, width)
    return text


def layout(items: Sequence[tuple[str, str]], font: QFont, device: QPaintDevice, width: float) -> list[Placed]:
    """Where each (label, value) goes: after the previous one on its line when it fits there, else at
    the start of the next line; a field wider than `width` wraps into `FIELD_LINES` lines at most."""
    metrics = QFontMetricsF(font, device)
    gap = metrics.horizontalAdvance(SEPARATOR)
    placed: list[Placed] = []
    x, line = 0.0, 0
    for label, value in items:
        text = field_text(label, value)
        w = metrics.horizontalAdvance(text)
        if placed and x + gap + w <= width:
            placed.append(Placed(text, x + gap, line))
            x += gap + w
            continue
        line += 1 if placed else 0
        if w <= width:
            placed.append(Placed(text, 0.0, line))
            x = w
            continue
        # a long unbroken value (an asset ID of 200 letters) went whole to the line after its label and
        # was cut there: broken anywhere, it fits the field's lines whole
        anywhere = len(_line_ends(text, font, device, width, anywhere=True)) <= FIELD_LINES
        text = text if anywhere else _cut(label, value, font, device, width)
        ends = _line_ends(text, font, device, width, anywhere)
        placed.append(Placed(text, 0.0, line, len(ends), anywhere))
        line += len(ends) - 1
        x = ends[-1][1]
    return placed


def draw(
    painter: QPainter, device: QPaintDevice, items: Sequence[tuple[str, str]], y: float, width: float
) -> float:
    """Draw the fields from `y` in the painter's font; returns the height used."""
    font = painter.font()
    metrics = QFontMetricsF(font, device)
    line_h, gap = metrics.height(), metrics.horizontalAdvance(SEPARATOR)
    placed = layout(items, font, device, width)
    for p in placed:
        top = y + p.line * line_h
        if p.x > 0:  # after the field before it on the line
            painter.drawText(QRectF(p.x - gap, top, gap, line_h), int(Qt.AlignmentFlag.AlignHCenter), "·")
        # one drawText a field: bidi reordering never crosses into a neighbour
        rect = QRectF(p.x, top, max(width - p.x, 1.0), p.lines * line_h + 2)
        painter.drawText(rect, p.text, _option(wrap=p.lines > 1, anywhere=p.anywhere))
    return (placed[-1].line + placed[-1].lines) * line_h if placed else 0.0
