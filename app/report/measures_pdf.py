"""The standards' measures in the PDF reports: the scale bar over an overlay, the physical areas with
the oblique-photo note, the patch-size histogram, and the lines a batch card adds."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPen

from app.core import figures, measure_text
from app.core.analysis import PhotoFigures
from app.core.measures import PhotoMeasures
from app.core.patches import PatchStats
from app.core.physical import format_area
from app.core.scale_bar import scale_bar
from app.report.canvas import Canvas

_BAR_FILL = QColor(190, 70, 40)
_GREY = QColor(90, 90, 90)


def image_rect(image: QImage, x: float, y: float, width: float, max_height: float) -> QRectF:
    """Where `Canvas.image` draws `image` (scaled into width x max_height at x, y)."""
    scale = min(width / image.width(), max_height / image.height())
    return QRectF(x, y, image.width() * scale, image.height() * scale)


def draw_scale_bar(painter: QPainter, rect: QRectF, mm_per_px: float | None, photo_width: int) -> bool:
    """A round length at the lower left of a photo drawn in `rect` (page units); False without a scale."""
    if mm_per_px is None or photo_width <= 0 or rect.width() <= 0:
        return False
    bar = scale_bar(mm_per_px, photo_width)
    page_per_px = rect.width() / photo_width
    u = max(1.0, min(rect.width(), rect.height()) / 40.0)
    length = bar.pixels * page_per_px
    box = QRectF(rect.left() + u, rect.bottom() - 5.5 * u, length + 2 * u, 4.5 * u)
    painter.fillRect(box, QColor(0, 0, 0, 160))
    painter.fillRect(QRectF(box.left() + u, box.bottom() - 1.6 * u, length, 0.7 * u), QColor(255, 255, 255))
    font = painter.font()
    font.setPixelSize(max(1, round(2.0 * u)))
    painter.setFont(font)
    painter.setPen(QPen(QColor(255, 255, 255)))
    text = QRectF(box.left() + u, box.top() + 0.2 * u, max(length, 8 * u), 2.6 * u)
    painter.drawText(text, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), bar.label)
    return True


def histogram_bins(p: PatchStats) -> list[tuple[str, int]]:
    """(bin label in % of the asset, patches) of the patch-size histogram; specks are counted apart."""
    return [(f"{lo:g}-{hi:g} %" if lo else f"< {hi:g} %", n) for lo, hi, n in p.histogram()]


def draw_histogram(c: Canvas, p: PatchStats, x0: float, width: float, height_mm: float = 13.0) -> float:
    """A small bar chart of patches per size bin (% of the asset) at (x0, c.y); returns its height."""
    bins = histogram_bins(p)
    height = c.mm(height_mm)
    c.font(8.5, bold=True)
    c.painter.setPen(QPen(QColor(20, 20, 20)))
    title = QRectF(x0, c.y, width, c.mm(4.5))
    c.painter.drawText(title, int(Qt.AlignmentFlag.AlignLeft), "Patches by size (% of asset)")
    top, base = c.y + c.mm(9), c.y + c.mm(5) + height
    draw_bars(c, bins, (x0, width), (top, base), font_size=6.5, text_mm=3.4)
    return base + c.mm(4.5) - c.y


def draw_bars(
    c: Canvas,
    bins: Sequence[tuple[str, int]],
    across: tuple[float, float],
    between: tuple[float, float],
    font_size: float,
    text_mm: float,
) -> None:
    """Bars of (label, count), `across` (x, width), from the base line up to the top (`between`: top,
    base) for the largest count: the count above each bar, the label under it, in `font_size`."""
    (x0, width), (top, base) = across, between
    slot = width / max(1, len(bins))
    peak = max([n for _label, n in bins] + [1])
    above = int(Qt.AlignmentFlag.AlignHCenter) | int(Qt.AlignmentFlag.AlignBottom)
    below = int(Qt.AlignmentFlag.AlignHCenter) | int(Qt.AlignmentFlag.AlignTop)
    c.font(font_size)
    for i, (label, n) in enumerate(bins):
        x = x0 + i * slot
        bar = (base - top) * n / peak
        if n:
            c.painter.fillRect(QRectF(x + slot * 0.2, base - bar, slot * 0.6, bar), _BAR_FILL)
        c.painter.setPen(QPen(QColor(20, 20, 20)))
        c.painter.drawText(QRectF(x, base - bar - c.mm(text_mm + 0.3), slot, c.mm(text_mm)), above, str(n))
        c.painter.drawText(QRectF(x, base + c.mm(0.6), slot, c.mm(text_mm)), below, label)
    c.painter.setPen(QPen(_GREY, c.mm(0.2)))
    c.painter.drawLine(int(x0), int(base), int(x0 + width), int(base))


def area_rows(m: PhotoMeasures) -> list[tuple[str, str]]:
    """The areas the figures rows do not give already (the largest patch, each class but corrosion)."""
    return [(k, v) for k, v in measure_text.area_rows(m) if k not in ("Scale", "corrosion area")]


def draw_measures_section(c: Canvas, result: PhotoFigures) -> None:
    """Areas (physical with a scale) beside the patch-size histogram, then the oblique-photo note."""
    m = result.measures
    has_histogram = m.patches is not None and m.patches.count > 0
    c.ensure_space(c.mm(26 if has_histogram else 10))
    top, full = c.y, c.width
    c.width = full * (0.58 if has_histogram else 1.0)  # the rows' column; the histogram beside it
    try:
        c.rows(area_rows(m), size=9, key_width=0.36)
    finally:
        c.width = full
    left = c.y
    c.y = top
    right = top + draw_histogram(c, m.patches, full * 0.62, full * 0.38) if has_histogram else top
    c.y = max(left, right)
    note = measure_text.area_note(m)
    if note:
        c.text(note, size=7.5, color=_GREY)
    c.y += c.mm(1)


def card_lines(r: PhotoFigures, scales: Sequence[str]) -> list[str]:
    """What a batch card says beyond the grade: the distribution's evidence and the share's range."""
    m = r.measures
    lines = [] if m.distribution is None else [m.distribution.evidence]
    if m.share_range is not None:
        lines += [f"range: {figures.share_range_text(r, scale)}" for scale in scales[:1]]
    if m.mm_per_px is not None and m.corrosion_area_mm2 is not None:
        lines.append(f"corrosion {format_area(m.corrosion_area_mm2)}")
    return lines
