"""What the photos of a batch are: the one rule the CLI and the window share."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from app.core import exporters, ownership
from app.core.analysis import relative_path
from app.core.files import has_output_mark
from app.core.photos import find_images
from app.core.reviewed import EDITED_SUFFIX, REVIEWED_SUFFIX
from app.core.text import counted

# corrected masks saved beside the photos (signed or not): masks, never photos of their own
CORRECTION_SUFFIXES = (REVIEWED_SUFFIX, EDITED_SUFFIX)


@dataclass(frozen=True)
class Inputs:
    """The photos of a batch, and what a folder scan found that is not one."""

    photos: tuple[Path, ...]
    ours: tuple[Path, ...] = ()  # masks, overlays ... Corroscope wrote (its mark or its output record)
    corrections: tuple[Path, ...] = ()  # corrected masks beside the photos (`*_mask.reviewed.png`, `.edited`)


def select_inputs(
    paths: Iterable[str | os.PathLike[str]],
    out_dir: str | os.PathLike[str] | None = None,
    recursive: bool = False,
) -> Inputs:
    """The photos among `paths` (files, and the photos inside folders; with their subfolders when
    `recursive`). Corrected masks (signed or not, any letter case) are left out, even named; a file
    named in `paths` is otherwise always a photo; a folder scan leaves out our own outputs too: those a
    record in `out_dir` proves ours, and masks and overlays that carry our mark (`files.OUTPUT_MARK`)
    in any folder, even where their record was deleted."""
    paths = [Path(p) for p in paths]
    named = {p for p in paths if p.is_file()}
    found = find_images(paths, recursive, () if out_dir is None else (Path(out_dir),))
    # named or found: a corrected mask is never a photo (a shell's `*.png` names them too), in any case
    corrections = [p for p in found if p.name.casefold().endswith(CORRECTION_SUFFIXES)]
    scanned = [p for p in found if p not in named and p not in corrections]
    ours: set[Path] = set()
    if out_dir is not None:
        ours = ownership.own_outputs(scanned, Path(out_dir))
    # a mask or overlay that carries our mark is no photo wherever it lies (a folder analysed earlier
    # with its results beside the photos, then into another folder, gave its masks figures of their own)
    ours |= {p for p in scanned if p not in ours and _marked_output(p)}
    photos = tuple(p for p in found if p not in ours and p not in corrections)
    return Inputs(photos, tuple(p for p in found if p in ours), tuple(corrections))


def photos_in(paths: Iterable[str | os.PathLike[str]], recursive: bool = False) -> list[Path]:
    """The photos among `paths` by the batch's rule (`select_inputs`): what stepping through a folder, an
    inspection's folder or adaptation's photo search take as photos."""
    return list(select_inputs(paths, None, recursive).photos)


def not_photos_line(inputs: Inputs) -> str | None:
    """One line naming the masks and outputs a folder scan left out as no photos; None when none."""
    parts = []
    if inputs.corrections:
        n = len(inputs.corrections)
        parts.append(f"{counted(n, 'corrected mask')} (*_mask.reviewed.png, *_mask.edited.png)")
    if inputs.ours:
        parts.append(f"{counted(len(inputs.ours), 'file')} Corroscope wrote earlier (masks, overlays)")
    return f"Left out {' and '.join(parts)}: no photos." if parts else None


def _marked_output(path: Path) -> bool:
    suffixes = tuple(e.suffix for e in exporters.available(variants=True) if e.kind != exporters.JSON_KIND)
    return path.name.endswith(suffixes) and has_output_mark(path)


def photo_name(path: Path, folder: Path | None) -> str:
    """How a batch names a photo to a person, as its CSV does: its path inside the batch's `folder` with
    "/" (`sub2/ORI_000.png` beside `ORI_000.png`), else its file name. Not escaped: see `text.safe_path`."""
    found = None if folder is None else relative_path(Path(path), (folder,))
    return Path(path).name if found is None else found[1]


def common_folder(folder: Path | None, other: Path) -> Path | None:
    """The folder holding both `folder` (None: nothing yet) and the folder `other`: a batch's folder grown
    photo by photo; `folder` as it was for one it cannot hold (another drive)."""
    other = Path(other).absolute()
    if folder is None:
        return other
    try:
        return Path(os.path.commonpath([folder, other]))
    except ValueError:  # different drives
        return folder
