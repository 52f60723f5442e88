"""A signed mask reaches the project: the photo's figures from the reviewed mask (as `corroscope analyze
--reviewed-masks` counts them) stored as a new result of every stored copy of that photo (by content),
marked reviewed by whom and when. The model's result stays beside it; the panel and the trend show the
newest, the reviewed one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from app.core.analysis import PhotoFailure
from app.core.errors import CorroscopeError, ProjectError
from app.core.inference import InferenceOptions
from app.core.model import SegmentationModel
from app.core.project.ingest import AddSummary, analysed
from app.core.project.photos import describe_photo
from app.core.project.records import Inspection, PhotoEntry, ReviewMark, StoredResult
from app.core.project.store import Project
from app.core.record import PhotoRecord
from app.core.review_source import apply_reviewed_mask
from app.core.reviewed import ReviewState, read_reviewed_mask
from app.core.saved_corrections import CorrectionSearch


@dataclass(frozen=True)
class StoredReview:
    """Where a signed mask went: the photo's file name, each inspection that holds the photo, and how
    many results were written (none where each copy's newest result is this very review already)."""

    name: str
    inspections: tuple[Inspection, ...]
    written: int = 0


def reviewed_record(
    model: SegmentationModel, photo: Path, mask: Path, options: InferenceOptions | None = None
) -> tuple[dict[str, Any], ReviewState]:
    """The photo's record with its figures from the signed `mask`, and the mask's review; `ProjectError`
    for a mask nobody signed (an edit is not a review)."""
    result = analysed(model, photo, options or InferenceOptions(), keep_result=True).result
    assert result is not None
    reviewed = apply_reviewed_mask(result, read_reviewed_mask(mask, result.size, model.classes, photo=photo))
    if not reviewed.review.is_reviewed:
        raise ProjectError(f"{mask} is not signed (Edit ▸ Mark reviewed…): only a review goes to the project")
    record = PhotoRecord.from_result(reviewed.result)
    record = record.with_review(reviewed.review, mask, reviewed.model_figures)  # the model's own beside
    return record.to_json(), reviewed.review


def store_review(
    project: Project,
    model: SegmentationModel,
    photo: Path,
    mask: Path,
    options: InferenceOptions | None = None,
) -> StoredReview:
    """Store the signed `mask`'s figures as a reviewed result of each stored photo with `photo`'s content
    (none: nothing is stored, and the answer names no inspection). A copy whose newest result is this
    review already (the same mask, reviewer and time) is left as it is: adding a photo again, or saving
    the same signed mask twice, writes no second copy of one review."""
    file = describe_photo(photo)
    matches = project.photos_with_content(file.sha256)
    if not matches:
        return StoredReview(photo.name, ())
    by_id = {i.id: i for i in project.inspections()}
    held = tuple(by_id[p.inspection_id] for p in matches if p.inspection_id in by_id)
    signed = read_reviewed_mask(mask, None, model.classes).review  # held already: no model run
    if signed is not None and all(_holds(project.latest_result(s.id), _mark(mask, signed)) for s in matches):
        return StoredReview(photo.name, held)
    record, review = reviewed_record(model, photo, mask, options)
    mark, written = _mark(mask, review), 0
    for stored in matches:
        if not _holds(project.latest_result(stored.id), mark):
            project.add_result(stored.id, PhotoEntry(file, record, model.path.name), mark)
            written += 1
    return StoredReview(photo.name, held, written)


def _mark(mask: Path, review: ReviewState) -> ReviewMark:
    return ReviewMark(str(mask), review.reviewed_by, review.reviewed_at or None)


def _holds(result: StoredResult | None, mark: ReviewMark) -> bool:
    """Whether `result` is the review `mark` describes (a mark without a time is always a new review)."""
    return (
        result is not None
        and mark.at is not None
        and result.is_reviewed
        and (result.reviewed_mask, result.reviewed_by, result.reviewed_at) == (mark.mask, mark.by, mark.at)
    )


def store_saved_reviews(
    project: Project,
    model: SegmentationModel,
    photos: Sequence[Path],
    search: CorrectionSearch,
    options: InferenceOptions | None = None,
) -> tuple[tuple[Path, ...], tuple[PhotoFailure, ...]]:
    """Each of `photos` with a signed correction saved for it (found by `search`: beside it or in its
    results folder) gets that review stored, as a signed mask saved later would: (the photos whose review
    was newly stored, the ones whose saved mask could not be used and why). An unsigned edit is no
    review; a review the project holds already is not stored twice."""
    stored, failures = [], []
    for photo in photos:
        mask = search.find_signed(photo)
        if mask is None:
            continue
        try:
            written = store_review(project, model, photo, mask, options).written
        except CorroscopeError as exc:  # a mask of another photo's size, or one nobody signed
            failures.append(PhotoFailure(photo, f"its saved review {mask.name} was not used: {exc}"))
        else:
            if written:
                stored.append(photo)
    return tuple(stored), tuple(failures)


def with_saved_reviews(
    project: Project,
    model: SegmentationModel,
    summary: AddSummary,
    search: CorrectionSearch,
    options: InferenceOptions | None = None,
) -> AddSummary:
    """`summary` of an inspection just added, after each photo it stored, or held already, got the
    review signed and saved for it since (`store_saved_reviews`); the window's Add inspection and
    `project add` alike."""
    out = summary.outcome
    if out is None:
        return summary
    reviewed, problems = store_saved_reviews(project, model, out.added, search, options)
    since, later = store_saved_reviews(project, model, out.already_stored, search, options)
    return replace(summary, reviewed=reviewed, reviewed_since=since, review_failures=problems + later)
