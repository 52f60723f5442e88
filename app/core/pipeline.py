"""One photo pipeline in three stages, shared by the CLI, the GUI batch, evaluation and any engine.

- `select_inputs`: paths -> the photos of the batch (the one rule of what a photo is);
- `plan_batch`: inputs -> one `PlannedPhoto` each (output names, and whether its outputs are complete);
- `process_photo`: a picklable function of one planned photo and `BatchOptions` -> `PhotoOutcome`,
  outputs written (the JSON record last, which marks the photo complete); the model is loaded once per
  process when none is passed, so a worker pool or a cluster maps it as is;
- `reduce_batch`: outcomes -> `results.csv`, rebuilt from the JSON records, so an interrupted and resumed
  batch gives the same CSV as one that was not (the `seconds` column aside); rows of other photos that
  an earlier run listed there are kept; its run record `results.json` from the same rows.
Planning takes the output folder's lock (`app.core.outlock`) and reducing releases it; only files
proven ours (`app.core.ownership`) are replaced without `overwrite`.
`iter_batch` streams the three (each photo's outcome as it is done; `app.core.batch_stream`), and
`run_batch` runs it whole, with progress and cancel.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from pathlib import Path

from app.core.batch_inputs import Inputs, select_inputs
from app.core.batch_photo import process_photo
from app.core.batch_plan import check_out_dir, plan_batch, prepare_out_dir, replan
from app.core.batch_reduce import reduce_batch, write_run_record, write_table
from app.core.batch_stream import PhotoMapper, iter_batch, serial_map
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
from app.core.model import SegmentationModel

__all__ = [
    "DEFAULT_EXPORTS",
    "DONE",
    "FAILED",
    "SKIPPED",
    "BatchOptions",
    "BatchSummary",
    "Inputs",
    "PhotoMapper",
    "PhotoOutcome",
    "Plan",
    "PlannedPhoto",
    "check_out_dir",
    "iter_batch",
    "load_record",
    "plan_batch",
    "prepare_out_dir",
    "process_photo",
    "reduce_batch",
    "replan",
    "run_batch",
    "select_inputs",
    "serial_map",
    "write_run_record",
    "write_table",
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
    """The whole of `iter_batch`, with `progress(outcome)` after each photo, in input order; with
    `keep_results`, the summary's outcomes keep their results and photos (all of them, in memory)."""
    batch = iter_batch(
        model,
        paths,
        out_dir,
        options,
        engine=engine,
        started=started,
        cancelled=cancelled,
        keep_results=keep_results,
        keep_records=keep_records,
    )
    full: list[PhotoOutcome] = []
    while True:
        try:
            outcome = next(batch)
        except StopIteration as end:
            summary: BatchSummary = end.value
            return dataclasses.replace(summary, outcomes=tuple(full)) if keep_results else summary
        if keep_results:
            full.append(outcome)
        if progress is not None:
            progress(outcome)
