"""The reports' pages as images (the same drawing code, onto A4-sized QImages): for the user guide's
pictures and for looking at a report without a PDF viewer."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QColor, QImage, QPainter

from app.report.canvas import DPI, MARGIN_MM, Canvas, ensure_gui_app

A4_MM = (210.0, 297.0)


class _PageImage(QImage):
    """A page that stands in for the PDF writer: `newPage` keeps a copy and starts a blank one."""

    def __init__(self, width: int, height: int) -> None:
        super().__init__(width, height, QImage.Format.Format_RGB32)
        dots_per_metre = round(DPI / 0.0254)  # text is laid out as in the PDF
        self.setDotsPerMeterX(dots_per_metre)
        self.setDotsPerMeterY(dots_per_metre)
        self.fill(QColor("white"))
        self.pages: list[QImage] = []

    def newPage(self) -> bool:
        self.pages.append(self.copy())
        self.fill(QColor("white"))
        return True


def render_page_images(draw: Callable[[Canvas], None]) -> list[QImage]:
    """Run `draw(canvas)` onto A4 pages at the report's resolution, margins included."""
    ensure_gui_app()
    mm = DPI / 25.4
    page = _PageImage(round(A4_MM[0] * mm), round(A4_MM[1] * mm))
    inner_w, inner_h = (A4_MM[0] - 2 * MARGIN_MM) * mm, (A4_MM[1] - 2 * MARGIN_MM) * mm
    painter = QPainter(page)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
    painter.translate(MARGIN_MM * mm, MARGIN_MM * mm)
    canvas = Canvas(page, painter, inner_w, inner_h)  # type: ignore[arg-type]  # duck-typed writer
    try:
        draw(canvas)
    finally:
        canvas.close()
    return [*page.pages, page.copy()]
