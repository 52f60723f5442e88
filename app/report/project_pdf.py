"""The per-asset PDF of a project: the asset, its inspections, and the trend plot of the corroded share."""

from __future__ import annotations

import datetime as _dt
import os
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainterPath, QPen

from app.core.files import atomic_write_bytes, refuse_existing
from app.core.project.changes import Change
from app.core.project.records import Asset
from app.core.project.trend import (
    TREND_TABLE_HEADER,
    RateFit,
    Trend,
    TrendRow,
    accuracy_statement,
    falling_text,
    notes_rows,
    rate_text,
    reviewed_text,
    trend_table_row,
)
from app.core.report_header import time_text
from app.report.pdf import Canvas, draw_accuracy, now_text, render

MEAN_COLOUR, MAX_COLOUR, FIT_COLOUR = QColor(200, 40, 30), QColor(90, 90, 90), QColor(30, 80, 170)


def render_asset_pdf(asset: Asset, trend: Trend, project_name: str, changes: Sequence[Change] = ()) -> bytes:
    """The asset's trend report as PDF bytes; `changes`: its change log (corrections after the fact). Every
    page's header names the asset and the project: a page read alone says whose trend it is."""
    return render(
        lambda c: _draw(c, asset, trend, project_name, changes),
        f"Corroscope trend: {asset.tag}",
        (("Asset", asset.tag), ("Project", project_name)),
    )


def write_asset_pdf(
    path: str | os.PathLike[str],
    asset: Asset,
    trend: Trend,
    project_name: str,
    overwrite: bool = False,
    changes: Sequence[Change] = (),
) -> Path:
    """Write the asset's trend report atomically; `OutputExistsError` if it exists and not `overwrite`."""
    path = Path(path)
    refuse_existing(path, overwrite=overwrite)  # before the render, in the words of `overwrite_hint`
    return atomic_write_bytes(path, render_asset_pdf(asset, trend, project_name, changes), overwrite)


def _draw(c: Canvas, asset: Asset, trend: Trend, project_name: str, changes: Sequence[Change] = ()) -> None:
    c.text(f"Asset {asset.tag}: condition over time", size=16, bold=True)
    c.text(f"Project {project_name}  ·  {now_text()}", size=9)
    c.rule()
    named = (("Name", asset.name), ("Location", asset.location), ("Material / coating", asset.material))
    facts = [(k, v) for k, v in (*named, ("Notes", asset.notes)) if v]
    if facts:
        c.rows(facts)
    c.text(rate_text(trend), size=11, bold=True)
    if caution := falling_text(trend):
        c.text(caution, size=9)
    if reviewed := reviewed_text(trend):
        c.text(reviewed, size=9)
    plot_h = c.height * 0.38
    c.ensure_space(plot_h)
    _plot(c, trend.rows, QRectF(0, c.y, c.width, plot_h), trend.fit)
    c.y += plot_h + c.mm(4)
    body = [trend_table_row(r) for r in trend.rows]
    c.table(list(TREND_TABLE_HEADER), body, [0.12, 0.17, 0.08, 0.1, 0.15, 0.15, 0.12, 0.11])
    c.text(
        "Corroded share = corrosion / (corrosion + asset) in % of the asset, per photo; mean and worst over "
        "the photos of each inspection. Worst grade: the lowest ASTM D610 (with the worst photo's "
        "distribution type), the highest ISO 4628-3 Ri. "
        "Reviewed: photos whose figures come from a mask an inspector signed; the others are the model's. "
        "The least-squares line of the mean is drawn only where it lies within 0-100 %.",
        size=8,
    )
    c.y += c.mm(2)
    if notes := notes_rows(trend):  # a date and a name: the notes get the rest of the line
        c.heading("Inspection notes", then=c.rows_height(notes[:1], size=9, key_width=0.24))
        c.rows(notes, size=9, key_width=0.24)
        c.y += c.mm(1)
    if changes:  # what was corrected or removed after the fact: a reader sees the record was edited
        rows = [(f"{time_text(ch.at)}, {ch.by or 'not known'}", f"{ch.subject}: {ch.what}") for ch in changes]
        c.heading("Changes after the fact", then=c.rows_height(rows[:1], size=8.5, key_width=0.3))
        c.rows(rows, size=8.5, key_width=0.3)
        c.y += c.mm(1)
    if statement := accuracy_statement(trend):  # the models' own lines, as each photo's report states them
        draw_accuracy(c, statement)


