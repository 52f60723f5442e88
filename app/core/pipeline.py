"""One photo pipeline in three stages, shared by the CLI, the GUI batch, evaluation and any engine.

- `plan_batch`: inputs -> one `PlannedPhoto` each (output names, and whether its outputs are complete);
- `process_photo`: a picklable function of one planned photo and `BatchOptions` -> `PhotoOutcome`,
  outputs written (the JSON record last, which marks the photo complete); the model is loaded once per
  process when none is passed, so a worker pool or a cluster maps it as is;
- `reduce_batch`: outcomes -> `results.csv`, rebuilt from the JSON records, so an interrupted and resumed
  batch gives the same CSV as one that was not (the `seconds` column aside); rows of other photos that
  an earlier run listed there are kept.
Planning takes the output folder's lock (`app.core.outlock`) and reducing releases it; only files
proven ours (`app.core.ownership`) are replaced without `overwrite`.
`run_batch` drives the three in this process, with progress and cancel.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Protocol

from app.core.batch_photo import process_photo
from app.core.batch_plan import plan_batch, prepare_out_dir, replan
from app.core.batch_reduce import reduce_batch, write_run_record
from app.core.batch_types import (
    DEFAULT_EXPORTS,
    DONE,
    FAILED,
    SKIPPED,
    BatchOptions,
    BatchSummary,
    PhotoOutcome,
    Plan,
    PlannedPhoto,
    load_record,
)
from app.core.errors import Cancelled
from app.core.model import SegmentationModel

__all__ = [
    "DEFAULT_EXPORTS",
    "DONE",
    "FAILED",
    "SKIPPED",
    "BatchOptions",
    "BatchSummary",
    "PhotoMapper",
    "PhotoOutcome",
    "Plan",
    "PlannedPhoto",
    "load_record",
    "plan_batch",
    "prepare_out_dir",
    "process_photo",
    "reduce_batch",
    "replan",
    "run_batch",
    "serial_map",
    "write_run_record",
]


def run_batch(
    model: SegmentationModel,
    paths: Sequence[Path],
    out_dir: Path | str | None,
    options: BatchOptions | None = None,
    *,
    progress: Callable[[PhotoOutcome], None] | None = None,
    started: Callable[[int, int, Path], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
    keep_results: bool = False,
    keep_records: bool = True,
    engine: PhotoMapper | None = None,
) -> BatchSummary:
    """Plan, process every photo with `engine` (default: one after another in this thread), reduce.

    `started(i, total, path)` before the batch waits for photo i, `progress(outcome)` after it, both in
    input order; once `cancelled()` is true no further photo starts."""
    options = options or BatchOptions()
    out = None if out_dir is None else Path(out_dir)
    if out is not None:
        prepare_out_dir(out)
    start = time.perf_counter()
    plan = plan_batch(paths, out, options, model)
    total = len(plan.photos)
    stop = cancelled or (lambda: False)
    asked_to_stop = False

    def should_stop() -> bool:
        nonlocal asked_to_stop
        asked_to_stop = asked_to_stop or stop()
        return asked_to_stop

    def on_start(item: PlannedPhoto) -> None:
        if started is not None:
            started(item.index + 1, total, item.path)

    outcomes: list[PhotoOutcome] = []
    interrupted = False
    try:
        mapper = engine.map if engine is not None else serial_map
        for outcome in mapper(plan.photos, options, model, keep_results, on_start, should_stop):
            # Without `keep_records` the summary holds states and reasons only (memory stays flat over
            # thousands of photos); the CSV then reads each record back from its JSON.
            outcomes.append(outcome if keep_records else dataclasses.replace(outcome, record=None))
            if progress is not None:
                progress(outcome)
    except Cancelled:  # stopped within a photo: nothing of it was written
        interrupted = True
    csv_path, csv_error = reduce_batch(plan, outcomes)
    if csv_path is not None:
        csv_error = write_run_record(csv_path, plan, options, model) or csv_error
    was_cancelled = interrupted or (asked_to_stop and len(outcomes) < total)
    return BatchSummary(
        total, tuple(outcomes), was_cancelled, csv_path, time.perf_counter() - start, csv_error
    )


class PhotoMapper(Protocol):
    """What `run_batch` needs of an engine (`app.core.engines`): outcomes of `process_photo` over the
    plan, in input order."""

    def map(
        self,
        items: Sequence[PlannedPhoto],
        options: BatchOptions,
        model: SegmentationModel | None,
        keep_results: bool,
        started: Callable[[PlannedPhoto], None],
        cancelled: Callable[[], bool],
    ) -> Iterable[PhotoOutcome]: ...


def serial_map(
    items: Iterable[PlannedPhoto],
    options: BatchOptions,
    model: SegmentationModel | None,
    keep_results: bool,
    started: Callable[[PlannedPhoto], None],
    cancelled: Callable[[], bool],
) -> Iterator[PhotoOutcome]:
    """One photo after another in this thread (the reference every engine must match); a cancel within
    a photo (fine mode, tile by tile) raises `Cancelled` out of it."""
    for item in items:
        if cancelled():
            return
        started(item)
        yield process_photo(item, options, model, keep_result=keep_results, cancelled=cancelled)
