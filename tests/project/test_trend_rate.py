"""The trend's rate needs inspections on three different dates: two inspectors on one day are two points
at one date, and a line through two dates says nothing of its error."""

from __future__ import annotations

import datetime as dt

from app.core.project import Trend, TrendRow
from app.core.project.trend import fit_rate, rate_text


def _rows(days: list[dt.date], means: list[float]) -> tuple[TrendRow, ...]:
    pairs = enumerate(zip(days, means, strict=True))
    return tuple(TrendRow(n, d, f"inspector {n}", 4, 0, m, m + 5, 3, 5) for n, (d, m) in pairs)


def test_three_inspections_on_two_dates_give_no_rate() -> None:
    day, later = dt.date(2022, 1, 1), dt.date(2023, 1, 1)
    rows = _rows([day, day, later], [10.0, 14.0, 20.0])
    assert fit_rate(rows) is None
    said = rate_text(Trend("P-7", rows, None))
    assert (
        "too few inspections for a rate (3 with a measured corroded share on 2 dates; 3 or more on "
        "different dates are needed)" in said
    )
    third = _rows([day, day, later, dt.date(2024, 1, 1)], [10.0, 14.0, 20.0, 30.0])
    fit = fit_rate(third)
    assert fit is not None and fit.inspections == 4  # every inspection counts once there are 3 dates
