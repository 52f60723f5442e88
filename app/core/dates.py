"""Inspection dates as people type them: a real date written YYYY-MM-DD, no later than tomorrow; one
check for a project's inspections and a report's header alike."""

from __future__ import annotations

import datetime as _dt
import re

from app.core.text import safe_repr

# Only the one form every report and CSV writes: `date.fromisoformat` also takes "20240101" and
# "2024-W01-1", which a reader of the header would not recognise as the date typed.
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_iso_date(text: str) -> _dt.date:
    """`text` as a date written YYYY-MM-DD; `ValueError` says what is wrong with it."""
    text = text.strip()
    if not _ISO_DATE.fullmatch(text):
        raise ValueError(f"not a date in the form YYYY-MM-DD: {safe_repr(text)}")
    try:
        return _dt.date.fromisoformat(text)
    except ValueError as exc:  # "2024-02-30": the form is right, the day does not exist
        raise ValueError(f"not a real date: {safe_repr(text)} ({exc})") from None


def future_problem(date: _dt.date, today: _dt.date | None = None) -> str | None:
    """Why `date` cannot be an inspection's date: later than tomorrow (a typed year gone wrong would put
    the inspection at the end of every trend; a day's grace for time zones). None when it can."""
    today = today or _dt.date.today()
    if date > today + _dt.timedelta(days=1):
        return f"The inspection date {date} is in the future (today is {today})"
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
