"""The PDF report (QtGui's QPdfWriter; no widgets), used by the GUI and by `corroscope analyze --pdf`."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from app.core.analysis import NOT_ANALYSED, PhotoFailure, PhotoFigures, PhotoResult
from app.core.batch_inputs import photo_name
from app.core.exporters import Exporter, ExportInput, register
from app.core.files import atomic_write_bytes, refuse_existing
from app.core.grading import GradeScale
from app.core.model import SegmentationModel
from app.core.overlay_style import EVERY_CLASS, OverlayStyle
from app.core.report_header import ReportHeader
from app.report.batch_pdf import BatchReportOptions, draw_batch_report
from app.report.canvas import render
from app.report.pdf import draw_photo_report, model_typical_error

__all__ = [
    "BatchReportOptions",
    "register_exporter",
    "render_batch_pdf",
    "render_pdf_report",
    "write_batch_pdf_report",
    "write_pdf_report",
]


def _scales(scale: GradeScale | str | None) -> tuple[GradeScale, ...]:
    """None: both scales; else the chosen one."""
    return tuple(GradeScale) if scale is None else (GradeScale.parse(scale),)


def _both_scales(scale: GradeScale | str | None) -> tuple[GradeScale, ...]:
    """Both scales, the chosen one first (a one-photo report always grades on both, from the window as
    from the CLI)."""
    first = _scales(scale)[0]
    return (first, *(s for s in GradeScale if s != first))


def render_pdf_report(
    result: PhotoResult,
    overlay_rgb: np.ndarray,
    photo_rgb: np.ndarray,
    model: SegmentationModel,
    scale: str | None = None,
    style: OverlayStyle = EVERY_CLASS,
    review: Mapping[str, Any] | None = None,
    header: ReportHeader | None = None,
    typical_error: str | None = None,
) -> bytes:
    """The one-photo report as PDF bytes: photo, overlay, figures, grade, model SHA-256, provider, date.
    `style`: how `overlay_rgb` shows the classes (the legend lists those drawn). `header`:
    asset, location, client, inspector, date on every page; `typical_error`: the model's typical-error
    line of the statement of accuracy (None: `model_typical_error(model)`). Both grade scales,
    `scale` first."""
    scales = _both_scales(scale)
    error = typical_error if typical_error is not None else model_typical_error(model)
    return render(
        lambda c: draw_photo_report(c, result, overlay_rgb, photo_rgb, model, scales, style, review, error),
        f"Corroscope report: {result.path.name}",
        header or ReportHeader(),
    )


def write_pdf_report(
    path: str | os.PathLike[str],
    result: PhotoResult,
    overlay_rgb: np.ndarray,
    photo_rgb: np.ndarray,
    model: SegmentationModel,
    overwrite: bool = False,
    scale: str | None = None,
    style: OverlayStyle = EVERY_CLASS,
    review: Mapping[str, Any] | None = None,
    header: ReportHeader | None = None,
    typical_error: str | None = None,
) -> Path:
    """Write the one-photo report atomically; `OutputExistsError` if `path` exists and not `overwrite`."""
    path = Path(path)
    refuse_existing(path, overwrite=overwrite)  # fail before the drawing work
    data = render_pdf_report(
        result, overlay_rgb, photo_rgb, model, scale, style, review, header, typical_error
    )
    return atomic_write_bytes(path, data, overwrite)


def render_batch_pdf(
    results: Sequence[PhotoFigures | PhotoFailure],
    model: SegmentationModel,
    scale: str | None = None,
    options: BatchReportOptions | None = None,
) -> bytes:
    options = options or BatchReportOptions()
    ok = [r for r in results if isinstance(r, PhotoFigures)]
    missed = [r for r in results if isinstance(r, PhotoFailure)]
    # named as on the cards and in the CSV: by their path inside the batch's folder (escaped when drawn)
    failed = [(photo_name(r.path, options.folder), r.reason) for r in missed if r.status != NOT_ANALYSED]
    not_reached = [photo_name(r.path, options.folder) for r in missed if r.status == NOT_ANALYSED]
    scales = _scales(scale)
    if options.typical_error is None:
        options = dataclasses.replace(options, typical_error=model_typical_error(model))
    return render(
        lambda c: draw_batch_report(c, ok, failed, model, scales, options, not_reached),
        "Corroscope batch report",
        options.header or ReportHeader(),
    )


def write_batch_pdf_report(
    path: str | os.PathLike[str],
    results: Sequence[PhotoFigures | PhotoFailure],
    model: SegmentationModel,
    overwrite: bool = False,
    scale: str | None = None,
    options: BatchReportOptions | None = None,
) -> Path:
    """Write the batch report (summary, a card per photo, the table, failures) atomically."""
    path = Path(path)
    refuse_existing(path, overwrite=overwrite)
    return atomic_write_bytes(path, render_batch_pdf(results, model, scale, options), overwrite)


def _write_pdf_export(path: Path, data: ExportInput, overwrite: bool) -> None:
    if data.model is None:
        raise ValueError("the PDF report needs the model that made the result")
    write_pdf_report(
        path,
        data.result,
        data.overlay,
        data.photo_rgb,
        data.model,
        overwrite,
        scale=data.grade_scale,
        style=data.style,
        review=data.record,
        header=data.header,
    )


PDF_EXPORTER = Exporter("pdf", "PDF report", ".pdf", _write_pdf_export, default=False)


def register_exporter() -> None:
    """Add the PDF report to core's exporter registry (`app.core.exporters`); the composition roots (the
    CLI's `--pdf`, the window) call it, since core never imports the report (it needs QtGui)."""
    register(PDF_EXPORTER)
