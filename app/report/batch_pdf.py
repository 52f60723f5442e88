"""The batch PDF report: a summary page (counts, grade distribution chart, worst photos first), a
card per photo (thumbnail with its overlay, figures, each review reason), the full table, failures."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QPen

from app.core import figures
from app.core.analysis import PhotoFigures
from app.core.batch_inputs import photo_name
from app.core.export import models_used
from app.core.model import SegmentationModel
from app.core.model_accuracy import UNKNOWN
from app.core.overlay_style import EVERY_CLASS, OverlayStyle
from app.core.report_header import ReportHeader
from app.core.text import REASON_LIMIT, counted, safe_path, safe_text
from app.report import measures_pdf
from app.report.canvas import Canvas, now_text, rgb_qimage
from app.report.pdf import accuracy_lines, draw_accuracy, model_rows, review_lines
from app.report.thumbnails import Thumbnail

WORST_COUNT = 10
_REVIEW = QColor(170, 60, 0)
_GREY = QColor(90, 90, 90)


@dataclass(frozen=True)
class BatchReportOptions:
    """What the report knows beyond the results: the input folder, the overlay as shown (default: every
    class at the default opacity), and a thumbnail per photo path."""

    folder: Path | None = None
    overlay: OverlayStyle = EVERY_CLASS
    thumbnails: Mapping[Path, Thumbnail] = field(default_factory=dict)
    header: ReportHeader | None = None  # asset, location, client, inspector, date on every page
    typical_error: str | None = None  # the statement of accuracy's line on the model
    # who vouches for a photo's figures other than the model ("reviewed by Ann on …", "edited, not
    # reviewed"), by photo path; printed on its card
    reviews: Mapping[Path, str] = field(default_factory=dict)


def _name(path: Path, options: BatchReportOptions) -> str:
    """A photo as the report names it: its path inside the batch's folder (two folders' ORI_000.png
    apart), escaped."""
    return safe_path(photo_name(path, options.folder))


def worst_first(results: Sequence[PhotoFigures]) -> list[PhotoFigures]:
    """By corroded share, highest first; photos without an asset in view last."""
    return sorted(results, key=lambda r: (r.stats.corroded_share is None, -(r.stats.corroded_share or 0.0)))


def grade_bins(scale: str) -> list[str]:
    """Every grade label of `scale`, best first ("10" … "0"; "Ri 0" … "Ri 5")."""
    table = figures.grade_scale(scale).table
    values = [v for _upper, v in table.cutoffs] + [table.above]
    return [f"{table.label_prefix}{v}" for v in values]


def grade_counts(results: Sequence[PhotoFigures], scale: str) -> list[tuple[str, int]]:
    """(grade label, photos) for every grade of the scale, and "no grade" when some had no asset."""
    grades = (figures.grade_of(r.assessment, scale) for r in results)
    counts = Counter(g.label if g is not None else "no grade" for g in grades)
    rows = [(label, counts.pop(label, 0)) for label in grade_bins(scale)]
    return rows + sorted(counts.items())  # "no grade", or labels another table version gives


def _modes(results: Sequence[PhotoFigures]) -> str:
    modes = sorted({r.mode.value for r in results})
    return ", ".join(modes) or "–"


def _summary_rows(
    results, failures, options: BatchReportOptions, scale: str, not_reached: int = 0
) -> list[tuple[str, str]]:
    review = sum(figures.needs_review(r.assessment, scale) for r in results)
    stopped = [("Not analysed (batch stopped)", str(not_reached))] if not_reached else []
    return [
        ("Folder", safe_path(options.folder) if options.folder else "photos from several places"),
        ("Photos", str(len(results) + len(failures) + not_reached)),
        ("Analysed", str(len(results))),
        ("Failed", str(len(failures))),
        *stopped,
        ("Needs review", str(review)),
        ("Mode", _modes(results)),
        ("Grade scale", figures.scale_title(scale)),
    ]


def other_models(results: Sequence[PhotoFigures], model: SegmentationModel) -> list[dict]:
    """Each model that made the results (`models_used`) when any is not `model`, the one loaded; empty
    when `model` made them all, so a one-model batch's report names it as before."""
    used = models_used(results)
    return used if any(u["sha256"] != model.sha256 for u in used) else []


def _typical_error(use: dict, model: SegmentationModel, options: BatchReportOptions) -> str:
    """A model's typical-error line: the loaded one's with its share range, another's as its rows say."""
    if use["sha256"] == model.sha256 and options.typical_error:
        return options.typical_error
    return safe_text(use["accuracy"] or UNKNOWN)


def models_rows(uses: Sequence[dict], total: int) -> list[tuple[str, str]]:
    """A row per model that made the results: its file, SHA-256 and how many photos it made."""
    return [
        (
            f"Model {i} of {len(uses)}" if len(uses) > 1 else "Model file",
            f"{safe_path(str(u['file']))} (SHA-256 {safe_text(u['sha256'], 64)}): "
            f"made {u['photos']} of {counted(total, 'photo')}",
        )
        for i, u in enumerate(uses, 1)
    ]


