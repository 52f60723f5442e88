"""The viewer's edit tools: brush and eraser, polygon/lasso fill, flood fill, smart select, select similar.

The viewer hands a tool its mouse events with the scene point (photo pixels) while the tool is set
(`ImageViewerWidget.set_tool`); a tool draws its own preview items in the scene and asks the
`EditController` to change the map.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QMouseEvent, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsEllipseItem, QGraphicsPathItem, QGraphicsRectItem, QGraphicsView

from app.core.smart_select import Marks
from app.ui.edit_controller import EditController

MIN_RADIUS, MAX_RADIUS = 1.0, 1000.0
RADIUS_STEP = 1.25  # `[` and `]` scale the brush by this
CLOSE_PX = 10  # a polygon closes on a click this near (screen pixels) its first vertex
DRAG_PX = 4  # a press that moves less than this (screen pixels) is a click
PREVIEW_Z = 50


@dataclass
class ToolSettings:
    """What the tools paint with: the class, the brush radius (photo pixels), select-similar tolerance."""

    class_name: str = "corrosion"
    radius: float = 20.0
    tolerance: float = 12.0
    listeners: list = field(default_factory=list, repr=False)  # callables run after a change

    def set(self, **values) -> None:
        for key, value in values.items():
            setattr(self, key, value)
        self.radius = min(MAX_RADIUS, max(MIN_RADIUS, float(self.radius)))
        for listener in self.listeners:
            listener()


def _pen(
    color: QColor, width: float = 1.5, dashed: bool = False, style: Qt.PenStyle = Qt.PenStyle.DashLine
) -> QPen:
    pen = QPen(color, width)
    pen.setCosmetic(True)  # the same width at every zoom
    if dashed:
        pen.setStyle(style)
    return pen


def _point(at: QPointF) -> tuple[float, float]:
    """A scene point as the editor's (x, y): pixel (row i, column j) has its centre at (j, i)."""
    return at.x() - 0.5, at.y() - 0.5


class Tool:
    """Base: no preview, no handling. `press`/`move`/`release` return True when they used the event."""

    name = "tool"
    cursor = Qt.CursorShape.CrossCursor

    def __init__(self, edits: EditController, settings: ToolSettings) -> None:
        self.edits = edits
        self.settings = settings
        self.view: QGraphicsView | None = None

    def activate(self, view: QGraphicsView) -> None:
        self.view = view
        view.viewport().setCursor(self.cursor)

    def deactivate(self, view: QGraphicsView) -> None:
        self.cancel()
        self.view = None

    def cancel(self) -> None:
        """Drop what is half drawn (Escape, another photo)."""

    def press(self, view, at: QPointF, event: QMouseEvent) -> bool:
        return False

    def move(self, view, at: QPointF, event: QMouseEvent) -> bool:
        return False

    def release(self, view, at: QPointF, event: QMouseEvent) -> bool:
        return False

    def _add(self, item):
        item.setZValue(PREVIEW_Z)
        assert self.view is not None
        self.view.scene().addItem(item)
        return item

    def _remove(self, item) -> None:
        if item is not None and item.scene() is not None:
            item.scene().removeItem(item)

    def _screen_distance(self, a: QPointF, b: QPointF) -> float:
        assert self.view is not None
        return math.dist(self.view.mapFromScene(a).toTuple(), self.view.mapFromScene(b).toTuple())


class BrushTool(Tool):
    """Paint the chosen class (or, as the eraser, the model's own labels) along the drag."""

    name = "brush"

    def __init__(self, edits: EditController, settings: ToolSettings, eraser: bool = False) -> None:
        super().__init__(edits, settings)
        self.eraser = eraser
        self.name = "eraser" if eraser else "brush"
        self._outline: QGraphicsEllipseItem | None = None
        self._at = QPointF(-1e6, -1e6)
        settings.listeners.append(self._place)

    def activate(self, view: QGraphicsView) -> None:
        super().activate(view)
        self._outline = self._add(QGraphicsEllipseItem())
        self._outline.setPen(_pen(QColor(255, 255, 255), 1.5))
        self._place()

    def deactivate(self, view: QGraphicsView) -> None:
        self.edits.stroke_end()
        self._remove(self._outline)
        self._outline = None
        super().deactivate(view)

    def _place(self) -> None:
        """The outline of the brush under the cursor: what one dab covers."""
        if self._outline is not None:
            r = self.settings.radius
            self._outline.setRect(QRectF(self._at.x() - r, self._at.y() - r, 2 * r, 2 * r))

    def _class_id(self) -> int | None:
        return None if self.eraser else self.edits.class_id(self.settings.class_name)

    def press(self, view, at: QPointF, event: QMouseEvent) -> bool:
        if event.button() != Qt.MouseButton.LeftButton:
            return False
        if not self.eraser and self._class_id() is None:
            return False
        return self.edits.stroke_begin(_point(at), self.settings.radius, self._class_id())

    def move(self, view, at: QPointF, event: QMouseEvent) -> bool:
        self._at = at
        self._place()
        if event.buttons() & Qt.MouseButton.LeftButton:
            self.edits.stroke_move(_point(at))
            return True
        return False

    def release(self, view, at: QPointF, event: QMouseEvent) -> bool:
        if event.button() != Qt.MouseButton.LeftButton:
            return False
        self.edits.stroke_end()
        return True


