"""The window's batch job, run in a worker: the photos listed, what the scan left out, then a table row per
photo through the same pipeline as `corroscope analyze`."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

from app.core import analysis, pipeline
from app.core.left_out import left_out_line
from app.core.memory import release_free_memory
from app.core.model import SegmentationModel
from app.core.pipeline import BatchOptions
from app.core.reviewed import ReviewState
from app.report.thumbnails import thumbnail_or_none
from app.ui.batch_table import BatchRow

TRIM_EVERY = 50  # photos between two `release_free_memory` calls of a batch in the window


def batch_rows(
    model: SegmentationModel,
    inputs: list[Path],
    options: BatchOptions,
    out_dir: Path | None,
    recursive: bool = False,
    *,
    cancelled: Callable[[], bool] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Iterator[list[Path] | str | BatchRow]:
    """First the photos (in order), then what the scan left out (a line, if anything), then one `BatchRow`
    per photo, through the batch pipeline (the same inputs, stream, CSV and run record as `analyze`)."""
    paths = pipeline.select_inputs(inputs, out_dir, recursive).photos
    yield list(paths)
    if (skipped := left_out_line(inputs, recursive=recursive)) is not None:
        yield skipped  # HEIC, GIF, raw or hidden files: named, never skipped without a word
    batch = pipeline.iter_batch(
        model, paths, out_dir, options, cancelled=cancelled, progress=progress, keep_results=True
    )
    # Closed when the worker is cancelled between photos: the CSV and run record of what is done follow.
    with contextlib.closing(batch):
        for n, outcome in enumerate(batch, 1):  # a cancel within a photo ends the stream (cancelled)
            yield _row(outcome)
            if n % TRIM_EVERY == 0:  # the rows kept pin freed pages: give them back now and then
                release_free_memory()
    release_free_memory()


def _row(outcome: pipeline.PhotoOutcome) -> BatchRow:
    """The table keeps figures and a thumbnail only; the label maps come back when the row is shown.
    Figures from a saved correction carry its review (who signed, or "edited")."""
    if outcome.failure is not None:
        return BatchRow(outcome.path, None, outcome.failure.reason)
    result = outcome.result
    if result is None:  # skipped: complete outputs of an earlier run; figures from its record
        return BatchRow(outcome.path, None, "", outcome.record)
    thumbnail = thumbnail_or_none(outcome.photo, result.labels) if outcome.photo is not None else None
    review = None
    if outcome.record is not None and result.labels_source != analysis.MODEL_LABELS:
        with contextlib.suppress(ValueError):
            review = ReviewState.of_record(outcome.record)
    return BatchRow(outcome.path, result.figures(), "", outcome.record, thumbnail, review=review)
