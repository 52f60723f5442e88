"""The project's change log: every correction or removal made after an inspection was stored (its date,
inspector, notes or asset corrected; it or one of its photos removed; an asset's details edited), with who
made it, when, and what was there before, so a report's reader can see what was changed after the fact."""

from __future__ import annotations

import datetime as _dt
import getpass
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from app.core.project.records import check_name
from app.core.project.schema import current_metadata, now_utc

_MD, T = current_metadata()
CHANGED_BY = "The name of who makes the change"


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
    conn: sa.Connection,
    by: str | None,
    asset_tag: str,
    subject: str,
    what: str,
    other_tag: str | None = None,
    inspection_id: int | None = None,
) -> None:
    """One row of the log, in the transaction of the change it describes; `by` is refused (the change
    with it) when it holds a control character or bidi override, or is too long, as every typed name."""
    who = who_changes() if by is None else check_name(by, CHANGED_BY)
    values = dict(changed_at=now_utc(), changed_by=who, asset_tag=asset_tag)
    row = dict(other_tag=other_tag, inspection_id=inspection_id, subject=subject, what=what)
    conn.execute(T["changes"].insert().values(**values, **row))


def read_changes(conn: sa.Connection, asset_tag: str | None = None) -> list[Change]:
    """The log, oldest first; of one asset when `asset_tag`: what was changed under it, moved to or from
    it, and what happened to its inspections before they came to it."""
    c, i, a = T["changes"], T["inspections"], T["assets"]
    query = sa.select(c).order_by(c.c.id)
    if asset_tag is not None:
        held = sa.select(i.c.id).join(a, a.c.id == i.c.asset_id).where(a.c.tag == asset_tag)
        query = query.where(
            sa.or_(c.c.asset_tag == asset_tag, c.c.other_tag == asset_tag, c.c.inspection_id.in_(held))
        )
    return [
        Change(r["changed_at"], r["changed_by"], r["asset_tag"], r["subject"], r["what"], r["other_tag"])
        for r in conn.execute(query).mappings()
    ]


def inspection_subject(inspection: Mapping[str, Any]) -> str:
    """ "inspection P-7 2023-05-02 by A. Müller" of an inspection row with its asset's tag as `asset`."""
    who = f" by {inspection['inspector']}" if inspection["inspector"] else ""
    return f"inspection {inspection['asset']} {inspection['date'].isoformat()}{who}"


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
    """ "name 'Kühlwasser' → 'Kühlwasser Nord'" for each detail given before that changes; "" when none
    does (a detail given for the first time corrects nothing, e.g. the name of an asset just made)."""
    return "; ".join(
        f"{key} {_shown(before[key])} → {_shown(new)}"
        for key, new in fields.items()
        if before[key] and before[key] != new
    )


def removal_text(what: str, shares: Sequence[float | None]) -> str:
    """ "removed with its 2 photos (corroded share mean …)": what was removed, and what it counted."""
    figures = shares_text(shares)
    return f"{what} ({figures})" if figures else what


def shares_text(shares: Sequence[float | None]) -> str:
    """ "corroded share mean 44.04 %, worst 84.74 %" of the photos' counted figures, or ""."""
    known = [s for s in shares if s is not None]
    if not known:
        return ""
    if len(known) == 1:
        return f"corroded share {known[0]:.2f} %"
    return f"corroded share mean {sum(known) / len(known):.2f} %, worst {max(known):.2f} %"


def _shown(value: object) -> str:
    if isinstance(value, _dt.date):
        return value.isoformat()
    text = str(value)
    return "(none)" if not text else text if " " not in text and len(text) < 40 else repr(text)
