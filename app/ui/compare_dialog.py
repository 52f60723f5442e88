"""Side-by-side compare of two inspections of one asset: a photo of each with its overlay, each fitted to
its own pane, zoom and pan kept in proportion (a 12 MP photo beside a 256 px one shows the same part of
the frame at the same size), and each photo's stored figures under it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PySide6.QtCore import QSignalBlocker, Qt, QTimer
from PySide6.QtGui import QImage, QKeySequence, QResizeEvent, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QWidget,
)

from app.core.analysis import analyze_photo
from app.core.model import SegmentationModel
from app.core.overlay_style import EVERY_CLASS, OverlayStyle
from app.core.palette import DEFAULT_CLASSES
from app.core.photos import read_image
from app.core.project import Inspection, Project, StoredPhoto, StoredResult
from app.core.reviewed import read_reviewed_mask
from app.core.text import counted, safe_path, safe_text
from app.ui.compare_view import SyncedImageView
from app.ui.forms import plain_label
from app.ui.project_texts import stored_figures_text
from app.ui.project_view import ProjectView
from app.ui.qimage import rgb_to_qimage
from app.ui.screen_fit import resize_on_screen, scrolled
from app.ui.workers import Worker, WorkerPool

MASK, MODEL = "mask", "model"  # what drew a pane's overlay
# as the banner's warning (app.ui.banner_widget): the picture and the figures under it may disagree
FIGURES_SHARE = 4  # the figures under the photos take at most 1 / FIGURES_SHARE of the height
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
        inspection_id: int | None = None,
        photo_id: int | None = None,
    ) -> None:
        """`style`: the classes and opacities drawn (the window's overlay, as on screen); `inspection_id`
        and `photo_id`: what was picked in the project tree, shown against the inspection before it."""
        super().__init__(parent)
        self.setWindowTitle(f"Compare inspections of {asset_tag}")
        self.asset_tag = asset_tag
        self.project, self.model, self.style = project, model, style
        self.inspections: list[Inspection] = project.inspections(asset_tag)
        self.views = (SyncedImageView(), SyncedImageView())
        self.inspection_boxes = (QComboBox(), QComboBox())
        self.photo_boxes = (QComboBox(), QComboBox())
        self.figure_labels = (plain_label(), plain_label())
        self._figure_areas: list[QScrollArea] = []
        self.overlay_notes = (plain_label(), plain_label())  # an overlay not drawn by the figures' model
        self.results: list[StoredResult | None] = [None, None]
        self.photos: list[QImage | None] = [None, None]
        self.overlays: list[QImage | None] = [None, None]
        self.pool = WorkerPool(self, max_threads=2)  # photos read and overlays drawn off the UI thread
        self._jobs: list[Worker | None] = [None, None]
        self._released = False  # closed for good (`release`): a late photo is not shown
        self.overlay_check = QCheckBox("Show the overlay")
        self.overlay_check.setChecked(True)
        self.overlay_check.toggled.connect(lambda _on: [self._show_image(s, keep_view=True) for s in (0, 1)])
        grid = QGridLayout(self)
        for side in (0, 1):
            for box in (self.inspection_boxes[side], self.photo_boxes[side]):
                box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
                box.setMinimumContentsLength(12)  # a long path must not widen one pane
            self._list_inspections(side)
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
            # both sides' figures start on one line; they scroll, bounded (`resizeEvent`): wrapped on a small
            # screen they took most of the height and left the photos thumbnails
            grid.addWidget(self._figures_area(self.figure_labels[side]), 4, side)
            grid.setColumnStretch(side, 1)
            self.inspection_boxes[side].currentIndexChanged.connect(lambda _i, s=side: self._fill_photos(s))
            self.photo_boxes[side].currentIndexChanged.connect(lambda _i, s=side: self._show_photo(s))
        grid.addWidget(self.overlay_check, 5, 0)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)  # not only Esc, the ✕
        self.buttons.rejected.connect(self.reject)
        self.buttons.button(QDialogButtonBox.StandardButton.Close).setAutoDefault(False)  # Enter: no close
        grid.addWidget(self.buttons, 5, 1)
        grid.setRowStretch(2, 1)
        SyncedImageView.pair(*self.views)
        ids = [i.id for i in self.inspections]
        picked_side = None
        for side, index in enumerate(starting_pair(ids, inspection_id)):
            with QSignalBlocker(self.inspection_boxes[side]):  # each photo is read once, below
                self.inspection_boxes[side].setCurrentIndex(index)
            self._list_photos(side)
            if inspection_id is not None and ids and ids[index] == inspection_id:
                picked_side = side
        self._pick_photos(picked_side, photo_id)
        for side in (0, 1):
            self._show_photo(side)
        # the window's own zoom keys, for both panes at once; the panes have the focus, so Space and the
        # arrow keys do not open or step a photo list
        keys = (("Ctrl+0", None), (QKeySequence.StandardKey.ZoomIn, 1.25), ("Ctrl+=", 1.25))
        for key, factor in (*keys, (QKeySequence.StandardKey.ZoomOut, 0.8)):
            QShortcut(QKeySequence(key), self, activated=lambda f=factor: self.zoom(f))
        self.views[0].setFocus()
        resize_on_screen(self, 1100, 700)

    def _figures_area(self, label: QLabel) -> QScrollArea:
        area = scrolled(label)
        area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)  # the text wraps
        area.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        area.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self._figure_areas.append(area)
        return area

    def resizeEvent(self, event: QResizeEvent) -> None:
        """The figures take at most a quarter of the height (three lines at least); the photos the rest."""
        least = 3 * self.fontMetrics().lineSpacing()
        for area in self._figure_areas:
            area.setMaximumHeight(max(least, self.height() // FIGURES_SHARE))
        super().resizeEvent(event)

    def zoom(self, factor: float | None) -> None:
        """Both panes zoomed by `factor` about their centres, or fitted (None); they stay in step."""
        if factor is None:
            for view in self.views:
                view.fit()
        else:
            self.views[0].zoom_by(factor, about_centre=True)  # the other follows (view_changed)

    def _list_inspections(self, side: int) -> None:
        box = self.inspection_boxes[side]
        box.clear()
        for i in self.inspections:
            box.addItem(_inspection_text(i), i.id)
            box.setItemData(box.count() - 1, _inspection_text(i), Qt.ItemDataRole.ToolTipRole)  # a long name

    def _list_photos(self, side: int) -> None:
        box = self.photo_boxes[side]
        box.blockSignals(True)
        box.clear()
        inspection_id = self.inspection_boxes[side].currentData()
        if inspection_id is not None:
            for photo in self.project.photos(inspection_id):
                box.addItem(Path(photo.path).name, photo.id)
                box.setItemData(box.count() - 1, photo.path, Qt.ItemDataRole.ToolTipRole)
        box.blockSignals(False)

    def _pick_photos(self, side: int | None, photo_id: int | None) -> None:
        """On `side`, the photo `photo_id`; on the other, its photo of the same file name, if it has one (a
        view photographed again), else its first."""
        if side is None or photo_id is None:
            return
        box = self.photo_boxes[side]
        index = box.findData(photo_id)
        if index < 0:
            return
        other = self.photo_boxes[1 - side]
        name = box.itemText(index).casefold()
        same = [n for n in range(other.count()) if other.itemText(n).casefold() == name]
        with QSignalBlocker(box), QSignalBlocker(other):  # the caller shows both photos
            box.setCurrentIndex(index)
            if same:
                other.setCurrentIndex(same[0])

    def _fill_photos(self, side: int) -> None:
        self._list_photos(side)
        self._show_photo(side)

    def show_view(self, view: ProjectView) -> None:
        """The project as read again: the lists, figures and photos follow it, the same inspections and
        photos staying picked (an open window kept the figures of the read it was made from). A photo
        whose newest result is the same is not read again."""
        if view is self.project:
            return
        picked = [(self.inspection_boxes[s].currentData(), self.photo_boxes[s].currentData()) for s in (0, 1)]
        self.project, self.inspections = view, view.inspections(self.asset_tag)
        for side, (inspection_id, photo_id) in enumerate(picked):
            box = self.inspection_boxes[side]
            box.blockSignals(True)
            self._list_inspections(side)
            index = box.findData(inspection_id)
            box.setCurrentIndex(index if index >= 0 else (0 if side == 0 else box.count() - 1))
            box.blockSignals(False)
            self._list_photos(side)
            index = self.photo_boxes[side].findData(photo_id)
            if index >= 0:
                self.photo_boxes[side].setCurrentIndex(index)  # signals blocked: nothing is read yet
            result = None if photo_id is None else view.latest_result(photo_id)
            shown = self.results[side]  # results are only ever added: the same id, the same figures
            same = index >= 0 and result is not None and shown is not None and result.id == shown.id
            if same and self.photos[side] is not None:
                self._describe(side)  # the figures' text only (the photo's place may have changed)
            else:
                self._show_photo(side)
        if not self.inspections:
            self.setWindowTitle(f"Compare inspections of {self.asset_tag} (no longer in the project)")

    def _describe(self, side: int) -> tuple[StoredPhoto | None, Path | None, StoredResult | None]:
        """The picked photo's stored figures under its pane; (the photo, where it is now, its result)."""
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
        return photo, path, result

    def _show_photo(self, side: int) -> None:
        photo, path, result = self._describe(side)
        photo_id = None if photo is None else photo.id
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
            worker.signals.finished.connect(lambda w=worker: _let_go(w))
            self._jobs[side] = self.pool.start(worker)

    def _set_note(self, side: int, text: str, warning: bool = False) -> None:
        label = self.overlay_notes[side]
        label.setText(text)
        label.setStyleSheet(WARNING_STYLE if warning else "")
        label.setVisible(bool(text))

    def release(self) -> None:
        """Closed for good: the photos go now, the jobs are told to stop, and the window is deleted once
        none runs (deleting it at once would wait for a 12 MP photo's overlay on the UI thread)."""
        self._released = True
        for job in self._jobs:
            if job is not None:
                job.cancel()
        self._jobs = [None, None]
        self.photos, self.overlays = [None, None], [None, None]
        for view in self.views:
            view.set_image(None)
        self._delete_when_idle()

    def _delete_when_idle(self) -> None:
        if self.pool.active:
            QTimer.singleShot(50, self, self._delete_when_idle)  # after the job running now
        else:
            self.deleteLater()  # the pool with it: a result still queued is dropped

    def _image_ready(self, side: int, photo_id: int, kind: str, image: QImage, drawn_by: str = "") -> None:
        if self._released or self.photo_boxes[side].currentData() != photo_id:
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
        if not self._released and self.photo_boxes[side].currentData() == photo_id:
            label = self.figure_labels[side]
            label.setText(f"{label.text()}\n{message}")

    def _show_image(self, side: int, keep_view: bool = False) -> None:
        overlay = self.overlays[side] if self.overlay_check.isChecked() else None
        self.views[side].set_image(overlay or self.photos[side], keep_view=keep_view)


def starting_pair(inspection_ids: list[int], picked: int | None) -> tuple[int, int]:
    """The inspections' indexes shown left and right at first: the first and the latest, or the picked
    one against the one before it (the first one picked: against the one after it)."""
    last = max(len(inspection_ids) - 1, 0)
    if picked not in inspection_ids:
        return 0, last
    k = inspection_ids.index(picked)
    return (k - 1, k) if k > 0 else (0, min(1, last))


def _let_go(worker: Worker) -> None:
    """A finished worker's slots go (its results were delivered before `finished`): they hold the dialog,
    and the worker's signals outlive it in a cycle through Qt that Python's gc cannot see, so a closed
    Compare was never freed."""
    for signal in (worker.signals.yielded, worker.signals.failed):
        signal.disconnect()


def _inspection_text(i: Inspection) -> str:
    who = f" · {i.inspector}" if i.inspector else ""
    return f"{i.date.isoformat()}{who} ({counted(i.photo_count, 'photo')})"
