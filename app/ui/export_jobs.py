"""Exports of the photo on screen: paths, the overwrite question, the worker jobs (the batch's, which
use the same parts, are in `app.ui.batch_exports`).

The `start_*` functions run on the UI thread (check what exists, ask, start a worker); the `write_*`
functions run in the worker and call `app.core` and `app.report` only. They see the window through the
small `ExportHost` protocol, not the window class.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
from PySide6.QtWidgets import QDialog, QWidget

import app.report
from app.core import exporters, files
from app.core.analysis import PhotoResult, as_signed
from app.core.errors import ExportError
from app.core.files import sha256_file
from app.core.model import SegmentationModel
from app.core.overlay_style import OverlayStyle
from app.core.record import ModelFigures, PhotoRecord
from app.core.report_header import ReportHeader, project_header
from app.core.reviewed import ReviewState
from app.core.sources import REVIEWED
from app.core.text import counted, safe_path
from app.ui.batch_table import BatchTableModel
from app.ui.controller import AppController
from app.ui.export_corrected import CorrectedCopy, copy_job, export_then_drop_stale, plan_copy
from app.ui.export_dialog import ExportDialog, replace_or_keep
from app.ui.export_folders import export_folder, remember_export_folder
from app.ui.overlay_state import OverlayState
from app.ui.result_state import PendingMeasures
from app.ui.settings import AppSettings
from app.ui.workers import Worker

app.report.register_exporter()  # the window writes PDF reports: it composes the report with core


class ExportHost(Protocol):
    """What the export jobs need of the window."""

    controller: AppController
    overlay_state: OverlayState
    settings: AppSettings
    batch_model: BatchTableModel

    @property
    def grade_scale(self) -> str: ...

    def show_message(self, text: str, level: str = "info") -> None: ...


def photo_targets(folder: Path, stem: str, kinds: Collection[str]) -> dict[str, Path]:
    """Where each kind of export goes (named by the exporter registry, so the CLI writes the same)."""
    return exporters.targets(folder, stem, kinds)


def write_photo_exports(
    targets: Mapping[str, Path],
    result: PhotoResult,
    rgb: np.ndarray,
    style: OverlayStyle,
    model: SegmentationModel,
    scale: str,
    overwrite: bool,
    review: PhotoReview | None = None,
    header: ReportHeader | None = None,
    corrected: Callable[[], list[Path]] | None = None,
) -> list[Path]:
    """Worker job: write the chosen files; the overlay is blended in `style`, as on screen. `review`: where
    the figures come from (and the model's own figures beside reviewed ones), into the record;
    `header`: the PDF's asset, location, client, inspector and date; `corrected`: the job writing the
    photo's corrected mask with them (`export_corrected`), which the record then names."""
    if targets:
        make_folder(next(iter(targets.values())).parent)
    if review is not None and review.state.source == REVIEWED and review.state.reviewed_by:
        result = as_signed(result)  # signed: the figures are the reviewed mask's, with no review flag
    # a failure part-way (a full disk) leaves none of the set, as the CLI's batch
    with files.overwrite_hint(EXPORT_AGAIN), files.staged():
        copies = corrected() if corrected is not None else []
        if copies and review is not None:  # the copy holds what the figures are: the mask they came from
            review = dataclasses.replace(review, mask=copies[0])
        record = PhotoRecord.from_result(result)
        if review is not None:
            mask = review.mask
            sha = (
                sha256_file(files.staged_file(mask))
                if mask is not None and files.staged_file(mask).is_file()
                else None
            )
            record = record.with_review(review.state, mask, review.model_figures, sha)
        # the header the PDF prints, kept in the record as a batch keeps it; without a PDF the dialog's
        # header fields are greyed out, so none was given
        record = record.with_header(header if "pdf" in targets else None)
        data = exporters.ExportInput(result, rgb, style, scale, model, record, header)
        return [*exporters.write_all(targets, data, overwrite), *copies]


# A file that appeared after the window asked (another program, "Keep both"'s free name taken meanwhile):
# the command line's "ask to overwrite" names nothing the window has.
EXPORT_AGAIN = "export again to be asked whether to replace it"


def make_folder(folder: Path) -> None:
    """The folder an export was typed into, made with those above it when missing: every export of the
    window writes where it was told, as `corroscope analyze --out` does. `ExportError` in plain words."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(_folder_problem(folder, exc)) from exc


def _folder_problem(folder: Path, exc: OSError) -> str:
    """Why `folder` could not be made: the file standing where it or a folder above it should be, else
    the system's reason (Python's FileExistsError says neither which nor what to do)."""
    blocker = next((p for p in (folder, *folder.parents) if os.path.lexists(p) and not p.is_dir()), None)
    if blocker is not None:
        what = "a link to nothing" if not blocker.exists() else "a file"  # lexists: a dangling link
        return f"{safe_path(blocker)} is {what}, not a folder: choose a folder"
    return f"Cannot make the folder {safe_path(folder)}: {exc.strerror or exc}"


def _count_then_write(targets: Mapping[str, Path], pending: PendingMeasures, *args) -> list[Path]:
    """Worker job: the edited map's patches and distribution counted first, so that its share, patches
    and grades in the files all describe the same map (`write_photo_exports` for the rest)."""
    return write_photo_exports(targets, pending.compute(), *args)


def exported_text(paths: Sequence[Path]) -> str:
    """The banner after an export: how many files, the folder, their names ("Exported 1 file" too)."""
    if not paths:
        return "Nothing was exported."
    folders = {p.parent for p in paths}
    where = f" to {next(iter(folders))}" if len(folders) == 1 else ""
    names = ", ".join(p.name for p in paths) if len(folders) == 1 else ", ".join(str(p) for p in paths)
    return f"Exported {counted(len(paths), 'file')}{where}: {names}"


@dataclass(frozen=True)
class PhotoReview:
    """The photo on screen's review state, and the model's own figures when they were edited."""

    state: ReviewState
    model_figures: ModelFigures | None = None
    mask: Path | None = None  # the saved mask file the figures are, when it holds what is shown


def saved_masks(window: ExportHost) -> dict[Path, Path]:
    """Photo -> the corrected mask file that holds what the window shows for it (saved, not changed
    since): the mask its exported figures came from."""
    editing = getattr(window, "editing", None)
    if editing is None:
        return {}
    sessions = editing.edits.sessions.values()
    return {s.path: s.mask_path for s in sessions if s.mask_path is not None and not s.unsaved}


def review_fields(window: ExportHost) -> PhotoReview | None:
    """The photo on screen's review, for its record (the same fields `analyze --reviewed-masks` writes);
    None when the window has no editing."""
    editing, current = getattr(window, "editing", None), window.controller.current
    if editing is None or current is None:
        return None
    state = editing.edits.review_of(current.path)
    session = editing.edits.sessions.get(current.path)
    mask = session.mask_path if session is not None and not session.unsaved else None
    model = editing.edits.model_result()
    if model is not None and window.controller.result is not None and model is not window.controller.result:
        return PhotoReview(state, ModelFigures.of(model), mask)  # the PDF shows both when they differ
    return PhotoReview(state, mask=mask)


def report_header(window: ExportHost, path: Path | None = None) -> ReportHeader:
    """The header of the report on `path`'s photo: the project's asset, location, inspector and date
    when the open project holds that photo (the typed values fill what it lacks), else the typed ones;
    an inspector never typed there is the one the app knows (Edit ▸ Inspector name…)."""
    typed = window.settings.report_header
    if not typed.inspector and window.settings.inspector_name:
        typed = dataclasses.replace(typed, inspector=window.settings.inspector_name)
    view = getattr(getattr(window, "projects", None), "view", None)  # read on a worker: no query here
    stored = None if view is None or path is None else project_header(view, path)
    return typed if stored is None else stored.filled_from(typed)


# UI-thread parts ------------------------------------------------------------------------------------
def start_photo_export(
    window: ExportHost, folder: Path, kinds: Collection[str], header: ReportHeader | None = None
) -> Worker | None:
    """Ask before replacing anything, then write in a worker. None when there is nothing to do.
    `header`: the PDF's header (None: `report_header`)."""
    c = window.controller
    if c.result is None or c.current is None or c.model is None:
        window.show_message("Nothing to export yet: open a photo first.", "warning")
        return None
    photo, editing = c.current.path, getattr(window, "editing", None)
    targets = photo_targets(folder, photo.stem, kinds)
    copy = plan_copy(editing, photo, folder, photo.stem) if "mask" in kinds else None
    existing = [p for p in _all_paths(targets, copy) if os.path.lexists(p)]
    if existing:
        free = free_stem(folder, photo.stem, kinds, lambda stem: plan_copy(editing, photo, folder, stem))
        answer = replace_or_keep(parent_widget(window), existing, free)
        if answer is None:
            window.show_message("Export cancelled: no file was replaced.", "info")
            return None
        if answer == "keep":
            targets, existing = photo_targets(folder, free, kinds), []
            copy = plan_copy(editing, photo, folder, free)
    state = window.overlay_state
    pending = c.state.pending_measures()  # an edit's patches and distribution not counted yet
    job = None if copy is None else copy_job(editing, photo, copy, os.path.lexists(copy.target))
    return c.run_export(
        export_then_drop_stale,
        None if copy is None else copy.stale,
        write_photo_exports if pending is None else _count_then_write,
        targets,
        c.result if pending is None else pending,
        c.current.rgb,
        state.style,
        c.model,
        window.grade_scale,
        bool(existing),
        review_fields(window),
        header if header is not None else report_header(window, photo),
        job,
    )


