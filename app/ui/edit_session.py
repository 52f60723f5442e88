"""One photo's editing session: its edited map, the review state (and the signature undo and redo can
bring back), and what was last saved."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PySide6.QtGui import QImage

from app.core import smart_select as smart
from app.core.analysis import PhotoFigures
from app.core.edit_steps import compact
from app.core.editing import Checkpoint, Edit, LabelEditor, Step
from app.core.reviewed import ReviewState

EDITED_AFTER_REVIEW = "Edited after the review: mark it reviewed again to sign it"
UNDONE_PAST_REVIEW = (
    "Undone past the review: it no longer applies (Redo brings the signed mask back, signed, while the"
    " photo keeps that step: leaving it keeps only its most recent steps)"
)
REVIEW_GONE = (EDITED_AFTER_REVIEW, UNDONE_PAST_REVIEW)  # the warnings a signature coming back answers


def signature_back(review: ReviewState) -> str:
    by = f" by {review.reviewed_by}" if review.reviewed_by else ""
    return f"Back to the signed mask: the review{by} stands again"


@dataclass(eq=False)
class EditSession:
    """One photo's edited map (its editor), review state, and what was last saved."""

    path: Path
    editor: LabelEditor
    image: QImage  # Indexed8 view of editor.labels, what the viewer shows
    review: ReviewState = field(default_factory=ReviewState)
    saved_review: ReviewState = field(default_factory=ReviewState)
    mask_path: Path | None = None  # the reviewed mask on disk it was read from or saved to
    probabilities: np.ndarray | None = None  # the network's, kept for smart select once computed
    smart_photo: smart.SmartSelectPhoto | None = None  # smart select's working copy and seed, kept
    save_failed: bool = False
    figures: PhotoFigures | None = None  # as last shown for this map: a new batch row of the photo shows them
    # the last signature and the map it signed: undo/redo back to that map brings the signature back
    signed: tuple[Checkpoint, ReviewState] | None = None
    photo_sha256: str = ""  # the photo file the map was drawn on ("" unknown): a mask is that photo's only

    def __post_init__(self) -> None:
        if self.review.is_reviewed:
            self.signed = (self.editor.checkpoint(), self.review)

    def sign(self, review: ReviewState) -> None:
        self.review = review
        self.signed = (self.editor.checkpoint(), review)

    def signature_redoable(self) -> bool:
        """The signed map is ahead in the redo stack (an undo took the signature away)."""
        signed = self.signed
        return signed is not None and not self.review.is_reviewed and self.editor.redo_reaches(signed[0])

    def follow_signature(self) -> bool:
        """Drop the signature when the map is no longer the one signed, take it back when undo or redo
        returned to it; True when the review state changed."""
        if self.signed is None:
            return False
        at_signed = self.editor.at(self.signed[0])
        if self.review.is_reviewed and not at_signed:
            self.review = ReviewState()
            return True
        if at_signed and self.review != self.signed[1]:
            self.review = self.signed[1]
            return True
        return False

    @property
    def unsaved(self) -> bool:
        return self.save_failed or self.editor.modified or self.review != self.saved_review

    @property
    def edited(self) -> bool:
        """The map may differ from the model's (edited here, or read from a reviewed mask)."""
        return self.editor.can_undo or self.editor.modified or self.mask_path is not None

    def mark_saved(self, path: Path | None) -> None:
        self.editor.mark_saved()
        self.saved_review = self.review
        self.mask_path = path
        self.save_failed = False


@dataclass(frozen=True, eq=False)
class Prepared:
    """An edit made in a worker, with its pixel counts (the viewer colours the overlay as it paints)."""

    edit: Step | None
    probabilities: np.ndarray | None = None  # computed for smart select, to keep on the session
    smart_photo: smart.SmartSelectPhoto | None = None  # likewise


def prepare(edit: Edit | None) -> Prepared:
    """Worker side: what applying `edit` on the UI thread would otherwise spend there: its changed pixels'
    box, its smallest undo form, its pixel counts (the map is not edited while the worker runs, so
    `edit.before` is still the map's). None: it changes nothing."""
    return Prepared(None if edit is None else compact(edit))
