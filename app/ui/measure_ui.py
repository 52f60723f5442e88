"""The scale and layers of the photo on screen in the window: the scale line tool, the per-photo scale
(given to the result, so the figures panel, the PDF and later edits carry it), the scale panel, the
overlay layers and the scale bar. Layer images are composed in a worker (a 12 MP photo's outlines and
uncertainty take longer than a frame), one job at a time, the newest label map winning."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import QObject, QPointF
from PySide6.QtGui import QAction, QImage
from PySide6.QtWidgets import QMenu

from app.core.analysis import PhotoResult
from app.core.physical import ScaleError, scale_from_line
from app.ui.display_levels import Level
from app.ui.host import WindowHost
from app.ui.layers import (
    LAYERS,
    LayerItems,
    LayersMenu,
    LayerState,
    LayersWidget,
    layer_images_and_levels,
)
from app.ui.measures_widget import MeasuresWidget
from app.ui.scale_tool import ScaleBarItem, ScaleLineTool, ScaleState
from app.ui.workers import Worker

log = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class LayerJob:
    """What the worker hands back for one label map: the layers' images."""

    labels: np.ndarray
    images: dict[str, QImage]
    levels: dict[str, tuple[Level, ...]] = field(default_factory=dict)  # their reduced copies


def compose_layers(result: PhotoResult) -> LayerJob:
    """The layer images of one result and their reduced copies for the viewer (on a worker thread)."""
    images, levels = layer_images_and_levels(result.labels, result.confidence, result.classes)
    return LayerJob(result.labels, images, levels)


