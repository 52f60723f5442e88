"""The one-photo PDF report and the parts both reports share (model rows, legend classes).

The drawing surface is `app.report.canvas`; the batch report is `app.report.batch_pdf`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtGui import QColor

from app.core import contract, figures
from app.core.analysis import PhotoFigures, PhotoResult
from app.core.grading import GradeScale
from app.core.model import SegmentationModel
from app.core.overlay_style import EVERY_CLASS, OverlayStyle
from app.core.record import PhotoRecord
from app.core.report_header import time_text
from app.core.text import provider_name, safe_path, safe_text
from app.report import measures_pdf
from app.report.adapted import adapted_text
from app.report.canvas import Canvas, now_text, render, rgb_qimage

__all__ = ["Canvas", "accuracy_lines", "draw_photo_report", "model_rows", "render"]

NO_TYPICAL_ERROR = "Typical error of the model: not stated (no validation figures came with this model)."


def model_rows(model: SegmentationModel, provider: str | None = None) -> list[tuple[str, str]]:
    """Model file, SHA-256, whether and from what it was adapted, architecture and the provider as the app
    says it ("CPU", "CUDA")."""
    meta = model.metadata
    arch = " / ".join(v for v in (meta.get(contract.KEY_ARCHITECTURE), meta.get(contract.KEY_BACKBONE)) if v)
    rows = [  # the model's own text is cut (a 20 MB value went whole into every PDF: 1.6 GB, 20 s)
        ("Model file", f"{safe_path(model.path.name)} (SHA-256 {model.sha256})"),
        ("Architecture", safe_text(arch) if arch else "not stated"),
        ("Provider", provider_name(provider) if provider else model.device),
    ]
    adapted = adapted_text(meta)
    if adapted is not None:  # a reader must see that these figures come from a site's own model
        rows.insert(1, ("Adapted", adapted))
    if model.cuda_note:  # on the provider's row: the photo report stays one page
        rows[-1] = ("Provider", f"{rows[-1][1]} ({model.cuda_note})")
    return rows


def review_lines(result: PhotoFigures, scales: Sequence[GradeScale | str]) -> list[str]:
    """Each reason a person should look at this photo on the scales shown, one line each."""
    return list(dict.fromkeys(r for s in scales for r in figures.review_reasons(result.assessment, s)))


def review_source_lines(result: PhotoFigures, review: Mapping[str, Any] | None) -> list[str]:
    """Who reviewed the figures (or that they come from an edited mask), and the model's own figures
    when they differ from the ones reported. `review`: the photo's record (`PhotoRecord`)."""
    record = review if isinstance(review, PhotoRecord) else PhotoRecord(review or {})
    lines = []
    who = record.review()
    if record.figures_source == "reviewed":
        when = f" at {time_text(who['reviewed_at'])}" if who["reviewed_at"] else ""
        note = f": {who['note']}" if who["note"] else ""
        lines.append(f"Reviewed by {who['reviewed_by'] or 'an unnamed inspector'}{when}{note}")
    elif result.labels_source != "model":  # "edited", or "reviewed" without the record's reviewer
        lines.append("Figures from an edited mask, not yet marked reviewed")
    model = record.model_figures
    if model is None:
        return lines
    share = figures.percent_text(model.corroded_share, unit=True)
    if model_share_differs(result, record):
        astm, iso = model.astm_d610 or "no grade", model.iso_4628_3 or "no grade"
        lines.append(f"The model's own figures: corroded share {share}, ASTM D610 {astm}, ISO 4628-3 {iso}")
    return lines


def model_share_differs(result: PhotoFigures, record: PhotoRecord) -> bool:
    """The record's figures come from a mask whose corroded share is not the model's own, compared as
    printed (a share equal to two decimals is no difference a reader could see)."""
    model = record.model_figures
    if model is None:
        return False
    share = figures.percent_text(model.corroded_share, unit=True)
    return share != figures.percent_text(result.stats.corroded_share, unit=True)


def model_typical_error(model: SegmentationModel) -> str:
    """The line that says how far the model's figures typically are from a person's, and what its share
    range held on photos it did not train on, from the model's own metadata ("accuracy unknown" without
    it)."""
    cal = model.range_calibration
    held = None if cal is None else cal.statement()
    return model.accuracy_line if held is None else f"{model.accuracy_line} {held}"


EDITED_LINE = "Figures from the model's mask edited by hand; not signed by a reviewer: review before signing."
# A mask read from a file (`analyze --reviewed-masks`, a saved correction) may never have been the model's:
# another tool's, or a ground truth drawn from scratch. The line names the file and claims no origin.
MASK_FILE_LINE = (
    "Figures from the mask {name}, not the model's prediction (edited by hand or drawn elsewhere); "
    "not signed by a reviewer: review before signing."
)


def accuracy_lines(
    typical_error: str | None,
    reviewed: bool,
    reviewed_by: str | None = None,
    reviewed_at: str | None = None,
    edited: bool = False,
    mask_file: str | None = None,
) -> list[str]:
    """The statement of accuracy: the model's typical error (`typical_error`, one line) and who, if
    anyone, reviewed the model's figures (`edited`: changed by hand, or read from `mask_file`; with
    `reviewed`, a mask corrected by hand before it was signed)."""
    lines = [typical_error or NO_TYPICAL_ERROR]
    if reviewed:
        on = f" on {time_text(reviewed_at)}" if reviewed_at else ""
        who = reviewed_by or "an unnamed inspector"
        if edited:  # a corrected mask: its figures are the inspector's, not the model's (given above)
            lines.append(f"Figures from the mask corrected and signed by {who}{on}, not the model's own.")
        else:
            lines.append(f"Figures proposed by a model; reviewed by {who}{on}.")
    elif edited and mask_file:
        lines.append(MASK_FILE_LINE.format(name=safe_path(Path(mask_file).name)))
    elif edited:
        lines.append(EDITED_LINE)
    else:
        lines.append("Figures proposed by a model; not reviewed by a person.")
    return lines