class PolygonTool(Tool):
    """Clicks add vertices (a click on the first, or a right click, fills); a drag draws a lasso."""

    name = "polygon"

    def __init__(self, edits: EditController, settings: ToolSettings) -> None:
        super().__init__(edits, settings)
        self.points: list[QPointF] = []
        self._path: QGraphicsPathItem | None = None
        self._press: QPointF | None = None
        self._lasso = False

    def cancel(self) -> None:
        self.points, self._press, self._lasso = [], None, False
        self._remove(self._path)
        self._path = None

    def _draw(self, hover: QPointF | None = None) -> None:
        if self._path is None:
            self._path = self._add(QGraphicsPathItem())
            self._path.setPen(_pen(QColor(255, 255, 0), 1.5, dashed=True))
        path = QPainterPath()
        for i, p in enumerate([*self.points, *([hover] if hover is not None else [])]):
            path.moveTo(p) if i == 0 else path.lineTo(p)
        self._path.setPath(path)

    def finish(self) -> None:
        points = [_point(p) for p in self.points]
        class_id = self.edits.class_id(self.settings.class_name)
        self.cancel()
        if len(points) >= 3 and class_id is not None:
            self.edits.fill_polygon(points, class_id)

    def press(self, view, at: QPointF, event: QMouseEvent) -> bool:
        if event.button() == Qt.MouseButton.RightButton and self.points:
            self.finish()
            return True
        if event.button() != Qt.MouseButton.LeftButton:
            return False
        if len(self.points) >= 3 and self._screen_distance(at, self.points[0]) <= CLOSE_PX:
            self.finish()
            return True
        self._press, self._lasso = at, not self.points
        self.points.append(at)
        self._draw()
        return True

    def move(self, view, at: QPointF, event: QMouseEvent) -> bool:
        if not self.points:
            return False
        dragging = bool(event.buttons() & Qt.MouseButton.LeftButton) and self._lasso
        if dragging and self._screen_distance(at, self.points[-1]) >= 2:
            self.points.append(at)
        self._draw(None if dragging else at)
        return dragging

    def release(self, view, at: QPointF, event: QMouseEvent) -> bool:
        if event.button() != Qt.MouseButton.LeftButton or self._press is None:
            return False
        if self._lasso and len(self.points) > 2 and self._screen_distance(at, self._press) > DRAG_PX:
            self.finish()  # a lasso closes where the drag ends
        self._press, self._lasso = None, False
        return True


class FillTool(Tool):
    """A click gives the clicked connected region of one class to the chosen class."""

    name = "fill"
    cursor = Qt.CursorShape.PointingHandCursor

    def press(self, view, at: QPointF, event: QMouseEvent) -> bool:
        class_id = self.edits.class_id(self.settings.class_name)
        if event.button() != Qt.MouseButton.LeftButton or class_id is None:
            return False
        self.edits.flood_fill(_point(at), class_id)
        return True


SMART_NEEDS_BOX = (
    "Smart select: first drag a box around the pipe (Ctrl+drag keeps the mask outside the box); "
    "then click to include a part, Shift+click to exclude one."
)
SMART_BOX = "Smart select: outside the box is now background (Ctrl+drag a box to keep it as it was)"
SMART_CLICK_OUTSIDE = (
    "Smart select: a click outside the box changes nothing (the region stays inside its box); "
    "drag a bigger box to take in that part of the pipe"
)
SMART_KEEP_BOX = "Smart select inside the box only: the mask outside it is kept (Ctrl+drag)"
BOX_COLOR, KEEP_BOX_COLOR = QColor(0, 200, 255), QColor(255, 170, 0)


