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
