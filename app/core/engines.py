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
import math
import os
import re
import urllib.parse
import uuid
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any, Protocol

from app.core import cluster_task, exporters
from app.core.batch_photo import process_photo
from app.core.batch_stream import PhotoMapper, serial_map
from app.core.batch_types import BatchOptions, PhotoOutcome, PlannedPhoto
from app.core.budget import stop_all_calls
from app.core.cluster_task import cluster_photo
from app.core.dask_client import SchedulerCalls, close_quietly
from app.core.errors import CorroscopeError, EngineUnavailable
from app.core.photos import header_pixels
from app.core.text import counted, safe_text

log = logging.getLogger(__name__)

ENGINES = ("serial", "pipelined", "dask")
# One photo's peak memory beyond the loaded model and its arena, per pixel, measured through the CLI on
# the worst case (a photo all corrosion, resize mode; docs/reliability.md): what the engine plans with.
PHOTO_BYTES_PER_PIXEL = 14
DEFAULT_BATCH_MEMORY_MB = 1536.0  # photos in flight together: two of 50 MP, four of 12 MP
BATCH_MEMORY_ENV = "CORROSCOPE_BATCH_MEMORY_MB"
SCHEDULER_SCHEMES = ("tcp", "tls")  # what a Dask client connects to (tls: with Dask's security settings)
_HOST = re.compile(r"[A-Za-z0-9._:-]+")  # a name, an IPv4 address, an IPv6 one (its brackets removed)
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
    `photos + 1` photos are in flight, so memory stays flat however long the batch; and big photos
    fewer: a photo joins those in flight only while their estimated memory (`photo_memory`, from the
    pixel counts in the headers) stays within `memory_mb`. One photo always runs, however big."""

    name = "pipelined"

    def __init__(self, photos: int | None = None, memory_mb: float | None = None) -> None:
        cores = os.cpu_count() or 1
        photos = photos if photos is not None else min(4, cores + 1)
        if photos < 1:
            raise ValueError(f"photos in flight must be >= 1, got {photos}")
        self.photos = photos
        self.memory_mb = batch_memory_mb() if memory_mb is None else memory_mb
        if not (self.memory_mb > 0 and math.isfinite(self.memory_mb)):
            raise ValueError(f"memory_mb must be a positive number, got {memory_mb}")
        # The photos share the cores: an ORT pool per core would only make the threads fight.
        self.model_threads: int | None = max(1, cores // photos)

    def describe(self) -> str:
        return f"{self.photos} photos at once on threads of this process (fewer when they are large)"

    def map(self, items, options, model, keep_results, started, cancelled) -> Iterator[PhotoOutcome]:
        window = self.photos + 1  # one queued behind the running ones keeps every thread busy
        budget = self.memory_mb * 2**20
        pool = ThreadPoolExecutor(self.photos, thread_name_prefix="corroscope-photo")
        pending: collections.deque[tuple[PlannedPhoto, Future, int]] = collections.deque()
        todo = iter(items)
        nxt: tuple[PlannedPhoto, int] | None = None  # the next photo, waiting for memory to free up
        try:
            while True:
                if cancelled():
                    for _, fut, _ in pending:
                        fut.cancel()  # not yet started: never will be
                    todo, nxt = iter(()), None
                while len(pending) < window:
                    if nxt is None and (item := next(todo, None)) is not None:
                        nxt = (item, photo_memory(item, options))
                    if nxt is None or (pending and sum(p[2] for p in pending) + nxt[1] > budget):
                        break
                    item, cost = nxt
                    nxt = None
                    fut = pool.submit(process_photo, item, options, model, keep_results)
                    pending.append((item, fut, cost))
                if not pending:
                    return
                item, fut, _ = pending.popleft()
                if fut.cancelled():
                    continue
                started(item)
                yield fut.result()
        except BaseException:  # Ctrl+C (or a stop) here: the photos under way must not be waited for
            stop_all_calls()
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


def batch_memory_mb(environ: Mapping[str, str] | None = None) -> float:
    """The pipelined engine's memory for the photos in flight: `CORROSCOPE_BATCH_MEMORY_MB`, else
    `DEFAULT_BATCH_MEMORY_MB`; a value that is not a positive finite number is logged and ignored."""
    text = (os.environ if environ is None else environ).get(BATCH_MEMORY_ENV)
    if text is None:
        return DEFAULT_BATCH_MEMORY_MB
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if value > 0 and math.isfinite(value):
        return value
    log.warning(
        "%s=%s is not a positive number of MB; using %s",
        BATCH_MEMORY_ENV,
        safe_text(text),
        DEFAULT_BATCH_MEMORY_MB,
    )
    return DEFAULT_BATCH_MEMORY_MB


def photo_memory(item: PlannedPhoto, options: BatchOptions) -> int:
    """Bytes one photo is expected to take while it runs: `PHOTO_BYTES_PER_PIXEL` x its pixels from
    the header; 0 for a photo that is skipped or will be refused before decoding."""
    if item.done_record is not None:
        return 0
    pixels = header_pixels(item.path)
    if pixels is None or pixels > options.max_pixels:
        return 0
    return PHOTO_BYTES_PER_PIXEL * pixels


class DaskEngine:
    """Photos as tasks on a Dask cluster: a `LocalCluster` of `workers` processes on loopback, or the
    scheduler at `address`. Each worker loads the model once (from `BatchOptions.model_path`, which
    every worker must be able to read) and writes into the output folder, which every worker must be
    able to write. A task whose worker dies is run again elsewhere (the scheduler's own rescheduling,
    and `retries` for a task that raised)."""

    name = "dask"
    connect_timeout = "20s"  # to a scheduler that does not answer (Dask retries until then)

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
        if address is not None:
            check_scheduler_address(address)
        self.workers, self.address, self.retries = workers, address, retries
        # ONNX Runtime threads per worker: the cores shared out on a local cluster; a remote worker's own.
        self.threads = threads if threads is not None else _local_threads(workers)
        self.model_threads = None  # this process only plans; the workers run the model

    def describe(self) -> str:
        if self.address is not None:
            return f"on the Dask cluster at {self.address}"
        processes = counted(self.workers or 0, "worker process", "worker processes")
        return f"on a Dask cluster of {processes} on this machine (loopback)"

    def map(self, items, options, model, keep_results, started, cancelled) -> Iterator[PhotoOutcome]:
        if options.model_path is None:
            raise CorroscopeError("a Dask batch needs BatchOptions.model_path (the workers load the model)")
        options = replace(options, model_path=Path(options.model_path).absolute())
        client, cluster = self._connect()
        address = self.address if cluster is None else cluster.scheduler_address
        calls = SchedulerCalls(client, address)
        try:
            yield from self._run(calls, items, options, keep_results, started, cancelled)
        finally:
            close_quietly(calls, client, cluster)

    def _connect(self) -> tuple[Any, Any]:
        distributed = import_distributed()
        if self.address is not None:
            try:
                return distributed.Client(self.address, timeout=self.connect_timeout), None
            except (OSError, TimeoutError, ValueError) as exc:  # ValueError: an address Dask refuses
                why = f"cannot reach the Dask scheduler at {safe_text(self.address)}: {exc}"
                raise EngineUnavailable(why) from exc
        logging.getLogger("distributed").setLevel(logging.WARNING)  # its INFO lines would bury the progress
        cluster = distributed.LocalCluster(
            n_workers=self.workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",  # loopback only: nothing on the network can join or submit
            dashboard_address="127.0.0.1:0",  # its HTTP server (and a dashboard, with bokeh) on a free port
            silence_logs=logging.WARNING,
            preload=[cluster_task.PRELOAD],  # workers ignore the terminal's Ctrl+C: this process stops them
        )
        return distributed.Client(cluster), cluster

    def _window(self, calls: SchedulerCalls) -> int:
        """Photos sent ahead: two per worker thread keep every worker busy, and a stop has few to call
        back. A remote cluster's threads are asked again each time (workers may join as the batch runs)."""
        threads = self.workers if self.address is None else calls.nthreads()
        return max(2, 2 * (threads or 1))

    def _run(self, calls: SchedulerCalls, items, options, keep_results, started, cancelled):
        """The batch on the cluster; every call to the scheduler goes through `calls`, so a scheduler lost
        midway ends the batch with `EngineLost` (a stop), never a bare connection error."""
        run = f"corroscope-{uuid.uuid4().hex[:8]}"
        with calls.call():  # set: photos not begun never begin
            stop = import_distributed().Event(f"{run}-stop", client=calls.client)
        send = functools.partial(
            calls.client.submit,
            cluster_photo,
            options=options,
            keep_result=keep_results,
            threads=self.threads,
            formats=exporters.resolve(options.exports),  # registered here (the PDF report): sent along
            stop_event=stop.name,
            retries=self.retries,
            pure=False,
        )
        pending: collections.deque[tuple[PlannedPhoto, Any]] = collections.deque()
        todo, stopping = iter(items), False
        try:
            while True:
                stopping = stopping or calls.stop(cancelled, stop)
                room = 0 if stopping else self._window(calls) - sum(f is not None for _, f in pending)
                while room > 0:
                    if (item := next(todo, None)) is None:
                        break
                    with calls.call():
                        fut = None if item.done_record is not None else send(item, key=f"{run}-{item.index}")
                    pending.append((item, fut))  # a complete photo is skipped here, not shipped
                    room -= fut is not None
                if not pending:
                    return
                item, fut = pending[0]
                if fut is None:
                    pending.popleft()
                    if not stopping:
                        started(item)
                        yield process_photo(item, options)  # SKIPPED, from its record
                    continue
                if not stopping:
                    started(item)
                stopping = stopping or calls.wait(fut, cancelled, stop)  # once stopping, result() waits
                pending.popleft()
                if (outcome := calls.outcome(item, fut)) is not None:  # None: stopped before it began
                    if stopping:
                        started(item)
                    yield outcome
        finally:
            # Ctrl+C twice, or the consumer went away: nothing more is waited for
            calls.cancel([f for _, f in pending if f is not None])
            calls.forget(stop)


