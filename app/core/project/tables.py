"""The project as tables: one row per stored photo (`project.csv`) and one per inspection of each asset's
trend (`trends.csv`), the cells of `results.csv` and of the trend, escaped for spreadsheets."""

from __future__ import annotations

from app.core.export import csv_columns, csv_row, escape_cell
from app.core.project.store import Project
from app.core.project.trend import Trend, fit_rate, trend_cells
from app.core.record_columns import HEADER_COLUMNS
from app.core.results_table import class_names

RATE_COLUMN = "rate_points_per_year"


def trend_table(trend: Trend, digits: int = 4) -> list[list[str]]:
    """The trend rows as cells; `rate_points_per_year` of each row is the least-squares rate over the
    inspections up to that one (blank while fewer than three), so the last row holds the trend's."""
    out = []
    for n, row in enumerate(trend.rows):
        fit = fit_rate(trend.rows[: n + 1])
        cells = trend_cells(row, digits)
        out.append([escape_cell(c) for c in cells] + ["" if fit is None else f"{fit.rate:.{digits}f}"])
    return out


PROJECT_CSV_PREFIX = (
    *("asset", "inspection_date", "inspector", "photo_path", "photo_sha256", "photo_size", "exif_time"),
    *("model_name", "review_state"),
)


def project_table(project: Project) -> tuple[list[str], list[list[str]]]:
    """The header and one row per stored photo (its newest result): asset, inspection, photo, then the
    columns of `results.csv`, written by the same `csv_row` under one header for every model's classes
    (the default ones first, then other models' in the order first seen)."""
    inspections = project.inspections()
    results = project.latest_results(i.id for i in inspections)
    names = class_names([r.record for i in inspections for r in results[i.id]])
    columns = csv_columns(names)
    # the project's own asset, date and inspector lead each row: a record's report header (the `asset_id`
    # ... `inspection_date` columns a batch's CSV ends with) would repeat them, under clashing names
    shown = [n for n, c in enumerate(columns) if c not in HEADER_COLUMNS]
    rows = []
    for i in inspections:
        by_photo = {r.photo_id: r for r in results[i.id]}
        for photo in project.photos(i.id):
            r = by_photo.get(photo.id)
            head = [i.asset_tag, i.date.isoformat(), i.inspector, photo.path, photo.sha256, str(photo.size)]
            head += [photo.exif_time or "", r.model_name if r else "", r.review_state if r else ""]
            tail = csv_row(r.record, names) if r else [""] * len(columns)
            if r:  # where the project holds the photo now: a record names it as analysed (maybe relative
                # to where a command ran, or before the photo was moved and found again)
                tail[columns.index("file")] = escape_cell(photo.path)
            rows.append([escape_cell(c) for c in head] + [tail[n] for n in shown])
    return [*PROJECT_CSV_PREFIX, *(columns[n] for n in shown)], rows
