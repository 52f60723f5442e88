"""The photo with its overlay: zoom to fit, wheel zoom about the cursor, drag to pan, 1:1."""

from __future__ import annotations

import math
from collections.abc import Sequence

from PySide6.QtCore import QEvent, QPointF, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFocusEvent,
    QImage,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QPen,
    QWheelEvent,
)
from PySide6.QtWidgets import QFrame, QGraphicsScene, QGraphicsView, QWidget

from app.ui.display_levels import LabelsItem, Level, LevelsItem, photo_levels
from app.ui.overlay_state import OverlayState
from app.ui.qimage import qimage_to_rgb

MIN_ZOOM = 0.01
MAX_ZOOM = 32.0
FIT_FRACTION_MIN = 0.25  # zooming out stops where the photo is a quarter of the size that fits
WHEEL_STEP = 1.25  # zoom factor per wheel notch (120 units)
CRISP_FROM_ZOOM = 2.0  # from this zoom on, pixels are drawn as squares (to inspect mask edges)
FOCUS_FRAME = 2  # px: the frame drawn round the photo while it has the keyboard focus
PLACEHOLDER_TEXT = "Open a photo (Ctrl+O) or drop photos or a folder here"
BATCH_PLACEHOLDER_TEXT = (
    "Pick a row of the batch below to see its photo, overlay and figures "
    "(A / D or PgUp / PgDn step through the rows)"
)


def fit_scale(width: float, height: float, port: QRect) -> float:
    """The zoom at which a `width` x `height` picture fills `port` whole (1.0 when either is empty)."""
    if width <= 0 or height <= 0 or port.width() <= 0 or port.height() <= 0:
        return 1.0
    return min(port.width() / width, port.height() / height)


