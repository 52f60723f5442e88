"""Exports of the photo on screen and of the batch: paths, the overwrite question, the worker jobs.

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
from PySide6.QtWidgets import QDialog, QFileDialog, QWidget

import app.report
from app.core import export, exporters, files, pipeline
from app.core.analysis import PhotoFailure, PhotoFigures, PhotoResult, as_signed
from app.core.errors import ExportError
from app.core.model import SegmentationModel, file_sha256
from app.core.overlay_style import OverlayStyle
from app.core.palette import DEFAULT_CLASSES
from app.core.record import ModelFigures, PhotoRecord
from app.core.report_header import ReportHeader, project_header
from app.core.reviewed import ReviewState
from app.core.sources import REVIEWED
from app.core.text import counted, safe_path
from app.report import BatchReportOptions, write_batch_pdf_report
from app.ui.batch_table import BatchRow, BatchTableModel
from app.ui.controller import AppController
from app.ui.export_corrected import CorrectedCopy, copy_job, export_then_drop_stale, plan_copy
from app.ui.export_dialog import ExportDialog, confirm_overwrite, replace_or_keep
from app.ui.export_folders import drop_if_unused, export_folder, photos_folder, remember_export_folder
from app.ui.overlay_state import OverlayState
from app.ui.report_header_fields import ReportHeaderDialog
from app.ui.result_state import PendingMeasures
from app.ui.saved_masks import review_line
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
                file_sha256(files.staged_file(mask))
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


def batch_records(
    rows: Sequence[BatchRow], saved: Mapping[Path, Path] | None = None
) -> list[PhotoRecord | PhotoFigures | PhotoFailure]:
    """Each analysed row's figures, else the record of a photo a batch had done before (resumed), else its
    failure; a cancelled batch's rest as "not analysed", so no export looks complete when it is not.
    `saved`: photo -> the corrected mask its figures were saved to in this window (for the audit)."""
    saved = saved or {}
    out: list[PhotoRecord | PhotoFigures | PhotoFailure] = []
    for r in rows:
        if r.pending:
            out.append(PhotoFailure.not_reached(r.path))
        elif r.result is not None and r.review is not None:  # edited or signed in the window: say by whom
            mask = saved.get(r.path) or _mask_file(r)
            out.append(PhotoRecord.from_result(r.result).with_review(r.review, mask))
        elif r.result is not None:
            out.append(r.result)
        elif isinstance(r.record, PhotoRecord):
            out.append(r.record)
        else:
            out.append(PhotoFailure(r.path, r.reason))
    return out


def _mask_file(row: BatchRow) -> Path | None:
    """The saved mask the row's figures came from (its record names it), while they are still that mask's
    (not edited in the window since)."""
    record = row.record if isinstance(row.record, PhotoRecord) else PhotoRecord(row.record or {})
    mask, share = record.reviewed_mask, record.get("corroded_share")
    if not mask or row.result is None or share is None:
        return None
    same = abs(row.result.stats.corroded_share - share) < 1e-4 and row.review == ReviewState.of_record(record)
    return Path(mask) if same else None


def report_records(rows: Sequence[BatchRow]) -> list[PhotoFigures | PhotoFailure]:
    """What the batch PDF draws: each analysed row's figures, else its failure, or that it was not reached."""
    return [
        r.result
        if r.result is not None
        else PhotoFailure.not_reached(r.path)
        if r.pending
        else PhotoFailure(r.path, r.reason)
        for r in rows
    ]


def write_batch_csv(
    path: Path,
    records: Sequence[PhotoRecord | PhotoFigures | PhotoFailure],
    overwrite: bool,
    model: SegmentationModel | None = None,
    folder: Path | None = None,
) -> list[Path]:
    """Worker job: the batch table as CSV (the same columns and writer as `corroscope analyze`), `file`
    relative to `folder` (the table's: where its Photo column names the photos from), and its run record
    (model SHA-256, versions) beside it."""
    ok = [r for r in records if not isinstance(r, PhotoFailure)]
    first = ok[0] if ok else None
    if isinstance(first, PhotoRecord):
        class_names = [c["name"] for c in first["classes"]]
    else:
        class_names = [c.name for c in (first.classes if first is not None else DEFAULT_CLASSES)]
    folders = () if folder is None else (folder,)
    make_folder(path.parent)
    with files.overwrite_hint(EXPORT_AGAIN):
        return pipeline.write_table(
            path, records, class_names, overwrite=overwrite, input_folders=folders, model=model
        )


def write_batch_pdf(
    path: Path,
    records: Sequence[PhotoFigures | PhotoFailure],
    model: SegmentationModel,
    scale: str,
    overwrite: bool,
    options: BatchReportOptions | None = None,
) -> list[Path]:
    """Worker job: the batch PDF report, into its folder (made when missing)."""
    make_folder(path.parent)
    with files.overwrite_hint(EXPORT_AGAIN):
        return [write_batch_pdf_report(path, records, model, overwrite, scale=scale, options=options)]


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
        answer = replace_or_keep(_parent(window), existing, free)
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
    dialog = ExportDialog(export_folder(window.settings, "photo", source), _parent(window), header)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    remember_export_folder(window.settings, "photo", source, dialog.folder)
    window.settings.report_header = dialog.header
    return start_photo_export(window, dialog.folder, dialog.kinds, dialog.header)


