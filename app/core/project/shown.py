"""Edits made from what a window showed (its last read): only the fields the user changed are written,
so a colleague's change meanwhile to another field stays; one to a field the user changed too is refused."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Mapping
from typing import Any

from app.core.errors import ProjectError
from app.core.text import safe_text

RELOAD = "reload it"


def _value(value: Any) -> str:
    """A stored value in a refusal: a date, "(none)", a short text quoted, else "another text"."""
    if isinstance(value, _dt.date):
        return value.isoformat()
    text = str(value)
    if not text:
        return "(none)"
    # safe_text: written by any client of a shared project
    return f"'{safe_text(text)}'" if len(text) < 40 and "\n" not in text else "another text"


def changed(
    names: Iterable[str],
    shown: Mapping[str, Any],
    typed: Mapping[str, Any],
    now: Mapping[str, Any],
    what: str,
) -> dict[str, Any]:
    """The fields typed other than `shown` (those to write); `ProjectError` when one of them is stored
    `now` as neither (a colleague changed it meanwhile: writing ours would undo theirs unseen)."""
    out = {name: typed[name] for name in names if typed[name] != shown[name]}
    clashes = [f"{n} now {_value(now[n])}" for n, v in out.items() if now[n] not in (shown[n], v)]
    if clashes:
        raise ProjectError(f"{what} was changed meanwhile ({'; '.join(clashes)}); {RELOAD}")
    return out


def is_stale(message: str) -> bool:
    """Whether a refused edit says the window's view is out of date (gone or changed meanwhile)."""
    return message.endswith(f"; {RELOAD}")
