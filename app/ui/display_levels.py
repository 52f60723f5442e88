"""Reduced copies of a large photo and its overlay for the viewer, and the scene item that paints them.

A 12 MP photo fitted to a window shows about one pixel in five; painting it from the full image made Qt
scale 12 MP on the UI thread at every repaint. The worker makes halved copies (a small mipmap pyramid);
the item paints the smallest copy that still has at least one pixel per screen pixel, and the full image
(only its visible part) once the zoom needs it. The level builders are safe on worker threads (QImage
only, never QPixmap).
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
from PySide6.QtCore import QRect, QRectF, Qt
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem

from app.ui.qimage import colour_by_table, rgb_to_qimage

MIN_LEVEL_SIDE = 256  # no reduced copy below this many pixels on its shorter side
MAX_FACTOR = 16

Level = tuple[int, QImage]  # (reduction factor k: the copy is the full size // k, the image)


def level_factors(width: int, height: int) -> tuple[int, ...]:
    """The reduction factors (2, 4, 8, ...) worth a copy for a photo of this size."""
    factors, k = [], 2
    while k <= MAX_FACTOR and min(width, height) // k >= MIN_LEVEL_SIDE:
        factors.append(k)
        k *= 2
    return tuple(factors)


def photo_levels(rgb: np.ndarray) -> tuple[Level, ...]:
    """Halved copies of a uint8 HxWx3 photo, each area-averaged from the one before (2x2 boxes)."""
    h, w = rgb.shape[:2]
    levels, current = [], rgb
    for k in level_factors(w, h):
        current = cv2.resize(current, (w // k, h // k), interpolation=cv2.INTER_AREA)
        levels.append((k, rgb_to_qimage(current)))
    return tuple(levels)


def value_levels(values: np.ndarray, table: Sequence[int]) -> tuple[Level, ...]:
    """Halved copies of a uint8 HxW layer (area-averaged like `photo_levels`), each coloured by `table`."""
    h, w = values.shape
    levels, current = [], values
    for k in level_factors(w, h):
        current = cv2.resize(current, (w // k, h // k), interpolation=cv2.INTER_AREA)
        levels.append((k, colour_by_table(current, table)))
    return tuple(levels)


def _label_sample(labels: np.ndarray, k: int, rows: slice, cols: slice) -> np.ndarray:
    """Level k's class ids (the full map's pixel nearest each copy pixel's centre) for its rows and cols."""
    h, w = labels.shape[0] // k, labels.shape[1] // k
    r0, r1, _ = rows.indices(h)
    c0, c1, _ = cols.indices(w)
    off = k // 2
    return np.ascontiguousarray(labels[off + r0 * k : off + r1 * k : k, off + c0 * k : off + c1 * k : k])


def overlay_levels(labels: np.ndarray, color_table: Sequence[int]) -> tuple[Level, ...]:
    """The overlay (class ids through `color_table`, premultiplied ARGB) at each reduced size."""
    h, w = labels.shape
    levels = []
    for k in level_factors(w, h):
        levels.append((k, colour_by_table(_label_sample(labels, k, slice(None), slice(None)), color_table)))
    return tuple(levels)


def repaint_overlay_levels(
    levels: Sequence[Level], labels: np.ndarray, color_table: Sequence[int], rect: QRect | None = None
) -> None:
    """Redraw `rect` (full-size pixels; None: all) of each overlay copy from `labels` (an edit, a toggle)."""
    h, w = labels.shape
    rect = QRect(0, 0, w, h) if rect is None else rect
    for k, image in levels:
        r0, c0 = rect.top() // k, rect.left() // k
        r1, c1 = -(-(rect.bottom() + 1) // k), -(-(rect.right() + 1) // k)
        ids = _label_sample(labels, k, slice(r0, r1), slice(c0, c1))
        if ids.size == 0:
            continue
        painter = QPainter(image)
        painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_Source)
        painter.drawImage(c0, r0, colour_by_table(ids, color_table))
        painter.end()


