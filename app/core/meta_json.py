"""Values read from a model file's metadata JSON: parsed strictly, every number finite and typed, every
error naming its field and quoting no text from the file (escaped where it quotes a number)."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from app.core.text import safe_text


def strict_json(text: str) -> Any:
    """The JSON value of `text`; ValueError naming a NaN or Infinity in it (Python's parser reads
    them, JSON has none, and a NaN compares false with everything, so no rule written as a comparison
    would catch it), or for nesting too deep to parse."""
    try:
        value = json.loads(text)
    except RecursionError:
        raise ValueError("it is nested too deeply") from None
    todo: list[tuple[str, Any]] = [("", value)]
    while todo:  # a loop, not recursion: the parser already went as deep as the stack allows
        path, item = todo.pop()
        if isinstance(item, float) and not math.isfinite(item):
            raise ValueError(f"{path or 'the value'} is {item}, which JSON does not allow")
        if isinstance(item, dict):
            todo += [(f"{path}.{safe_text(k, 40)}" if path else safe_text(k, 40), v) for k, v in item.items()]
        elif isinstance(item, list):
            todo += [(f"{path}[{i}]", v) for i, v in enumerate(item)]
    return value


def shown(value: Any) -> str:
    """A value from the file for a message: a number as written (short), anything else by its type."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return safe_text(f"{value:g}" if isinstance(value, float) else str(value), 40)
    return f"a {type(value).__name__}"


def field_of(raw: Mapping[str, Any], key: str, prefix: str = "") -> Any:
    """`raw[key]`; ValueError naming `prefix + key` where it is missing."""
    if key not in raw:
        raise ValueError(f"{prefix}{key} is missing")
    return raw[key]


def number(raw: Mapping[str, Any], key: str, prefix: str = "") -> float:
    """`raw[key]` as a finite float; ValueError naming `prefix + key` for a string, a bool, NaN or
    infinity, or an integer too large for a float."""
    value = field_of(raw, key, prefix)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{prefix}{key} must be a number, got {shown(value)}")
    try:
        out = float(value)
    except OverflowError:
        raise ValueError(f"{prefix}{key} is too large a number") from None
    if not math.isfinite(out):
        raise ValueError(f"{prefix}{key} must be a finite number, got {out}")
    return out


def whole_number(raw: Mapping[str, Any], key: str, prefix: str = "") -> int:
    """`raw[key]` as an int written as one (not 3.0, not true); ValueError naming `prefix + key`."""
    value = field_of(raw, key, prefix)
    if type(value) is not int:
        raise ValueError(f"{prefix}{key} must be a whole number, got {shown(value)}")
    return value
