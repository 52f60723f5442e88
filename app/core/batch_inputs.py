"""What the photos of a batch are: the one rule the CLI and the window share."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from app.core import exporters, ownership
from app.core.files import has_output_mark
from app.core.photos import find_images
from app.core.reviewed import REVIEWED_SUFFIX


@dataclass(frozen=True)
class Inputs:
    """The photos of a batch, and what a folder scan found that is not one."""

    photos: tuple[Path, ...]
    ours: tuple[Path, ...] = ()  # masks, overlays ... Corroscope wrote (its mark or its output record)
    reviewed: tuple[Path, ...] = ()  # reviewed masks saved beside the photos (`*_mask.reviewed.png`)


def select_inputs(
    paths: Iterable[str | os.PathLike[str]],
    out_dir: str | os.PathLike[str] | None = None,
    recursive: bool = False,
) -> Inputs:
    """The photos among `paths` (files, and the photos inside folders; with their subfolders when
    `recursive`). A file named in `paths` is always a photo; a folder scan leaves out reviewed masks and
    our own outputs: those a record in `out_dir` proves ours, and masks and overlays that carry our mark
    (`files.OUTPUT_MARK`) in any folder, even where their record was deleted."""
    paths = [Path(p) for p in paths]
    named = {p for p in paths if p.is_file()}
    found = find_images(paths, recursive=recursive)
    reviewed = [p for p in found if p not in named and p.name.endswith(REVIEWED_SUFFIX)]
    scanned = [p for p in found if p not in named and p not in reviewed]
    ours: set[Path] = set()
    if out_dir is not None:
        ours = ownership.own_outputs(scanned, Path(out_dir))
    # a mask or overlay that carries our mark is no photo wherever it lies (a folder analysed earlier
    # with its results beside the photos, then into another folder, gave its masks figures of their own)
    ours |= {p for p in scanned if p not in ours and _marked_output(p)}
    photos = tuple(p for p in found if p not in ours and p not in reviewed)
    return Inputs(photos, tuple(p for p in found if p in ours), tuple(reviewed))


def _marked_output(path: Path) -> bool:
    suffixes = tuple(e.suffix for e in exporters.available(variants=True) if e.kind != exporters.JSON_KIND)
    return path.name.endswith(suffixes) and has_output_mark(path)