def check_scheduler_address(address: str) -> None:
    """`ValueError` naming `address` unless it is `tcp://HOST:PORT` (or `tls://`), port 1-65535: Dask
    itself would fail late on it (after the model loads), with a traceback or a 20 s wait."""
    try:
        parts = urllib.parse.urlsplit(address)
        port = parts.port  # ValueError when not a number or past 65535
        host = parts.hostname or ""
    except ValueError:
        parts, port, host = None, None, ""
    if (
        parts is None
        or address.partition("://")[0] not in SCHEDULER_SCHEMES  # as typed: Dask knows "tcp", not "TCP"
        or port is None
        or not 1 <= port <= 65535
        or not _HOST.fullmatch(host)
        or (":" in host and "[" not in parts.netloc)  # tcp://a:b:1 is no host; IPv6 goes in brackets
        or parts.username is not None
        or any((parts.path, parts.query, parts.fragment, address.endswith(("?", "#"))))
    ):
        raise ValueError(
            f"{safe_text(address)} is not a Dask scheduler address: "
            "give tcp://HOST:PORT (HOST a name or IP address, PORT 1-65535; IPv6 as tcp://[::1]:8786)"
        )


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


def make_engine(name: str = "serial", **kwargs: Any) -> Engine:
    """An engine by name (`ENGINES`); `kwargs` go to its constructor."""
    if name == "serial":
        return SerialEngine()
    if name == "pipelined":
        return PipelinedEngine(**kwargs)
    if name == "dask":
        return DaskEngine(**kwargs)
    raise ValueError(f"unknown engine {name!r} (known: {', '.join(ENGINES)})")
