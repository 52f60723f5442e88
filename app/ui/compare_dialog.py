"""Side-by-side compare of two inspections of one asset: a photo of each, with zoom and pan kept in step,
and each photo's stored figures under it."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QImage, QPainter, QPixmap, QWheelEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QGraphicsPixmapItem,
    QGraphicsScene,
    QGraphicsView,
    QGridLayout,
    QLabel,
    QWidget,
)

from app.core.errors import CorroscopeError
from app.core.photos import read_image
from app.core.project import Inspection, Project
from app.ui.project_panel_widget import stored_figures_text
from app.ui.qimage import rgb_to_qimage

MAX_ZOOM, MIN_ZOOM = 32.0, 0.02


class SyncedImageView(QGraphicsView):
    """A photo view that reports every zoom and pan (`view_changed`) and can take another's."""

    view_changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self._item = QGraphicsPixmapItem()
        self.scene().addItem(self._item)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        self._syncing = False
        for bar in (self.horizontalScrollBar(), self.verticalScrollBar()):
            bar.valueChanged.connect(self._changed)

    def set_image(self, image: QImage | None) -> None:
        self._item.setPixmap(QPixmap() if image is None else QPixmap.fromImage(image))
        self.scene().setSceneRect(self._item.boundingRect())

    @property
    def zoom(self) -> float:
        return self.transform().m11()

    def zoom_by(self, factor: float) -> None:
        factor = min(max(self.zoom * factor, MIN_ZOOM), MAX_ZOOM) / self.zoom
        self.scale(factor, factor)
        self._changed()

    def wheelEvent(self, event: QWheelEvent) -> None:
        self.zoom_by(1.25 if event.angleDelta().y() > 0 else 0.8)

    def center(self):
        return self.mapToScene(self.viewport().rect().center())

    def follow(self, other: SyncedImageView) -> None:
        """Take the other view's zoom and centre (photos of one asset share a frame, roughly)."""
        self._syncing = True
        try:
            self.setTransform(other.transform())
            self.centerOn(other.center())
        finally:
            self._syncing = False

    def _changed(self, *_args) -> None:
        if not self._syncing:
            self.view_changed.emit()


class CompareDialog(QDialog):
    """Pick two inspections (and a photo of each); the two views zoom and pan together."""

    def __init__(self, project: Project, asset_tag: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Compare inspections of {asset_tag}")
        self.project = project
        self.inspections: list[Inspection] = project.inspections(asset_tag)
        self.views = (SyncedImageView(), SyncedImageView())
        self.inspection_boxes = (QComboBox(), QComboBox())
        self.photo_boxes = (QComboBox(), QComboBox())
        self.figure_labels = (QLabel(), QLabel())
        grid = QGridLayout(self)
        for side in (0, 1):
            for i in self.inspections:
                self.inspection_boxes[side].addItem(_inspection_text(i), i.id)
            grid.addWidget(self.inspection_boxes[side], 0, side)
            grid.addWidget(self.photo_boxes[side], 1, side)
            grid.addWidget(self.views[side], 2, side)
            self.figure_labels[side].setWordWrap(True)
            grid.addWidget(self.figure_labels[side], 3, side)
            self.inspection_boxes[side].currentIndexChanged.connect(lambda _i, s=side: self._fill_photos(s))
            self.photo_boxes[side].currentIndexChanged.connect(lambda _i, s=side: self._show_photo(s))
        grid.setRowStretch(2, 1)
        self.views[0].view_changed.connect(lambda: self.views[1].follow(self.views[0]))
        self.views[1].view_changed.connect(lambda: self.views[0].follow(self.views[1]))
        for side in (0, 1):  # the first and the latest inspection by default
            self.inspection_boxes[side].setCurrentIndex(0 if side == 0 else max(len(self.inspections) - 1, 0))
            self._fill_photos(side)
        self.resize(1100, 700)

    def _fill_photos(self, side: int) -> None:
        box = self.photo_boxes[side]
        box.blockSignals(True)
        box.clear()
        inspection_id = self.inspection_boxes[side].currentData()
        if inspection_id is not None:
            for photo in self.project.photos(inspection_id):
                box.addItem(photo.path, photo.id)
        box.blockSignals(False)
        self._show_photo(side)

    def _show_photo(self, side: int) -> None:
        photo_id = self.photo_boxes[side].currentData()
        photo = None if photo_id is None else self.project.photo(photo_id)
        image, note = None, ""
        if photo is not None:
            path = self.project.photo_file(photo)
            if path is None:
                note = f"\nPhoto not found at {photo.path} (Find moved photos… in the Project panel)"
            else:
                try:
                    image = rgb_to_qimage(read_image(path))
                except CorroscopeError as exc:
                    note = f"\n{exc}"
        self.views[side].set_image(image)
        result = None if photo is None else self.project.latest_result(photo.id)
        self.figure_labels[side].setText(stored_figures_text(result) + note)
        if image is not None:
            self.views[side].fitInView(self.views[side].sceneRect(), Qt.AspectRatioMode.KeepAspectRatio)
            self.views[1 - side].follow(self.views[side])


def _inspection_text(i: Inspection) -> str:
    who = f" · {i.inspector}" if i.inspector else ""
    return f"{i.date.isoformat()}{who} ({i.photo_count} photos)"
