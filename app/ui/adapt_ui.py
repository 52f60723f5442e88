"""Model ▸ Adapt to these reviewed photos…: the model refitted to the inspector's reviewed masks
(`app.core.adapt`) in a worker, with progress and cancel; the adapted model then loads like any other."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QProgressDialog, QWidget

from app.core.adapt import AdaptResult, AdaptSettings, adapt_model
from app.core.photos import find_images
from app.core.reviewed import reviewed_mask_path
from app.ui.export_folders import export_folder
from app.ui.workers import Worker

SITE_MODEL_NAME = "site-model.onnx"


def reviewed_photos(window) -> list[tuple[Path, Path]]:
    """(photo, reviewed mask) for the batch's photos, else the shown photo's folder: masks saved by
    File ▸ Save corrected mask (`<name>_mask.reviewed.png` beside the photo or in its results folder)."""
    photos = window.batch.paths()
    result = window.controller.result
    if not photos and result is not None:
        photos = find_images([result.path.parent])
    pairs = []
    for photo in photos:
        for folder in (photo.parent, export_folder(window.settings, "photo", photo.parent)):
            mask = reviewed_mask_path(folder, photo.stem)
            if mask.is_file():
                pairs.append((photo, mask))
                break
    return pairs


def result_text(result: AdaptResult) -> str:
    b, a = result.base, result.adapted
    return (
        f"Adapted to {result.photos} reviewed photos; loaded {result.path.name}. Leave-one-out over them: "
        f"corroded-share error {b.share_error:.1f} → {a.share_error:.1f} points, ASTM D610 grade agreement "
        f"{100 * b.d610_agreement:.0f} → {100 * a.d610_agreement:.0f} %. Model ▸ Return to the shipped "
        "model undoes it."
    )


class AdaptRun:
    """One adaptation: the worker, its progress dialog, and what happens when it ends."""

    def __init__(self, window, base: Path, pairs: list[tuple[Path, Path]], out: Path) -> None:
        self.window = window
        self.dialog = QProgressDialog("Adapting the model…", "Cancel", 0, 1, window)
        self.dialog.setWindowTitle("Adapt to reviewed photos")
        self.dialog.setWindowModality(Qt.WindowModality.WindowModal)
        self.dialog.setMinimumDuration(0)
        self.worker = Worker(
            adapt_model, base, pairs, out, AdaptSettings(), overwrite=True,
            progress=self._progress, cancelled=lambda: self.worker.is_cancelled,
        )  # fmt: skip
        sig = self.worker.signals
        sig.progressed.connect(self._show_progress)
        sig.returned.connect(self._done)
        sig.failed.connect(lambda message: window.show_message(f"Adaptation: {message}", "warning"))
        sig.cancelled.connect(lambda: window.show_status("Adaptation cancelled; nothing was written", 8000))
        sig.finished.connect(self.dialog.close)
        self.dialog.canceled.connect(self.worker.cancel)

    def start(self) -> Worker:
        self.dialog.show()
        return self.window.controller.pool.start(self.worker)

    def _progress(self, done: int, total: int, what: str) -> None:  # on the worker's thread
        self._what = what  # before the signal: its slot shows this step's words, not the last one's
        self.worker.signals.progressed.emit(done, total)

    def _show_progress(self, done: int, total: int) -> None:
        # the words first: a modal dialog's setValue runs pending events, which may repaint it
        self.dialog.setLabelText(getattr(self, "_what", "Adapting the model…"))
        self.dialog.setMaximum(total)
        self.dialog.setValue(done)

    def _done(self, result: AdaptResult) -> None:
        self.window.load_model_file(result.path)
        self.window.show_message(result_text(result), "info")


def ask_output(parent: QWidget, folder: Path) -> Path | None:
    path, _ = QFileDialog.getSaveFileName(
        parent, "Save the adapted model", str(folder / SITE_MODEL_NAME), "ONNX models (*.onnx)"
    )
    if not path:
        return None
    return Path(path) if path.lower().endswith(".onnx") else Path(path + ".onnx")
