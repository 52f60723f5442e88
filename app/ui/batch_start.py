"""What the window shows as a new batch starts: a photo on screen the batch does not take in (the last
folder's) goes, and the viewer says to pick a row, so no photo stands above a table that lacks it."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from PySide6.QtWidgets import QLabel, QStackedWidget

import app
from app.ui.controller import AppController
from app.ui.folder_scan import holds
from app.ui.image_viewer_widget import ImageViewerWidget


class BatchStartHost(Protocol):
    """What `leave_other_photo` needs of the window."""

    controller: AppController
    viewer: ImageViewerWidget
    photo_area: QStackedWidget
    failed_label: QLabel

    def setWindowTitle(self, title: str) -> None: ...

    def update_enabled(self) -> None: ...


def leave_other_photo(window: BatchStartHost, paths: Sequence[Path], recursive: bool) -> None:
    """Clear the photo (or failed row) on screen unless the batch of `paths` takes it in; a photo it
    takes in stays, and its row is selected when ready (`MainWindow._on_batch_row`)."""
    current = window.controller.current
    if current is None and window.photo_area.currentWidget() is not window.failed_label:
        return
    if current is not None and holds(paths, recursive, current.path):
        return
    window.controller.clear_photo()  # the figures panel follows the state: no photo, no figures
    window.viewer.clear()  # with no photo, it shows the batch's "Pick a row…" line
    window.photo_area.setCurrentWidget(window.viewer)
    window.setWindowTitle(f"Corroscope {app.__version__}")
    window.update_enabled()
