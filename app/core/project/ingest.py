"""Adding an inspection: hash each photo, analyse the ones the inspection does not hold yet, store all
of them in one transaction."""

from __future__ import annotations

import datetime as _dt
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from app.core.analysis import PhotoFailure, failure_from
from app.core.errors import CorroscopeError
from app.core.inference import InferenceMode, InferenceOptions
from app.core.model import SegmentationModel
from app.core.pipeline import BatchOptions, PhotoOutcome, PlannedPhoto, process_photo
from app.core.project.photos import describe_photo
from app.core.project.records import (
    TILE_SCALE,
    AddOutcome,
    PhotoEntry,
    check_date,
    check_name,
    check_tag,
    check_typed,
)
from app.core.project.rows import held_text
from app.core.project.store import Project
from app.core.text import counted, safe_text

log = logging.getLogger(__name__)

ANALYSED, ALREADY_STORED, FAILED = "analysed", "already stored", "failed"
# (index 1-based, total, photo, state): after each photo, before anything is stored.
Progress = Callable[[int, int, Path, str], None]


@dataclass(frozen=True)
class AddSummary:
    outcome: AddOutcome | None  # None when nothing was stored (all failed, or cancelled)
    failures: tuple[PhotoFailure, ...]
    cancelled: bool
    reviewed: tuple[Path, ...] = ()  # photos stored with the signed correction saved for them
    reviewed_since: tuple[Path, ...] = ()  # photos held already that took a review signed since
    review_failures: tuple[PhotoFailure, ...] = ()  # stored, but their saved correction could not be used

    def counts_text(self) -> str:
        """ "3 photos stored (1 with the review signed for it), 2 already stored (1 took the review signed
        since), 0 failed", as the window and `project add` say it."""
        out = self.outcome
        stored = 0 if out is None else len(out.added)
        already = 0 if out is None else len(out.already_stored)
        signed = f" ({len(self.reviewed)} with the review signed for it)" if self.reviewed else ""
        since = f" ({len(self.reviewed_since)} took the review signed since)" if self.reviewed_since else ""
        failed = len(self.failures)
        return f"{counted(stored, 'photo')} stored{signed}, {already} already stored{since}, {failed} failed"

    def headline(self, tag: str, date: _dt.date, inspector: str) -> str:
        """ "New inspection P-101 2024-03-01 (A. B): 3 photos stored, ...": which inspection, then
        `counts_text` (the counts alone when nothing was stored), as the window and `project add` say it."""
        if self.outcome is None:
            return self.counts_text()
        who = f" ({safe_text(inspector)})" if inspector else ""
        kind = "New inspection" if self.outcome.created else "Inspection"
        return f"{kind} {safe_text(tag)} {date.isoformat()}{who}: {self.counts_text()}"


def analyse_record(model: SegmentationModel, path: Path, options: InferenceOptions) -> dict[str, Any]:
    """The photo's JSON record from the photo pipeline's one-photo stage (nothing written to disk), with
    the tile scale in tiles mode: the one place a project runs the model. `CorroscopeError` with the
    reason when the photo fails."""
    outcome = analysed(model, path, options)
    assert outcome.record is not None
    record = outcome.record.to_json()
    if options.mode is InferenceMode.TILES:  # how fine the second look was: a re-run at another differs
        record[TILE_SCALE] = options.tile_scale
    return record


def analysed(
    model: SegmentationModel, path: Path, options: InferenceOptions, keep_result: bool = False
) -> PhotoOutcome:
    """The photo through the pipeline's one-photo stage, nothing written (its result kept if asked);
    `CorroscopeError` with the reason when the photo fails. The record names the photo by its absolute
    path, as the project stores it: a path typed relative to where a command ran means nothing later
    (and a re-run, which finds the photo by the project's path, wrote the absolute one)."""
    path = Path(os.path.abspath(path))
    item = PlannedPhoto(0, path, path.stem, ())
    outcome = process_photo(item, BatchOptions(inference=options, exports=()), model, keep_result)
    if outcome.failure is not None or outcome.record is None:
        reason = outcome.failure.reason if outcome.failure is not None else "no result"
        raise CorroscopeError(f"{path}: {reason}")
    return outcome


def add_inspection_photos(
    project: Project,
    model: SegmentationModel,
    asset_tag: str,
    date: _dt.date,
    paths: Sequence[Path],
    inspector: str = "",
    options: InferenceOptions | None = None,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
    notes: str = "",
) -> AddSummary:
    """Analyse `paths` for the inspection (asset, date, inspector) and store them together. Photos
    the inspection already holds (same SHA-256) are not analysed again; one another inspection of the
    asset holds is refused (a failure naming it); failures are reported, not stored; a cancelled run
    stores nothing."""
    options = options or InferenceOptions()
    check_date(date)  # these before the analysis, which the store would refuse after it
    asset_tag, inspector = check_tag(asset_tag), check_name(inspector, "The inspector's name")
    check_typed(notes, "The inspection's notes", lines=True)
    project.check_writable()  # a read-only file or a server gone: said now, not after every analysis
    stored = project.asset_hashes(asset_tag)
    held = {sha for sha, key in stored.items() if key == (date, inspector)}
    elsewhere = {sha: key for sha, key in stored.items() if sha not in held}
    entries: list[PhotoEntry] = []
    failures: list[PhotoFailure] = []
    total = len(paths)
    for index, path in enumerate(paths, 1):
        if cancelled is not None and cancelled():
            return AddSummary(None, tuple(failures), True)
        try:
            photo = describe_photo(path)
            if photo.sha256 in elsewhere:
                raise CorroscopeError("not added: " + held_text(asset_tag, *elsewhere[photo.sha256]))
            if photo.sha256 in held:
                state = ALREADY_STORED
                entries.append(PhotoEntry(photo, {}, model.path.name))
            else:
                record = analyse_record(model, path, options)
                entries.append(PhotoEntry(photo, record, model.path.name))
                held.add(photo.sha256)
                state = ANALYSED
        except CorroscopeError as exc:
            # the analysis names the photo by its absolute path: the reason goes without it, the path as given
            failures.append(replace(failure_from(os.path.abspath(path), exc), path=Path(path)))
            state = FAILED
        if progress is not None:
            progress(index, total, path, state)
    if cancelled is not None and cancelled():  # stopped during the last photo: still nothing stored
        return AddSummary(None, tuple(failures), True)
    if not entries:
        return AddSummary(None, tuple(failures), False)
    outcome = project.add_inspection(asset_tag, date, entries, inspector=inspector, notes=notes)
    # stored meanwhile in another inspection of the asset (another `add` at the same time): not added
    failures += [PhotoFailure(path, f"not added: {why}") for path, why in outcome.refused]
    return AddSummary(outcome, tuple(failures), False)
