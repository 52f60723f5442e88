"""Where the window keeps a photo's saved correction and finds it again: `<stem>_mask.reviewed.png` (signed)
or `<stem>_mask.edited.png` (unsigned), beside the photo or in `<photo folder> results`. One search for
the photo on screen and a batch."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from app.core.export import safe_stem
from app.core.paths import app_root
from app.core.reviewed import EDITED_SUFFIX, REVIEWED_SUFFIX

HOME_RESULTS = "Corroscope results"


def inside(path: Path, root: Path) -> bool:
    try:
        return path.resolve().is_relative_to(root.resolve())
    except OSError:
        return False


def default_results_folder(photo_folder: Path | None, home: Path | None = None) -> Path:
    """`<folder> results` beside the photos' folder; under the home folder when that would land in the
    app's install (its samples included) or when there is no photo."""
    home = home or Path.home()
    if photo_folder is None:
        return home / HOME_RESULTS
    photo_folder = photo_folder.absolute()  # "photos" from where the app started: "." has no parent
    beside = photo_folder.parent / f"{photo_folder.name} results"
    if inside(beside, app_root()) or photo_folder.parent == photo_folder:
        return home / HOME_RESULTS / photo_folder.name
    return beside


def _mtime_ns(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return -1


def corrected_masks(folders: Iterable[Path], stem: str, suffix: str) -> list[Path]:
    """Every saved correction of `stem` of one kind (`suffix`) in `folders`, the newest saved first (a tie
    keeps the folders' order)."""
    folders = list(dict.fromkeys(Path(f) for f in folders))
    found = [f / f"{safe_stem(stem)}{suffix}" for f in folders]
    found = [p for p in found if p.is_file()]
    return sorted(found, key=lambda p: -_mtime_ns(p))  # sorted() is stable: ties keep the folder order


def find_corrected_mask(
    folders: Iterable[Path], stem: str, suffixes: tuple[str, ...] = (REVIEWED_SUFFIX, EDITED_SUFFIX)
) -> Path | None:
    """The newest saved correction of `stem` in `folders` of the kinds `suffixes` names (a tie goes to the
    kind named first: signed before unsigned). An unsigned edit saved after a signature is the latest
    work, so it wins: figures from the older signed mask would be called reviewed while they are not
    what the inspector last saved."""
    folders = list(folders)
    newest = [found[0] for suffix in suffixes if (found := corrected_masks(folders, stem, suffix))]
    return max(newest, key=_mtime_ns) if newest else None  # max() keeps the first of equals


def searched_folders(photo: Path, home: Path | None = None) -> list[Path]:
    """The folders always searched for the photo's saved correction: its own and `<folder> results`."""
    parent = Path(os.path.abspath(photo)).parent
    return [parent, default_results_folder(parent, home)]


def found_there(photo: Path, mask: Path, home: Path | None = None) -> bool:
    """Whether the search finds `mask` again for `photo` whatever folder was last exported to: one of
    `searched_folders`, under a corrected mask's name."""
    stem = safe_stem(Path(photo).stem)
    named = mask.name in (f"{stem}{REVIEWED_SUFFIX}", f"{stem}{EDITED_SUFFIX}")
    return named and Path(os.path.abspath(mask)).parent in searched_folders(photo, home)


@dataclass(frozen=True)
class CorrectionSearch:
    """Where photos' saved corrections are looked for: beside each photo and in its `<folder> results`,
    where the window saves them. Never an export folder: a corrected mask an export writes there is a copy,
    and one the user threw away since (Revert, Discard) came back from it, signature and all."""

    home: Path | None = None

    def folders(self, photo: Path) -> list[Path]:
        return searched_folders(photo, self.home)

    def find(self, photo: Path) -> Path | None:
        return find_corrected_mask(self.folders(photo), Path(photo).stem)

    def older_signed(self, photo: Path, chosen: Path) -> Path | None:
        """The photo's signed mask when `find` chose a newer unsigned edit over it, so the window can say
        the signature is there (and no longer applies) rather than hide it."""
        if not chosen.name.endswith(EDITED_SUFFIX):
            return None
        return self.find_signed(photo)

    def find_signed(self, photo: Path) -> Path | None:
        """The photo's saved signed correction only (`<stem>_mask.reviewed.png`): an edit is no review."""
        return find_corrected_mask(self.folders(photo), Path(photo).stem, (REVIEWED_SUFFIX,))
