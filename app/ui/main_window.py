"""The main window: assembles the widgets and the actions, and wires them to the controller."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QScrollArea,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

import app
from app.core.photos import IMAGE_EXTENSIONS
from app.core.project import SUFFIX as PROJECT_SUFFIX
from app.core.saved_corrections import CorrectionSearch
from app.core.text import safe_path
from app.ui import batch_exports, export_jobs
from app.ui.actions import make_actions
from app.ui.banner_widget import BannerWidget
from app.ui.batch_start import BatchStarter
from app.ui.batch_table import BatchTableModel
from app.ui.batch_widget import BatchWidget
from app.ui.compare_key import CompareKeyFilter
from app.ui.controller import AnalyzedPhoto, AppController, OpenedPhoto
from app.ui.edit_menu import EditUi
from app.ui.figures_widget import FiguresWidget
from app.ui.image_viewer_widget import BATCH_PLACEHOLDER_TEXT, ImageViewerWidget
from app.ui.measure_ui import MeasureUi
from app.ui.model_menu import ModelMenu, no_model_text
from app.ui.navigation import step_photo
from app.ui.overlay_menu import OverlayMenu
from app.ui.overlay_panel_widget import LegendWidget, OverlayPanelWidget
from app.ui.overlay_state import OverlayState
from app.ui.project_jobs import ProjectUi
from app.ui.quitting import Quitting
from app.ui.recent_menu import RecentMenu
from app.ui.screen_fit import PhotoRoom, fit_size, restore_window
from app.ui.settings import AppSettings
from app.ui.status_bar import status_widgets, watch_settings
from app.ui.tab_order import chain_after, tab_stops
from app.ui.wheel_guard import WheelGuard
from app.ui.window_actions import ACTIONS

BATCH_DOCK_ROWS = 300  # px: about a dozen rows once a batch runs
IMAGE_FILTER = "Photos ({})".format(" ".join(f"*{e}" for e in IMAGE_EXTENSIONS))


DEFAULT_SIZE = QSize(1280, 820)


def default_size(available: QSize) -> QSize:
    """1280 x 820, or less on a smaller screen: the whole window, status bar and title bar included,
    stays on it (a 1280 x 800 screen cut the status bar off)."""
    return fit_size(DEFAULT_SIZE, available)


class MainWindow(QMainWindow):
    """The window; its feature halves (model menu, editing, measures, project) are composed objects
    that see it as a `WindowHost` (app/ui/host.py)."""

    def __init__(self, settings: AppSettings, controller: AppController | None = None) -> None:
        super().__init__()
        self.settings = settings
        self.controller = controller or AppController(self)
        self.controller.corrections = CorrectionSearch
        self.setWindowTitle(f"Corroscope {app.__version__}")
        self.setAcceptDrops(True)
        self.quitting = Quitting(self)
        self.overlay_state = OverlayState(self)
        self.viewer = ImageViewerWidget(self.overlay_state)
        self.banner = BannerWidget()
        self.legend = LegendWidget(self.overlay_state)
        self.overlay_panel = OverlayPanelWidget(self.overlay_state)
        self.figures = FiguresWidget(
            self.controller.state, settings.grade_scale, self._pending_text, lambda: self.controller.model
        )
        self.batch_model = BatchTableModel(settings.grade_scale, self)
        self.batch = BatchWidget(self.batch_model)
        self.measure_ui = MeasureUi(self)  # scale, layers, measures panel (app/ui/measure_ui.py)
        self._build_layout()
        self.projects = ProjectUi(self)  # the project dock and its jobs (app/ui/project_jobs.py)
        PhotoRoom(self, self.projects.dock)  # a small screen: the project dock gives the photo room
        self.batch_starter = BatchStarter(self)  # Open folder and drops: listed, then run (batch_start.py)
        self.model_menu = ModelMenu(self)  # Model and Help menus (app/ui/model_menu.py)
        self.actions, self.menus = make_actions(
            self, ACTIONS, [self.model_menu, self.projects, self.projects.menu]
        )
        self.actions["use_cpu"].setChecked(settings.device == "cpu")
        self.actions["use_tiles"].setChecked(settings.tiles)
        self.actions["recursive"].setChecked(settings.recursive)
        self._recent_menu = RecentMenu("Open &recent", settings, self)
        self.menus["&File"].insertMenu(self.actions["open_folder"], self._recent_menu)
        self._remember_recent: set[Path] = set()  # photos opened by the user, not by a batch row
        self.overlay_menu = OverlayMenu(self.overlay_state, self)
        self.menus["&View"].insertMenu(self.actions["previous_photo"], self.overlay_menu)
        self.measure_ui.install_menu(self.menus["&View"], self.actions["previous_photo"])
        status = status_widgets(self, self.controller.state)  # messages elided, never under the readout
        self.readout, self.busy_label, self.zoom_label, self.provider_label = status
        self.settings_unsaved = watch_settings(self, settings, self.show_message)  # said once, if ever
        # application filters: the compare key; the wheel scrolls panels (app/ui/wheel_guard.py)
        self._filters = (CompareKeyFilter(self, self.overlay_state), WheelGuard(self))
        for event_filter in self._filters:
            QApplication.instance().installEventFilter(event_filter)
        self._connect()
        self.editing = EditUi(self)  # after _connect: its handlers run after the window's
        self.editing.review.signed_masks_saved.connect(self.projects.reviews.store)
        self.update_enabled()
        restore_window(self, settings.window_geometry, DEFAULT_SIZE)  # or fitted to a smaller screen
        if settings.window_state is not None:
            self.restoreState(settings.window_state)
            self.projects.dock.setVisible(self.projects.project is not None)  # not an empty one

    def _build_layout(self) -> None:
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.banner)
        # where the photo would be, a failed batch row's reason (the viewer otherwise)
        self.failed_label = QLabel()
        self.failed_label.setObjectName("failed_photo")
        self.failed_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.failed_label.setWordWrap(True)
        self.failed_label.setStyleSheet("color: #a01010; font-size: 13pt; padding: 24px;")
        self.failed_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.photo_area = QStackedWidget()
        self.photo_area.addWidget(self.viewer)
        self.photo_area.addWidget(self.failed_label)
        layout.addWidget(self.photo_area, 1)
        layout.addWidget(self.legend)
        self.setCentralWidget(central)
        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.addWidget(self.overlay_panel)
        side_layout.addWidget(self.measure_ui.layers_widget)
        side_layout.addWidget(self.figures)
        side_layout.addWidget(self.measure_ui.panel, 1)
        scroll = QScrollArea()
        scroll.setWidget(side)
        scroll.setWidgetResizable(True)
        scroll.setMinimumWidth(330)
        # no Tab stop (it showed no focus): the controls inside it are the stops
        scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)
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
        # Tab goes from the photo down the panel; the overlay's rows, rebuilt for each model, included
        after_rows = next(iter(tab_stops(self.measure_ui.layers_widget.layout())), None)
        self.overlay_state.classes_changed.connect(
            lambda: chain_after(self.viewer, self.overlay_panel, after_rows)
        )
        chain_after(self.viewer, side)  # once in the window: no tab order across windows
        # One line until a batch runs (BatchWidget's idle height): the photo and the figures need the
        # height; a batch makes room for its rows (`_make_room_for_batch`).

    def _make_room_for_batch(self) -> None:
        """A dozen rows of the table (a third of the window at most), unless the user made it taller."""
        want = min(BATCH_DOCK_ROWS, self.height() // 3)
        if self._dock_batch.height() < want:
            self.resizeDocks([self._dock_batch], [want], Qt.Orientation.Vertical)

    def _connect(self) -> None:
        c = self.controller
        c.state.photo_changed.connect(self._on_photo_changed)
        c.photo_analyzed.connect(self._on_photo_analyzed)  # the job's ready-made overlay images
        c.photo_failed.connect(lambda msg: self.show_message(msg, "error"))
        c.photo_opened.connect(lambda item: item.note and self.show_message(item.note, "warning"))
        c.busy_changed.connect(self.busy_label.setText)
        c.busy_changed.connect(self.update_enabled)
        c.batch_started.connect(self.batch.start)
        c.batch_started.connect(lambda *_a: self.batch_model.start_in(c.batch_folders))
        c.batch_started.connect(self._make_room_for_batch)
        c.batch_started.connect(lambda *_a: self.viewer.set_placeholder(BATCH_PLACEHOLDER_TEXT))
        c.batch_rest.connect(self.batch.keep_rest)
        self.batch.continue_requested.connect(lambda paths: c.run_batch_paths(paths))
        c.batch_row_ready.connect(self.batch_model.append)
        c.batch_row_ready.connect(self._on_batch_row)
        c.batch_row_ready.connect(self.measure_ui.row_takes_scale)  # after the row is appended
        c.batch_finished.connect(self.batch.finish)
        c.batch_left_out.connect(lambda line: self.show_message(line, "info"))
        # after batch.finish: the batch's own line counts a continued batch whole
        c.batch_finished.connect(lambda _msg: self.show_status(self.batch.status_label.text(), 8000))
        c.export_finished.connect(lambda paths: self.show_message(export_jobs.exported_text(paths), "info"))
        c.export_failed.connect(lambda msg: self.show_message(f"Export failed: {msg}", "error"))
        self.batch.photo_activated.connect(lambda path: self.open_photo(path, remember=False))
        self.batch.failed_activated.connect(self._show_failed_row)
        self.batch.cancel_requested.connect(c.cancel_batch)
        self.batch.export_csv_requested.connect(self.export_batch_csv)
        self.figures.grade_scale_changed.connect(self._on_grade_scale)
        self.overlay_state.changed.connect(self._save_opacity)
        self.viewer.zoom_changed.connect(self._show_zoom)
        self.viewer.cursor_moved.connect(self.readout.show_at)
        self.viewer.cursor_left.connect(self.readout.leave)
        self._recent_menu.chosen.connect(self.open_recent)
        self._recent_menu.gone.connect(lambda text: self.show_message(text, "error"))
        self.projects.project_changed.connect(self._remember_project)
        self.projects.project_changed.connect(self.update_enabled)

    # messages and state -------------------------------------------------------------------------
    @property
    def grade_scale(self) -> str:
        return self.figures.grade_scale

    def show_message(self, text: str, level: str = "info", sticky: bool = False) -> None:
        self.banner.show_message(text, level, sticky)
        self.show_status(text.splitlines()[0], 10000)

    def _show_zoom(self, zoom: float) -> None:
        self.zoom_label.setText(f"Zoom {zoom * 100:.0f} %" if self.viewer.has_photo() else "")

    def show_status(self, text: str, msecs: int = 8000) -> None:
        """A passing status message, elided to its room; the whole text is the status bar's tooltip."""
        self.statusBar().showMessage(text, msecs)

    def _pending_text(self) -> str:
        """What the figures panel says while the photo on screen has no result."""
        return "Analysing…" if self.controller.model else no_model_text()

    def update_enabled(self, *_args) -> None:
        has_model = self.controller.model is not None
        adapting = self.model_menu.adapting  # its result loads when it ends: no other model meanwhile
        self.actions["model_info"].setEnabled(has_model)
        self.actions["adapt_model"].setEnabled(has_model and not adapting)
        self.actions["load_model"].setEnabled(not adapting)
        self.actions["use_cpu"].setEnabled(not adapting)
        self.actions["export"].setEnabled(self.controller.result is not None)
        has_rows = self.batch_model.rowCount() > 0
        self.actions["export_csv"].setEnabled(has_rows)
        self.actions["export_batch_pdf"].setEnabled(has_rows and has_model)
        self.actions["default_model"].setEnabled(
            (self.settings.model_path is not None or not has_model) and not adapting
        )
        self.actions["export_project"].setEnabled(self.projects.project is not None)
        self.actions["close_project"].setEnabled(self.projects.project is not None)
        self.projects.sync_actions()  # the Project menu, as the panel's buttons

    def _on_photo_changed(self, photo: OpenedPhoto | None) -> None:
        if photo is None:
            return
        self.photo_area.setCurrentWidget(self.viewer)
        self.viewer.set_photo(photo.image, photo.levels)
        self.setWindowTitle(f"{safe_path(photo.path.name)} – Corroscope")
        if photo.path in self._remember_recent:
            self._remember_recent.discard(photo.path)
            self._recent_menu.remember(photo.path)
        self.batch.select_path(photo.path)  # the table's selection follows the photo shown
        if self.banner.level == "error":
            self.banner.dismiss()
        self.update_enabled()

    def _on_photo_analyzed(self, item: AnalyzedPhoto) -> None:
        self.viewer.set_labels(item.labels_image, item.overlay_levels, item.color_table)
        self.update_enabled()

    def _show_failed_row(self, path: Path, reason: str) -> None:
        """A failed batch row is current: its reason shows where the photo would be, nothing else."""
        self.controller.clear_photo()
        self.viewer.clear()
        self.failed_label.setText(f"{safe_path(path.name)} could not be analysed:\n\n{reason}")
        self.failed_label.setToolTip(str(path))
        self.photo_area.setCurrentWidget(self.failed_label)
        self.setWindowTitle(f"{safe_path(path.name)} (failed) – Corroscope")
        self.update_enabled()

    def _on_batch_row(self, row) -> None:
        if self.controller.current is not None and row.path == self.controller.current.path:
            self.batch.select_path(row.path)  # the photo on screen just got its row

    def _on_grade_scale(self, scale: str) -> None:
        self.settings.grade_scale = scale
        self.batch_model.set_grade_scale(scale)

    def _save_opacity(self) -> None:
        for c in self.overlay_state.classes:
            self.settings.set_opacity(c.name, self.overlay_state.opacity(c.id))

    def _remember_project(self, project) -> None:
        """A project file joins Open recent beside the photos (a server's URL does not: the server
        dialog offers the last one)."""
        if project is not None and project.location.file is not None:
            self._recent_menu.remember(project.location.file)

    def open_recent(self, path: Path) -> None:
        if Path(path).suffix.lower() == PROJECT_SUFFIX:
            self.projects.open(path)
        else:
            self.open_photo(path)

    # actions ------------------------------------------------------------------------------------
    def open_photo(self, path: Path, remember: bool = True) -> None:
        """Show and analyse `path`; `remember`: it goes into Open recent (not for batch rows)."""
        path = Path(path)
        self.banner.dismiss()  # the last photo's messages are not this one's
        if remember:
            self.settings.last_folder = str(path.parent)
            self._remember_recent.add(path)
        self.controller.open_photo(path, self.overlay_state.color_table())

    def open_folder(self, folder: Path) -> None:
        self.settings.last_folder = str(folder)
        self.run_batch([Path(folder)])

    def run_batch(self, paths: list[Path]) -> None:
        """A batch of these files and folders (`BatchStarter.run`: listed on a worker first)."""
        self.batch_starter.run(paths)

    def open_photo_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open photo", self.settings.last_folder, IMAGE_FILTER)
        if path:
            self.open_photo(Path(path))

    def open_folder_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Analyse a folder", self.settings.last_folder)
        if folder:
            self.open_folder(Path(folder))

    def set_recursive(self, on: bool) -> None:
        self.settings.recursive = on

    def previous_photo(self) -> None:
        step_photo(self, -1)

    def next_photo(self) -> None:
        step_photo(self, 1)

    def zoom_fit(self) -> None:
        self.viewer.fit_to_window()

    def zoom_actual(self) -> None:
        self.viewer.zoom_actual_size()

    def zoom_in(self) -> None:
        self.viewer.zoom_by(1.25)

    def zoom_out(self) -> None:
        self.viewer.zoom_by(0.8)

    def export_dialog(self) -> None:
        export_jobs.export_photo_interactive(self)

    def export_batch_csv(self) -> None:
        batch_exports.export_batch_csv_interactive(self)

    def export_batch_pdf(self) -> None:
        batch_exports.export_batch_pdf_interactive(self)

    # drag and drop, close -----------------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [Path(u.toLocalFile()) for u in event.mimeData().urls() if u.isLocalFile()]
        event.acceptProposedAction()
        self.open_paths(paths)

    def load_model_file(self, path: Path) -> None:
        """A model chosen by hand (a dropped .onnx, Model ▸ Load model…)."""
        self.model_menu.load_model_file(path)

    def open_paths(self, paths: list[Path]) -> None:
        """What a drop does: a model loads, a project opens, one photo opens, a folder or several photos
        run as a batch."""
        if len(paths) == 1 and paths[0].suffix.lower() == ".onnx":
            self.load_model_file(paths[0])
        elif len(paths) == 1 and paths[0].suffix.lower() == PROJECT_SUFFIX:
            self.projects.open(paths[0])
        elif len(paths) == 1 and paths[0].is_file():
            self.open_photo(paths[0])
        elif paths:
            self.run_batch(paths)

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self.quitting.ready():
            event.ignore()
            return
        self.settings.window_geometry = self.saveGeometry()
        self.settings.window_state = self.saveState()
        self.settings.sync()
        for event_filter in self._filters:
            QApplication.instance().removeEventFilter(event_filter)
        self.projects.shutdown()
        self.controller.shutdown()
        super().closeEvent(event)
