"""The batch's exports from the window: the table as CSV (with its run record) and the batch PDF report,
each row's figures as the window shows them (edited and signed rows say by whom), into a file chosen in
a save dialog that starts where the last one of its kind went."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from PySide6.QtWidgets import QDialog, QFileDialog

from app.core import export, files, pipeline
from app.core.analysis import PhotoFailure, PhotoFigures
from app.core.model import SegmentationModel
from app.core.palette import DEFAULT_CLASSES
from app.core.record import PhotoRecord
from app.core.report_header import ReportHeader
from app.core.reviewed import ReviewState
from app.core.text import safe_path
from app.report import BatchReportOptions, write_batch_pdf_report
from app.ui.batch_table import BatchRow
from app.ui.export_dialog import confirm_overwrite
from app.ui.export_folders import (
    drop_if_unused,
    export_folder,
    photos_folder,
    remember_export_folder,
    typed_path,
)
from app.ui.export_jobs import (
    EXPORT_AGAIN,
    ExportHost,
    make_folder,
    parent_widget,
    report_header,
    saved_masks,
)
from app.ui.report_header_fields import ReportHeaderDialog
from app.ui.saved_masks import review_line
from app.ui.workers import Worker


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


def _ask_existing(window: ExportHost, *paths: Path) -> bool | None:
    """None: the user said no; else whether to overwrite."""
    existing = [p for p in paths if p.exists()]
    if existing:
        return True if confirm_overwrite(parent_widget(window), existing) else None
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


def _save_path(window: ExportHost, kind: str, title: str, name: str, pattern: str) -> Path | None:
    """The file a batch export goes to, `name`'s extension added to a name typed without one; the caller
    asks about a file in the way under that final name (Qt would ask about the name as typed)."""
    source = photos_folder([r.path for r in window.batch_model.rows])
    folder = export_folder(window.settings, kind, source)
    made = not folder.exists()
    if made:  # the dialog can only start in a folder that exists
        folder.mkdir(parents=True, exist_ok=True)
    path, _ = QFileDialog.getSaveFileName(
        parent_widget(window),
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
    asked = ReportHeaderDialog(report_header(window, rows[0].path if rows else None), parent_widget(window))
    if asked.exec() != QDialog.DialogCode.Accepted:
        return None
    header = asked.fields.header()
    window.settings.report_header = header
    path = _save_path(window, "pdf", "Export batch PDF report", "batch_report.pdf", "PDF (*.pdf)")
    return start_batch_pdf_export(window, path, header) if path else None
