"""Model ▸ Adapt to these reviewed photos…: which reviewed photos the model is refitted to (looked for on a
worker) and where the new model goes; the run itself, its progress and Cancel are `app.ui.adapt_run`."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QWidget

from app.core.batch_inputs import photos_in
from app.core.paths import models_dir
from app.core.reviewed import REVIEWED_SUFFIX
from app.core.saved_corrections import CorrectionSearch, inside
from app.core.text import counted, safe_path
from app.ui.adapt_run import left_out_text
from app.ui.export_folders import typed_path
from app.ui.project_view import ProjectView
from app.ui.questions import ask_yes, names_list
from app.ui.saved_masks import is_signed

SITE_MODEL_NAME = "site-model.onnx"
_MAX_NUMBERED = 99  # "site-model (99).onnx": past it, the plain name is offered and replacing it is asked


@dataclass(frozen=True)
class AdaptSources:
    """Where reviewed photos are looked for, taken from the window on the UI thread (memory only): the
    batch's photos, the photo on screen, the open project as the panel last read it, and where saved
    corrections lie."""

    batch: tuple[Path, ...]
    shown: Path | None
    view: ProjectView | None
    search: CorrectionSearch


@dataclass(frozen=True)
class AdaptFound:
    """What a worker found on disk: the reviewed masks, the photos looked at, who holds them, and the
    photos looked at without a reviewed mask (in the order found)."""

    saved: list[tuple[Path, Path]]
    photos: frozenset[Path]
    holder: str = "these photos have"
    missing: tuple[Path, ...] = ()


@dataclass(frozen=True)
class AdaptPlan:
    """The reviewed masks on disk, and the photos signed in this window whose masks are not saved yet;
    `holder` names the photos looked at, with its verb."""

    saved: list[tuple[Path, Path]]
    unsaved: list  # EditSession: signed, not saved
    holder: str = "these photos have"
    left_out: tuple[Path, ...] = ()  # looked at, without a reviewed mask saved or signed here

    @property
    def count(self) -> int:
        return len(self.saved) + len(self.unsaved)


def adapt_sources(window) -> AdaptSources:
    projects = getattr(window, "projects", None)
    view = None if projects is None or projects.project is None else projects.view
    result = window.controller.result
    return AdaptSources(
        tuple(window.batch.paths()),
        None if result is None else result.path,
        view,
        CorrectionSearch(),
    )


def find_reviewed(sources: AdaptSources) -> AdaptFound:
    """Worker job (it lists a folder and looks for files, maybe on a share): the batch's reviewed photos;
    else, with a project open and one of its photos (or none) shown, the project's; else the shown
    photo's folder's."""
    stored = None if sources.batch else _project_photos(sources)
    if stored is not None:
        saved = project_reviewed_photos(sources.view)
        return AdaptFound(saved, frozenset(stored), "the project has", _missing(sorted(stored), saved))
    photos = list(sources.batch)
    if not photos and sources.shown is not None:
        photos = photos_in([sources.shown.parent])
    saved = reviewed_photos(sources.search, photos)
    return AdaptFound(saved, frozenset(photos), missing=_missing(photos, saved))


def _missing(photos: list[Path], saved: list[tuple[Path, Path]]) -> tuple[Path, ...]:
    have = {photo for photo, _mask in saved}
    return tuple(p for p in photos if p not in have)


def reviewed_photos(search: CorrectionSearch, photos: list[Path]) -> list[tuple[Path, Path]]:
    """(photo, reviewed mask) of `photos` with a mask saved by File ▸ Save corrected mask
    (`<name>_mask.reviewed.png` beside the photo or in its results folder)."""
    found = ((photo, signed_mask(search, photo)) for photo in photos)
    return [(photo, mask) for photo, mask in found if mask is not None]


def signed_mask(search: CorrectionSearch, photo: Path) -> Path | None:
    """The photo's newest saved signed mask: under the safe stem the window saves it with, or, as
    `corroscope adapt` finds it, under the photo's own stem (which differs for a name holding control
    characters or bytes that are not UTF-8)."""
    found = [search.find_signed(photo)]
    found += [folder / f"{photo.stem}{REVIEWED_SUFFIX}" for folder in search.folders(photo)]
    found = [p for p in dict.fromkeys(found) if p is not None and p.is_file()]
    return max(found, key=_mtime_ns) if found else None  # max() keeps the first of equals


def _mtime_ns(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return -1


def project_reviewed_photos(view: ProjectView) -> list[tuple[Path, Path]]:
    """(photo, signed mask) of each photo the project holds with a reviewed result, where both files are
    found (a photo stored in two inspections counts once)."""
    pairs, seen = [], set()
    for inspection in view.inspections():
        for photo in view.photos(inspection.id):
            result = view.latest_result(photo.id)
            if result is None or not result.is_reviewed or not result.reviewed_mask or photo.sha256 in seen:
                continue
            path, mask = view.photo_file(photo), Path(result.reviewed_mask)
            if path is not None and mask.is_file():
                seen.add(photo.sha256)
                pairs.append((path, mask))
    return pairs


def _project_photos(sources: AdaptSources) -> set[Path] | None:
    """The open project's photo files when the adaptation should learn from the project (no photo on
    screen, or one of its photos); None otherwise."""
    view = sources.view
    if view is None:
        return None
    files = {Path(p.path) for i in view.inspections() for p in view.photos(i.id)}
    return files if sources.shown is None or sources.shown in files else None


def adapt_plan(window, found: AdaptFound) -> AdaptPlan:
    """`found` with the photos signed in this window among them whose masks are not saved yet."""
    editing = getattr(window, "editing", None)
    unsaved = [] if editing is None else editing.edits.unsaved_sessions()
    have = {p for p, _ in found.saved}
    wanted = [s for s in unsaved if is_signed(s.review) and s.path in found.photos and s.path not in have]
    signed_here = {s.path for s in wanted}
    left_out = tuple(p for p in found.missing if p not in signed_here)
    return AdaptPlan(found.saved, wanted, found.holder, left_out)


def too_few_text(plan: AdaptPlan, least: int) -> str:
    return (
        f"Adaptation needs at least {least} reviewed photos; {plan.holder} {plan.count} "
        f"({len(plan.saved)} with a saved reviewed mask, {len(plan.unsaved)} signed in this window and not "
        f"saved yet).{left_out_text(plan.left_out)} Review more photos (Edit ▸ Mark reviewed…; File ▸ Save "
        "corrected mask keeps the mask), then adapt. The base model stays in use."
    )


def save_masks_text(plan: AdaptPlan) -> str:
    n = len(plan.unsaved)
    return (
        f"{counted(n, 'signed photo')} {'has' if n == 1 else 'have'} no saved reviewed mask yet:\n"
        + names_list([safe_path(s.path.name) for s in plan.unsaved])
        + "\n\nAdaptation learns from saved masks. Save these now, as File ▸ Save corrected mask does?"
    )


def default_output(folder: Path, loaded: Path, bundled: Path | None = None) -> Path:
    """A free name to offer for the new model: `site-model.onnx` beside the photos, else `site-model (2).onnx`
    and so on, so it is never the loaded model (an adapted one is often that very file) nor another
    file; in the home folder when `folder` is inside the app's bundled models (`bundled`)."""
    if inside(folder, bundled or models_dir()):
        folder = Path.home()
    stem, suffix = Path(SITE_MODEL_NAME).stem, Path(SITE_MODEL_NAME).suffix
    for n in range(1, _MAX_NUMBERED + 1):
        path = folder / (SITE_MODEL_NAME if n == 1 else f"{stem} ({n}){suffix}")
        if not os.path.lexists(path) and path != loaded:
            return path
    return folder / SITE_MODEL_NAME


def choose_output(parent: QWidget, start: Path) -> Path | None:
    """The file the user names in the save dialog, ".onnx" added when it does not end so. Qt does not ask
    about a file in the way: it would ask about the name as typed ("victim") and not the file written
    ("victim.onnx"), so the caller asks about the final name (`confirm_overwrite`)."""
    chosen, _ = QFileDialog.getSaveFileName(
        parent, "Save the adapted model", str(start), "ONNX models (*.onnx)", "",
        QFileDialog.Option.DontConfirmOverwrite,
    )  # fmt: skip
    if not chosen:
        return None
    return typed_path(chosen, ".onnx")


def same_file(a: Path, b: Path) -> bool:
    try:
        return a == b or (a.exists() and b.exists() and os.path.samefile(a, b))
    except OSError:
        return False


def in_use_text(out: Path) -> str:
    return (
        f"{safe_path(out.name)} is the model in use: the adapted model needs a file of its own (Model ▸ "
        "Adapt to these reviewed photos… again, with another name). The model in use stays as it is."
    )


def ask_save_signed_masks(parent: QWidget | None, text: str) -> bool:
    return ask_yes(parent, "save_signed_question", "Save the signed masks?", text, "Save and adapt", "Cancel")
