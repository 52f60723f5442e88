"""What a folder scan leaves out that looks like a photo, counted and named: a photo format Corroscope does
not read (HEIC, GIF, camera raw, ...) or a hidden dot-file, so nothing is skipped without a word."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from app.core.photos import IMAGE_EXTENSIONS, folder_entries
from app.core.text import counted

# Photo formats a folder scan meets but Corroscope does not read: counted and named, not skipped unseen.
_CAMERA_RAW = (".dng", ".cr2", ".cr3", ".nef", ".arw", ".orf", ".rw2", ".raf", ".pef", ".srw")
UNREAD_EXTENSIONS = frozenset((".heic", ".heif", ".avif", ".gif", ".psd", ".jp2", ".jxl", *_CAMERA_RAW))
HIDDEN = "hidden"  # the count's key of dot-files named like photos


def left_out_line(paths: Iterable[str | os.PathLike[str]], recursive: bool = False) -> str | None:
    """One line naming what the scan of the folders among `paths` leaves out that looks like a photo, and
    why; None when nothing is."""
    return _line(_counts(paths, recursive))


def _counts(paths: Iterable[str | os.PathLike[str]], recursive: bool) -> dict[str, int]:
    """What the scan of the folders among `paths` leaves out that looks like a photo: a count per
    extension Corroscope does not read (`.heic`, ...), and of hidden dot-files named like photos."""
    counts: dict[str, int] = {}
    for raw in paths:
        folder = Path(raw)
        if not folder.is_dir():
            continue
        for p in folder_entries(folder, recursive):
            suffix = p.suffix.lower()
            if suffix in IMAGE_EXTENSIONS and p.name.startswith("."):
                key = HIDDEN
            elif suffix in UNREAD_EXTENSIONS:
                key = suffix
            else:
                continue
            if not p.is_dir():
                counts[key] = counts.get(key, 0) + 1
    return counts


def _line(counts: dict[str, int]) -> str | None:
    if not counts:
        return None
    formats = [f"{n} {ext}" for ext, n in sorted(counts.items()) if ext != HIDDEN]
    parts = []
    if formats:
        parts.append(f"{', '.join(formats)} (formats Corroscope does not read; convert them to JPEG or PNG)")
    if HIDDEN in counts:
        parts.append(f"{counts[HIDDEN]} hidden (names starting with a dot)")
    total = sum(counts.values())
    return f"Left out {counted(total, 'file')} named like photos: {'; '.join(parts)}."