def draw_accuracy(c: Canvas, lines: Sequence[str]) -> None:
    """The statement's heading and its few lines, on one page."""
    c.heading("Statement of accuracy", then=sum(c.paragraph_height(line, size=8.5) for line in lines))
    for line in lines:
        c.text(line, size=8.5)
    c.y += c.mm(1)


PHOTO_SHARE, LEAST_PHOTO_SHARE = 0.18, 0.10  # of the page's height: the photos' row, at most and least


def photo_height(c: Canvas) -> float:
    """The photos' row height: `PHOTO_SHARE` of the page (which leaves the figures, the statement of
    accuracy and the model on page 1) less what a header, file name or folder of more than one line took
    above the cursor, down to `LEAST_PHOTO_SHARE`: a long header does not push the Model section alone
    onto a second page."""
    c.font(7.5)
    usual = (c.line_height() + c.mm(2.5) if c.header else 0.0) + c.mm(2)  # the header's line, the rule
    usual += c.paragraph_height("C", size=16, bold=True) + c.paragraph_height("C", 9)
    usual += c.paragraph_height("C", 8.5)
    taller = max(0.0, c.y - usual)
    return max(c.height * LEAST_PHOTO_SHARE, c.height * PHOTO_SHARE - taller)


def draw_photo_report(
    c: Canvas,
    result: PhotoResult,
    overlay_rgb: np.ndarray,
    photo_rgb: np.ndarray,
    model: SegmentationModel,
    scales: Sequence[str],
    style: OverlayStyle = EVERY_CLASS,
    review: Mapping[str, Any] | None = None,
    typical_error: str | None = None,
) -> None:
    """`style`: how `overlay_rgb` shows the classes (the legend lists those drawn); `review`: the
    photo's record (`PhotoRecord`): who reviewed it, said under the grades;
    `typical_error`: the statement of accuracy's line on the model (`model_typical_error`)."""
    c.text("Corroscope inspection report", size=16, bold=True)
    dims = f"{photo_rgb.shape[1]:,} × {photo_rgb.shape[0]:,} px"
    # a batch's record names the photo inside its input folder (sub2/ORI_000.png), as its CSV row does
    relative = (review or {}).get("relative_path")
    name = relative if isinstance(relative, str) and relative else result.path.name
    c.text(f"{safe_path(name)}  ·  {dims}  ·  {now_text()}", size=9)
    folder = safe_path(result.path.parent.absolute())  # the whole path: the app may have started anywhere
    c.text(f"Folder: {folder}  ·  mode: {result.mode.value}", size=8.5, color=QColor(80, 80, 80))
    c.rule()
    half = (c.width - c.mm(4)) / 2
    max_h = photo_height(c)
    h1 = c.image(rgb_qimage(photo_rgb), 0, half, max_h, "Photo")
    overlay = rgb_qimage(overlay_rgb)
    h2 = c.image(overlay, half + c.mm(4), half, max_h, "Segmentation overlay")
    where = measures_pdf.image_rect(overlay, half + c.mm(4), c.y, half, max_h)
    measures_pdf.draw_scale_bar(c.painter, where, result.measures.mm_per_px, photo_rgb.shape[1])
    c.y += max(h1, h2)
    c.legend(style.shown(model.classes))
    for scale in scales:
        c.text(figures.grade_text(result.assessment, scale, result.measures.distribution), size=13, bold=True)
    lines = review_lines(result, scales)
    if lines:
        first = c.paragraph_height(f"• {lines[0]}", size=9.5, x=c.mm(4))
        c.heading("Needs review:", size=10, then=first, color=QColor(170, 60, 0))
        for line in lines:
            c.text(f"• {line}", size=9.5, x=c.mm(4), color=QColor(170, 60, 0))
    for line in review_source_lines(result, review):
        c.text(line, size=10, bold=line.startswith("Reviewed"))
    c.y += c.mm(1)
    skip = ("Grade", "Needs review", "Provider")  # the grades are above, the provider under Model
    rows = [r for r in figures.figure_rows(result, scales[0]) if r[0] not in skip]
    c.heading("Figures", then=c.rows_height(rows[:2], size=9))
    c.rows(rows, size=9)
    c.y += c.mm(2)
    measures_pdf.draw_measures_section(c, result)
    record = review if isinstance(review, PhotoRecord) else PhotoRecord(review or {})
    who = record.review()
    signed = record.figures_source == "reviewed"
    edited = not signed and "edited" in (record.figures_source, result.labels_source)
    edited = edited or (signed and model_share_differs(result, record))  # corrected, then signed
    statement = accuracy_lines(
        typical_error, signed, who["reviewed_by"], who["reviewed_at"], edited, record.reviewed_mask
    )
    draw_accuracy(c, statement)
    c.section("Model", model_rows(model, result.provider), size=8.5)
