"""One streaming batch for every face of the app: `iter_batch` plans, yields each photo's outcome as it
is done, and reduces (the CSV and the run record, from the rows in memory) when the stream ends, is
closed, or a photo is cancelled midway. `run_batch` (the CLI), the window's batch worker and any engine
(one photo at a time, threads, Dask) go through it."""

from __future__ import annotations

import dataclasses
import functools
import time
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Protocol

from app.core.batch_photo import process_photo
from app.core.batch_plan import plan_batch, prepare_out_dir
from app.core.batch_reduce import reduce_batch
from app.core.batch_types import DISK_FULL_STOP, BatchOptions, BatchSummary, PhotoOutcome, PlannedPhoto
from app.core.errors import Cancelled, EngineLost, EngineUnavailable
from app.core.inference import Progress
from app.core.model import SegmentationModel


class PhotoMapper(Protocol):
    """What a batch needs of an engine (`app.core.engines`): outcomes of `process_photo` over the plan,
    in input order."""

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
    progress: Progress | None = None,
) -> Iterator[PhotoOutcome]:
    """One photo after another in this thread (the reference every engine must match); a cancel within
    a photo (fine mode, tile by tile) raises `Cancelled` out of it. `progress` is per network call."""
    for item in items:
        if cancelled():
            return
        started(item)
        yield process_photo(
            item, options, model, keep_result=keep_results, progress=progress, cancelled=cancelled
        )


def iter_batch(
    model: SegmentationModel,
    paths: Sequence[Path],
    out_dir: Path | str | None,
    options: BatchOptions | None = None,
    *,
    engine: PhotoMapper | None = None,
    started: Callable[[int, int, Path], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
    progress: Progress | None = None,
    keep_results: bool = False,
    keep_records: bool = True,
) -> Generator[PhotoOutcome, None, BatchSummary]:
    """Plan, then yield each photo's outcome in input order as `engine` (default: one after another in
    this thread, with `progress` per network call) finishes it; the `BatchSummary` is the generator's
    return value (its outcomes without results or photos). `started(i, total, path)` before the batch
    waits for photo i; once `cancelled()` is true no further photo starts. Whether it ends, is closed
    early or a photo is cancelled midway, `results.csv` and `results.json` are written for the photos
    done."""
    options = options or BatchOptions()
    out = None if out_dir is None else Path(out_dir)
    if out is not None:
        prepare_out_dir(out)
    start = time.perf_counter()
    plan = plan_batch(paths, out, options, model)
    total = len(plan.photos)
    stop = cancelled or (lambda: False)
    asked_to_stop = disk_full = False
    full_in_a_row = 0

    def should_stop() -> bool:
        nonlocal asked_to_stop
        asked_to_stop = asked_to_stop or disk_full or stop()
        return asked_to_stop

    def on_start(item: PlannedPhoto) -> None:
        if started is not None:
            started(item.index + 1, total, item.path)

    mapper = engine.map if engine is not None else functools.partial(serial_map, progress=progress)
    outcomes: list[PhotoOutcome] = []
    interrupted = False
    lost: str | None = None
    try:
        for outcome in mapper(plan.photos, options, model, keep_results, on_start, should_stop):
            # The summary never holds a photo's pixels or maps (`keep_results` is for the consumer of each
            # outcome: at 24 MP each held 115 MB, and a window batch grew to gigabytes); without
            # `keep_records` it holds states and reasons only (flat over thousands of photos), and the
            # CSV then reads each record back from its JSON.
            kept = outcome.record if keep_records else None
            outcomes.append(dataclasses.replace(outcome, result=None, photo=None, record=kept))
            full_in_a_row = full_in_a_row + 1 if outcome.disk_full else 0
            disk_full = disk_full or full_in_a_row >= DISK_FULL_STOP  # no photo starts after this one
            yield outcome
    except Cancelled:  # stopped within a photo: nothing of it was written
        interrupted = True
    except EngineLost as exc:  # a stop too: the photos not returned are not analysed, a rerun resumes
        interrupted, lost = True, str(exc)
    except GeneratorExit:  # the consumer stopped early (the window's worker was cancelled)
        reduce_batch(plan, outcomes, options)
        raise
    except EngineUnavailable:  # nothing ran: the folder is as it was, and free for the next run
        if plan.lock is not None:
            plan.lock.release()
        raise
    # Any other exception (Ctrl+C, a crash) leaves the folder as a killed run does, for a rerun to resume.
    csv_path, csv_error = reduce_batch(plan, outcomes, options)
    was_cancelled = interrupted or (asked_to_stop and len(outcomes) < total)
    seconds = time.perf_counter() - start
    stopped_full = disk_full and len(outcomes) < total
    return BatchSummary(
        total, tuple(outcomes), was_cancelled, csv_path, seconds, csv_error, stopped_full, engine_lost=lost
    )
