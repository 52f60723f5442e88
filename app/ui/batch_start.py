"""Starting a batch from the window: its folders listed on a worker first (a share may hold thousands of
files), no photos said (and subfolders offered), and what the window shows as it starts: a photo on
screen the batch does not take in (the last folder's) goes, and the viewer says to pick a row, so no
photo stands above a table that lacks it."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from PySide6.QtWidgets import QLabel, QStackedWidget, QWidget

import app
from app.ui import questions
from app.ui.banner_widget import BannerWidget
from app.ui.batch_table import BatchTableModel
from app.ui.batch_widget import BatchWidget
from app.ui.controller import AppController
from app.ui.folder_scan import FolderScan, holds, scan_folders
from app.ui.image_viewer_widget import ImageViewerWidget
from app.ui.settings import AppSettings
from app.ui.workers import Worker

LOOKING = "Looking for photos…"


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


class BatchWindow(BatchStartHost, Protocol):
    """What `BatchStarter` needs of the window besides `BatchStartHost`."""

    settings: AppSettings
    banner: BannerWidget
    busy_label: QLabel
    batch_model: BatchTableModel
    batch: BatchWidget

    def show_message(self, text: str, level: str = "info") -> None: ...


class BatchStarter:
    """File ▸ Open folder, a drop, the command line: a batch of files and folders; when they hold no
    photo, say so and offer their subfolders."""

    def __init__(self, window: BatchWindow) -> None:
        self.window = window

    def run(self, paths: list[Path]) -> None:
        w = self.window
        recursive = w.settings.recursive
        if w.controller.batch_running and not self._may_replace_running():
            return
        w.banner.dismiss()  # earlier messages are not this batch's
        if w.controller.model is None:  # the controller says what to do
            w.controller.run_batch_paths(paths, recursive=recursive)
            return
        worker = Worker(scan_folders, list(paths), recursive)
        worker.signals.returned.connect(lambda scan: self._start(paths, recursive, scan))
        worker.signals.failed.connect(self._scan_failed)
        w.busy_label.setText(LOOKING)
        w.controller.pool.start(worker)

    def _may_replace_running(self) -> bool:
        """Asked as on quitting: the running batch's rows go when the new batch's table replaces them."""
        w = self.window
        done, total = w.batch_model.done_count, w.batch.total
        parent = w if isinstance(w, QWidget) else None
        if questions.ask_replace_running_batch(parent, done, total):
            return True
        w.show_message(f"The running batch goes on ({done} of {total} photos done).", "info")
        return False

    def _scan_failed(self, message: str) -> None:
        self.window.busy_label.setText("")
        self.window.show_message(message, "error")

    def _start(self, paths: list[Path], recursive: bool, scan: FolderScan) -> None:
        w = self.window
        # cleared here, before the batch says "Batch running…" (the worker's end would come after it)
        w.busy_label.setText("")
        if not scan.found:
            text = questions.no_photos_text(paths, scan.nested)
            parent = w if isinstance(w, QWidget) else None
            if not scan.nested or not questions.ask_include_subfolders(parent, paths, scan.nested):
                text = questions.declined_text(paths, scan.nested) if scan.nested else text
                # e.g. a phone's HEIC photos: "no photos" alone would hide them
                w.show_message(f"{text} {scan.skipped}" if scan.skipped else text, "warning")
                return
            recursive = True
        leave_other_photo(w, paths, recursive)  # the last folder's photo is not this batch's
        w.controller.run_batch_paths(paths, recursive=recursive)
