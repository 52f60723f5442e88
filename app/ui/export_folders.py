"""Where export dialogs start: a results folder next to the photos' folder, or the last one used for
that kind of export and those photos; never inside the app's own install or its sample photos."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from pathlib import Path

from app.core.paths import app_root
from app.core.saved_corrections import default_results_folder, inside
from app.ui.settings import AppSettings


def export_folder(settings: AppSettings, kind: str, photo_folder: Path | None) -> Path:
    """The folder a `kind` export dialog starts in for photos from `photo_folder` (a whole path: the
    app may have been started anywhere)."""
    photo_folder = None if photo_folder is None else photo_folder.absolute()
    remembered = settings.export_folder(kind)
    if remembered is not None:
        source, folder = remembered
        if photo_folder is not None and Path(source) == photo_folder and not inside(folder, app_root()):
            return folder.absolute()
    return default_results_folder(photo_folder)


def remember_export_folder(settings: AppSettings, kind: str, photo_folder: Path | None, folder: Path) -> None:
    if photo_folder is not None:  # whole paths: found again whichever folder the app starts in
        settings.set_export_folder(kind, photo_folder.absolute(), folder.absolute())


def photos_folder(paths: Sequence[Path]) -> Path | None:
    """The folder the photos share (a batch's input folder), None for no photos."""
    if not paths:
        return None
    try:
        return Path(os.path.commonpath([str(Path(p).absolute().parent) for p in paths]))
    except ValueError:  # different drives
        return Path(paths[0]).absolute().parent


def make_for_dialog(folder: Path) -> bool:
    """Make `folder` so a file dialog can start in it (one opened on a missing folder falls back to the
    last one visited: the app's samples, once); True when it was made here. If it cannot be made, the
    dialog still proposes the name and the user picks a folder."""
    made = not folder.exists()
    with contextlib.suppress(OSError):
        folder.mkdir(parents=True, exist_ok=True)
    return made


def drop_if_unused(folder: Path, made: bool, chosen: Path | None) -> None:
    """`folder`, made for a dialog (`make_for_dialog`), goes again when the user chose another folder or
    none and it is still empty: no empty folder is left behind."""
    if made and chosen != folder:
        with contextlib.suppress(OSError):  # not empty (or gone): it stays as it is
            folder.rmdir()


def typed_path(chosen: str, suffix: str) -> Path:
    """The name typed in a save dialog, `suffix` added unless it ends so (any case): Qt's dialog adds
    none, and a file without it is missed by its own `*.csv` or `*.pdf` filter."""
    return Path(chosen if chosen.lower().endswith(suffix.lower()) else chosen + suffix)
