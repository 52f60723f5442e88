"""What a feature's half of the window (editing, measures, project, model menu) may use of the window.

The halves are composed objects, not mixins: each takes a `WindowHost` and uses only these members, so
the coupling is written down and type-checked instead of reaching into the window by erased types.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from PySide6.QtCore import SignalInstance
    from PySide6.QtGui import QAction
    from PySide6.QtWidgets import QLabel, QMenu, QMenuBar, QStatusBar, QToolBar, QWidget

    from app.core.project import Project
    from app.ui.banner_widget import BannerWidget
    from app.ui.batch_table import BatchTableModel
    from app.ui.batch_widget import BatchWidget
    from app.ui.controller import AppController
    from app.ui.figures_widget import FiguresWidget
    from app.ui.image_viewer_widget import ImageViewerWidget
    from app.ui.overlay_state import OverlayState
    from app.ui.project_errors import ProjectErrors
    from app.ui.project_panel_widget import ProjectPanelWidget
    from app.ui.project_view import ProjectView
    from app.ui.readout_widget import ElidedLabel
    from app.ui.settings import AppSettings


class WindowHost(Protocol):
    """The main window as its feature halves see it (`app.ui.main_window.MainWindow` implements it)."""

    controller: AppController
    settings: AppSettings
    viewer: ImageViewerWidget
    overlay_state: OverlayState
    figures: FiguresWidget
    banner: BannerWidget
    batch: BatchWidget
    batch_model: BatchTableModel
    busy_label: QLabel
    provider_label: ElidedLabel
    actions: dict[str, QAction]
    menus: dict[str, QMenu]

    def show_message(self, text: str, level: str = "info", sticky: bool = False) -> None: ...

    def show_status(self, text: str, msecs: int = 8000) -> None: ...

    def open_photo(self, path: Path, remember: bool = True) -> None: ...

    def update_enabled(self, *_args: object) -> None:
        """Enable the window's actions for what is on screen now."""

    # the QMainWindow calls the halves use to add their parts
    def statusBar(self) -> QStatusBar: ...  # Qt's names, not ours

    def menuBar(self) -> QMenuBar: ...

    def addAction(self, action: QAction) -> None: ...

    def removeAction(self, action: QAction) -> None: ...

    def addToolBar(self, area: object, toolbar: QToolBar) -> None: ...

    def addDockWidget(self, area: object, dock: QWidget) -> None: ...

    def setWindowTitle(self, title: str) -> None: ...


class ProjectsHost(Protocol):
    """What these edits need of the window's project (`ProjectUi`)."""

    panel: ProjectPanelWidget
    window: WindowHost
    project: Project | None
    errors: ProjectErrors
    dialogs: list[QWidget]  # the trend, compare and history windows open

    @property
    def view(self) -> ProjectView | None: ...

    @property
    def target(self) -> str: ...

    @property
    def dialog_opened(self) -> SignalInstance: ...

    def keep(self, dialog: QWidget) -> QWidget: ...
