"""An asset's condition over time: one row per inspection, and the rate of change in points per year
(a least-squares line through every inspection, with its standard error)."""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from app.core.model_accuracy import accuracy_line
from app.core.project.records import Inspection, StoredResult
from app.core.text import counted

TREND_COLUMNS = (
    "date",
    "inspector",
    "photos",
    "reviewed",
    "corroded_share_mean",
    "corroded_share_max",
    "d610_worst",
    "iso_worst",
)
DAYS_PER_YEAR = 365.25
MIN_INSPECTIONS_FOR_RATE = 3  # two points always lie on a line: a rate from two says nothing of its error


@dataclass(frozen=True)
class TrendRow:
    """One inspection: the corroded share (% of the asset) over its photos, and the worst grades
    (lowest ASTM D610, highest ISO 4628-3 Ri). Photos with no asset in view count in `photos` only."""

    inspection_id: int
    date: _dt.date
    inspector: str
    photos: int
    reviewed: int  # photos whose newest result is a signed review (the rest are the model's figures)
    corroded_share_mean: float | None
    corroded_share_max: float | None
    d610_worst: int | None
    iso_worst: int | None
    d610_worst_label: str | None = None  # the worst photo's grade with its distribution type, "0-G"
    notes: str = ""  # the inspection's notes


@dataclass(frozen=True)
class ModelUse:
    """A model whose figures a trend counts: its file name and SHA-256, on how many photos (of which
    `reviewed` count with a signed mask's figures instead), and its statement of accuracy."""

    name: str
    sha256: str
    photos: int
    reviewed: int
    accuracy: str


@dataclass(frozen=True)
class RateFit:
    """The least-squares line of the mean corroded share against time over `inspections` inspections:
    `rate` points per year ± `standard_error`, `start` the line's value on `first_date`."""

    rate: float
    standard_error: float
    start: float
    first_date: _dt.date
    inspections: int

    def at(self, date: _dt.date) -> float:
        """The fitted mean corroded share on `date` (for drawing the line)."""
        return self.start + self.rate * (date - self.first_date).days / DAYS_PER_YEAR

    def band_segment(
        self, last: _dt.date, low: float = 0.0, high: float = 100.0
    ) -> tuple[tuple[float, float], tuple[float, float]] | None:
        """The line from `first_date` to `last`, cut to where it lies within `low`..`high` (a share is
        0-100 %; the line knows no bounds): ((day, share), (day, share)), days counted from `first_date`;
        None where it never does."""
        per_day = self.rate / DAYS_PER_YEAR
        start, end = 0.0, float((last - self.first_date).days)
        if per_day == 0:
            inside = low <= self.start <= high
            return ((start, self.start), (end, self.start)) if inside else None
        bounds = sorted(((low - self.start) / per_day, (high - self.start) / per_day))
        start, end = max(start, bounds[0]), min(end, bounds[1])
        if start > end:
            return None

        def share(day: float) -> float:
            return min(high, max(low, self.start + per_day * day))  # no float noise past the bounds

        return (start, share(start)), (end, share(end))


@dataclass(frozen=True)
class Trend:
    asset_tag: str
    rows: tuple[TrendRow, ...]
    fit: RateFit | None  # None: fewer than MIN_INSPECTIONS_FOR_RATE inspections with a share, or one date
    models: tuple[ModelUse, ...] = ()  # the models of the photos' newest results, first used first

    @property
    def rate_points_per_year(self) -> float | None:
        return None if self.fit is None else self.fit.rate

    @property
    def measured(self) -> int:
        """How many inspections have a mean corroded share (an asset in view)."""
        return sum(r.corroded_share_mean is not None for r in self.rows)


def review_counts(results: Iterable[StoredResult | None]) -> tuple[int, int]:
    """(photos whose newest result is a signed review, photos whose model figures still need review) among
    the newest results of some photos (None: a photo with no result)."""
    reviewed = flagged = 0
    for r in results:
        if r is not None and r.is_reviewed:
            reviewed += 1
        elif r is not None and r.needs_review:
            flagged += 1
    return reviewed, flagged


