"""The corrected mask written with File ▸ Export results… of an edited or signed photo: part of the export's
set, planned when the export starts, so it is the exported photo's (not whatever is on screen when the
export ends), asked about with the other files, written under the stem they get ("Keep both"), and a copy
of the other kind left from an earlier export there (a signed mask beside figures now edited) goes."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from app.core.reviewed import reviewed_mask_path
from app.core.saved_corrections import found_there


@dataclass(frozen=True)
class CorrectedCopy:
    """What the export writes of the photo's corrected mask: `target`, and `stale`, the mask of the other
    kind under the same stem there, which the export removes (never in a folder the app reads corrections
    from: there it is the photo's saved correction)."""

    target: Path
    stale: Path | None
    real_save: bool  # exported where the app looks for the photo's correction: saving it there


def plan_copy(editing, photo: Path, folder: Path, stem: str) -> CorrectedCopy | None:
    """The corrected mask `photo`'s export into `folder` under `stem` writes; None when the photo is not
    edited or signed in this window, or its saved correction already holds it there."""
    session = None if editing is None else editing.edits.sessions.get(photo)
    if session is None or not (session.edited or session.review.is_reviewed):
        return None
    signed = session.review.is_signed
    target = reviewed_mask_path(folder, stem, signed=signed)
    real = found_there(photo, target)
    if real and target == session.mask_path and not session.unsaved:
        return None  # saved there already, as it is
    other = reviewed_mask_path(folder, stem, signed=not signed)
    stale = None if real or not os.path.lexists(other) else other
    return CorrectedCopy(target, stale, real)


def copy_job(editing, photo: Path, copy: CorrectedCopy, overwrite: bool) -> Callable[[], list[Path]] | None:
    """The job writing `copy` (the labels and review as they are now); a save of the session where the
    app looks (later edits count as unsaved), a copy that leaves the session as it was elsewhere."""
    session = editing.edits.sessions.get(photo)
    return editing.edits.save_job(copy.target, overwrite=overwrite, session=session, copy=not copy.real_save)


def export_then_drop_stale(stale: Path | None, export: Callable[..., list[Path]], *args) -> list[Path]:
    """Worker job: `export(*args)`, then, once its set has landed, the stale copy goes (a failed export
    leaves the earlier set, that copy with it, as it was)."""
    written = export(*args)
    if stale is not None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(stale)
    return written
