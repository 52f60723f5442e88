"""Previous / next photo: within the batch when the photo is one of its rows, else within its folder."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from app.core.batch_inputs import photos_in


def neighbour(paths: Sequence[Path], current: Path, step: int) -> Path | None:
    """The photo `step` places from `current` in `paths` (no wrap-around); None at either end."""
    try:
        index = [Path(p) for p in paths].index(Path(current))
    except ValueError:
        return None
    target = index + step
    return Path(paths[target]) if 0 <= target < len(paths) else None


class FolderListing:
    """A folder's photos by name, listed again only when the folder changed (its mtime): holding D over
    a folder of thousands listed it on every key press."""

    def __init__(self) -> None:
        self._folder: Path | None = None
        self._stamp = -1
        self._paths: list[Path] = []

    def photos(self, folder: Path) -> list[Path]:
        try:
            stamp = folder.stat().st_mtime_ns
        except OSError:
            stamp = -1
        if folder != self._folder or stamp != self._stamp or stamp == -1:
            self._folder, self._stamp, self._paths = folder, stamp, photos_in([folder])
        return self._paths


_LISTING = FolderListing()


def folder_neighbour(current: Path, step: int, listing: FolderListing = _LISTING) -> Path | None:
    """The photo `step` places from `current` among the photos of its folder, by name."""
    return neighbour(listing.photos(current.parent), current, step)


def step_photo(window, step: int) -> None:
    """Previous / next in the window (`MainWindow`): within the batch from the selected row (a failed one
    too; else from the photo shown when it is one of the rows; with none, from its first row, or last
    for Previous), in the order shown; else within the photo's folder, from the photo last asked for (a
    press while the last one still loads steps on from it, not from the photo still shown)."""
    controller = window.controller
    current = controller.requested or (controller.current.path if controller.current else None)
    anchor = window.batch.current_path() or current
    last = "last" if step > 0 else "first"
    rows = window.batch.paths()
    if anchor is not None and anchor in rows:
        if not window.batch.select_step(anchor, step):  # else the photo follows the selection
            window.show_status(f"That was the {last} photo of the batch.")
        return
    if rows and (current is None or window.batch.has_focus()):
        window.batch.select_row(0 if step > 0 else len(rows) - 1)  # the photo follows the selection
        return
    target = folder_neighbour(current, step) if current is not None else None
    if target is not None:
        window.open_photo(target)
    elif current is not None:
        window.show_status(f"That was the {last} photo of the folder.")