def _all_paths(targets: Mapping[str, Path], copy: CorrectedCopy | None) -> list[Path]:
    """Every file the export writes or removes: asked about together."""
    extra = [] if copy is None else [p for p in (copy.target, copy.stale) if p is not None]
    return [*targets.values(), *extra]


def free_stem(
    folder: Path,
    stem: str,
    kinds: Collection[str],
    copy_of: Callable[[str], CorrectedCopy | None] = lambda _stem: None,
) -> str:
    """`stem (2)`, `stem (3)`, …: the first name under which none of the export's files exists yet
    (`copy_of`: the corrected mask the export writes under a stem, if any)."""
    n = 2
    while any(
        os.path.lexists(p)
        for p in _all_paths(photo_targets(folder, f"{stem} ({n})", kinds), copy_of(f"{stem} ({n})"))
    ):
        n += 1
    return f"{stem} ({n})"


def export_photo_interactive(window: ExportHost) -> Worker | None:
    current = window.controller.current
    source = current.path.parent if current else None
    header = report_header(window, current.path if current else None)
    dialog = ExportDialog(export_folder(window.settings, "photo", source), parent_widget(window), header)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    remember_export_folder(window.settings, "photo", source, dialog.folder)
    window.settings.report_header = dialog.header
    return start_photo_export(window, dialog.folder, dialog.kinds, dialog.header)


def parent_widget(window: ExportHost) -> QWidget | None:
    return window if isinstance(window, QWidget) else None
