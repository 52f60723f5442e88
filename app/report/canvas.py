"""The drawing surface of the PDF reports: QPdfWriter + QPainter with a cursor that moves down the page
(QtGui only: no widgets, works offscreen)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QMarginsF, QRectF, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetricsF,
    QGuiApplication,
    QImage,
    QPageLayout,
    QPageSize,
    QPainter,
    QPdfWriter,
    QPen,
    QTextOption,
)

import app
from app.core.palette import ClassInfo
from app.core.report_header import ReportHeader, time_text
from app.core.text import PATH_LIMIT, safe_text
from app.report import page_header

DPI = 150
MARGIN_MM = 15.0
MAX_IMAGE_SIDE = 1600  # photos are downscaled to this before embedding: sharp on A4, small files
KEY_WIDTH = 0.42  # of the page: the key column of key/value rows
_app_ref: QGuiApplication | None = None


def ensure_gui_app() -> None:
    """QPainter needs fonts, so a QGuiApplication. Where the process has none yet (the command line),
    make one on the offscreen platform whatever the environment says: a report needs no display, and a
    DISPLAY set but unreachable (or QT_QPA_PLATFORM=xcb without an X server) made Qt abort the whole
    batch (SIGABRT, no CSV). The window's own application, when there is one, is left as it is."""
    global _app_ref
    if QGuiApplication.instance() is not None:
        return
    # `-platform` on the command line wins over QT_QPA_PLATFORM, and leaves the environment as it was
    # for anything this process starts.
    _app_ref = QGuiApplication(["corroscope-report", "-platform", "offscreen"])


_UNIT_SPACE = re.compile(r"(?<=\d) (?=(?:%|mm|cm|m²|m\b|px|s\b|points\b))")
_WORD_HYPHEN = re.compile(r"(?<=[^\W\d_])-(?=[^\W\d_])")


def unbreakable(text: str) -> str:
    """`text` with a no-break space between a number and its unit and a no-break hyphen inside a word
    ("cut-off"), so that a wrapped line never ends in "50" with "%" on the next one. Paths and file
    names keep their characters (they are copied from the report)."""
    text = _UNIT_SPACE.sub("\u00a0", text)
    words = re.split(r"(\s+)", text)
    return "".join(w if re.search(r"[/\\.]", w) else _WORD_HYPHEN.sub("\u2011", w) for w in words)


def now_text() -> str:
    return time_text()


def rgb_qimage(rgb: np.ndarray, max_side: int = MAX_IMAGE_SIDE) -> QImage:
    """uint8 HxWx3 -> QImage, downscaled so its long side is at most `max_side`."""
    rgb = np.ascontiguousarray(rgb)
    h, w = rgb.shape[:2]
    image = QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()
    if max(h, w) > max_side:
        image = image.scaled(
            max_side,
            max_side,
            Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.SmoothTransformation,
        )
    return image


