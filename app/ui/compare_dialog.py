"""Side-by-side compare of two inspections of one asset: a photo of each with its overlay, each fitted to
its own pane, zoom and pan kept in proportion (a 12 MP photo beside a 256 px one shows the same part of
the frame at the same size), and each photo's stored figures under it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QImage, QKeySequence, QPainter, QPixmap, QShortcut, QTransform, QWheelEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QGraphicsPixmapItem,
    QGraphicsScene,
    QGraphicsView,
    QGridLayout,
    QSizePolicy,
    QWidget,
)

from app.core.analysis import analyze_photo
from app.core.model import SegmentationModel
from app.core.overlay_style import EVERY_CLASS, OverlayStyle
from app.core.palette import DEFAULT_CLASSES
from app.core.photos import read_image
from app.core.project import Inspection, Project, StoredResult
from app.core.reviewed import read_reviewed_mask
from app.core.text import counted, safe_path, safe_text
from app.ui.forms import plain_label
from app.ui.image_viewer_widget import FIT_FRACTION_MIN
from app.ui.project_texts import stored_figures_text
from app.ui.project_view import ProjectView
from app.ui.qimage import rgb_to_qimage
from app.ui.screen_fit import resize_on_screen
from app.ui.workers import Worker, WorkerPool

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
        w, h = self._size()
        port = self.viewport().rect()
        if w <= 0 or h <= 0 or port.width() <= 0 or port.height() <= 0:
            return 1.0
        return min(port.width() / w, port.height() / h)

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


MASK, MODEL = "mask", "model"  # what drew a pane's overlay
# as the banner's warning (app.ui.banner_widget): the picture and the figures under it may disagree
WARNING_STYLE = "background:#fff4d6; color:#432; border:1px solid #cb8; padding:3px;"


def overlay_rgb(
    rgb: np.ndarray,
    path: Path,
    reviewed_mask: str | None,
    model: SegmentationModel | None,
    style: OverlayStyle = EVERY_CLASS,
) -> tuple[np.ndarray, str] | None:
    """The photo with its overlay and what drew it (`MASK`, `MODEL`): the reviewed mask when the result
    has one, else the model (worker thread); None when neither is at hand."""
    if reviewed_mask and Path(reviewed_mask).is_file():
        size = (
            rgb.shape[1],
            rgb.shape[0],
        )  # a mask saved for a photo since replaced is refused (its reason shown)
        labels = read_reviewed_mask(reviewed_mask, size, photo=path).labels
        return style.blend(rgb, labels, DEFAULT_CLASSES), MASK
    if model is None:
        return None
    result = analyze_photo(model, path)  # the figures' own path (the reduced decode), not `rgb`'s
    return style.blend(rgb, result.labels, result.classes), MODEL


def photo_then_overlay(
    path: Path, reviewed_mask: str | None, model: SegmentationModel | None, style: OverlayStyle = EVERY_CLASS
) -> Iterator[tuple[str, QImage] | tuple[str, QImage, str]]:
    """("photo", the photo) as soon as it is read, then ("overlay", the photo with its overlay, what drew
    it) when there is one (worker thread: a camera photo takes a while to read, its overlay longer)."""
    rgb = read_image(path)
    yield "photo", rgb_to_qimage(rgb)
    out = overlay_rgb(rgb, path, reviewed_mask, model, style)
    if out is not None:
        yield "overlay", rgb_to_qimage(out[0]), out[1]


def overlay_note(result: StoredResult | None, drawn_by: str, model: SegmentationModel | None) -> str:
    """What drew the overlay, when it is not the model that made the stored figures under it ("" when it
    is): the signed mask, or the loaded model standing in for another model or for a mask not found."""
    if result is None:
        return ""
    if drawn_by == MASK:
        mask = safe_path(str(result.reviewed_mask))
        return f"Overlay drawn from the reviewed mask these figures come from ({mask})."
    loaded = "the loaded model" if model is None else f"the loaded model {safe_path(model.path.name)}"
    if result.reviewed_mask:
        return (
            f"Overlay drawn by {loaded}, not from the reviewed mask these figures come from: "
            f"{safe_path(result.reviewed_mask)} is not found."
        )
    if model is not None and model.sha256 != result.model_sha256:
        return (
            f"Overlay drawn by {loaded} ({model.sha256[:12]}), not by {safe_text(result.model_name)} "
            f"({safe_text(result.model_sha256[:12])}) that made these figures: they may disagree."
        )
    return ""


class CompareDialog(QDialog):
    """Pick two inspections (and a photo of each); each photo fills its pane, with its overlay, and the
    two views zoom and pan together in proportion. `model` draws the overlays of results that have no
    reviewed mask (the project keeps figures, not masks). `project` is best the window's `ProjectView`
    (read on a worker): a `Project` itself is queried here, on the UI thread."""

    def __init__(
        self,
        project: ProjectView | Project,
        asset_tag: str,
        parent: QWidget | None = None,
        model: SegmentationModel | None = None,
        style: OverlayStyle = EVERY_CLASS,
    ) -> None:
        """`style`: the classes and opacities drawn (the window's overlay, as on screen)."""
        super().__init__(parent)
        self.setWindowTitle(f"Compare inspections of {asset_tag}")
        self.project, self.model, self.style = project, model, style
        self.inspections: list[Inspection] = project.inspections(asset_tag)
        self.views = (SyncedImageView(), SyncedImageView())
        self.inspection_boxes = (QComboBox(), QComboBox())
        self.photo_boxes = (QComboBox(), QComboBox())
        self.figure_labels = (plain_label(), plain_label())
        self.overlay_notes = (plain_label(), plain_label())  # an overlay not drawn by the figures' model
        self.results: list[StoredResult | None] = [None, None]
        self.photos: list[QImage | None] = [None, None]
        self.overlays: list[QImage | None] = [None, None]
        self.pool = WorkerPool(self, max_threads=2)  # photos read and overlays drawn off the UI thread
        self._jobs: list[Worker | None] = [None, None]
        self.overlay_check = QCheckBox("Show the overlay")
        self.overlay_check.setChecked(True)
        self.overlay_check.toggled.connect(lambda _on: [self._show_image(s, keep_view=True) for s in (0, 1)])
        grid = QGridLayout(self)
        for side in (0, 1):
            for box in (self.inspection_boxes[side], self.photo_boxes[side]):
                box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
                box.setMinimumContentsLength(12)  # a long path must not widen one pane
            for i in self.inspections:
                self.inspection_boxes[side].addItem(_inspection_text(i), i.id)
                self.inspection_boxes[side].setItemData(
                    self.inspection_boxes[side].count() - 1, _inspection_text(i), Qt.ItemDataRole.ToolTipRole
                )  # a long inspector's name whole
            grid.addWidget(self.inspection_boxes[side], 0, side)
            grid.addWidget(self.photo_boxes[side], 1, side)
            grid.addWidget(self.views[side], 2, side)
            self.figure_labels[side].setWordWrap(True)
            self.figure_labels[side].setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
            self.figure_labels[side].setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
            note = self.overlay_notes[side]
            note.setWordWrap(True)
            note.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
            note.hide()
            grid.addWidget(note, 3, side)
            grid.addWidget(self.figure_labels[side], 4, side)  # both sides' figures start on one line
            grid.setColumnStretch(side, 1)
            self.inspection_boxes[side].currentIndexChanged.connect(lambda _i, s=side: self._fill_photos(s))
            self.photo_boxes[side].currentIndexChanged.connect(lambda _i, s=side: self._show_photo(s))
        grid.addWidget(self.overlay_check, 5, 0, 1, 2)
        grid.setRowStretch(2, 1)
        SyncedImageView.pair(*self.views)
        for side in (0, 1):  # the first and the latest inspection by default
            self.inspection_boxes[side].setCurrentIndex(0 if side == 0 else max(len(self.inspections) - 1, 0))
            self._fill_photos(side)
        # the window's own zoom keys, for both panes at once; the panes have the focus, so Space and the
        # arrow keys do not open or step a photo list
        keys = (("Ctrl+0", None), (QKeySequence.StandardKey.ZoomIn, 1.25), ("Ctrl+=", 1.25))
        for key, factor in (*keys, (QKeySequence.StandardKey.ZoomOut, 0.8)):
            QShortcut(QKeySequence(key), self, activated=lambda f=factor: self.zoom(f))
        self.views[0].setFocus()
        resize_on_screen(self, 1100, 700)

    def zoom(self, factor: float | None) -> None:
        """Both panes zoomed by `factor` about their centres, or fitted (None); they stay in step."""
        if factor is None:
            for view in self.views:
                view.fit()
        else:
            self.views[0].zoom_by(factor, about_centre=True)  # the other follows (view_changed)

    def _fill_photos(self, side: int) -> None:
        box = self.photo_boxes[side]
        box.blockSignals(True)
        box.clear()
        inspection_id = self.inspection_boxes[side].currentData()
        if inspection_id is not None:
            for photo in self.project.photos(inspection_id):
                box.addItem(Path(photo.path).name, photo.id)
                box.setItemData(box.count() - 1, photo.path, Qt.ItemDataRole.ToolTipRole)
        box.blockSignals(False)
        self._show_photo(side)

    def _show_photo(self, side: int) -> None:
        photo_id = self.photo_boxes[side].currentData()
        photo = None if photo_id is None else self.project.photo(photo_id)
        path, note = None, ""
        if photo is not None:
            lookup = self.project.find_photo(photo, verify=False)  # sizes: the UI thread reads no photo
            path = lookup.path
            if lookup.changed and path is None:  # its stored figures are not this file's
                note = f"\nThe file at {lookup.changed[0]} changed since it was added: not the stored photo"
            elif path is None:
                note = f"\nPhoto not found at {photo.path} (Find moved photos… in the Project panel)"
        result = None if photo is None else self.project.latest_result(photo.id)
        self.figure_labels[side].setText(stored_figures_text(result) + note)
        self.results[side] = result
        self._set_note(side, "")
        self.photos[side] = self.overlays[side] = None
        self._show_image(side)
        if self._jobs[side] is not None:
            self._jobs[side].cancel()  # another photo picked: the last one's overlay is not wanted
        self._jobs[side] = None
        if path is not None:
            reviewed = None if result is None else result.reviewed_mask
            worker = Worker(photo_then_overlay, path, reviewed, self.model, self.style)
            worker.signals.yielded.connect(lambda item, s=side, p=photo_id: self._image_ready(s, p, *item))
            worker.signals.failed.connect(lambda msg, s=side, p=photo_id: self._image_failed(s, p, msg))
            self._jobs[side] = self.pool.start(worker)

    def _set_note(self, side: int, text: str, warning: bool = False) -> None:
        label = self.overlay_notes[side]
        label.setText(text)
        label.setStyleSheet(WARNING_STYLE if warning else "")
        label.setVisible(bool(text))

    def _image_ready(self, side: int, photo_id: int, kind: str, image: QImage, drawn_by: str = "") -> None:
        if self.photo_boxes[side].currentData() != photo_id:
            return  # another photo was picked meanwhile
        if kind == "photo":
            self.photos[side] = image
            self._show_image(side)
            self.views[1 - side].follow(self.views[side])
        else:
            self.overlays[side] = image
            self._show_image(side, keep_view=True)
            self._set_note(side, overlay_note(self.results[side], drawn_by, self.model), drawn_by == MODEL)

    def _image_failed(self, side: int, photo_id: int, message: str) -> None:
        if self.photo_boxes[side].currentData() == photo_id:
            label = self.figure_labels[side]
            label.setText(f"{label.text()}\n{message}")

    def _show_image(self, side: int, keep_view: bool = False) -> None:
        overlay = self.overlays[side] if self.overlay_check.isChecked() else None
        self.views[side].set_image(overlay or self.photos[side], keep_view=keep_view)


def _inspection_text(i: Inspection) -> str:
    who = f" · {i.inspector}" if i.inspector else ""
    return f"{i.date.isoformat()}{who} ({counted(i.photo_count, 'photo')})"
