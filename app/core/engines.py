"""How a batch (`app.core.batch_stream.iter_batch`) maps `process_photo` over a plan: one photo at a
time, pipelined threads, or Dask.

Every engine yields one `PhotoOutcome` per photo it ran, in input order, calling `started(item)` just
before it waits for that photo; once `cancelled()` is true it starts no further photo (those already
running finish, whole). Outputs, resume and no-overwrite are `process_photo`'s, whichever engine runs it.
"""

from __future__ import annotations

import collections
import functools
import logging
import os
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any, Protocol

from app.core import exporters
from app.core.analysis import PhotoFailure
from app.core.batch_photo import process_photo
from app.core.batch_plan import replan
from app.core.batch_stream import PhotoMapper, serial_map
from app.core.batch_types import DONE, FAILED, SKIPPED, BatchOptions, PhotoOutcome, PlannedPhoto
from app.core.budget import stop_all_calls
from app.core.errors import CorroscopeError
from app.core.model import SegmentationModel

log = logging.getLogger(__name__)

ENGINES = ("serial", "pipelined", "dask")
CLUSTER_INSTALL_HINT = "pip install 'corroscope[cluster]' (from a checkout: pip install '.[cluster]')"

Started = Callable[[PlannedPhoto], None]
Cancelled = Callable[[], bool]


class Engine(PhotoMapper, Protocol):
    """A `PhotoMapper` (what `run_batch` calls) that can say what it is and how many ORT threads suit it."""

    name: str
    model_threads: int | None  # ONNX Runtime intra-op threads that suit it (None: ORT's default)

    def describe(self) -> str: ...


class SerialEngine:
    """One photo after another in this thread (the reference the others must match)."""

    name = "serial"
    model_threads = None

    def describe(self) -> str:
        return "one photo at a time"

    def map(self, items, options, model, keep_results, started, cancelled) -> Iterator[PhotoOutcome]:
        return serial_map(items, options, model, keep_results, started, cancelled)