class LevelsItem(QGraphicsItem):
    """A full-size image in the scene, painted from the reduced copy that fits the zoom.

    Scene units are full-size pixels whatever copy is painted, so hit tests, tools and the cursor readout
    are unchanged. The full image is painted only where exposed, and only when no copy has enough pixels.
    """

    def __init__(self) -> None:
        super().__init__()
        self._full = QImage()
        self._levels: tuple[Level, ...] = ()
        self._mode = Qt.TransformationMode.SmoothTransformation
        self.last_painted_factor = 0  # which copy the last paint used (1: the full image)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption, True)

    def set_content(self, full: QImage | None, levels: Sequence[Level] = ()) -> None:
        """The full-size image (None: nothing) and its reduced copies, largest first or any order."""
        self.prepareGeometryChange()
        self._full = QImage() if full is None else full
        self._levels = tuple(sorted(levels, key=lambda level: level[0]))
        self.update()

    def full_image(self) -> QImage:
        return self._full

    def levels(self) -> tuple[Level, ...]:
        return self._levels

    def is_null(self) -> bool:
        return self._full.isNull()

    def transformationMode(self) -> Qt.TransformationMode:  # QGraphicsPixmapItem's names
        return self._mode

    def setTransformationMode(self, mode: Qt.TransformationMode) -> None:
        self._mode = mode
        self.update()

    def boundingRect(self) -> QRectF:
        return QRectF(0, 0, self._full.width(), self._full.height())

    def factor_for(self, zoom: float) -> int:
        """The largest reduction whose copy still has a pixel per screen pixel at `zoom` (1: the full)."""
        best = 1
        for k, _image in self._levels:
            if k * zoom <= 1.0 + 1e-9:
                best = k
        return best

    def draw_full(self, painter: QPainter, rect: QRect) -> None:
        """Paint the full image's pixels in `rect` (full-size pixels) where they lie."""
        painter.drawImage(QRectF(rect), self._full, QRectF(rect))

    def prepare_level(self, k: int) -> None:
        """Called before copy `k` (1: the full image) is painted."""

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget=None) -> None:
        if self._full.isNull():
            return
        zoom = QStyleOptionGraphicsItem.levelOfDetailFromTransform(painter.worldTransform())
        device = painter.device()
        if device is not None:  # a high-DPI screen shows more pixels than the transform says
            zoom *= device.devicePixelRatioF()
        exposed = option.exposedRect.intersected(self.boundingRect())
        if exposed.isEmpty():
            return
        smooth = self._mode == Qt.TransformationMode.SmoothTransformation
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, smooth)
        k = self.factor_for(zoom)
        self.last_painted_factor = k
        self.prepare_level(k)
        if k == 1:
            self.draw_full(painter, exposed.toAlignedRect().intersected(self._full.rect()))
            return
        image = dict(self._levels)[k]
        sx = image.width() / self._full.width()  # a copy is full // k: its pixels span the whole
        sy = image.height() / self._full.height()
        source = QRectF(exposed.x() * sx, exposed.y() * sy, exposed.width() * sx, exposed.height() * sy)
        painter.drawImage(exposed, image, source)


def label_array(image: QImage) -> np.ndarray:
    """The uint8 class ids of an Indexed8 image (`labels_view`'s own array when it has one)."""
    array = getattr(image, "_array", None)
    if array is not None:
        return array
    h, w = image.height(), image.width()
    buf = np.frombuffer(image.constBits(), dtype=np.uint8, count=image.sizeInBytes())
    return buf.reshape(h, image.bytesPerLine())[:, :w]


LAZY_SHARE = 4  # an edit over more than 1/LAZY_SHARE of the map leaves the copies to be redone when painted


class LabelsItem(LevelsItem):
    """The class overlay: an Indexed8 label image coloured by the overlay's table. At full size only the
    exposed part is coloured, at each paint, so an edit of the label array shows at once; a reduced copy
    is recoloured when it is next painted after a toggle, and where an edit touched it."""

    def __init__(self) -> None:
        super().__init__()
        self._array: np.ndarray | None = None
        self._table: tuple[int, ...] = ()
        self._dirty: set[int] = set()

    def set_labels(
        self, image: QImage | None, table: Sequence[int], levels: Sequence[Level] | None = None
    ) -> None:
        """New labels (None: no overlay); `levels`, copies already coloured for `table`, or None."""
        if image is None:
            self._array, self._dirty = None, set()
            self.set_content(None)
            return
        self._array = label_array(image)
        self._table = tuple(table)
        if levels is None:
            w, h = image.width(), image.height()
            fmt = QImage.Format.Format_ARGB32_Premultiplied
            levels = tuple((k, QImage(w // k, h // k, fmt)) for k in level_factors(w, h))
            dirty = {k for k, _ in levels}
        else:
            dirty = set()
        self.set_content(image, levels)
        self._dirty = dirty

    def recolor(self, table: Sequence[int]) -> None:
        """A new colour table (a class toggled, an opacity moved): the copies are redone when painted."""
        self._table = tuple(table)
        self._dirty = {k for k, _ in self._levels}
        self.update()

    def labels_changed(self, image: QImage, rect: QRect | None) -> None:
        """`image` (same size) holds the labels now; only `rect` of them changed (None: any)."""
        self._full = image
        self._array = label_array(image)
        whole = image.width() * image.height()
        if rect is None or rect.width() * rect.height() * LAZY_SHARE > whole:
            # most of the map changed (a fill, its undo): each copy is redone when next painted, so one
            # paint recolours the one copy it shows, not all four (1.3 s on the UI thread at 50 MP)
            self._dirty = {k for k, _ in self._levels}
        elif not rect.isEmpty():
            clean = [level for level in self._levels if level[0] not in self._dirty]
            repaint_overlay_levels(clean, self._array, self._table, rect)
        self.update()

    def prepare_level(self, k: int) -> None:
        if k in self._dirty and self._array is not None:
            repaint_overlay_levels([(k, dict(self._levels)[k])], self._array, self._table)
            self._dirty.discard(k)

    def draw_full(self, painter: QPainter, rect: QRect) -> None:
        if rect.isEmpty():
            return
        assert self._array is not None
        ids = self._array[rect.top() : rect.bottom() + 1, rect.left() : rect.right() + 1]
        region = colour_by_table(np.ascontiguousarray(ids), self._table)
        painter.drawImage(QRectF(rect), region, QRectF(region.rect()))
