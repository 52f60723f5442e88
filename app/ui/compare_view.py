"""A photo pane of Compare that moves with another in proportion: zoom relative to its own fit, centre as
a fraction of its own photo, within zoom limits both panes allow."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QImage, QPainter, QPixmap, QTransform, QWheelEvent
from PySide6.QtWidgets import QGraphicsPixmapItem, QGraphicsScene, QGraphicsView, QSizePolicy, QWidget

from app.ui.image_viewer_widget import FIT_FRACTION_MIN, fit_scale

MAX_ZOOM, MIN_ZOOM = 32.0, 0.02


class SyncedImageView(QGraphicsView):
    """A photo view that reports every zoom and pan (`view_changed`) and can take another's, in
    proportion: zoom relative to its own fit, centre as a fraction of its own photo."""

    view_changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self._item = QGraphicsPixmapItem()
        self._item.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        self.scene().addItem(self._item)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)  # equal panes
        self._syncing = False
        self.partner: SyncedImageView | None = None  # the other pane, which shares the zoom limits
        for bar in (self.horizontalScrollBar(), self.verticalScrollBar()):
            bar.valueChanged.connect(self._changed)

    def set_image(self, image: QImage | None, keep_view: bool = False) -> None:
        """Show `image`; fitted to the pane unless `keep_view` (the same photo, its overlay now)."""
        relative, centre = self.relative_zoom, self.relative_center()
        self._item.setPixmap(QPixmap() if image is None else QPixmap.fromImage(image))
        self.scene().setSceneRect(self._item.boundingRect())
        if keep_view:
            self._apply(relative, centre)
        else:
            self.fit()

    def image(self) -> QImage:
        return self._item.pixmap().toImage()

    def _size(self) -> tuple[float, float]:
        rect = self._item.boundingRect()
        return rect.width(), rect.height()

    @property
    def zoom(self) -> float:
        return self.transform().m11()

    def fit_zoom(self) -> float:
        """The zoom at which the whole photo fills the pane."""
        return fit_scale(*self._size(), self.viewport().rect())

    def min_zoom(self) -> float:
        """As the main viewer: down to a quarter of the size that fits the pane."""
        return max(MIN_ZOOM, self.fit_zoom() * FIT_FRACTION_MIN)

    def _own_limits(self) -> tuple[float, float] | None:
        """The relative zooms this pane allows alone (None without a photo: it limits nothing)."""
        w, h = self._size()
        if w <= 0 or h <= 0:
            return None
        fit = self.fit_zoom()
        return self.min_zoom() / fit, MAX_ZOOM / fit

    def relative_limits(self) -> tuple[float, float]:
        """The relative zooms both panes allow: each limit on its own (an absolute 32x) stopped a small
        photo's pane while a large photo's went on, and the two showed other parts of the frame."""
        partner = None if self.partner is None else self.partner._own_limits()
        own = [lim for lim in (self._own_limits(), partner) if lim is not None]
        if not own:
            return FIT_FRACTION_MIN, MAX_ZOOM
        low, high = max(lo for lo, _hi in own), min(hi for _lo, hi in own)
        return low, max(low, high)

    def _clamped(self, relative: float) -> float:
        low, high = self.relative_limits()
        return min(max(relative, low), high)

    @property
    def relative_zoom(self) -> float:
        """The zoom as a multiple of the fit (1: the whole photo in the pane)."""
        return self.zoom / self.fit_zoom()

    def relative_center(self) -> tuple[float, float]:
        w, h = self._size()
        c = self.center()
        return (c.x() / w, c.y() / h) if w > 0 and h > 0 else (0.5, 0.5)

    def fit(self) -> None:
        self._apply(1.0, (0.5, 0.5))

    def _apply(self, relative: float, centre: tuple[float, float]) -> None:
        w, h = self._size()
        zoom = self._clamped(relative) * self.fit_zoom()
        self._syncing = True
        try:
            self.setTransform(QTransform.fromScale(zoom, zoom))
            self.centerOn(centre[0] * w, centre[1] * h)
        finally:
            self._syncing = False

    def zoom_by(self, factor: float, about_centre: bool = False) -> None:
        """Zoom about the mouse (the wheel), or about the pane's centre (the keys), within the limits
        both panes share."""
        relative = self.relative_zoom
        factor = self._clamped(relative * factor) / relative
        if about_centre:
            self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        try:
            self.scale(factor, factor)
        finally:
            self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self._changed()

    def wheelEvent(self, event: QWheelEvent) -> None:
        self.zoom_by(1.25 if event.angleDelta().y() > 0 else 0.8)

    def resizeEvent(self, event) -> None:
        relative, centre = self.relative_zoom, self.relative_center()
        super().resizeEvent(event)
        self._apply(relative, centre)  # the same part of the photo, scaled to the new pane

    def center(self):
        return self.mapToScene(self.viewport().rect().center())

    @staticmethod
    def pair(a: SyncedImageView, b: SyncedImageView) -> None:
        """Make the two panes move together, within the zoom limits both allow."""
        a.partner, b.partner = b, a
        a.view_changed.connect(lambda: b.follow(a))
        b.view_changed.connect(lambda: a.follow(b))

    def follow(self, other: SyncedImageView) -> None:
        """Show the part of its photo the other shows of its own, as large relative to the pane."""
        self._apply(other.relative_zoom, other.relative_center())

    def _changed(self, *_args) -> None:
        if not self._syncing:
            self.view_changed.emit()