def _batch_accuracy(
    results: Sequence[PhotoFigures], options: BatchReportOptions, uses: Sequence[dict] = (), model=None
) -> list[str]:
    """The statement of accuracy for the whole batch: each model's typical error (`uses`: the models
    that made it, when not only the loaded one), how many photos' figures a person reviewed."""
    reviewed = sum(r.labels_source == "reviewed" for r in results)
    edited = sum(r.labels_source == "edited" for r in results)
    lines = accuracy_lines(options.typical_error, False)
    if uses:  # never one model's error for photos another model made
        each = [f"{safe_path(str(u['file']))}: {_typical_error(u, model, options)}" for u in uses]
        lines[:1] = each if len(uses) == 1 else [f"Figures from {len(uses)} models:", *each]
    if reviewed:
        lines[-1] = f"Figures proposed by a model; {reviewed} of {len(results)} photos reviewed by a person."
    if edited:
        lines.append(f"{edited} of {len(results)} photos' masks edited by hand and not signed by a reviewer.")
    return lines


def draw_chart(c: Canvas, title: str, counts: Sequence[tuple[str, int]], height_mm: float = 30.0) -> None:
    """A small bar chart of photos per grade, the count above each bar."""
    height = c.mm(height_mm)
    c.ensure_space(height + c.mm(14))
    c.text(title, size=10.5, bold=True)
    top, base = c.y + c.mm(5), c.y + height
    measures_pdf.draw_bars(c, counts, (0.0, c.width), (top, base), font_size=8, text_mm=4.5)
    c.y = base + c.mm(8)


def _draw_summary(c, results, failures, model, scales, options: BatchReportOptions, not_reached=()) -> None:
    c.text("Corroscope batch report", size=16, bold=True)
    c.text(now_text(), size=9)
    if not_reached:
        total = len(results) + len(failures) + len(not_reached)
        c.text(
            f"Incomplete: the batch was stopped; {len(not_reached)} of {total} photos were not analysed "
            "(listed at the end). The figures cover the photos analysed only.",
            size=10,
            bold=True,
        )
    c.rule()
    uses = other_models(results, model)
    models = models_rows(uses, len(results)) if uses else model_rows(model)
    c.rows(_summary_rows(results, failures, options, scales[0], len(not_reached)) + models)
    c.y += c.mm(3)
    draw_accuracy(c, _batch_accuracy(results, options, uses, model))
    for scale in scales:
        draw_chart(c, f"Photos per {figures.scale_title(scale)} grade", grade_counts(results, scale))
    worst = worst_first(results)[:WORST_COUNT]
    if worst:  # the heading with the table's header and first row
        c.heading(f"Worst photos first ({len(worst)} of {len(results)})", 10.5, then=2 * c.table_row_height())
        body = [
            [
                _name(r.path, options),
                figures.percent_text(r.stats.corroded_share),
                *(figures.grade_value_text(r.assessment, s, r.measures.distribution, False) for s in scales),
                figures.review_word(r, scales),
            ]
            for r in worst
        ]
        header = ["Photo", "Corroded share %", *(figures.scale_title(s) for s in scales), "Review"]
        grade_w = 0.14
        c.table(header, body, [0.52 - grade_w * len(scales), 0.22, *([grade_w] * len(scales)), 0.26])


def _wrapped(c: Canvas, x: float, y: float, width: float, text: str, size: float, **style) -> float:
    """Draw `text` wrapping at word boundaries within `width` at (x, y); returns its height."""
    c.font(size, bold=style.get("bold", False))
    c.painter.setPen(QPen(style.get("color") or QColor(20, 20, 20)))
    return c.wrapped(QRectF(x, y, width, 0), text) + c.mm(0.6)


def _draw_card(
    c: Canvas, r: PhotoFigures, x: float, width: float, scales, options, height: float, named: bool = False
) -> None:
    """One photo: thumbnail with overlay on the left, its figures and review reasons on the right."""
    thumb_w = width * 0.46
    thumb = options.thumbnails.get(r.path)
    if thumb is not None:
        image = rgb_qimage(thumb.overlay(r.classes, options.overlay))
        scale = min(thumb_w / image.width(), (height - c.mm(2)) / image.height())
        where = QRectF(x, c.y, image.width() * scale, image.height() * scale)
        c.painter.drawImage(where, image)
        measures_pdf.draw_scale_bar(c.painter, where, r.measures.mm_per_px, r.width)
    else:
        c.painter.setPen(QPen(_GREY))
        c.painter.drawRect(QRectF(x, c.y, thumb_w, height * 0.7))
        c.font(7.5)
        c.painter.drawText(
            QRectF(x, c.y, thumb_w, height * 0.7), int(Qt.AlignmentFlag.AlignCenter), "no thumbnail"
        )
    tx, tw, y = x + thumb_w + c.mm(2), width - thumb_w - c.mm(2), c.y
    for text, size, style in _card_text(r, scales, options.reviews.get(r.path), named, options.folder):
        y += _wrapped(c, tx, y, tw, text, size, **style)


