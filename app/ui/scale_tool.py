"""A photo's scale: the line the user draws over a known length, the mm/px kept per photo, the scale bar.

The line tool follows the viewer's tool protocol (`activate`, `deactivate`, `press`, `move`, `release`
with scene points, which are photo pixels), like the edit tools.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QLineF, QObject, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QPainter, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsLineItem, QGraphicsView, QStyleOptionGraphicsItem

from app.core.physical import check_scale
from app.core.scale_bar import ScaleBar, scale_bar

LINE_COLOR = QColor(0, 220, 255)
SCALE_Z = 20  # above the overlay and the layers


class ScaleState(QObject):
    """mm per pixel per photo, kept while the app runs (a project stores it with its results)."""

    changed = Signal(object)  # the photo's Path

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._scales: dict[Path, float] = {}

    def scale_for(self, path: Path | None) -> float | None:
        return None if path is None else self._scales.get(Path(path))

    def set_scale(self, path: Path, mm_per_px: float | None) -> None:
        """Set (a positive mm/px; `ScaleError` otherwise) or clear (None) the scale of one photo."""
        path = Path(path)
        if mm_per_px is None:
            if self._scales.pop(path, None) is not None:
                self.changed.emit(path)
            return
        value = check_scale(mm_per_px)
        if self._scales.get(path) != value:
            self._scales[path] = value
            self.changed.emit(path)


def on_photo(viewer: QGraphicsView, at: QPointF) -> QPointF:
    """`at` kept within the photo (the scene): a line dragged past its edge measured photo that is not
    there (7,286 px on a photo whose diagonal is 7,211)."""
    rect = viewer.scene().sceneRect()
    return QPointF(min(max(at.x(), rect.left()), rect.right()), min(max(at.y(), rect.top()), rect.bottom()))


class ScaleLineTool:
    """Press, drag and release the left button along a known length; `drawn(start, end)` follows."""

    def __init__(self, drawn: Callable[[QPointF, QPointF], None]) -> None:
        self._drawn = drawn
        self._start: QPointF | None = None
        self.item: QGraphicsLineItem | None = None

    @property
    def length(self) -> float:
        """The line's length in photo pixels (0 before one is drawn)."""
        return 0.0 if self.item is None else self.item.line().length()

    def activate(self, viewer: QGraphicsView) -> None:
        viewer.viewport().setCursor(Qt.CursorShape.CrossCursor)

    def deactivate(self, viewer: QGraphicsView) -> None:
        self._start = None
        viewer.viewport().unsetCursor()

    def clear(self) -> None:
        if self.item is not None and self.item.scene() is not None:
            self.item.scene().removeItem(self.item)
        self.item = None

    def press(self, viewer: QGraphicsView, at: QPointF, event) -> bool:
        if event.button() != Qt.MouseButton.LeftButton:
            return False
        self.clear()
        at = on_photo(viewer, at)
        self._start = QPointF(at)
        self.item = QGraphicsLineItem(QLineF(at, at))
        pen = QPen(LINE_COLOR, 2)
        pen.setCosmetic(True)  # 2 screen pixels at any zoom
        self.item.setPen(pen)
        self.item.setZValue(SCALE_Z)
        viewer.scene().addItem(self.item)
        return True

    def move(self, viewer: QGraphicsView, at: QPointF, event) -> bool:
        if self._start is None or self.item is None:
            return False
        self.item.setLine(QLineF(self._start, on_photo(viewer, at)))
        return True

    def release(self, viewer: QGraphicsView, at: QPointF, event) -> bool:
        if self._start is None or self.item is None or event.button() != Qt.MouseButton.LeftButton:
            return False
        start, self._start = self._start, None
        end = on_photo(viewer, at)
        self.item.setLine(QLineF(start, end))
        self._drawn(start, end)
        return True


class ScaleBarItem(QGraphicsItem):
    """A round length drawn at the photo's lower left, in photo pixels (it zooms with the photo)."""

    def __init__(self) -> None:
        super().__init__()
        self.bar: ScaleBar | None = None
        self._photo = QRectF()
        self.setZValue(SCALE_Z)

    def set_scale(self, mm_per_px: float | None, photo_size: tuple[int, int]) -> None:
        """Show the bar for `mm_per_px` on a photo of (width, height); hide it with None."""
        self.prepareGeometryChange()
        self._photo = QRectF(0, 0, *photo_size)
        self.bar = None if mm_per_px is None or photo_size[0] <= 0 else scale_bar(mm_per_px, photo_size[0])
        self.setVisible(self.bar is not None)

    def _unit(self) -> float:
        return max(2.0, min(self._photo.width(), self._photo.height()) / 60.0)

    def boundingRect(self) -> QRectF:
        if self.bar is None:
            return QRectF()
        u = self._unit()
        return QRectF(u, self._photo.height() - 6 * u, self.bar.pixels + 2 * u, 5 * u)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget=None) -> None:
        if self.bar is None:
            return
        u = self._unit()
        box = self.boundingRect()
        painter.fillRect(box, QColor(0, 0, 0, 150))
        bar = QRectF(box.left() + u, box.bottom() - 1.8 * u, self.bar.pixels, 0.8 * u)
        painter.fillRect(bar, QColor(255, 255, 255))
        font = QFont(painter.font())
        font.setPixelSize(max(1, math.floor(1.8 * u)))
        painter.setFont(font)
        painter.setPen(QColor(255, 255, 255))
        text = QRectF(bar.left(), box.top() + 0.3 * u, bar.width() + u, 2.6 * u)
        painter.drawText(text, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, self.bar.label)
