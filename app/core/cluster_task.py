"""What runs inside a Dask worker process (`app.core.engines.DaskEngine`): one photo as a task, and the
worker's set-up (`dask_setup`, run by Dask as a preload of every local worker, restarted ones too)."""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import signal
from dataclasses import replace
from pathlib import Path

from app.core import exporters
from app.core.batch_photo import process_photo
from app.core.batch_plan import replan
from app.core.batch_types import DONE, SKIPPED, BatchOptions, PhotoOutcome, PlannedPhoto
from app.core.model import SegmentationModel

PRELOAD = __name__  # what `LocalCluster(preload=...)` imports in each worker process


def dask_setup(worker: object = None) -> None:
    """A local worker ignores SIGINT: it shares the terminal's process group, so a Ctrl+C meant for
    `corroscope analyze` (which stops the batch itself) would otherwise kill it mid-photo. And it keeps
    quiet while it closes."""
    with contextlib.suppress(ValueError):  # not the main thread (Dask runs preloads there)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    quiet_while_closing(worker)


class _QuietWhileClosing(logging.Filter):
    """Passes Dask's records below ERROR only while `worker` is not closing."""

    def __init__(self, worker: object) -> None:
        super().__init__()
        self.worker = worker

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(getattr(self.worker, "status", None), "name", "")
        return record.levelno >= logging.ERROR or status not in CLOSING


CLOSING = ("closing", "closing_gracefully", "closed", "failed")  # `distributed.core.Status` names


def quiet_while_closing(worker: object, logger: str = "distributed") -> None:
    """Drop Dask's warnings on the console once `worker` is closing: a photo cut off by a second Ctrl+C
    comes back as "Async instruction ... ended with CancelledError", which means nothing to a user.
    On the handlers, since a logger's own filter misses the records of its children."""
    for handler in logging.getLogger(logger).handlers:
        handler.addFilter(_QuietWhileClosing(worker))


def stop_requested(stop_event: str | None) -> bool:
    """Whether the client set the batch's stop event (a Ctrl+C): a photo not yet begun then never is."""
    if stop_event is None:
        return False
    try:
        from distributed import Event

        return bool(Event(stop_event).is_set())
    except (ImportError, ValueError, OSError):  # not on a Dask worker (a test calls the task directly)
        return False


def _worker_share() -> int | None:
    """ORT threads for a remote worker: its machine's cores shared among the photos it runs at once."""
    try:
        from distributed import get_worker

        nthreads = get_worker().state.nthreads
    except (ImportError, ValueError, AttributeError):  # not on a Dask worker (a test calls it directly)
        return None
    return max(1, (os.cpu_count() or 1) // max(1, nthreads))


@functools.lru_cache(maxsize=2)
def _worker_model(path: Path, device: str, threads: int | None) -> SegmentationModel:
    return SegmentationModel.load(path, device, threads=threads)


def cluster_photo(
    item: PlannedPhoto,
    options: BatchOptions,
    keep_result: bool = False,
    threads: int | None = None,
    formats: tuple[exporters.Exporter, ...] = (),
    stop_event: str | None = None,
) -> PhotoOutcome | None:
    """One photo on a cluster worker: the model loaded once per worker process, and the photo planned
    again against the folder as it is now, since an attempt that died may have left files behind.
    `formats`: the batch's exporters, registered here when this process lacks them. None, with nothing
    written, when the batch was stopped (`stop_event` set) before this photo began."""
    assert options.model_path is not None
    if stop_requested(stop_event):
        return None
    exporters.adopt(formats)
    model = _worker_model(Path(options.model_path), options.device, threads or _worker_share())
    again = replan(item, options, model)
    outcome = process_photo(again, options, model, keep_result=keep_result)
    if outcome.state == SKIPPED and item.done_record is None:  # an attempt of this run finished it
        return replace(outcome, state=DONE)
    return outcome