def _plot(c: Canvas, rows: Sequence[TrendRow], box: QRectF, fit: RateFit | None = None) -> None:
    """Mean (solid) and worst photo (dashed) corroded share against the inspection date, and the
    least-squares line of the mean (blue, dotted) where it lies within 0-100 % when there is one."""
    p = c.painter
    left, bottom = c.mm(21), c.mm(12)  # the axis title, then the share labels, left of the plot
    head = c.mm(7)  # room for the legend's row above the plot
    area = QRectF(
        box.left() + left, box.top() + head, box.width() - left - c.mm(4), box.height() - bottom - head
    )
    measured = [r for r in rows if r.corroded_share_mean is not None]
    p.setPen(QPen(QColor(60, 60, 60), c.mm(0.25)))
    p.drawRect(area)
    c.font(8)
    if not measured:
        p.drawText(area, int(Qt.AlignmentFlag.AlignCenter), "no inspection with an asset in view yet")
        return
    days = [r.date.toordinal() for r in measured]
    d0, d1 = min(days), max(days)
    span = max(d1 - d0, 1)
    line = _fit_points(fit, measured[-1].date)
    y_max = _axis_top([r.corroded_share_max or 0.0 for r in measured] + [v for _d, v in line])

    def point(day: float, share: float) -> QPointF:
        x = area.left() + (area.width() * (day - d0) / span if d1 > d0 else area.width() / 2)
        return QPointF(x, area.bottom() - area.height() * share / y_max)

    dates = [(point(d, 0).x(), r.date.isoformat()) for r, d in zip(measured, days, strict=True)]
    _axes(c, box, area, y_max, dates)
    mean = [(d, r.corroded_share_mean or 0.0) for r, d in zip(measured, days, strict=True)]
    worst = [(d, r.corroded_share_max or 0.0) for r, d in zip(measured, days, strict=True)]
    series = [
        (mean, MEAN_COLOUR, Qt.PenStyle.SolidLine, "mean of the photos"),
        (worst, MAX_COLOUR, Qt.PenStyle.DashLine, "worst photo"),
    ]
    if fit is not None:  # named in the key even where no part of it lies within the scale
        series.append((line, FIT_COLOUR, Qt.PenStyle.DotLine, "least-squares line of the mean"))
    for values, colour, style, _label in series:
        _draw_series(c, [point(d, v) for d, v in values], colour, style, marks=colour != FIT_COLOUR)
    keys = [(colour, style, label) for _values, colour, style, label in series]
    _legend(c, keys, area.left(), box.top())


def _fit_points(fit: RateFit | None, last: _dt.date) -> list[tuple[float, float]]:
    """The fitted line's ends as (ordinal day, share), cut to the 0-100 % a share can take; none without
    a fit or where the line never lies within that band."""
    segment = None if fit is None else fit.band_segment(last)
    if fit is None or segment is None:
        return []
    return [(fit.first_date.toordinal() + day, share) for day, share in segment]


def _axes(c: Canvas, box: QRectF, area: QRectF, y_max: float, dates: Sequence[tuple[float, str]]) -> None:
    """The share grid with its labels (0 to `y_max` %, in quarters) and the inspection dates under the
    plot at their x."""
    p = c.painter
    right = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    for k in range(5):
        y = area.bottom() - area.height() * k / 4
        p.setPen(QPen(QColor(225, 225, 225), c.mm(0.15)))
        p.drawLine(QPointF(area.left(), y), QPointF(area.right(), y))
        p.setPen(QPen(QColor(60, 60, 60)))
        label = QRectF(box.left(), y - c.mm(2.5), area.left() - box.left() - c.mm(1.5), c.mm(5))
        p.drawText(label, right, f"{y_max * k / 4:g} %")
    p.save()  # the axis' quantity, read bottom to top along it
    p.translate(box.left() + c.mm(1), area.center().y())
    p.rotate(-90)
    title = QRectF(-area.height() / 2, 0, area.height(), c.mm(4))
    p.drawText(title, int(Qt.AlignmentFlag.AlignCenter), "corroded share, % of the asset")
    p.restore()
    for x, text in dates:
        p.drawText(
            QRectF(x - c.mm(12), area.bottom() + c.mm(1), c.mm(24), c.mm(5)),
            int(Qt.AlignmentFlag.AlignHCenter),
            text,
        )


def _draw_series(c: Canvas, pts: Sequence[QPointF], colour: QColor, style: Qt.PenStyle, marks: bool) -> None:
    """One line through `pts`, with a dot on each where it was measured (`marks`; a fitted line has none)."""
    if not pts:
        return
    p = c.painter
    path = QPainterPath()
    path.moveTo(pts[0])
    for pt in pts[1:]:
        path.lineTo(pt)
    p.setPen(_series_pen(c, colour, style))
    p.drawPath(path)
    p.setBrush(colour)
    for pt in pts if marks else ():
        p.drawEllipse(pt, c.mm(0.9), c.mm(0.9))
    p.setBrush(Qt.BrushStyle.NoBrush)


def _series_pen(c: Canvas, colour: QColor, style: Qt.PenStyle) -> QPen:
    """A series' line, in the plot and in its key alike."""
    pen = QPen(colour, c.mm(0.5))
    pen.setStyle(style)
    return pen


def _legend(c: Canvas, entries: Sequence[tuple[QColor, Qt.PenStyle, str]], x: float, y: float) -> None:
    """The series' keys in one row above the plot (a sample of each line, then its label)."""
    p = c.painter
    metrics = p.fontMetrics()
    x += c.mm(2)
    mid = y + c.mm(3)
    for colour, style, label in entries:
        p.setPen(_series_pen(c, colour, style))
        p.drawLine(QPointF(x, mid), QPointF(x + c.mm(6), mid))
        p.setPen(QPen(QColor(40, 40, 40)))
        width = metrics.horizontalAdvance(label) + c.mm(1)
        middle_left = int(Qt.AlignmentFlag.AlignVCenter)
        p.drawText(QRectF(x + c.mm(7), mid - c.mm(2), width, c.mm(4)), middle_left, label)
        x += c.mm(7) + width + c.mm(5)


def _axis_top(values: Sequence[float]) -> float:
    """The share axis' top: a round number at or above every value, never above 100 % (a share is a part
    of the asset: a finer scale for a clean asset, the whole one at most)."""
    return min(100.0, _nice_ceiling(max(values, default=0.0)))


def _nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 5 x 10^k at or above `value` (an axis top that reads well)."""
    if value <= 0:
        return 1.0
    step = 10 ** int(f"{value:e}".split("e")[1])
    for m in (1, 2, 5, 10):
        if value <= m * step:
            return float(m * step)
    return float(10 * step)
