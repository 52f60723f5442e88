"""The main window: assembles the widgets and the actions, and wires them to the controller."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

import app
from app.core.imageio import IMAGE_EXTENSIONS
from app.core.inference import InferenceMode, InferenceOptions
from app.core.model import SegmentationModel
from app.ui import export_jobs
from app.ui.actions import ActionSpec, make_actions
from app.ui.banner_widget import BannerWidget
from app.ui.batch_widget import BatchTableModel, BatchWidget
from app.ui.compare_key import CompareKeyFilter
from app.ui.controller import AnalyzedPhoto, AppController, OpenedPhoto
from app.ui.figures_widget import FiguresWidget
from app.ui.image_viewer_widget import ImageViewerWidget
from app.ui.model_info_dialog import ModelInfoDialog
from app.ui.overlay_panel_widget import LegendWidget, OverlayPanelWidget
from app.ui.overlay_state import DEFAULT_OPACITY, OverlayState
from app.ui.project_jobs import ProjectUi
from app.ui.settings import AppSettings

SK = QKeySequence.StandardKey
ACTIONS = (
    ActionSpec(
        "open_photo", "&File", "&Open photo…", "open_photo_dialog", SK.Open, "Open a photo and analyse it"
    ),
    ActionSpec(
        "open_folder",
        "&File",
        "Open &folder…",
        "open_folder_dialog",
        "Ctrl+Shift+O",
        "Analyse every photo in a folder",
    ),
    ActionSpec("new_project", "&File", "&New project…", "new_project_dialog", None, separator_before=True),
    ActionSpec("open_project", "&File", "Open pro&ject…", "open_project_dialog", "Ctrl+Shift+P"),
    ActionSpec("open_project_server", "&File", "Open project on a &server…", "open_project_server_dialog"),
    ActionSpec(
        "export",
        "&File",
        "&Export results…",
        "export_dialog",
        "Ctrl+E",
        "Mask, overlay, JSON and PDF of this photo",
        separator_before=True,
    ),
    ActionSpec(
        "export_csv", "&File", "Export batch &CSV…", "export_batch_csv", None, "The batch table as CSV"
    ),
    ActionSpec(
        "export_batch_pdf",
        "&File",
        "Export batch PDF &report…",
        "export_batch_pdf",
        None,
        "One PDF for the whole batch",
    ),
    ActionSpec("quit", "&File", "&Quit", "close", SK.Quit, separator_before=True),
    ActionSpec("zoom_fit", "&View", "Zoom to &fit", "zoom_fit", "Ctrl+0"),
    ActionSpec("zoom_actual", "&View", "&Actual size (1:1)", "zoom_actual", "Ctrl+1"),
    ActionSpec("zoom_in", "&View", "Zoom &in", "zoom_in", SK.ZoomIn),
    ActionSpec("zoom_out", "&View", "Zoom &out", "zoom_out", SK.ZoomOut),
    ActionSpec(
        "load_model", "&Model", "&Load model…", "load_model_dialog", "Ctrl+M", "Load another ONNX model"
    ),
    ActionSpec("model_info", "&Model", "Model &information…", "show_model_info", "Ctrl+I"),
    ActionSpec(
        "use_cpu",
        "&Model",
        "Use &CPU only",
        "set_cpu_only",
        None,
        "Do not try CUDA (kept in the settings)",
        checkable=True,
        separator_before=True,
    ),
    ActionSpec(
        "use_tiles",
        "&Model",
        "Fine &detail (tiles, slower)",
        "set_tiles",
        None,
        "Run the model on overlapping tiles at photo scale instead of the whole photo resized",
        checkable=True,
    ),
    ActionSpec("about", "&Help", "&About Corroscope", "show_about"),
)
IMAGE_FILTER = "Photos ({})".format(" ".join(f"*{e}" for e in IMAGE_EXTENSIONS))
NO_MODEL_TEXT = (
    "No model is bundled (models/*.onnx is empty). Load one with Model ▸ Load model… "
    "(an ONNX file following the Corroscope model contract)."
)


class MainWindow(QMainWindow):
    def __init__(self, settings: AppSettings, controller: AppController | None = None) -> None:
        super().__init__()
        self.settings = settings
        self.controller = controller or AppController(self)
        self.setWindowTitle(f"Corroscope {app.__version__}")
        self.setAcceptDrops(True)
        self.overlay_state = OverlayState(self)
        self.viewer = ImageViewerWidget(self.overlay_state)
        self.banner = BannerWidget()
        self.legend = LegendWidget(self.overlay_state)
        self.overlay_panel = OverlayPanelWidget(self.overlay_state)
        self.figures = FiguresWidget(settings.grade_scale)
        self.batch_model = BatchTableModel(settings.grade_scale, self)
        self.batch = BatchWidget(self.batch_model)
        self._build_layout()
        self.projects = ProjectUi(self)  # the project dock and its jobs (app/ui/project_jobs.py)
        self.actions, self.menus = make_actions(self, ACTIONS)
        self.actions["use_cpu"].setChecked(settings.device == "cpu")
        self.actions["use_tiles"].setChecked(settings.tiles)
        self._recent_menu = self.menus["&File"].addMenu("Open &recent")
        self.menus["&File"].insertMenu(self.actions["open_folder"], self._recent_menu)
        self._rebuild_recent()
        self.provider_label, self.zoom_label, self.busy_label = QLabel(), QLabel(), QLabel()
        for label in (self.busy_label, self.zoom_label, self.provider_label):
            self.statusBar().addPermanentWidget(label)
        self.provider_label.setText("No model loaded")
        self._compare_filter = CompareKeyFilter(self, self.overlay_state)
        QApplication.instance().installEventFilter(self._compare_filter)
        self._connect()
        self._update_enabled()
        if settings.window_geometry is not None:
            self.restoreGeometry(settings.window_geometry)
        else:
            self.resize(QSize(1280, 820))
        if settings.window_state is not None:
            self.restoreState(settings.window_state)

    def _build_layout(self) -> None:
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.banner)
        layout.addWidget(self.viewer, 1)
        layout.addWidget(self.legend)
        self.setCentralWidget(central)
        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.addWidget(self.overlay_panel)
        side_layout.addWidget(self.figures, 1)
        scroll = QScrollArea()
        scroll.setWidget(side)
        scroll.setWidgetResizable(True)
        scroll.setMinimumWidth(330)
        for name, title, widget, area in (
            ("dock_panel", "Overlay and figures", scroll, Qt.DockWidgetArea.RightDockWidgetArea),
            ("dock_batch", "Batch", self.batch, Qt.DockWidgetArea.BottomDockWidgetArea),
        ):
            dock = QDockWidget(title, self)
            dock.setObjectName(name)
            dock.setWidget(widget)
            dock.setFeatures(
                QDockWidget.DockWidgetFeature.DockWidgetMovable
                | QDockWidget.DockWidgetFeature.DockWidgetFloatable
            )
            self.addDockWidget(area, dock)
            setattr(self, f"_{name}", dock)
        self.resizeDocks([self._dock_batch], [200], Qt.Orientation.Vertical)

    def _connect(self) -> None:
        c = self.controller
        c.model_loaded.connect(self._on_model_loaded)
        c.model_refused.connect(self._on_model_refused)
        c.photo_opened.connect(self._on_photo_opened)
        c.photo_analyzed.connect(self._on_photo_analyzed)
        c.photo_failed.connect(lambda msg: self.show_message(msg, "error"))
        c.busy_changed.connect(self.busy_label.setText)
        c.busy_changed.connect(self._update_enabled)
        c.batch_started.connect(self.batch.start)
        c.batch_row_ready.connect(self.batch_model.append)
        c.batch_finished.connect(self.batch.finish)
        c.batch_finished.connect(lambda msg: self.statusBar().showMessage(msg, 8000))
        c.export_finished.connect(
            lambda paths: self.show_message("Exported: " + ", ".join(p.name for p in paths), "info")
        )
        c.export_failed.connect(lambda msg: self.show_message(f"Export failed: {msg}", "error"))
        self.batch.photo_activated.connect(self.open_photo)
        self.batch.cancel_requested.connect(c.cancel_batch)
        self.batch.export_csv_requested.connect(self.export_batch_csv)
        self.figures.grade_scale_changed.connect(self._on_grade_scale)
        self.overlay_state.changed.connect(self._save_opacity)
        self.viewer.zoom_changed.connect(lambda z: self.zoom_label.setText(f"{z * 100:.0f} %"))

    # messages and state -------------------------------------------------------------------------
    def show_message(self, text: str, level: str = "info") -> None:
        self.banner.show_message(text, level)
        self.statusBar().showMessage(text.splitlines()[0], 10000)

    def _update_enabled(self, *_args) -> None:
        has_model = self.controller.model is not None
        self.actions["model_info"].setEnabled(has_model)
        self.actions["export"].setEnabled(self.controller.result is not None)
        has_rows = self.batch_model.rowCount() > 0
        self.actions["export_csv"].setEnabled(has_rows)
        self.actions["export_batch_pdf"].setEnabled(has_rows and has_model)

    def _on_model_loaded(self, model: SegmentationModel) -> None:
        opacities = {c.name: self.settings.opacity(c.name, DEFAULT_OPACITY) for c in model.classes}
        self.overlay_state.set_classes(model.classes, opacities)
        text = f"Model {model.path.name} · running on {model.device}"
        self.provider_label.setText(text + (f" ({model.cuda_note})" if model.cuda_note else ""))
        self.provider_label.setToolTip(f"SHA-256 {model.sha256}\nProviders: {', '.join(model.providers)}")
        if self.banner.text == NO_MODEL_TEXT:
            self.banner.dismiss()
        self.statusBar().showMessage(f"Loaded {model.describe()}", 8000)
        self._update_enabled()

    def _on_model_refused(self, message: str) -> None:
        if self.controller.model is not None:
            kept = f"the previous model ({self.controller.model.path.name}) stays loaded"
        else:
            kept = "no model is loaded; load one with Model ▸ Load model…"
        self.show_message(f"Model refused, {kept}. {message}", "error")

    def _on_photo_opened(self, photo: OpenedPhoto) -> None:
        self.viewer.set_photo(photo.image)
        self.setWindowTitle(f"{photo.path.name} – Corroscope")
        self.settings.add_recent_file(photo.path)
        self._rebuild_recent()
        if self.banner.level == "error":
            self.banner.dismiss()
        self.figures.set_result(None, "Analysing…" if self.controller.model else NO_MODEL_TEXT)
        self._update_enabled()

    def _on_photo_analyzed(self, item: AnalyzedPhoto) -> None:
        self.viewer.set_labels(item.labels_image, item.overlay_image, item.color_table)
        self.figures.set_result(item.result)
        self._update_enabled()

    def _on_grade_scale(self, scale: str) -> None:
        self.settings.grade_scale = scale
        self.batch_model.set_grade_scale(scale)

    def _save_opacity(self) -> None:
        for c in self.overlay_state.classes:
            self.settings.set_opacity(c.name, self.overlay_state.opacity(c.id))

    def _rebuild_recent(self) -> None:
        self._recent_menu.clear()
        for path in self.settings.recent_files:
            action = self._recent_menu.addAction(Path(path).name)
            action.setToolTip(path)
            action.triggered.connect(lambda _c=False, p=path: self.open_photo(Path(p)))
        self._recent_menu.setEnabled(bool(self.settings.recent_files))

    # actions ------------------------------------------------------------------------------------
    def open_photo(self, path: Path) -> None:
        self.settings.last_folder = str(Path(path).parent)
        self.controller.open_photo(path, self.overlay_state.color_table())

    def open_folder(self, folder: Path) -> None:
        self.settings.last_folder = str(folder)
        self.controller.run_batch_folder(folder)

    def open_photo_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open photo", self.settings.last_folder, IMAGE_FILTER)
        if path:
            self.open_photo(Path(path))

    def open_folder_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Analyse a folder", self.settings.last_folder)
        if folder:
            self.open_folder(Path(folder))

    def load_model_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Load model", self.settings.last_folder, "ONNX models (*.onnx)"
        )
        if path:
            self.controller.load_model(path, self.settings.device)

    def set_cpu_only(self, on: bool) -> None:
        self.settings.device = "cpu" if on else "auto"
        if self.controller.model is not None:
            self.controller.load_model(self.controller.model.path, self.settings.device)

    def set_tiles(self, on: bool) -> None:
        self.settings.tiles = on
        mode = InferenceMode.TILES if on else InferenceMode.RESIZE
        self.controller.set_options(InferenceOptions(mode=mode))

    def show_model_info(self) -> None:
        if self.controller.model is not None:
            ModelInfoDialog(self.controller.model, self).exec()

    def show_about(self) -> None:
        QMessageBox.about(
            self,
            "About Corroscope",
            f"Corroscope {app.__version__}\nSegmentation of corrosion on photos of pipes.",
        )

    def zoom_fit(self) -> None:
        self.viewer.fit_to_window()

    def zoom_actual(self) -> None:
        self.viewer.zoom_actual_size()

    def zoom_in(self) -> None:
        self.viewer.zoom_by(1.25)

    def zoom_out(self) -> None:
        self.viewer.zoom_by(0.8)

    def new_project_dialog(self) -> None:
        self.projects.new_dialog()

    def open_project_dialog(self) -> None:
        self.projects.open_dialog()

    def open_project_server_dialog(self) -> None:
        self.projects.open_server_dialog()

    def export_dialog(self) -> None:
        export_jobs.export_photo_interactive(self)

    def export_batch_csv(self) -> None:
        export_jobs.export_batch_csv_interactive(self)

    def export_batch_pdf(self) -> None:
        export_jobs.export_batch_pdf_interactive(self)

    # drag and drop, close -----------------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [Path(u.toLocalFile()) for u in event.mimeData().urls() if u.isLocalFile()]
        event.acceptProposedAction()
        self.open_paths(paths)

    def open_paths(self, paths: list[Path]) -> None:
        """What a drop does: a model loads, one photo opens, a folder or several photos run as a batch."""
        if len(paths) == 1 and paths[0].suffix.lower() == ".onnx":
            self.controller.load_model(paths[0], self.settings.device)
        elif len(paths) == 1 and paths[0].is_file():
            self.open_photo(paths[0])
        elif paths:
            self.controller.run_batch_paths(paths)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.settings.window_geometry = self.saveGeometry()
        self.settings.window_state = self.saveState()
        self.settings.sync()
        QApplication.instance().removeEventFilter(self._compare_filter)
        self.controller.shutdown()
        super().closeEvent(event)