class PipelinedEngine:
    """`photos` photos at once on threads of this process, so one photo's decode overlaps another's
    inference and writing (OpenCV, ONNX Runtime, zlib and file I/O release the GIL). At most
    `photos + 1` photos are in flight, so memory stays flat however long the batch."""

    name = "pipelined"

    def __init__(self, photos: int | None = None) -> None:
        cores = os.cpu_count() or 1
        photos = photos if photos is not None else min(4, cores + 1)
        if photos < 1:
            raise ValueError(f"photos in flight must be >= 1, got {photos}")
        self.photos = photos
        # The photos share the cores: an ORT pool per core would only make the threads fight.
        self.model_threads: int | None = max(1, cores // photos)

    def describe(self) -> str:
        return f"{self.photos} photos at once on threads of this process"

    def map(self, items, options, model, keep_results, started, cancelled) -> Iterator[PhotoOutcome]:
        window = self.photos + 1  # one queued behind the running ones keeps every thread busy
        pool = ThreadPoolExecutor(self.photos, thread_name_prefix="corroscope-photo")
        pending: collections.deque[tuple[PlannedPhoto, Future]] = collections.deque()
        todo = iter(items)
        try:
            while True:
                if cancelled():
                    for _, fut in pending:
                        fut.cancel()  # not yet started: never will be
                    todo = iter(())
                while len(pending) < window and (item := next(todo, None)) is not None:
                    pending.append((item, pool.submit(process_photo, item, options, model, keep_results)))
                if not pending:
                    return
                item, fut = pending.popleft()
                if fut.cancelled():
                    continue
                started(item)
                yield fut.result()
        except BaseException:  # Ctrl+C (or a stop) here: the photos under way must not be waited for
            stop_all_calls()
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


class DaskEngine:
    """Photos as tasks on a Dask cluster: a `LocalCluster` of `workers` processes on loopback, or the
    scheduler at `address`. Each worker loads the model once (from `BatchOptions.model_path`, which
    every worker must be able to read) and writes into the output folder, which every worker must be
    able to write. A task whose worker dies is run again elsewhere (the scheduler's own rescheduling,
    and `retries` for a task that raised)."""

    name = "dask"

    def __init__(
        self,
        workers: int | None = None,
        address: str | None = None,
        retries: int = 2,
        threads: int | None = None,
    ) -> None:
        if (workers is None) == (address is None):
            raise ValueError("give either a number of local workers or a scheduler address")
        if workers is not None and workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        self.workers, self.address, self.retries = workers, address, retries
        # ONNX Runtime threads per worker: the cores shared out on a local cluster; a remote worker's own.
        self.threads = threads if threads is not None else _local_threads(workers)
        self.model_threads = None  # this process only plans; the workers run the model

    def describe(self) -> str:
        if self.address is not None:
            return f"on the Dask cluster at {self.address}"
        return f"on a Dask cluster of {self.workers} worker processes on this machine (loopback)"

    def map(self, items, options, model, keep_results, started, cancelled) -> Iterator[PhotoOutcome]:
        if options.model_path is None:
            raise CorroscopeError("a Dask batch needs BatchOptions.model_path (the workers load the model)")
        options = replace(options, model_path=Path(options.model_path).absolute())
        client, cluster = self._connect()
        try:
            yield from self._run(client, items, options, keep_results, started, cancelled)
        finally:
            client.close()
            if cluster is not None:
                cluster.close()

    def _connect(self) -> tuple[Any, Any]:
        distributed = import_distributed()
        if self.address is not None:
            try:
                return distributed.Client(self.address, timeout="20s"), None
            except (OSError, TimeoutError) as exc:
                raise CorroscopeError(f"cannot reach the Dask scheduler at {self.address}: {exc}") from exc
        logging.getLogger("distributed").setLevel(logging.WARNING)  # its INFO lines would bury the progress
        cluster = distributed.LocalCluster(
            n_workers=self.workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",  # loopback only: nothing on the network can join or submit
            dashboard_address="127.0.0.1:0",  # its HTTP server (and a dashboard, with bokeh) on a free port
            silence_logs=logging.WARNING,
        )
        return distributed.Client(cluster), cluster

    def _run(self, client, items, options, keep_results, started, cancelled) -> Iterator[PhotoOutcome]:
        run = f"corroscope-{uuid.uuid4().hex[:8]}"
        formats = exporters.resolve(options.exports)  # registered here (the PDF report): sent along
        futures: dict[int, Any] = {}
        for item in items:
            if item.done_record is None:  # complete photos are skipped here, not shipped
                futures[item.index] = client.submit(
                    cluster_photo,
                    item,
                    options,
                    keep_results,
                    self.threads,
                    formats,
                    key=f"{run}-{item.index}",
                    retries=self.retries,
                    pure=False,
                )
        try:
            for item in items:
                if cancelled():
                    client.cancel(list(futures.values()))
                    return
                started(item)
                fut = futures.pop(item.index, None)
                if fut is None:
                    yield process_photo(item, options)  # SKIPPED, from its record
                    continue
                try:
                    outcome = fut.result()
                except Exception as exc:  # the task failed `retries + 1` times, or its workers kept dying
                    reason = f"the cluster could not run this photo: {type(exc).__name__}: {exc}"
                    failure = PhotoFailure(item.path, reason)
                    outcome = PhotoOutcome(item.index, item.path, FAILED, failure=failure)
                yield outcome
        finally:
            if futures:
                client.cancel(list(futures.values()))


def import_distributed() -> Any:
    """`dask.distributed`, or a `CorroscopeError` saying how to install it (it is an optional extra)."""
    try:
        import distributed
    except ImportError as exc:
        raise CorroscopeError(
            f"running on a Dask cluster needs Dask, which is not installed: {CLUSTER_INSTALL_HINT}"
        ) from exc
    return distributed


def _local_threads(workers: int | None) -> int | None:
    if workers is None:
        return None
    return max(1, (os.cpu_count() or 1) // workers)


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
) -> PhotoOutcome:
    """One photo on a cluster worker: the model loaded once per worker process, and the photo planned
    again against the folder as it is now, since an attempt that died may have left files behind.
    `formats`: the batch's exporters, registered here when this process lacks them."""
    assert options.model_path is not None
    exporters.adopt(formats)
    model = _worker_model(Path(options.model_path), options.device, threads or _worker_share())
    again = replan(item, options, model)
    outcome = process_photo(again, options, model, keep_result=keep_result)
    if outcome.state == SKIPPED and item.done_record is None:  # an attempt of this run finished it
        return replace(outcome, state=DONE)
    return outcome


def make_engine(name: str = "serial", **kwargs: Any) -> Engine:
    """An engine by name (`ENGINES`); `kwargs` go to its constructor."""
    if name == "serial":
        return SerialEngine()
    if name == "pipelined":
        return PipelinedEngine(**kwargs)
    if name == "dask":
        return DaskEngine(**kwargs)
    raise ValueError(f"unknown engine {name!r} (known: {', '.join(ENGINES)})")
