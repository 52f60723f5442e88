"""Inspection dates as people type them: a real date written YYYY-MM-DD, from 1900 to tomorrow; one check
for a project's inspections and a report's header alike."""

from __future__ import annotations

import calendar
import datetime as _dt
import re

from app.core.text import safe_repr

# Only the one form every report and CSV writes: `date.fromisoformat` also takes "20240101" and
# "2024-W01-1", which a reader of the header would not recognise as the date typed.
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})", re.ASCII)  # other scripts' digits: not as printed
# An inspection photographed before 1900 is no case of ours: such a year ("0001-01-01", "0224-05-03") is a
# typed year gone wrong, and would sort first in every trend.
EARLIEST_YEAR = 1900
# In English whatever the locale (`calendar.month_name` follows it, and Qt sets it), as the message is.
_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


def parse_iso_date(text: str, earliest: int = EARLIEST_YEAR) -> _dt.date:
    """`text` as a date written YYYY-MM-DD, from the year `earliest` on (1: any date, to find one stored
    before dates were checked); `ValueError` says what is wrong with it, in words a reader of the form
    knows (not Python's)."""
    text = text.strip()
    match = _ISO_DATE.fullmatch(text)
    if match is None:
        raise ValueError(f"not a date in the form YYYY-MM-DD: {safe_repr(text)}")
    year, month, day = (int(part) for part in match.groups())
    if year < max(earliest, _dt.MINYEAR):
        raise ValueError(f"too early: {safe_repr(text)} is before {earliest} (check the year)")
    if not 1 <= month <= 12:
        raise ValueError(f"not a real date: {safe_repr(text)} (there is no month {month:02d})")
    if day == 0:
        raise ValueError(f"not a real date: {safe_repr(text)} (there is no day 00)")
    days = calendar.monthrange(year, month)[1]
    if day > days:
        raise ValueError(f"not a real date: {safe_repr(text)} ({_MONTHS[month - 1]} {year} has {days} days)")
    return _dt.date(year, month, day)


def future_problem(date: _dt.date, today: _dt.date | None = None) -> str | None:
    """Why `date` cannot be an inspection's date: later than tomorrow (a typed year gone wrong would put
    the inspection at the end of every trend; a day's grace for time zones). None when it can."""
    today = today or _dt.date.today()
    if date > today + _dt.timedelta(days=1):
        return f"The inspection date {date} is in the future (today is {today})"
    return None


def early_problem(date: _dt.date) -> str | None:
    """Why `date` cannot be an inspection's date: before `EARLIEST_YEAR` (a typed year gone wrong). None
    when it can."""
    if date.year < EARLIEST_YEAR:
        return f"The inspection date {date} is before {EARLIEST_YEAR} (check the year)"
    return None


def typed_date_problem(text: str, today: _dt.date | None = None) -> str | None:
    """Why typed `text` is not an inspection date (`parse_iso_date`, `future_problem`); None when it is
    one, or empty (no date given)."""
    if not text.strip():
        return None
    try:
        return future_problem(parse_iso_date(text), today)
    except ValueError as exc:
        return str(exc)