def d610_text(row: TrendRow) -> str:
    """The inspection's worst D610 grade with the worst photo's type ("0-G"), else the bare grade, else
    "–": as the trend's table, its PDF and the project panel show it."""
    return row.d610_worst_label or ("–" if row.d610_worst is None else str(row.d610_worst))


def d610_worst_label(results: Sequence[StoredResult]) -> str | None:
    """The lowest D610 grade of `results` as its record writes it, with the distribution type ("0-G");
    the bare grade where the record holds no type; of equal grades, the most corroded photo's."""
    graded = [r for r in results if r.astm_d610 is not None]
    if not graded:
        return None
    worst = min(graded, key=lambda r: (r.astm_d610, -(r.corroded_share or 0.0)))
    return str(worst.record.get("astm_d610_with_distribution") or worst.astm_d610)


def trend_row(inspection: Inspection, results: Sequence[StoredResult]) -> TrendRow:
    shares = [r.corroded_share for r in results if r.corroded_share is not None]
    astm = [r.astm_d610 for r in results if r.astm_d610 is not None]
    iso = [r.iso_4628_3 for r in results if r.iso_4628_3 is not None]
    return TrendRow(
        inspection_id=inspection.id,
        date=inspection.date,
        inspector=inspection.inspector,
        photos=len(results),
        reviewed=review_counts(results)[0],
        corroded_share_mean=sum(shares) / len(shares) if shares else None,
        corroded_share_max=max(shares) if shares else None,
        d610_worst=min(astm) if astm else None,
        iso_worst=max(iso) if iso else None,
        d610_worst_label=d610_worst_label(results),
        notes=inspection.notes,
    )


def model_uses(results: Iterable[StoredResult]) -> tuple[ModelUse, ...]:
    """The models behind `results`, each once, with the statement of accuracy its records hold (made by
    `accuracy_line` when analysed; "accuracy unknown" where a record holds none)."""
    found: dict[tuple[str, str], list[StoredResult]] = {}
    for r in results:
        found.setdefault((r.model_name, r.model_sha256), []).append(r)
    uses = []
    for (name, sha), held in found.items():
        stated = next((str(r.record["model_accuracy"]) for r in held if r.record.get("model_accuracy")), "")
        reviewed = review_counts(held)[0]
        uses.append(ModelUse(name, sha, len(held), reviewed, stated or accuracy_line(None)))
    return tuple(uses)


def fit_rate(rows: Sequence[TrendRow]) -> RateFit | None:
    """The least-squares line through every inspection with a mean share (not first to latest only);
    None when they fall on fewer than `MIN_INSPECTIONS_FOR_RATE` different dates (two inspectors on one
    day are two points at one x: a line through two dates still says nothing of its error)."""
    measured = [r for r in rows if r.corroded_share_mean is not None]
    if len({r.date for r in measured}) < MIN_INSPECTIONS_FOR_RATE:
        return None
    first = min(r.date for r in measured)
    xs = [(r.date - first).days / DAYS_PER_YEAR for r in measured]
    ys = [float(r.corroded_share_mean) for r in measured if r.corroded_share_mean is not None]
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    if sxx <= 0:
        return None
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx
    start = my - slope * mx
    residual = sum((y - start - slope * x) ** 2 for x, y in zip(xs, ys, strict=True))
    error = math.sqrt(residual / (n - 2) / sxx)
    return RateFit(slope, error, start, first, n)


def rate_points_per_year(rows: Sequence[TrendRow]) -> float | None:
    """The fitted rate (`fit_rate`), None without one."""
    fit = fit_rate(rows)
    return None if fit is None else fit.rate


def build_trend(
    asset_tag: str, inspections: Sequence[Inspection], results: Mapping[int, Sequence[StoredResult]]
) -> Trend:
    ordered = sorted(inspections, key=lambda i: (i.date, i.inspector, i.id))
    rows = tuple(trend_row(i, results.get(i.id, ())) for i in ordered)
    models = model_uses(r for i in ordered for r in results.get(i.id, ()))
    return Trend(asset_tag, rows, fit_rate(rows), models)


def _num(value: float | None, digits: int = 4) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def iso_text(value: int | None) -> str:
    """An ISO 4628-3 grade as the standard names it ("Ri 5"); "" without one."""
    return "" if value is None else f"Ri {value}"


