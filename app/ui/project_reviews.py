"""Signed masks reach the open project as reviewed results, on workers; the window's closing waits for
them in a dialog that shows how far they are and keeps the window answering."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.core.inference import InferenceOptions
from app.core.model import SegmentationModel
from app.core.project import Project
from app.core.project.reviews import StoredReview, store_review
from app.core.text import counted
from app.ui.project_texts import inspection_label
from app.ui.workers import Worker

if TYPE_CHECKING:
    from app.ui.host import ProjectsHost


class OpenProjects:
    """The projects the review jobs hold open (each on its worker's thread), so that closing the window
    can end their connections at once when a server stalls: the query under way fails, the job ends."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: set[Project] = set()
        self.aborted = False

    def add(self, project: Project) -> None:
        with self._lock:
            self._held.add(project)
            if not self.aborted:
                return
        project.abort()  # abandoned before this job got its connection

    def discard(self, project: Project) -> None:
        with self._lock:
            self._held.discard(project)

    def abort_all(self) -> None:
        with self._lock:
            self.aborted = True
            held = list(self._held)
        for project in held:
            project.abort()


def _reviews_job(
    target: str,
    model: SegmentationModel,
    pairs: list[tuple[Path, Path]],
    options: InferenceOptions,
    held: OpenProjects,
    *,
    cancelled: Callable[[], bool],
    progress: Callable[[int, int], None],
) -> list[StoredReview]:
    stored = []
    with Project.open(target) as project:  # its own connection: this runs on a worker thread
        held.add(project)
        try:
            for photo, mask in pairs:
                if cancelled():  # only the window's last shutdown cancels; by then nothing is left to store
                    break
                stored.append(store_review(project, model, photo, mask, options))
                progress(len(stored), len(pairs))
        finally:
            held.discard(project)
    return stored


class ProjectReviews(QObject):
    """The reviews being written to the project: how many photos are queued and stored."""

    stored = Signal(object)  # [StoredReview] of signed masks the project holds the photos of
    progressed = Signal(int, int)  # (photos stored, photos queued) while reviews are being stored
    settled = Signal()  # the last review job under way ended (stored, failed or cancelled)
    failed = Signal(str)  # why a review job stopped (the photos before it were stored)

    def __init__(self, projects: ProjectsHost) -> None:
        super().__init__(projects)  # type: ignore[arg-type]  # the host is the ProjectUi QObject
        self.projects = projects
        self._jobs = 0
        self._queued = 0
        self._done = 0
        self._open = OpenProjects()

    @property
    def storing(self) -> bool:
        return self._jobs > 0

    @property
    def abandoned(self) -> bool:
        """The user closed without waiting: the jobs still ending are not waited for again."""
        return self._open.aborted

    def store(self, pairs: list[tuple[Path, Path]]) -> Worker | None:
        """Each photo the project holds (by content) gets the reviewed figures as its newest result,
        marked reviewed (a photo it does not hold is left alone)."""
        window = self.projects.window
        model = window.controller.model
        if self.projects.project is None or not pairs:
            return None
        if model is None:  # the record's figures come through the photo pipeline, which needs one
            window.show_message("Load a model to store the review in the project too.", "warning")
            return None
        options = window.controller.options
        worker = Worker(_reviews_job, self.projects.target, model, list(pairs), options, self._open)
        self._jobs += 1
        self._queued += len(pairs)
        worker.signals.progressed.connect(self._one_stored)
        worker.signals.finished.connect(self._job_ended)
        worker.signals.returned.connect(self._on_stored)
        worker.signals.failed.connect(self._on_failed)
        return window.controller.pool.start(worker.with_callbacks())

    def abandon(self) -> None:
        """The window closes without waiting: the jobs' connections end now (a stalled server never
        holds the closing), the reviews not yet stored are not; their signed masks stay saved."""
        self._open.abort_all()

    def _on_failed(self, message: str) -> None:
        if self._open.aborted:
            return  # abandoned on purpose: the window is closing
        self.projects.job_failed(f"The review was not stored in the project: {message}")
        self.failed.emit(message)

    def _one_stored(self) -> None:
        self._done += 1
        self.progressed.emit(self._done, self._queued)

    def _job_ended(self) -> None:
        self._jobs -= 1
        if self._jobs == 0:
            self._queued = self._done = 0
            self.settled.emit()

    def _on_stored(self, stored: list[StoredReview]) -> None:
        held = [s for s in stored if s.inspections]
        if not held:
            return
        self.projects.panel.refresh()
        where = "; ".join(f"{s.name} in " + ", ".join(map(inspection_label, s.inspections)) for s in held)
        self.projects.window.show_status(f"Review stored in the project: {where}", 10000)
        self.stored.emit(held)

    def wait_then(self, parent: QWidget, then: Callable[[], None], kept: Callable[[bool], None]) -> QDialog:
        """A window-modal dialog while the reviews are stored: `then` runs once they are, or when the
        user closes without waiting (the window closes); `kept(False)` if the user keeps the window open
        (the storing goes on), `kept(True)` if a review failed (the window stays, so its message is read)."""
        dialog, label, bar = _wait_dialog(parent)
        failures: list[str] = []

        def show(done: int, queued: int) -> None:
            bar.setRange(0, max(queued, 1))
            bar.setValue(done)
            label.setText(
                f"Storing the signed masks' reviews in the project before closing: {done} of "
                f"{counted(queued, 'photo')}. Each runs the model on its photo."
            )

        def end(after: Callable[[], None]) -> None:
            self.progressed.disconnect(show)
            self.settled.disconnect(settled)
            self.failed.disconnect(failures.append)
            dialog.rejected.disconnect(keep)
            dialog.close()
            after()

        def settled() -> None:
            end(lambda: kept(True) if failures else then())

        def keep() -> None:
            end(lambda: kept(False))

        def leave() -> None:
            self.abandon()
            end(then)

        show(self._done, self._queued)
        self.progressed.connect(show)
        self.settled.connect(settled)
        self.failed.connect(failures.append)
        dialog.rejected.connect(keep)  # Escape, the title bar's close, Keep the window open
        dialog.findChild(QPushButton, "close_without_waiting").clicked.connect(leave)
        dialog.open()
        return dialog


def _wait_dialog(parent: QWidget) -> tuple[QDialog, QLabel, QProgressBar]:
    dialog = QDialog(parent)
    dialog.setObjectName("reviews_wait")
    dialog.setWindowTitle("Storing reviews")
    dialog.setWindowModality(Qt.WindowModality.WindowModal)
    label = QLabel()
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.PlainText)
    bar = QProgressBar()
    buttons = QDialogButtonBox()
    keep = buttons.addButton("Keep the window open", QDialogButtonBox.ButtonRole.RejectRole)
    keep.setObjectName("keep_open")
    leave = buttons.addButton("Close without waiting", QDialogButtonBox.ButtonRole.DestructiveRole)
    leave.setObjectName("close_without_waiting")
    leave.setToolTip(
        "The signed masks stay saved in their results folders; the project misses the reviews not stored "
        "yet until their masks are saved again (File ▸ Save corrected mask)."
    )
    buttons.rejected.connect(dialog.reject)
    keep.setDefault(True)
    layout = QVBoxLayout(dialog)
    for widget in (label, bar, buttons):
        layout.addWidget(widget)
    dialog.setMinimumWidth(520)  # the layout then gives the wrapped text the height it needs
    return dialog, label, bar