@dataclass
class Canvas:
    """A painter on a page with a cursor `y` that moves down as blocks are drawn (device pixels)."""

    writer: QPdfWriter
    painter: QPainter
    width: float
    height: float
    y: float = 0.0
    page: int = 1
    note: str = ""  # said in every page's footer, left of the page number (the model's typical error)
    header: Sequence[tuple[str, str]] = ()  # (label, value) printed at the top of every page

    @classmethod
    def open(cls, buffer: QBuffer, title: str) -> Canvas:
        writer = QPdfWriter(buffer)
        # it names a photo or an asset, and pdfinfo or exiftool print it raw: escaped as the page escapes
        writer.setTitle(safe_text(title, PATH_LIMIT))
        writer.setCreator(f"Corroscope {app.__version__}")
        writer.setResolution(DPI)
        writer.setPageLayout(
            QPageLayout(
                QPageSize(QPageSize.PageSizeId.A4),
                QPageLayout.Orientation.Portrait,
                QMarginsF(MARGIN_MM, MARGIN_MM, MARGIN_MM, MARGIN_MM),
                QPageLayout.Unit.Millimeter,
            )
        )
        painter = QPainter(writer)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        rect = writer.pageLayout().paintRectPixels(DPI)
        return cls(writer, painter, float(rect.width()), float(rect.height()))

    def mm(self, value: float) -> float:
        return value * DPI / 25.4

    def font(self, size: float, bold: bool = False, mono: bool = False) -> QFont:
        font = QFont("DejaVu Sans Mono" if mono else "DejaVu Sans")
        if mono:
            font.setStyleHint(QFont.StyleHint.Monospace)
        # no "ff"/"fi" ligature glyphs: text copied or searched out of the PDF is the text written (a
        # file name, an asset ID)
        font.setFeature(QFont.Tag("liga"), 0)
        font.setPointSizeF(size)
        font.setBold(bold)
        self.painter.setFont(font)
        return font

    def line_height(self) -> float:
        return QFontMetricsF(self.painter.font(), self.writer).height()

    def ensure_space(self, needed: float) -> None:
        if self.y + needed > self.height - self.mm(10):
            self.new_page()

    def new_page(self) -> None:
        self.footer()
        self.writer.newPage()
        self.page += 1
        self.y = 0.0
        self.page_header()

    def page_header(self) -> None:
        """The inspection's asset ID, location, client, inspector and date (or what `header` holds),
        small, above a rule; a few lines at most (`page_header.layout`)."""
        if not self.header:
            return
        self.font(7.5)
        self.painter.setPen(QPen(QColor(60, 60, 60)))
        self.y += page_header.draw(self.painter, self.writer, self.header, self.y, self.width)
        self.painter.setPen(QPen(QColor(190, 190, 190), self.mm(0.15)))
        self.painter.drawLine(0, int(self.y + self.mm(0.8)), int(self.width), int(self.y + self.mm(0.8)))
        self.y += self.mm(2.5)

    def wrapped(self, rect: QRectF, text: str, draw: bool = True) -> float:
        """Draw `text` in the current font wrapping within `rect`'s width at word boundaries (a word wider
        than the whole width, a SHA-256 or a path, is the only one broken); returns its height."""
        text = unbreakable(text)
        option = QTextOption(Qt.AlignmentFlag.AlignLeft)
        option.setWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
        bound = self.painter.boundingRect(QRectF(rect.x(), rect.y(), rect.width(), 10_000), text, option)
        if draw:
            self.painter.drawText(QRectF(rect.x(), rect.y(), rect.width(), bound.height() + 2), text, option)
        return bound.height()

    def text(
        self,
        text: str,
        size: float = 10,
        bold: bool = False,
        mono: bool = False,
        x: float = 0.0,
        color: QColor | None = None,
    ) -> None:
        """A paragraph that wraps within the page width; moves the cursor below it."""
        self.font(size, bold, mono)
        self.painter.setPen(QPen(color or QColor(20, 20, 20)))
        height = self.wrapped(QRectF(x, self.y, self.width - x, 0), text, draw=False)
        self.ensure_space(height)
        self.font(size, bold, mono)  # a new page's footer changed the font
        self.painter.setPen(QPen(color or QColor(20, 20, 20)))
        self.wrapped(QRectF(x, self.y, self.width - x, 0), text)
        self.y += height + self.mm(1)

    def _row_height(self, key: str, value: str, size: float, kw: float) -> float:
        self.font(size, bold=True)
        kh = self.wrapped(QRectF(0, 0, kw - self.mm(2), 0), key, draw=False)
        self.font(size)
        return max(kh, self.wrapped(QRectF(0, 0, self.width - kw, 0), value, draw=False))

    def paragraph_height(self, text: str, size: float = 10, bold: bool = False, x: float = 0.0) -> float:
        """The height `text(text, size, bold, x=x)` moves the cursor by."""
        self.font(size, bold)
        return self.wrapped(QRectF(x, 0, self.width - x, 0), text, draw=False) + self.mm(1)

    def rows_height(
        self, rows: Sequence[tuple[str, str]], size: float = 9.5, key_width: float = KEY_WIDTH
    ) -> float:
        """The height `rows(rows, size, key_width)` takes on one page."""
        kw = self.width * key_width
        return sum(self._row_height(k, v, size, kw) + self.mm(0.8) for k, v in rows)

    def heading(self, title: str, size: float = 11, then: float = 0.0, color: QColor | None = None) -> None:
        """A bold heading on the same page as the `then` device pixels that follow it (its first lines or
        rows): a heading is never left alone at the foot of a page. More than a page flows as it must."""
        needed = self.paragraph_height(title, size, bold=True) + then
        if needed < self.height - self.mm(20):
            self.ensure_space(needed)
        self.text(title, size=size, bold=True, color=color)

    def section(
        self, title: str, rows: Sequence[tuple[str, str]], size: float = 9.5, title_size: float = 11
    ) -> None:
        """A heading and its key/value rows kept on one page (a short section never leaves a row or two
        alone on the next page)."""
        self.heading(title, title_size, then=self.rows_height(rows, size))
        self.rows(rows, size=size)

    def rows(self, rows: Sequence[tuple[str, str]], size: float = 9.5, key_width: float = KEY_WIDTH) -> None:
        """Two-column key/value rows, each wrapping in its column at word boundaries."""
        kw = self.width * key_width
        for key, value in rows:
            h = self._row_height(key, value, size, kw)
            self.ensure_space(h)
            self.painter.setPen(QPen(QColor(20, 20, 20)))
            self.font(size, bold=True)
            self.wrapped(QRectF(0, self.y, kw - self.mm(2), 0), key)
            self.font(size)
            self.wrapped(QRectF(kw, self.y, self.width - kw, 0), value)
            self.y += h + self.mm(0.8)

    def table_row_height(self, size: float = 8.0) -> float:
        """The height of one row of `table(..., size=size)`."""
        self.font(size)
        return self.line_height() * 1.35

    def table(
        self, header: Sequence[str], body: Sequence[Sequence[str]], widths: Sequence[float], size: float = 8.0
    ) -> None:
        """A table whose header repeats on every page; `widths` are fractions of the page width."""
        xs = [0.0]
        for w in widths:
            xs.append(xs[-1] + w * self.width)
        row_h = self.table_row_height(size)

        def draw_row(cells: Sequence[str], bold: bool, shade: bool) -> None:
            self.ensure_space(row_h)
            if shade:
                self.painter.fillRect(QRectF(0, self.y, self.width, row_h), QColor(242, 242, 242))
            self.font(size, bold=bold)
            self.painter.setPen(QPen(QColor(20, 20, 20)))
            for i, cell in enumerate(cells):
                rect = QRectF(xs[i] + self.mm(0.8), self.y, xs[i + 1] - xs[i] - self.mm(1.6), row_h)
                elided = QFontMetricsF(self.painter.font(), self.writer).elidedText(
                    cell, Qt.TextElideMode.ElideMiddle, rect.width()
                )
                self.painter.drawText(rect, int(Qt.AlignmentFlag.AlignVCenter), elided)
            self.y += row_h

        self.ensure_space(row_h * (2 if body else 1))  # the header never alone at the foot of a page
        draw_row(header, True, False)
        for n, cells in enumerate(body):
            if self.y + row_h > self.height - self.mm(10):
                self.new_page()
                draw_row(header, True, False)
            draw_row(cells, False, n % 2 == 1)
        self.y += self.mm(2)

    def image(self, image: QImage, x: float, width: float, max_height: float, caption: str) -> float:
        """Draw `image` scaled into `width` x `max_height` at (x, y); returns the height used."""
        scale = min(width / image.width(), max_height / image.height())
        w, h = image.width() * scale, image.height() * scale
        self.painter.drawImage(QRectF(x, self.y, w, h), image)
        self.painter.setPen(QPen(QColor(90, 90, 90)))
        self.painter.drawRect(QRectF(x, self.y, w, h))
        self.font(8)
        # the caption has the column's width: a tall, narrow photo is drawn narrow, its caption whole
        self.painter.drawText(QRectF(x, self.y + h + self.mm(0.5), width, self.mm(5)), caption)
        return h + self.mm(6)

    def legend(self, classes: Sequence[ClassInfo]) -> None:
        """Colour and name of each class drawn in the overlay (hidden classes are left out)."""
        self.font(9)
        x = 0.0
        box = self.mm(3.5)
        fm = QFontMetricsF(self.painter.font(), self.writer)
        for c in classes:
            self.painter.fillRect(QRectF(x, self.y, box, box), QColor(*c.color))
            self.painter.setPen(QPen(QColor(20, 20, 20)))
            self.painter.drawText(
                QRectF(x + box + self.mm(1), self.y - self.mm(0.5), self.mm(40), box + self.mm(1)),
                int(Qt.AlignmentFlag.AlignVCenter),
                c.name,
            )
            x += box + self.mm(3) + fm.horizontalAdvance(c.name)
        self.y += box + self.mm(3)

    def rule(self) -> None:
        self.painter.setPen(QPen(QColor(160, 160, 160), self.mm(0.2)))
        self.painter.drawLine(0, int(self.y), int(self.width), int(self.y))
        self.y += self.mm(2)

    def footer(self) -> None:
        """The note (left, wrapping) and "Corroscope <version> · page N" (right) at the page's foot; the
        note ends where the page label's own width starts, whatever the number's digits."""
        self.font(7.5)
        self.painter.setPen(QPen(QColor(110, 110, 110)))
        label = f"Corroscope {app.__version__} · page {self.page}"
        label_w = QFontMetricsF(self.painter.font(), self.writer).horizontalAdvance(label)
        if self.note:
            self.font(6.5)
            flags = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom | Qt.TextFlag.TextWordWrap
            box = QRectF(0, self.height - self.mm(7), self.width - label_w - self.mm(4), self.mm(7))
            self.painter.drawText(box, int(flags), self.note)
            self.font(7.5)
        self.painter.drawText(
            QRectF(0, self.height - self.mm(5), self.width, self.mm(5)),
            int(Qt.AlignmentFlag.AlignRight),
            label,
        )

    def close(self) -> None:
        self.footer()
        self.painter.end()


def render(draw, title: str, header: ReportHeader | Sequence[tuple[str, str]] | None = None) -> bytes:
    """Run `draw(canvas)` into an in-memory PDF and return its bytes; `header` tops every page (an
    inspection's `ReportHeader`, or other (label, value) pairs: a trend report's asset)."""
    ensure_gui_app()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    canvas = Canvas.open(buffer, title)
    canvas.header = header.items() if isinstance(header, ReportHeader) else tuple(header or ())
    try:
        canvas.page_header()
        draw(canvas)
    finally:
        canvas.close()
        buffer.close()
    return bytes(data.data())