def rate_text(trend: Trend) -> str:
    """The rate of change as a sentence: the fitted rate ± its standard error over n inspections, or why
    there is none."""
    fit = trend.fit
    if fit is None:
        have = trend.measured
        days = len({r.date for r in trend.rows if r.corroded_share_mean is not None})
        on = f" on {counted(days, 'date')}" if days < have else ""
        return (
            # "measured": a photo of it showed the asset, so its corroded share was measured (one whose
            # photos show none has no share and is no point of the line); said in the CLI, view and PDF
            f"Rate of change: too few inspections for a rate ({have} with a measured corroded share{on}; "
            f"{MIN_INSPECTIONS_FOR_RATE} or more on different dates are needed)"
        )
    return (
        f"Rate of change of the mean corroded share: {fit.rate:+.2f} ± {fit.standard_error:.2f} points per "
        f"year (least-squares line through {fit.inspections} inspections ± its standard error)"
    )


def falling_text(trend: Trend) -> str:
    """A caution when the fitted share falls by more than twice its standard error ("" otherwise):
    corrosion does not recede by itself, so such a trend says something changed besides the rust."""
    fit = trend.fit
    if fit is None or fit.rate >= -2 * fit.standard_error:
        return ""
    return (
        "The corroded share falls over time, which corrosion does not do by itself: check for a repair or "
        "repaint, photos of other parts of the asset, or the model's error on some photos."
    )


def reviewed_text(trend: Trend) -> str:
    """How many of the trend's photos count with figures an inspector signed ("" without photos)."""
    photos = sum(r.photos for r in trend.rows)
    if not photos:
        return ""
    reviewed = sum(r.reviewed for r in trend.rows)
    if reviewed == 0:
        return f"No photo of the {photos} has a reviewed mask: every figure is the model's."
    if reviewed == photos:
        return f"All {photos} photos count with reviewed masks' figures."
    return f"{reviewed} of {photos} photos count with reviewed masks' figures, the rest with the model's."


def trend_cells(row: TrendRow, digits: int = 4) -> list[str]:
    """The row as CSV cells, in `TREND_COLUMNS` order."""
    return [
        row.date.isoformat(),
        row.inspector,
        str(row.photos),
        str(row.reviewed),
        _num(row.corroded_share_mean, digits),
        _num(row.corroded_share_max, digits),
        "" if row.d610_worst is None else str(row.d610_worst),
        iso_text(row.iso_worst),  # "Ri 5", as results.csv and project.csv write the grade
    ]


# The trend's table as people read it (the trend window, the asset PDF); the CSV's is `TREND_COLUMNS`.
TREND_TABLE_HEADER = (
    *("Date", "Inspector", "Photos", "Reviewed"),
    *("Mean share %", "Worst share %", "D610 worst", "ISO worst"),
)


def trend_table_row(row: TrendRow) -> list[str]:
    """The row under `TREND_TABLE_HEADER`: shares to two decimals, "–" where there is nothing."""
    return [
        row.date.isoformat(),
        row.inspector or "–",
        str(row.photos),
        str(row.reviewed),
        *("–" if v is None else f"{v:.2f}" for v in (row.corroded_share_mean, row.corroded_share_max)),
        d610_text(row),
        iso_text(row.iso_worst) or "–",
    ]


def accuracy_statement(trend: Trend) -> list[str]:
    """The statement of accuracy of a trend's figures: each model that made them (file, the whole SHA-256
    as every report names it, on how many photos) with its own statement (`reviewed_text`: reviewed)."""
    lines = []
    for m in trend.models:
        signed = f", {m.reviewed} of them with reviewed figures" if m.reviewed else ""
        lines.append(
            f"Model {m.name} (SHA-256 {m.sha256}), {counted(m.photos, 'photo')}{signed}: {m.accuracy}"
        )
    return lines


def notes_rows(trend: Trend) -> list[tuple[str, str]]:
    """(inspection, its notes) for each inspection with notes: "2022-05-01 (Ann)", in date order."""
    return [
        (f"{r.date.isoformat()} ({r.inspector})" if r.inspector else r.date.isoformat(), r.notes)
        for r in trend.rows
        if r.notes
    ]
