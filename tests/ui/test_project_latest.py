"""The panel's "Latest:" line of an asset: P-202 had two inspections on 2023-06-15 (J. Smith 100.00 %,
Éva Müller 98.08 %) and the panel said only the one sorted last, "Latest: mean corroded share 98.08 %",
undated and unnamed."""

from __future__ import annotations

import datetime as dt

from app.core.project import Asset, Trend
from app.core.project.trend import TrendRow
from app.ui.project_texts import asset_text


def _row(n: int, date: dt.date, inspector: str, share: float) -> TrendRow:
    return TrendRow(n, date, inspector, 2, 0, share, share, 1, 5)


def test_two_inspections_of_the_latest_date_are_both_said_with_the_date() -> None:
    day = dt.date(2023, 6, 15)
    rows = (_row(1, dt.date(2021, 6, 1), "J. Smith", 60.0), _row(2, day, "J. Smith", 100.0))
    rows += (_row(3, day, "Éva Müller", 98.08),)
    text = asset_text(Asset(1, "P-202"), Trend("P-202", rows, None))
    assert "Latest (2023-06-15, 2 inspections that day):" in text
    assert "  J. Smith: mean corroded share 100.00 %, worst photo 100.00 %" in text
    assert "  Éva Müller: mean corroded share 98.08 %, worst photo 98.08 %" in text


def test_one_latest_inspection_is_dated_and_named() -> None:
    rows = (_row(1, dt.date(2021, 6, 1), "A", 10.0), _row(2, dt.date(2023, 6, 15), "B", 20.0))
    text = asset_text(Asset(2, "P-7"), Trend("P-7", rows, None))
    assert "Latest (2023-06-15 by B): mean corroded share 20.00 %, worst photo 20.00 %" in text
