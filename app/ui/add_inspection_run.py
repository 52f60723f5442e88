"""One "Add inspection" at work: the photos analysed on a worker, a progress dialog naming the photo and
the count, and Cancel, which stops before the next photo and stores nothing (the inspection is stored in
one transaction, after the last photo)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QProgressDialog, QWidget

from app.core.inference import InferenceOptions
from app.core.model import SegmentationModel
from app.core.project import AddSummary, Project, add_inspection_photos
from app.core.project.reviews import with_saved_reviews
from app.core.saved_corrections import CorrectionSearch
from app.core.text import counted, display_path
from app.ui.add_inspection_dialog import InspectionRequest
from app.ui.workers import Worker, alive


def add_job(
    target: str,
    model: SegmentationModel,
    request: InspectionRequest,
    options: InferenceOptions,
    progress: Callable[[int, int, Path, str], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
    corrections: CorrectionSearch | None = None,
) -> AddSummary:
    """The inspection stored, then each new photo's signed correction saved earlier (found by
    `corrections`) stored as its reviewed result."""
    with Project.open(target) as project:  # its own connection: this runs on a worker thread
        summary = add_inspection_photos(
            project,
            model,
            request.asset_tag,
            request.date,
            list(request.paths),
            request.inspector,
            options,
            progress=progress,
            cancelled=cancelled,
            notes=request.notes,
        )
        if corrections is None:
            return summary
        return with_saved_reviews(project, model, summary, corrections, options)


class AddRun:
    """The worker and its progress dialog; `worker.signals.returned` gives the `AddSummary`."""

    def __init__(
        self,
        parent: QWidget,
        target: str,
        model: SegmentationModel,
        request: InspectionRequest,
        options: InferenceOptions,
        corrections: CorrectionSearch | None = None,
    ) -> None:
        self.request = request
        total = len(request.paths)
        self.dialog = QProgressDialog(self._words(0, None), "Cancel", 0, total + 1, parent)
        self.dialog.setObjectName("add_inspection_progress")
        self.dialog.setWindowTitle(f"Adding an inspection of {request.asset_tag}")
        self.dialog.setWindowModality(Qt.WindowModality.WindowModal)
        self.dialog.setMinimumDuration(0)
        self.dialog.setMinimumWidth(420)
        self.dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)  # one per add: none kept after
        # Its own flag, not the worker's cancel: the summary always comes back and says whether anything
        # was stored (a cancel during the store itself is too late, and must not be reported as stopped).
        self._stop = False
        self.worker = Worker(
            add_job, target, model, request, options,
            progress=self._progress, cancelled=lambda: self._stop, corrections=corrections,
        )  # fmt: skip
        sig = self.worker.signals
        sig.progressed.connect(self._show)
        sig.finished.connect(lambda: alive(self.dialog) and self.dialog.close())
        self.dialog.canceled.connect(self.cancel)
        self._last: Path | None = None

    def cancel(self) -> None:
        self._stop = True

    def _words(self, done: int, path: Path | None) -> str:
        n = len(self.request.paths)
        if path is None:
            return f"Analysing {counted(n, 'photo')} of {self.request.asset_tag}…"
        if done >= n:
            return f"Storing the inspection of {self.request.asset_tag} (and reviews saved for its photos)…"
        return f"Analysed {done} of {n} photos of {self.request.asset_tag}\n{display_path(path.name)}"

    def _progress(self, done: int, total: int, path: Path, _state: str) -> None:  # on the worker's thread
        self._last = path  # before the signal: its slot shows this photo's name
        self.worker.signals.progressed.emit(done, total)

    def _show(self, done: int, _total: int) -> None:
        if not alive(self.dialog):  # closed with Escape: it was deleted, the photo under way still ends
            return
        # the words first: a modal dialog's setValue runs pending events, which may repaint it
        self.dialog.setLabelText(self._words(done, self._last))
        self.dialog.setValue(done)

    def start(self, pool) -> Worker:
        self.dialog.show()
        return pool.start(self.worker)
