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


def folder_neighbour(current: Path, step: int) -> Path | None:
    """The photo `step` places from `current` among the photos of its folder, by name."""
    return neighbour(photos_in([current.parent]), current, step)


def step_photo(window, step: int) -> None:
    """Previous / next in the window (`MainWindow`): within the batch from the selected row (a failed one
    too; else from the photo shown when it is one of the rows), in the order shown; else within the
    photo's folder."""
    current = window.controller.current.path if window.controller.current else None
    anchor = window.batch.current_path() or current
    last = "last" if step > 0 else "first"
    if anchor is not None and anchor in window.batch.paths():
        if not window.batch.select_step(anchor, step):  # else the photo follows the selection
            window.show_status(f"That was the {last} photo of the batch.")
        return
    target = folder_neighbour(current, step) if current is not None else None
    if target is not None:
        window.open_photo(target)
    elif current is not None:
        window.show_status(f"That was the {last} photo of the folder.")
