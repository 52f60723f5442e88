"""An asset's condition over time: one row per inspection, and the rate of change in points per year."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from app.core.project.records import Inspection, StoredResult

TREND_COLUMNS = (
    "date",
    "inspector",
    "photos",
    "corroded_share_mean",
    "corroded_share_max",
    "d610_worst",
    "iso_worst",
)
DAYS_PER_YEAR = 365.25


@dataclass(frozen=True)
class TrendRow:
    """One inspection: the corroded share (% of the asset) over its photos, and the worst grades
    (lowest ASTM D610, highest ISO 4628-3 Ri). Photos with no asset in view count in `photos` only."""

    inspection_id: int
    date: _dt.date
    inspector: str
    photos: int
    corroded_share_mean: float | None
    corroded_share_max: float | None
    d610_worst: int | None
    iso_worst: int | None


@dataclass(frozen=True)
class Trend:
    asset_tag: str
    rows: tuple[TrendRow, ...]
    rate_points_per_year: float | None  # mean corroded share, first inspection to the latest


def trend_row(inspection: Inspection, results: Sequence[StoredResult]) -> TrendRow:
    shares = [r.corroded_share for r in results if r.corroded_share is not None]
    astm = [r.astm_d610 for r in results if r.astm_d610 is not None]
    iso = [r.iso_4628_3 for r in results if r.iso_4628_3 is not None]
    return TrendRow(
        inspection_id=inspection.id,
        date=inspection.date,
        inspector=inspection.inspector,
        photos=len(results),
        corroded_share_mean=sum(shares) / len(shares) if shares else None,
        corroded_share_max=max(shares) if shares else None,
        d610_worst=min(astm) if astm else None,
        iso_worst=max(iso) if iso else None,
    )


def rate_points_per_year(rows: Sequence[TrendRow]) -> float | None:
    """(latest mean - first mean) / years between them, over the inspections with a mean; None when
    fewer than two such inspections or they share one date."""
    measured = [r for r in rows if r.corroded_share_mean is not None]
    if len(measured) < 2:
        return None
    first, last = measured[0], measured[-1]
    years = (last.date - first.date).days / DAYS_PER_YEAR
    if years <= 0:
        return None
    assert first.corroded_share_mean is not None and last.corroded_share_mean is not None
    return (last.corroded_share_mean - first.corroded_share_mean) / years


def build_trend(
    asset_tag: str, inspections: Sequence[Inspection], results: Mapping[int, Sequence[StoredResult]]
) -> Trend:
    ordered = sorted(inspections, key=lambda i: (i.date, i.inspector, i.id))
    rows = tuple(trend_row(i, results.get(i.id, ())) for i in ordered)
    return Trend(asset_tag, rows, rate_points_per_year(rows))


def _num(value: float | None, digits: int = 4) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def trend_cells(row: TrendRow) -> list[str]:
    """The row as CSV cells, in `TREND_COLUMNS` order."""
    return [
        row.date.isoformat(),
        row.inspector,
        str(row.photos),
        _num(row.corroded_share_mean),
        _num(row.corroded_share_max),
        "" if row.d610_worst is None else str(row.d610_worst),
        "" if row.iso_worst is None else str(row.iso_worst),
    ]