class MeasureUi(QObject):
    """Owns the scale state, the line tool, the layers and the measures panel of one main window."""

    def __init__(self, window: WindowHost) -> None:
        """`window`: the main window (its controller, viewer and overlay state)."""
        super().__init__(window)  # type: ignore[arg-type]  # the host is the QMainWindow
        self.window = window
        self.state = window.controller.state
        self.scales = ScaleState(self)
        self.layers = LayerState(self)
        self.panel = MeasuresWidget()
        self.layers_widget = LayersWidget(self.layers)
        scene = window.viewer.scene()
        self.layer_items = LayerItems(scene, self.layers, window.overlay_state)
        self.scale_bar = ScaleBarItem()
        scene.addItem(self.scale_bar)
        self.tool = ScaleLineTool(self._on_line)
        self._layers_of: np.ndarray | None = None  # the label map the layer images show
        self._busy = self._again = False
        self.draw_action = QAction("Draw &scale line", self)
        self.draw_action.setObjectName("action_draw_scale")
        self.draw_action.setCheckable(True)
        self.draw_action.toggled.connect(self.panel.draw_button.setChecked)
        self.panel.draw_button.toggled.connect(self.draw_action.setChecked)
        self.panel.draw_requested.connect(self.set_drawing)
        self.panel.length_entered.connect(self.set_known_length)
        self.panel.clear_requested.connect(self.clear_scale)
        self.state.photo_changed.connect(self._on_photo)
        self.state.result_changed.connect(self._on_result)
        self.state.labels_changed.connect(self._on_labels_edited)
        self.state.figures_changed.connect(self._on_figures)
        self.scales.changed.connect(self._on_scale_changed)
        self.layers.changed.connect(self._on_layers_shown)
        self._on_photo(None)

    def install_menu(self, view_menu: QMenu, before: QAction) -> None:
        """View ▸ Layers and View ▸ Draw scale line, before `before`."""
        self.layers_menu = LayersMenu(self.layers, self.window)  # type: ignore[arg-type]
        view_menu.insertMenu(before, self.layers_menu)
        view_menu.insertAction(before, self.draw_action)

    # the scale ----------------------------------------------------------------------------------
    @property
    def mm_per_px(self) -> float | None:
        photo = self.state.photo
        return self.scales.scale_for(None if photo is None else photo.path)

    def set_drawing(self, on: bool) -> None:
        """The scale line tool takes the viewer's mouse (on) or gives it back to pan and zoom."""
        viewer = self.window.viewer
        if on and viewer.tool is not self.tool:
            viewer.set_tool(self.tool)
            self.window.show_status("Drag along a known length, then type that length in the panel.")
        elif not on and viewer.tool is self.tool:
            viewer.set_tool(None)
        if not on:
            self.tool.clear()
            self.panel.set_line(None)

    def _on_line(self, start: QPointF, end: QPointF) -> None:
        self.panel.set_line(self.tool.length)

    def set_known_length(self, length_mm: float) -> None:
        """The line drawn is `length_mm` long: that sets the photo's mm/px."""
        photo = self.state.photo
        if photo is None:
            return
        try:
            scale = scale_from_line(self.tool.length, length_mm)
        except ScaleError as exc:
            self.panel.line_label.setText(str(exc))
            return
        self.scales.set_scale(photo.path, scale)
        self.panel.draw_button.setChecked(False)
        self.window.show_status(f"Scale of {photo.path.name}: {scale:.4g} mm/px")

    def clear_scale(self) -> None:
        photo = self.state.photo
        if photo is not None:
            self.scales.set_scale(photo.path, None)

    def _on_scale_changed(self, path) -> None:
        photo = self.state.photo
        if photo is not None and photo.path == path:
            self.state.set_scale(self.mm_per_px)  # figures_changed follows
            self._update_scale_bar()
        # the batch table (its CSV and PDF) gives the photo's areas as the panel and its export do
        self.window.batch_model.set_scale(path, self.scales.scale_for(path))

    def row_takes_scale(self, row) -> None:
        """A new batch row of a photo with a scale line drawn in this window gives its areas too."""
        if (mm := self.scales.scale_for(row.path)) is not None:
            self.window.batch_model.set_scale(row.path, mm)

    def _update_scale_bar(self) -> None:
        photo = self.state.photo
        size = (0, 0) if photo is None else (int(photo.rgb.shape[1]), int(photo.rgb.shape[0]))
        self.scale_bar.set_scale(self.mm_per_px, size)

    # the figures and layers of the result shown -----------------------------------------------
    def _on_photo(self, _photo) -> None:
        self.panel.draw_button.setChecked(False)  # the menu's tick and the button follow the tool
        self.set_drawing(False)
        self._layers_of = None
        self.layer_items.set_images(None)
        self.panel.set_measures(None, None)
        self._update_scale_bar()

    def _on_result(self, result: PhotoResult | None) -> None:
        if result is None:
            self._layers_of = None
            self.layer_items.set_images(None)
            self.panel.set_measures(None, None)

    def _on_labels_edited(self, _labels) -> None:
        """An edit (the editor changes the map in place, so the same array may hold new labels): the
        layers are composed again when the figures follow."""
        self._layers_of = None

    def _on_figures(self, result: PhotoResult) -> None:
        if result is not self.state.result:
            return  # superseded while the signal was on its way (e.g. the scale given below)
        if result.measures.mm_per_px != self.mm_per_px:  # a new analysis of a photo with a scale
            self.state.set_scale(self.mm_per_px)
            return
        self.panel.set_measures(result.measures, result)
        self._compose_if_shown()

    def _on_layers_shown(self) -> None:
        self._compose_if_shown()

    def _compose_if_shown(self) -> None:
        """The layer images of the map shown, made only while a layer shows: a hidden layer's 12 MP
        images cost a worker's time (and Python's lock) on every photo opened."""
        result = self.state.result
        if result is None or result.labels is self._layers_of:
            return
        if any(self.layers.is_visible(name) for name in LAYERS):
            self._start_layers(result)

    def _start_layers(self, result: PhotoResult) -> None:
        if self._busy:  # one job at a time: the newest map is composed when it ends
            self._again = True
            return
        self._busy = True
        worker = Worker(compose_layers, result)
        worker.signals.returned.connect(self._on_layers)
        worker.signals.failed.connect(lambda msg: log.warning("layers: %s", msg))
        worker.signals.finished.connect(self._on_job_done)
        self.window.controller.pool.start(worker)

    def _on_layers(self, job: LayerJob) -> None:
        result = self.state.result
        if result is None or job.labels is not result.labels:
            return  # a newer map (an edit, another photo) is composed next
        self._layers_of = job.labels
        self.layer_items.set_images(job.images, job.levels)

    def _on_job_done(self) -> None:
        self._busy = False
        if self._again:
            self._again = False
            self._compose_if_shown()
