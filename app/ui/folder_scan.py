"""Before a batch: whether the folders hold photos, how many their subfolders hold, and what the scan
leaves out; a directory listing (a share may hold thousands of files), so it runs on a worker."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from app.core.batch_inputs import photos_in
from app.core.left_out import left_out_line


@dataclass(frozen=True)
class FolderScan:
    found: bool  # photos where the batch would look
    nested: int  # photos in subfolders it would not look into (0 when it looks there, or found)
    skipped: str | None  # what is named like a photo but not read, as one line


def holds(paths: Sequence[Path], recursive: bool, photo: Path) -> bool:
    """Whether a batch of `paths` (photos and folders; their subfolders too when `recursive`) takes in
    `photo`, by its path alone (no listing: asked on the UI thread)."""
    photo = photo.absolute()
    for p in (Path(p).absolute() for p in paths):
        if photo == p or photo.parent == p or (recursive and p in photo.parents):
            return True
    return False


def scan_folders(paths: Sequence[Path], recursive: bool) -> FolderScan:
    if photos_in(paths, recursive=recursive):
        return FolderScan(True, 0, None)
    nested = 0 if recursive else len(photos_in(paths, recursive=True))
    return FolderScan(False, nested, left_out_line(paths, recursive=True))
