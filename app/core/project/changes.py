"""The project's change log: every correction or removal made after an inspection was stored (its date,
inspector, notes or asset corrected; it or one of its photos removed; an asset's details edited), with who
made it, when, and what was there before, so a report's reader can see what was changed after the fact."""

from __future__ import annotations

import datetime as _dt
import getpass
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from app.core.project.schema import current_metadata, now_utc

_MD, T = current_metadata()


@dataclass(frozen=True)
class Change:
    at: str  # ISO 8601, UTC
    by: str  # who made it ("" when not known)
    asset_tag: str
    subject: str  # what was changed, as it was named before: "inspection P-7 2023-05-02 by A. Müller"
    what: str  # "date 2023-05-02 → 2022-04-30", "removed (2 photos)"
    other_tag: str | None = None  # the asset it was moved from


def who_changes() -> str:
    """The account name of the person at this computer, for a change no name was given for."""
    try:
        return getpass.getuser()
    except (OSError, KeyError, ImportError):  # no login name in a container or service
        return ""


def log_change(
    conn: sa.Connection, by: str | None, asset_tag: str, subject: str, what: str, other_tag: str | None = None
) -> None:
    """One row of the log, in the transaction of the change it describes."""
    values = dict(changed_at=now_utc(), changed_by=who_changes() if by is None else by, asset_tag=asset_tag)
    conn.execute(T["changes"].insert().values(**values, other_tag=other_tag, subject=subject, what=what))


def read_changes(conn: sa.Connection, asset_tag: str | None = None) -> list[Change]:
    """The log, oldest first; of one asset (including what was moved to or from it) when `asset_tag`."""
    c = T["changes"]
    query = sa.select(c).order_by(c.c.id)
    if asset_tag is not None:
        query = query.where(sa.or_(c.c.asset_tag == asset_tag, c.c.other_tag == asset_tag))
    return [
        Change(r["changed_at"], r["changed_by"], r["asset_tag"], r["subject"], r["what"], r["other_tag"])
        for r in conn.execute(query).mappings()
    ]


def inspection_subject(tag: str, date: _dt.date, inspector: str) -> str:
    return f"inspection {tag} {date.isoformat()}" + (f" by {inspector}" if inspector else "")


def correction_text(before: Mapping[str, Any], after: Mapping[str, Any]) -> str:
    """ "asset P-7 → P-8; date 2023-05-02 → 2022-04-30; inspector '' → 'B. Kurz'; notes changed"."""
    parts = []
    for key in ("asset", "date", "inspector"):
        old, new = before[key], after[key]
        if old != new:
            parts.append(f"{key} {_shown(old)} → {_shown(new)}")
    if before["notes"] != after["notes"]:
        parts.append(f"notes were {_shown(before['notes'])}")
    return "; ".join(parts)


def asset_facts_text(before: Mapping[str, Any], fields: Mapping[str, str]) -> str:
    """ "name 'Kühlwasser' → 'Kühlwasser Nord'" for each detail that changes; "" when none does."""
    return "; ".join(
        f"{key} {_shown(before[key])} → {_shown(new)}" for key, new in fields.items() if before[key] != new
    )


def _shown(value: object) -> str:
    if isinstance(value, _dt.date):
        return value.isoformat()
    text = str(value)
    return "(none)" if not text else text if " " not in text and len(text) < 40 else repr(text)