class ImageViewerWidget(QGraphicsView):
    """Shows a photo and the label overlay; colours, opacity and visibility come from `OverlayState`.

    The overlay is one indexed image of class ids whose colour table holds each class's colour at its
    opacity (transparent when hidden), so a toggle recolours the overlay and never touches the photo.
    Photo and overlay are painted from reduced copies that fit the zoom (`app.ui.display_levels`): a
    12 MP photo fitted to the window is never scaled whole on the UI thread.
    """

    zoom_changed = Signal(float)
    cursor_moved = Signal(int, int)  # photo pixel under the cursor (may lie outside the photo)
    cursor_left = Signal()

    def __init__(self, state: OverlayState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._state = state
        self._scene = QGraphicsScene(self)
        self.setScene(self._scene)
        self._photo_item = LevelsItem()
        self._overlay_item = LabelsItem()
        for z, item in enumerate((self._photo_item, self._overlay_item)):
            item.setZValue(z)
            self._scene.addItem(item)
        self._labels: QImage | None = None
        self._fit_mode = True
        self._tool = None  # an edit tool (app/ui/edit_tools.py) gets the mouse while set
        self._pan_from: QPointF | None = None
        self.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.FullViewportUpdate)
        self.setOptimizationFlag(QGraphicsView.OptimizationFlag.DontAdjustForAntialiasing, True)
        self.setBackgroundBrush(QColor(48, 48, 48))
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setAcceptDrops(False)  # the main window takes drops
        self.viewport().setMouseTracking(True)  # the cursor readout follows the mouse without a button
        self.placeholder_text = PLACEHOLDER_TEXT
        self.setAccessibleName("Photo and overlay")  # it had none
        self.zoom_changed.connect(self._update_sampling)
        state.changed.connect(self._refresh_overlay)
        state.comparing_changed.connect(self._on_comparing)

    # content ------------------------------------------------------------------------------------
    def has_photo(self) -> bool:
        return not self._photo_item.is_null()

    def set_photo(self, image: QImage, levels: Sequence[Level] | None = None) -> None:
        """Show a new photo (its overlay is cleared) and fit it to the window. `levels`, its reduced copies
        (`display_levels.photo_levels`, made in a worker), are made here when not given."""
        if levels is None:
            levels = photo_levels(qimage_to_rgb(image))
        self._photo_item.set_content(image, levels)
        self.set_labels(None)
        self._scene.setSceneRect(QRectF(0, 0, image.width(), image.height()))
        self.fit_to_window()

    def set_labels(
        self, labels: QImage | None, overlay: Sequence[Level] | None = None, color_table: tuple[int, ...] = ()
    ) -> None:
        """The class-id image (Indexed8, same size as the photo) or None for no overlay.

        `overlay`, its reduced copies composed elsewhere for `color_table` (`display_levels.overlay_levels`),
        are shown as they are when that table is still the state's; otherwise they are made when painted.
        """
        if labels is not None and labels.size() != self._photo_size():
            raise ValueError("label image and photo differ in size")
        self._labels = labels
        table = self._state.color_table()
        fresh = overlay is not None and not isinstance(overlay, QImage) and list(color_table) == table
        self._overlay_item.set_labels(labels, table, tuple(overlay) if fresh else None)
        self._overlay_item.setVisible(not self._state.comparing)

    def clear(self) -> None:
        self._photo_item.set_content(None)
        self.set_labels(None)
        self.zoom_changed.emit(self.zoom())  # no photo: the zoom's readout goes

    def _photo_size(self) -> QSize:
        return self._photo_item.full_image().size()

    def _refresh_overlay(self) -> None:
        self._overlay_item.recolor(self._state.color_table())
        self._overlay_item.setVisible(not self._state.comparing)

    def update_labels(self, labels: QImage, rect: QRect | None = None) -> None:
        """Show `labels` (same size; e.g. a view of an edited map) redrawing only `rect` of the overlay
        (the full-size overlay is coloured at paint time, only where visible)."""
        if labels.size() != self._photo_size():
            raise ValueError("label image and photo differ in size")
        self._labels = labels
        if self._overlay_item.is_null():
            self.set_labels(labels)
            return
        self._overlay_item.labels_changed(labels, None if rect is None else rect.intersected(labels.rect()))

    # edit tools ---------------------------------------------------------------------------------
    def set_tool(self, tool) -> None:
        """Give the mouse to `tool` (press/move/release with scene points; see `edit_tools.Tool`), or back
        to pan and zoom with None."""
        if self._tool is not None:
            self._tool.deactivate(self)
        self._tool = tool
        self.setDragMode(QGraphicsView.DragMode.NoDrag if tool else QGraphicsView.DragMode.ScrollHandDrag)
        if tool is not None:
            tool.activate(self)
        else:
            self.viewport().unsetCursor()

    @property
    def tool(self):
        return self._tool

    def _tool_event(self, kind: str, event: QMouseEvent) -> bool:
        if self._tool is None or not self.has_photo():
            return False
        if self._middle_pan(kind, event):
            return True
        handled = getattr(self._tool, kind)(self, self.mapToScene(event.position().toPoint()), event)
        if handled:
            event.accept()
        return bool(handled)

    def _middle_pan(self, kind: str, event: QMouseEvent) -> bool:
        """With a tool set, the middle button still pans."""
        middle = Qt.MouseButton.MiddleButton
        if kind == "press" and event.button() == middle:
            self._pan_from = event.position()
        elif kind == "move" and self._pan_from is not None and event.buttons() & middle:
            delta = event.position() - self._pan_from
            self._pan_from = event.position()
            self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() - round(delta.x()))
            self.verticalScrollBar().setValue(self.verticalScrollBar().value() - round(delta.y()))
        elif kind == "release" and event.button() == middle:
            self._pan_from = None
        else:
            return False
        event.accept()
        return True

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if not self._tool_event("press", event):
            super().mousePressEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if not self._tool_event("release", event):
            super().mouseReleaseEvent(event)

    def _update_sampling(self, zoom: float) -> None:
        mode = (
            Qt.TransformationMode.FastTransformation
            if zoom >= CRISP_FROM_ZOOM
            else Qt.TransformationMode.SmoothTransformation
        )
        for item in (self._photo_item, self._overlay_item):
            if item.transformationMode() != mode:
                item.setTransformationMode(mode)

    def _on_comparing(self, comparing: bool) -> None:
        self._overlay_item.setVisible(not comparing)

    def rendered_image(self) -> QImage:
        """The photo with the overlay as shown, at 1:1 (what the user sees, without zoom)."""
        rect = self._scene.sceneRect()
        image = QImage(int(rect.width()), int(rect.height()), QImage.Format.Format_RGB32)
        image.fill(Qt.GlobalColor.black)
        painter = QPainter(image)
        self._scene.render(painter, QRectF(image.rect()), rect)
        painter.end()
        return image

    # zoom and pan -------------------------------------------------------------------------------
    def zoom(self) -> float:
        return self.transform().m11()

    def fit_to_window(self) -> None:
        self._fit_mode = True
        if self.has_photo():
            self.fitInView(self._photo_item, Qt.AspectRatioMode.KeepAspectRatio)
            self.zoom_changed.emit(self.zoom())

    def zoom_actual_size(self) -> None:
        """1:1: one photo pixel per screen pixel, centred where the view was."""
        self._fit_mode = False
        center = self.mapToScene(self.viewport().rect().center())
        self.resetTransform()
        self.centerOn(center)
        self.zoom_changed.emit(self.zoom())

    def min_zoom(self) -> float:
        """The lowest zoom: the photo at a quarter of the size that fits the view (lower, a camera-size
        photo shrank to a dot far away from where it was lost)."""
        if not self.has_photo():
            return MIN_ZOOM
        rect = self._photo_item.boundingRect()
        fit = fit_scale(rect.width(), rect.height(), self.viewport().rect())
        return max(MIN_ZOOM, fit * FIT_FRACTION_MIN)

    def zoom_by(self, factor: float, anchor: QPointF | None = None) -> None:
        """Zoom by `factor`, keeping the scene point under `anchor` (viewport coords) in place."""
        target = min(MAX_ZOOM, max(self.min_zoom(), self.zoom() * factor))
        factor = target / self.zoom()
        if abs(factor - 1.0) < 1e-9:
            return
        self._fit_mode = False
        if anchor is None:
            anchor = QPointF(self.viewport().rect().center())
        before = self.mapToScene(anchor.toPoint())
        old_anchor = self.transformationAnchor()
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.NoAnchor)
        self.scale(factor, factor)
        after = self.mapToScene(anchor.toPoint())
        delta = after - before
        self.translate(delta.x(), delta.y())
        self.setTransformationAnchor(old_anchor)
        self.zoom_changed.emit(self.zoom())

    # cursor and the empty canvas ----------------------------------------------------------------
    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if not self._tool_event("move", event):
            super().mouseMoveEvent(event)  # keeps drag-to-pan
        if self.has_photo():
            at = self.mapToScene(event.position().toPoint())
            self.cursor_moved.emit(math.floor(at.x()), math.floor(at.y()))

    def leaveEvent(self, event: QEvent) -> None:
        super().leaveEvent(event)
        self.cursor_left.emit()

    def set_placeholder(self, text: str) -> None:
        """What the empty canvas says to do next."""
        self.placeholder_text = text
        self.viewport().update()

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        if not self.has_photo() and self.placeholder_text:
            painter = QPainter(self.viewport())
            painter.setPen(QColor(200, 200, 200))
            font = painter.font()
            font.setPointSizeF(font.pointSizeF() * 1.3)
            painter.setFont(font)
            flags = Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap
            painter.drawText(self.viewport().rect().adjusted(20, 20, -20, -20), flags, self.placeholder_text)
            painter.end()
        if self.hasFocus():  # a Tab stop shows that it has the keyboard (arrows, +/-): a frame
            painter = QPainter(self.viewport())
            pen = QPen(self.palette().color(QPalette.ColorRole.Highlight), FOCUS_FRAME)
            pen.setJoinStyle(Qt.PenJoinStyle.MiterJoin)
            painter.setPen(pen)
            painter.drawRect(QRectF(self.viewport().rect()).adjusted(1, 1, -1, -1))
            painter.end()

    def focusInEvent(self, event: QFocusEvent) -> None:
        super().focusInEvent(event)
        self.viewport().update()

    def focusOutEvent(self, event: QFocusEvent) -> None:
        super().focusOutEvent(event)
        self.viewport().update()

    def wheelEvent(self, event: QWheelEvent) -> None:
        steps = event.angleDelta().y() / 120.0
        if steps and self.has_photo():
            self.zoom_by(WHEEL_STEP**steps, event.position())
            event.accept()
        else:
            super().wheelEvent(event)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self._fit_mode:
            self.fit_to_window()
