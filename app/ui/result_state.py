"""The photo on screen and its result, in one place (napari's way: setters validate, store, then emit).

Widgets read it and listen to its signals; they change it only through its setters. The figures are
always those of the label map shown: the model's, or an inspector's edit through `set_labels`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage

from app.core.analysis import EDITED_LABELS, PhotoResult, reassess, with_model_reasons
from app.core.edit_masks import maps_equal
from app.core.grading import ReviewPolicy, assess
from app.core.measure_text import with_scale
from app.core.reviewed import ReviewState
from app.core.stats import AreaStats


@dataclass(frozen=True, eq=False)
class OpenedPhoto:
    path: Path
    rgb: np.ndarray
    image: QImage  # RGB32, made in the worker
    levels: tuple | None = None  # its reduced copies for the viewer (`display_levels.photo_levels`), or None
    note: str = ""  # what the user should know about how it was read (only its first page, say)
    sha256: str = ""  # the file's content as read ("" when it could not be hashed): edits are this photo's


@dataclass(frozen=True, eq=False)
class PendingMeasures:
    """A photo left before its patches and distribution followed an edit: what recounting them needs."""

    path: Path
    labels: np.ndarray  # a copy of the map left (the editor may paint on it again later)
    model_result: PhotoResult
    policy: ReviewPolicy
    mm_per_px: float | None

    def compute(self) -> PhotoResult:
        """Every figure of the map left (pure: for a worker)."""
        return reassess(self.model_result, self.labels, self.policy, mm_per_px=self.mm_per_px)


class ResultState(QObject):
    """The current photo, its result (figures + label map), and the review policy they are graded by."""

    photo_changed = Signal(object)  # OpenedPhoto | None
    result_changed = Signal(object)  # PhotoResult | None: a new analysis (or none)
    labels_changed = Signal(object)  # np.ndarray: the label map shown changed (an edit)
    figures_changed = Signal(object)  # PhotoResult: figures recomputed for the label map shown
    review_changed = Signal(object)  # ReviewState: the mask shown was signed, or its sign-off dropped
    analysis_failed = Signal(str)  # why the photo on screen has no result: its analysis failed

    def __init__(self, parent: QObject | None = None, policy: ReviewPolicy | None = None) -> None:
        super().__init__(parent)
        self._photo: OpenedPhoto | None = None
        self._result: PhotoResult | None = None
        self._model_labels: np.ndarray | None = None
        self._model_result: PhotoResult | None = None
        self._edit_copy: np.ndarray | None = None  # `labels_to_edit`'s, made by the analysis worker
        self._review = ReviewState()
        self._unsaved = False
        self._measures_pending = False  # areas follow an edit at once, patches and distribution later
        self.left_unmeasured: PendingMeasures | None = None  # the photo just left, if its were pending
        self.version = 0  # counts changes of the label map shown (a worker's figures must match it)
        self.policy = policy or ReviewPolicy()

    @property
    def photo(self) -> OpenedPhoto | None:
        return self._photo

    @property
    def result(self) -> PhotoResult | None:
        return self._result

    @property
    def model_labels(self) -> np.ndarray | None:
        """The model's own label map of the current result (what an eraser restores)."""
        return self._model_labels

    @property
    def model_result(self) -> PhotoResult | None:
        """The model's own result of the photo on screen (its review reasons outlive an edit)."""
        return self._model_result

    @property
    def review(self) -> ReviewState:
        """Who signed the mask shown, if anyone (the model's source when nobody did)."""
        return self._review

    @property
    def measures_pending(self) -> bool:
        """The patches and distribution of the result are not yet those of the map shown (an edit's)."""
        return self._measures_pending

    @property
    def unsaved(self) -> bool:
        """The edit or sign-off shown is not saved to a file yet."""
        return self._unsaved

    def set_review(self, review: ReviewState, unsaved: bool = False) -> None:
        """The sign-off of the mask shown (set by the edit UI when it is marked reviewed or reverted)."""
        if review == self._review and unsaved == self._unsaved:
            return
        self._review, self._unsaved = review, unsaved
        self.review_changed.emit(review)

    @property
    def edited(self) -> bool:
        return (
            self._result is not None
            and self._model_labels is not None
            and self._result.labels is not self._model_labels
        )

    def set_photo(self, photo: OpenedPhoto | None) -> None:
        """A newly opened photo; its old result no longer applies (`left_unmeasured` says what the old
        one's measures still need, if they were pending)."""
        self.left_unmeasured = self.pending_measures()
        self._measures_pending = False
        self._photo = photo
        self._result = None
        self._model_result = None
        self._model_labels = self._edit_copy = None
        self._review, self._unsaved = ReviewState(), False
        self.version += 1
        self.photo_changed.emit(photo)

    def set_failed(self, reason: str) -> None:
        """The analysis of the photo on screen failed: it stays shown, without a result."""
        if self._photo is not None and self._result is None:
            self.analysis_failed.emit(reason)

    def set_result(self, result: PhotoResult | None, edit_copy: np.ndarray | None = None) -> None:
        """The model's result for the current photo (same size), graded by this state's policy;
        `edit_copy`: a copy of its labels made by the worker, for the first edit (`labels_to_edit`)."""
        if result is not None:
            photo = self._photo
            if photo is None or photo.path != result.path:
                raise ValueError(f"result for {result.path} does not belong to the photo on screen")
            if result.labels.shape != photo.rgb.shape[:2]:
                raise ValueError(f"labels {result.labels.shape} do not match the photo {photo.rgb.shape[:2]}")
        self._result = result
        self._model_result = result
        self._model_labels = None if result is None else result.labels
        fits = result is not None and edit_copy is not None and edit_copy.shape == result.labels.shape
        self._edit_copy = edit_copy if fits else None
        self._review, self._unsaved = ReviewState(), False  # a new analysis: the model's mask
        self._measures_pending = False
        self.version += 1
        self.result_changed.emit(result)
        if result is not None:
            self.figures_changed.emit(result)

    def labels_to_edit(self) -> np.ndarray:
        """A copy of the model's labels that an editor may own: the worker's, once, else made now."""
        if self._model_labels is None:
            raise ValueError("no result to edit: analyse a photo first")
        spare, self._edit_copy = self._edit_copy, None
        return spare if spare is not None else self._model_labels.copy()

    def set_labels(self, labels: np.ndarray, stats: AreaStats | None = None) -> PhotoResult:
        """Show `labels` (e.g. an edit of the model's map): figures and grades are recomputed from it, or
        from `stats` when the caller already knows them (an editor's incremental counts: no recount)."""
        if self._result is None:
            raise ValueError("no result to edit: analyse a photo first")
        if labels.dtype != np.uint8 or labels.shape != self._result.labels.shape:
            raise ValueError(
                f"labels must be uint8 {self._result.labels.shape}, got {labels.dtype} {labels.shape}"
            )
        self.version += 1
        self._measures_pending = stats is not None
        own, shown = self._model_result, self._result
        if stats is not None and own is not None and self._same_map(labels, stats):
            # a stroke that changed nothing, an undo back to the start: the model's figures, its range and
            # flags, not an "edited" mask until a recount said otherwise
            self._measures_pending = False
            self._result = replace(
                own, labels=labels, measures=with_scale(own.measures, own, shown.measures.mm_per_px)
            )
        elif stats is None:
            self._result = self.reassessed(labels)
        else:  # areas and grades now; patches and distribution follow in `set_measured` (a worker's)
            assessment = assess(
                stats,
                self._result.mean_confidence,
                self.policy,
                self._result.assessment.scale,
                source=EDITED_LABELS,
            )
            if self._model_result is not None:  # the model's reasons to look stay until someone signs
                assessment = with_model_reasons(assessment, self._model_result.assessment)
            self._result = replace(
                self._result,
                stats=stats,
                assessment=assessment,
                labels=labels,
                measures=replace(self._result.measures, share_range=None),
                labels_source=EDITED_LABELS,
            )
        self.labels_changed.emit(labels)
        self.figures_changed.emit(self._result)
        return self._result

    def _same_map(self, labels: np.ndarray, stats: AreaStats) -> bool:
        """Whether `labels` is the model's map (the counts first: a whole compare only when they agree)."""
        own = self._model_result
        assert own is not None
        return stats.pixels == own.stats.pixels and (labels is own.labels or maps_equal(labels, own.labels))

    def reassessed(self, labels: np.ndarray) -> PhotoResult:
        """Every figure of `labels` against the model's own result (so undoing every edit brings the
        model's range back); pure, safe in a worker given a copy of the labels."""
        assert self._model_result is not None and self._result is not None
        scale = self._result.measures.mm_per_px
        return reassess(self._model_result, labels, self.policy, mm_per_px=scale)

    def set_measured(self, version: int, measured: PhotoResult) -> bool:
        """The full figures of the label map shown, computed in a worker from a copy made at `version`;
        ignored (False) when the map changed since."""
        if self._result is None or version != self.version:
            return False
        self._result = replace(
            measured,
            labels=self._result.labels,
            measures=measured.measures,
            labels_source=measured.labels_source,
        )
        self._measures_pending = False
        self.figures_changed.emit(self._result)
        return True

    def pending_measures(self) -> PendingMeasures | None:
        """What counting the map shown needs while its patches and distribution still lag an edit (None
        when they follow it)."""
        r, model = self._result, self._model_result
        if not self._measures_pending or r is None or model is None:
            return None
        return PendingMeasures(r.path, r.labels.copy(), model, self.policy, r.measures.mm_per_px)

    def set_scale(self, mm_per_px: float | None) -> PhotoResult | None:
        """The photo's scale (mm per pixel; None: none): areas in mm² follow, nothing is recounted."""
        if self._result is None or self._result.measures.mm_per_px == mm_per_px:
            return self._result
        r = self._result
        self._result = replace(r, measures=with_scale(r.measures, r, mm_per_px))
        self.figures_changed.emit(self._result)
        return self._result

    def set_policy(self, policy: ReviewPolicy) -> None:
        """Grade by another review policy; the figures are recomputed for the label map shown."""
        self.policy = policy
        if self._result is not None:
            self._result = self.reassessed(self._result.labels)
            self._measures_pending = False
            self.figures_changed.emit(self._result)
