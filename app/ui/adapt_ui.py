"""Model ▸ Adapt to these reviewed photos…: the model refitted to the inspector's reviewed masks
(`app.core.adapt`) in a worker, with progress and cancel; the adapted model then loads like any other."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QProgressDialog, QWidget

from app.core.adapt import AdaptResult, AdaptSettings, adapt_model
from app.core.batch_inputs import photos_in
from app.core.saved_corrections import CorrectionSearch
from app.core.text import counted, safe_message, safe_path
from app.ui.export_folders import correction_search
from app.ui.project_view import ProjectView
from app.ui.questions import ask_yes, names_list
from app.ui.review_actions import SaveJob, run_jobs
from app.ui.saved_masks import is_signed
from app.ui.workers import Worker

SITE_MODEL_NAME = "site-model.onnx"


@dataclass(frozen=True)
class AdaptSources:
    """Where reviewed photos are looked for, taken from the window on the UI thread (memory only): the
    batch's photos, the photo on screen, the open project as the panel last read it, and where saved
    corrections lie."""

    batch: tuple[Path, ...]
    shown: Path | None
    view: ProjectView | None
    search: CorrectionSearch


@dataclass(frozen=True)
class AdaptFound:
    """What a worker found on disk: the reviewed masks, the photos looked at, and who holds them."""

    saved: list[tuple[Path, Path]]
    photos: frozenset[Path]
    holder: str = "these photos have"


@dataclass(frozen=True)
class AdaptPlan:
    """The reviewed masks on disk, and the photos signed in this window whose masks are not saved yet;
    `holder` names the photos looked at, with its verb."""

    saved: list[tuple[Path, Path]]
    unsaved: list  # EditSession: signed, not saved
    holder: str = "these photos have"

    @property
    def count(self) -> int:
        return len(self.saved) + len(self.unsaved)


def adapt_sources(window) -> AdaptSources:
    projects = getattr(window, "projects", None)
    view = None if projects is None or projects.project is None else projects.view
    result = window.controller.result
    return AdaptSources(
        tuple(window.batch.paths()),
        None if result is None else result.path,
        view,
        correction_search(window.settings),
    )


def find_reviewed(sources: AdaptSources) -> AdaptFound:
    """Worker job (it lists a folder and looks for files, maybe on a share): the batch's reviewed photos;
    else, with a project open and one of its photos (or none) shown, the project's; else the shown
    photo's folder's."""
    stored = None if sources.batch else _project_photos(sources)
    if stored is not None:
        return AdaptFound(project_reviewed_photos(sources.view), frozenset(stored), "the project has")
    photos = list(sources.batch)
    if not photos and sources.shown is not None:
        photos = photos_in([sources.shown.parent])
    return AdaptFound(reviewed_photos(sources.search, photos), frozenset(photos))


def reviewed_photos(search: CorrectionSearch, photos: list[Path]) -> list[tuple[Path, Path]]:
    """(photo, reviewed mask) of `photos` with a mask saved by File ▸ Save corrected mask
    (`<name>_mask.reviewed.png` beside the photo or in its results folder)."""
    found = ((photo, search.find_signed(photo)) for photo in photos)
    return [(photo, mask) for photo, mask in found if mask is not None]


def project_reviewed_photos(view: ProjectView) -> list[tuple[Path, Path]]:
    """(photo, signed mask) of each photo the project holds with a reviewed result, where both files are
    found (a photo stored in two inspections counts once)."""
    pairs, seen = [], set()
    for inspection in view.inspections():
        for photo in view.photos(inspection.id):
            result = view.latest_result(photo.id)
            if result is None or not result.is_reviewed or not result.reviewed_mask or photo.sha256 in seen:
                continue
            path, mask = view.photo_file(photo), Path(result.reviewed_mask)
            if path is not None and mask.is_file():
                seen.add(photo.sha256)
                pairs.append((path, mask))
    return pairs


def _project_photos(sources: AdaptSources) -> set[Path] | None:
    """The open project's photo files when the adaptation should learn from the project (no photo on
    screen, or one of its photos); None otherwise."""
    view = sources.view
    if view is None:
        return None
    files = {Path(p.path) for i in view.inspections() for p in view.photos(i.id)}
    return files if sources.shown is None or sources.shown in files else None


def adapt_plan(window, found: AdaptFound) -> AdaptPlan:
    """`found` with the photos signed in this window among them whose masks are not saved yet."""
    editing = getattr(window, "editing", None)
    unsaved = [] if editing is None else editing.edits.unsaved_sessions()
    have = {p for p, _ in found.saved}
    wanted = [s for s in unsaved if is_signed(s.review) and s.path in found.photos and s.path not in have]
    return AdaptPlan(found.saved, wanted, found.holder)


def too_few_text(plan: AdaptPlan, least: int) -> str:
    return (
        f"Adaptation needs at least {least} reviewed photos; {plan.holder} {plan.count} "
        f"({len(plan.saved)} with a saved reviewed mask, {len(plan.unsaved)} signed in this window and not "
        "saved yet). Review more photos (Edit ▸ Mark reviewed…; File ▸ Save corrected mask keeps the mask), "
        "then adapt. The base model stays in use."
    )


def save_masks_text(plan: AdaptPlan) -> str:
    n = len(plan.unsaved)
    return (
        f"{counted(n, 'signed photo')} {'has' if n == 1 else 'have'} no saved reviewed mask yet:\n"
        + names_list([s.path.name for s in plan.unsaved])
        + "\n\nAdaptation learns from saved masks. Save these now, as File ▸ Save corrected mask does?"
    )


def save_then_adapt(saves: list[SaveJob], *args, **kwargs) -> AdaptResult:
    """Worker job: write the signed masks not saved yet, then adapt (`adapt_model`'s arguments)."""
    run_jobs(saves)
    return adapt_model(*args, **kwargs)


def result_text(result: AdaptResult) -> str:
    b, a = result.base, result.adapted
    notes = "".join(f" Note: {safe_message(n)}." for n in result.notes)
    return (
        f"Adapted to {result.photos} reviewed photos; loaded {safe_path(result.path.name)}. Leave-one-out "
        f"over {result.loo_over or 'them'}: corroded-share error {b.share_error:.1f} → {a.share_error:.1f} "
        f"points, ASTM D610 grade agreement {100 * b.d610_agreement:.0f} → {100 * a.d610_agreement:.0f} %. "
        f"Model ▸ Return to the shipped model undoes it.{notes}"
    )


class AdaptRun:
    """One adaptation: the worker, its progress dialog, and what happens when it ends."""

    def __init__(
        self,
        window,
        base: Path,
        pairs: list[tuple[Path, Path]],
        out: Path,
        saves: list[SaveJob] | None = None,
    ) -> None:
        """`saves`: jobs writing signed masks that `pairs` names and that are not on disk yet."""
        self.window = window
        self.dialog = QProgressDialog("Adapting the model…", "Cancel", 0, 1, window)
        self.dialog.setWindowTitle("Adapt to reviewed photos")
        self.dialog.setWindowModality(Qt.WindowModality.WindowModal)
        self.dialog.setMinimumDuration(0)
        self.worker = Worker(
            save_then_adapt, list(saves or []), base, pairs, out, AdaptSettings(), overwrite=True,
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


def ask_save_signed_masks(parent: QWidget | None, text: str) -> bool:
    return ask_yes(parent, "save_signed_question", "Save the signed masks?", text, "Save and adapt", "Cancel")
