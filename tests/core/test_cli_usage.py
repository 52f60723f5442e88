"""`corroscope analyze` options refused as bad usage (exit 2) with a message that says what is wrong,
before the model loads; in-process."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from app import cli
from app.core.dates import typed_date_problem

TOMORROW = dt.date.today() + dt.timedelta(days=1)
LATER = (TOMORROW + dt.timedelta(days=1)).isoformat()
BAD_DATES = ["2099-13-45", "2024-02-30", "31.02.2024", "20240101", LATER]


@pytest.mark.parametrize("value", BAD_DATES)
def test_a_report_date_that_is_no_real_date_or_in_the_future_is_bad_usage(
    value: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        cli.main(["analyze", str(tmp_path), "--out", str(tmp_path / "o"), "--inspection-date", value])
    err = capsys.readouterr().err
    assert info.value.code == cli.EXIT_USAGE
    assert "argument --inspection-date" in err and value in err, err


def test_a_report_date_is_an_iso_date_no_later_than_tomorrow_or_none() -> None:
    assert typed_date_problem("") is None and typed_date_problem("  ") is None  # no date given
    assert typed_date_problem(TOMORROW.isoformat()) is None  # a day's grace for time zones
    assert typed_date_problem("2024-02-29") is None
    assert "YYYY-MM-DD" in str(typed_date_problem("31.02.2024"))
    assert "not a real date" in str(typed_date_problem("2024-02-30"))
    assert "in the future" in str(typed_date_problem("2099-01-01"))