def _box_pen(keep_outside: bool) -> QPen:
    """Cyan dashes for a box outside which all becomes background, orange dash-dots for one that keeps it."""
    if keep_outside:
        return _pen(KEEP_BOX_COLOR, 2.0, dashed=True, style=Qt.PenStyle.DashDotLine)
    return _pen(BOX_COLOR, 1.5, dashed=True)


def _ctrl(event: QMouseEvent) -> bool:
    return bool(event.modifiers() & Qt.KeyboardModifier.ControlModifier)


class SmartSelectTool(Tool):
    """Drag a box around the pipe; click on pipe to include, Shift+click on background to exclude.
    Ctrl+drag: a box that keeps the mask outside it as it was (a photo with several pipes).

    Each action recomputes the pipe region from the box and every click since it was drawn."""

    name = "smart"

    def __init__(self, edits: EditController, settings: ToolSettings) -> None:
        super().__init__(edits, settings)
        self.marks = Marks()
        self._start: QPointF | None = None
        self._rect: QGraphicsRectItem | None = None

    def cancel(self) -> None:
        self.marks, self._start = Marks(), None
        self._remove(self._rect)
        self._rect = None

    def press(self, view, at: QPointF, event: QMouseEvent) -> bool:
        if event.button() != Qt.MouseButton.LeftButton or self.edits.busy:
            return event.button() == Qt.MouseButton.LeftButton
        self._start = at
        return True

    def move(self, view, at: QPointF, event: QMouseEvent) -> bool:
        if self._start is None or not event.buttons() & Qt.MouseButton.LeftButton:
            return False
        if self.marks.box is not None and self._screen_distance(self._start, at) <= DRAG_PX:
            return True  # a click's jitter so far: the box drawn stays as it is
        if self._rect is None:
            self._rect = self._add(QGraphicsRectItem())
        self._rect.setPen(_box_pen(_ctrl(event)))  # the mode the box gets if let go now
        self._rect.setRect(QRectF(self._start, at).normalized())
        return True

    def release(self, view, at: QPointF, event: QMouseEvent) -> bool:
        if event.button() != Qt.MouseButton.LeftButton or self._start is None:
            return False
        start, self._start = self._start, None
        if self._screen_distance(start, at) > DRAG_PX:
            box = (start.x(), start.y(), at.x(), at.y())
            self.marks = Marks(box=box, keep_outside=_ctrl(event))  # Ctrl held as the drag ends
            self.edits.message.emit(SMART_KEEP_BOX if self.marks.keep_outside else SMART_BOX, "info")
        elif self.marks.box is None:  # a click needs a box to refine: nothing changes, say what to do
            self.edits.message.emit(SMART_NEEDS_BOX, "warning")
            return True
        elif not _inside(self.marks.box, at):  # the region never leaves the box: the click would do nothing
            self.edits.message.emit(SMART_CLICK_OUTSIDE, "warning")
            return True
        else:
            shift = bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
            p = _point(at)
            m = self.marks  # the box's mode stays for its clicks
            self.marks = replace(
                m, include=m.include + (() if shift else (p,)), exclude=m.exclude + ((p,) if shift else ())
            )
        box = self.marks.box
        if self._rect is not None and box is not None:
            # the box as sent, in its mode (after a click, the box it refines)
            self._rect.setRect(QRectF(QPointF(box[0], box[1]), QPointF(box[2], box[3])))
            self._rect.setPen(_box_pen(self.marks.keep_outside))
        self.edits.smart_select(self.marks)
        return True


def _inside(box: tuple[float, float, float, float], at: QPointF) -> bool:
    x0, y0, x1, y1 = box
    return min(x0, x1) <= at.x() <= max(x0, x1) and min(y0, y1) <= at.y() <= max(y0, y1)


class SimilarTool(Tool):
    """A click on a rust patch grows corrosion over connected pipe pixels of a similar colour."""

    name = "similar"
    cursor = Qt.CursorShape.PointingHandCursor

    def press(self, view, at: QPointF, event: QMouseEvent) -> bool:
        if event.button() != Qt.MouseButton.LeftButton:
            return False
        self.edits.select_similar(_point(at), self.settings.tolerance)
        return True