def _card_text(
    r: PhotoFigures, scales, reviewed: str | None = None, named: bool = False, folder: Path | None = None
) -> list[tuple[str, float, dict]]:
    """The lines beside a card's thumbnail: (text, point size, style); `named`: with the model that made
    it (a batch from several models); the photo named by its path inside the batch's `folder`."""
    share = figures.percent_text(r.stats.corroded_share, unit=True)
    lines: list[tuple[str, float, dict]] = [
        (safe_path(photo_name(r.path, folder)), 8.5, {"bold": True}),
        (f"corroded share {share}", 8, {}),
    ]
    lines += [(figures.grade_text(r.assessment, s, r.measures.distribution), 8, {}) for s in scales]
    lines += [(line, 7, {"color": _GREY}) for line in measures_pdf.card_lines(r, scales)]
    if named:
        lines.append((f"model: {safe_path(r.model_file)}", 7, {"color": _GREY}))
    if reviewed:
        lines.append((reviewed, 7, {"bold": True}))
    lines += [(f"review: {line}", 7, {"color": _REVIEW}) for line in review_lines(r, scales)]
    return lines


def _card_height(
    c: Canvas,
    r: PhotoFigures,
    width: float,
    scales,
    reviewed: str | None = None,
    named: bool = False,
    folder: Path | None = None,
) -> float:
    """The height the card's text needs beside its thumbnail (never less than a thumbnail row)."""
    tw = width - width * 0.46 - c.mm(2)
    needed = 0.0
    for text, size, style in _card_text(r, scales, reviewed, named, folder):
        c.font(size, bold=style.get("bold", False))
        needed += c.wrapped(QRectF(0, 0, tw, 0), text, draw=False) + c.mm(0.6)
    return max(c.mm(36), needed)


def _draw_cards(c, results, model, scales, options: BatchReportOptions) -> None:
    """Two cards a row, worst photos first, with the legend of the classes drawn."""
    c.new_page()
    c.text("Photos, worst first", size=12, bold=True)
    c.legend(options.overlay.shown(model.classes))
    gap = c.mm(4)
    width = (c.width - gap) / 2
    ordered = worst_first(results)
    named = bool(other_models(results, model))  # each card says which model made it
    for i in range(0, len(ordered), 2):
        pair = ordered[i : i + 2]
        reviews, folder = options.reviews, options.folder
        height = max(_card_height(c, r, width, scales, reviews.get(r.path), named, folder) for r in pair)
        c.ensure_space(height)
        for j, r in enumerate(pair):
            _draw_card(c, r, j * (width + gap), width, scales, options, height, named)
        c.y += height + c.mm(2)


def _footer_note(results: Sequence[PhotoFigures], model: SegmentationModel) -> str:
    """Every page's footer: the typical error of the model that made the figures (of each, when several
    did, on the first page)."""
    uses = other_models(results, model)
    if not uses:
        return model.accuracy_line
    if len(uses) == 1:
        return safe_text(uses[0]["accuracy"] or UNKNOWN)
    return f"Figures from {len(uses)} models (each card names its own); their typical errors are on page 1."


def draw_batch_report(
    c: Canvas,
    results: Sequence[PhotoFigures],
    failures: Sequence[tuple[str, str]],
    model: SegmentationModel,
    scales: Sequence[str],
    options: BatchReportOptions | None = None,
    not_reached: Sequence[str] = (),
) -> None:
    """The whole report; `failures` (name, reason) and `not_reached` (names): the photos a batch could not
    analyse, or never did as it was stopped, each named by its path inside the batch's folder."""
    options = options or BatchReportOptions()
    c.note = _footer_note(results, model)
    _draw_summary(c, results, failures, model, scales, options, not_reached)
    if results:
        _draw_cards(c, results, model, scales, options)
    c.new_page()
    c.text("Every photo", size=12, bold=True)
    header = ["Photo", "Corrosion %", "Corroded share %", *(figures.scale_title(s) for s in scales)]
    grade_w = 0.12
    header += ["Review", "Conf.", "Time s"]
    # each column a few mm wider than its heading in bold ("Corroded share %" had 1.6 mm to the next)
    widths = [0.395 - grade_w * len(scales), 0.13, 0.19, *([grade_w] * len(scales)), 0.14, 0.07, 0.075]
    body = [
        [
            _name(r.path, options),
            figures.percent_text(figures.class_percent(r, "corrosion")),
            figures.percent_text(r.stats.corroded_share),
            *(figures.grade_value_text(r.assessment, s, r.measures.distribution, False) for s in scales),
            figures.review_word(r, scales),
            figures.confidence_text(r.mean_confidence),
            f"{r.seconds:.2f}",
        ]
        for r in results
    ]
    c.table(header, body, widths)
    # a name or a reason may hold any character (ESC, a bidi override): escaped, as the cards' names are
    failed = [(safe_path(name), safe_text(reason, REASON_LIMIT)) for name, reason in failures]
    stopped = [(safe_path(name), "not analysed") for name in not_reached]
    for title, rows in (
        ("Photos that could not be analysed", failed),
        ("Photos not analysed: the batch was stopped before them", stopped),
    ):
        if rows:
            c.heading(title, then=c.rows_height(rows[:1], size=8.5, key_width=0.3))
            c.rows(rows, size=8.5, key_width=0.3)