def _ask_existing(window: ExportHost, *paths: Path) -> bool | None:
    """None: the user said no; else whether to overwrite."""
    existing = [p for p in paths if p.exists()]
    if existing:
        return True if confirm_overwrite(_parent(window), existing) else None
    return False


def still_recounting(window: ExportHost) -> bool:
    """True (and says so) while an edited photo's patches are being recounted: its batch row still holds
    the figures from before the edit, which a table or report written now would give as current."""
    editing = getattr(window, "editing", None)
    waiting = [] if editing is None else editing.edits.recounting()
    if waiting:
        names = ", ".join(safe_path(p.name) for p in waiting[:3]) + (" …" if len(waiting) > 3 else "")
        window.show_message(
            f"Not exported yet: the figures of {names} are being recounted after an edit (a second or "
            "two); export again then.",
            "warning",
        )
    return bool(waiting)


def start_batch_csv_export(window: ExportHost, path: Path) -> Worker | None:
    if still_recounting(window):
        return None
    rows = window.batch_model.rows
    overwrite = _ask_existing(window, path, export.companion_path(path))
    if not rows or overwrite is None:
        return None
    model = window.controller.model
    records = batch_records(rows, saved_masks(window))
    folder = window.batch_model.folder  # the table's names are the CSV's
    return window.controller.run_export(write_batch_csv, path, records, overwrite, model, folder)


def batch_report_options(window: ExportHost, header: ReportHeader | None = None) -> BatchReportOptions:
    """What the batch report shows beyond the figures: the folder, the overlay as shown, thumbnails,
    the header (None: the first photo's `report_header`)."""
    rows, state = window.batch_model.rows, window.overlay_state
    if header is None:
        header = report_header(window, rows[0].path if rows else None)
    return BatchReportOptions(
        folder=window.batch_model.folder,  # the report names photos as the table does
        overlay=state.style,
        thumbnails={r.path: r.thumbnail for r in rows if r.thumbnail is not None},
        header=header,
        reviews={
            r.path: review_line(r.review) for r in rows if r.result is not None and r.review is not None
        },
    )


def start_batch_pdf_export(
    window: ExportHost, path: Path, header: ReportHeader | None = None
) -> Worker | None:
    if still_recounting(window):
        return None
    rows, model = window.batch_model.rows, window.controller.model
    overwrite = _ask_existing(window, path)
    if not rows or model is None or overwrite is None:
        return None
    records = report_records(rows)
    options = batch_report_options(window, header)
    return window.controller.run_export(
        write_batch_pdf, path, records, model, window.grade_scale, overwrite, options
    )


def typed_path(chosen: str, suffix: str) -> Path:
    """The name typed in a save dialog, `suffix` added unless it ends so (any case): Qt's dialog adds
    none, and a file without it is missed by its own `*.csv` or `*.pdf` filter."""
    return Path(chosen if chosen.lower().endswith(suffix.lower()) else chosen + suffix)


def _save_path(window: ExportHost, kind: str, title: str, name: str, pattern: str) -> Path | None:
    """The file a batch export goes to, `name`'s extension added to a name typed without one; the caller
    asks about a file in the way under that final name (Qt would ask about the name as typed)."""
    source = photos_folder([r.path for r in window.batch_model.rows])
    folder = export_folder(window.settings, kind, source)
    made = not folder.exists()
    if made:  # the dialog can only start in a folder that exists
        folder.mkdir(parents=True, exist_ok=True)
    path, _ = QFileDialog.getSaveFileName(
        _parent(window),
        title,
        str(folder / name),
        pattern,
        options=QFileDialog.Option.DontConfirmOverwrite,  # we ask ourselves, the same way everywhere
    )
    drop_if_unused(folder, made, Path(path).parent if path else None)
    if not path:
        return None
    remember_export_folder(window.settings, kind, source, Path(path).parent)
    return typed_path(path, Path(name).suffix)


def export_batch_csv_interactive(window: ExportHost) -> Worker | None:
    path = _save_path(window, "csv", "Export batch CSV", export.CSV_NAME, "CSV (*.csv)")
    return start_batch_csv_export(window, path) if path else None


def export_batch_pdf_interactive(window: ExportHost) -> Worker | None:
    rows = window.batch_model.rows
    asked = ReportHeaderDialog(report_header(window, rows[0].path if rows else None), _parent(window))
    if asked.exec() != QDialog.DialogCode.Accepted:
        return None
    header = asked.fields.header()
    window.settings.report_header = header
    path = _save_path(window, "pdf", "Export batch PDF report", "batch_report.pdf", "PDF (*.pdf)")
    return start_batch_pdf_export(window, path, header) if path else None


def _parent(window: ExportHost) -> QWidget | None:
    return window if isinstance(window, QWidget) else None
