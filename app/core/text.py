"""Untrusted text (model metadata, names inside a model, file names) made safe for a terminal or a message.

Control and formatting characters (ESC, CR, bidi overrides, ...) and lone surrogates (undecodable bytes of
a file name) are written as escapes such as `\\x1b`, so they can neither drive the terminal nor fail an
encoder; long values are cut with a note of their full length.
"""

from __future__ import annotations

import os
import re
import unicodedata
from pathlib import Path

TEXT_LIMIT = 200  # characters of one untrusted value shown in a message
PATH_LIMIT = 400  # paths are longer by nature; still cut
REASON_LIMIT = 2_000  # a whole message that quotes untrusted values (a photo's failure reason)

# Unicode categories written as escapes: controls, formats (bidi overrides, zero-width), line/paragraph
# separators, surrogates (from surrogateescape), private use and unassigned code points.
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"})
# What a typed name, tag or note may not hold: controls (terminal escapes), line and paragraph separators,
# lone surrogates, and the bidirectional embeddings, overrides and isolates that show text in another
# order than it was typed. Joiners and marks stay: scripts and names need them.
_UNTYPABLE_CATEGORIES = frozenset({"Cc", "Cs", "Zl", "Zp"})
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _escape(ch: str) -> str:
    code = ord(ch)
    if 0xDC80 <= code <= 0xDCFF:  # a file name's byte that is not UTF-8 (surrogateescape): as in the CSV
        return f"\\x{code - 0xDC00:02x}"
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def safe_text(value: object, limit: int = TEXT_LIMIT) -> str:
    """`value` as text with unsafe characters escaped, cut to `limit` characters with its full length."""
    text = value if isinstance(value, str) else str(value)
    if text.isascii() and text.isprintable() and len(text) <= limit:
        return text  # the common case, without a per-character pass
    out: list[str] = []
    size = 0
    for ch in text:
        piece = _escape(ch) if unicodedata.category(ch) in _UNSAFE_CATEGORIES else ch
        if size + len(piece) > limit:
            return "".join(out) + f"... ({len(text):,} characters in all)"
        out.append(piece)
        size += len(piece)
    return "".join(out)


def safe_message(value: object, limit: int = REASON_LIMIT) -> str:
    """A whole message (an error's) for a terminal: `safe_text` line by line, so its own line breaks stay
    while every other control character (a tag's ESC from a shared project) is escaped."""
    return "\n".join(safe_text(line, limit) for line in str(value).split("\n"))


def safe_path(path: str | os.PathLike[str]) -> str:
    """A file name or path for a message (escaped, cut at `PATH_LIMIT`)."""
    return safe_text(os.fspath(path), PATH_LIMIT)


def safe_repr(value: object, limit: int = TEXT_LIMIT) -> str:
    """`safe_text` in single quotes, for values quoted in a message (like `!r`, but cut)."""
    return "'" + safe_text(value, limit) + "'"


_ESCAPED_BYTE = re.compile(rb"\\x([89a-f][0-9a-f])")  # display_path escapes bytes >= 0x80 only


# What a terminal acts on (C0 and C1 controls: ESC sequences, BEL, CR) and the bidi embeddings, overrides
# and isolates that show a name in another order than it has: never written raw into a CSV cell.
_CELL_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def visible_controls(text: str) -> str:
    """`text` with controls and bidi overrides written as escapes (`\\x1b`, `\\u202e`), as
    `display_path` writes a name's bytes that are not UTF-8: `cat results.csv` shows them, never runs them."""
    return _CELL_CONTROLS.sub(lambda m: _escape(m[0]), text) if _CELL_CONTROLS.search(text) else text


def display_path(path: str | os.PathLike[str]) -> str:
    """A path as text that any UTF-8 writer can write: bytes of the name that are not UTF-8 (surrogate
    escapes on POSIX) become `\\xNN`, so CSV, JSON and the console never fail on them."""
    text = os.fspath(path)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return os.fsencode(text).decode("utf-8", "backslashreplace")
    return text


def path_from_display(text: str) -> Path:
    """The path `display_path` wrote: its `\\xNN` turned back into the name's raw bytes, when that is a
    file and the text as written is not (a name may also hold a real backslash)."""
    literal = Path(text)
    if "\\x" not in text or os.name == "nt" or literal.exists():
        return literal
    raw = _ESCAPED_BYTE.sub(lambda m: bytes([int(m[1], 16)]), text.encode("utf-8"))
    decoded = Path(os.fsdecode(raw))
    return decoded if decoded.exists() else literal


def provider_name(provider: str) -> str:
    """An ONNX Runtime execution provider as people read it: "CUDAExecutionProvider" -> "CUDA"."""
    return provider.removesuffix("ExecutionProvider") or provider


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """ "1 photo", "2 photos" (`plural` where adding an s is wrong)."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"


def untypable(text: str, lines: bool = False, formats: bool = False) -> str | None:
    """The first character of `text` that typed text should not hold, escaped (e.g. "\\x1b"); None when
    there is none. `lines` lets line breaks and tabs through (notes); `formats` refuses every invisible
    format character too (category Cf: zero-width space, soft hyphen, joiners), for identifiers such as
    an asset's tag, where one makes a second asset that looks the same as the first."""
    for ch in text:
        if lines and ch in "\n\r\t":
            continue
        category = unicodedata.category(ch)
        if ch in _BIDI_CONTROLS or category in _UNTYPABLE_CATEGORIES or (formats and category == "Cf"):
            return _escape(ch)
    return None


UNDECODED = "\ufffd"  # what a reader puts in place of bytes that are not UTF-8


def typed_problem(
    text: str,
    what: str,
    lines: bool = False,
    limit: int | None = None,
    formats: bool = False,
    where: str = "a project",
) -> str | None:
    """Why typed `text` cannot be taken, naming it as `what` ("The asset's tag"): a character that shows
    as something else than was typed (`untypable`; with `formats`, any invisible one too), or more than
    `limit` characters once stripped (what fits in `where`); None when it can. One rule for a project's
    tags and names and a report's header."""
    if (bad := untypable(text, lines)) is not None:
        return f"{what} holds a control character ({bad}); type it again without it"
    if UNDECODED in text:  # bytes a settings file or a paste held that were not text: not what was meant
        return (
            f"{what} holds {UNDECODED} (U+FFFD), left where text could not be read; type it again without it"
        )
    if formats and (bad := untypable(text, lines, formats)) is not None:
        return f"{what} holds an invisible character ({bad}); type it again without it"
    size = len(text.strip())
    if limit is not None and size > limit:
        return f"{what} is {size:,} characters long; at most {limit} fit in {where}"
    return None
