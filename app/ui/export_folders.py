"""Where export dialogs start: a results folder next to the photos' folder, or the last one used for
that kind of export and those photos; never inside the app's own install or its sample photos."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from app.core.paths import app_root
from app.ui.settings import AppSettings

HOME_RESULTS = "Corroscope results"


def _inside(path: Path, root: Path) -> bool:
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
    beside = photo_folder.parent / f"{photo_folder.name} results"
    if _inside(beside, app_root()) or photo_folder.parent == photo_folder:
        return home / HOME_RESULTS / photo_folder.name
    return beside


def export_folder(settings: AppSettings, kind: str, photo_folder: Path | None) -> Path:
    """The folder a `kind` export dialog starts in for photos from `photo_folder`."""
    remembered = settings.export_folder(kind)
    if remembered is not None:
        source, folder = remembered
        if photo_folder is not None and Path(source) == photo_folder and not _inside(folder, app_root()):
            return folder
    return default_results_folder(photo_folder)


def remember_export_folder(settings: AppSettings, kind: str, photo_folder: Path | None, folder: Path) -> None:
    if photo_folder is not None:
        settings.set_export_folder(kind, photo_folder, folder)


def photos_folder(paths: Sequence[Path]) -> Path | None:
    """The folder the photos share (a batch's input folder), None for no photos."""
    if not paths:
        return None
    try:
        return Path(os.path.commonpath([str(Path(p).absolute().parent) for p in paths]))
    except ValueError:  # different drives
        return Path(paths[0]).absolute().parent
