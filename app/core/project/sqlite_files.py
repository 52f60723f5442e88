"""Why SQLite could not read a project file, in words a user can act on (never "not a project" for a
file the disk failed or a copy cut off), and the companion files SQLite makes beside it."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

COMPANIONS = ("-wal", "-shm", "-journal")
FULL_BELOW = 1 << 20  # bytes free: SQLite cannot make its -shm and -wal files there

# SQLite's primary result codes (the low byte of an extended one) that say the file is a database but
# the disk or the file failed: the user must not be told to discard it as "not a project".
_SQLITE_DAMAGED, _SQLITE_FULL, _SQLITE_IO = (11,), (13,), (10, 14)


def companions(path: Path) -> set[Path]:
    """The -wal, -shm and -journal files beside the project now."""
    return {extra for extra in (Path(f"{path}{s}") for s in COMPANIONS) if extra.exists()}


def disk_full(folder: Path) -> bool:
    """Whether the disk holding `folder` has (almost) no space left for this user."""
    try:
        return shutil.disk_usage(folder).free < FULL_BELOW
    except OSError:
        return False


def empty_file_text() -> str:
    return (
        "the file is empty (0 bytes): no project was written to it, or a copy or save of it was cut off; "
        "use a backup of the project"
    )


def sqlite_problem(exc: sqlite3.Error, path: Path | None = None) -> str:
    """Why SQLite could not read a file (at `path`), in words: a full disk (SQLite says "disk I/O error"
    when it cannot make its -shm file), a read/write failure, a damaged file (each with SQLite's
    reason), else not a Corroscope project."""
    code = (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF
    text = str(exc)
    failed = code in _SQLITE_IO or "disk I/O error" in text
    if (
        code in _SQLITE_FULL
        or "database or disk is full" in text
        or (failed and path and disk_full(path.parent))
    ):
        return f"the disk is full (SQLite: {text}); free some space and open it again"
    if code in _SQLITE_DAMAGED or "malformed" in text:
        return (
            f"the file is damaged (SQLite: {text}); keep it as it is (a copy may be repaired) and use a "
            "backup of the project"
        )
    if failed or "unable to open" in text:
        return f"the file could not be read (SQLite: {text}); check the disk or the share it is on"
    return f"not a Corroscope project ({text})"
