"""The client side of a Dask batch (`app.core.engines.DaskEngine`): every call it makes to the scheduler,
and what a scheduler that goes away mid-batch means for it.

A scheduler lost mid-batch (killed, its machine gone, the network cut) is no failure of the photos: each
call to it turns the lost connection into `EngineLost`, which the batch treats as a stop (the photos not
returned yet are "not analysed", results.csv is written, the folder is released). Without this, the next
call after the loss (asking for the cluster's threads, say) raised a bare `OSError` out of the batch, and
the run ended in a traceback with no results.csv and its folder still locked.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

from app.core.analysis import PhotoFailure
from app.core.batch_types import FAILED, PhotoOutcome, PlannedPhoto
from app.core.errors import EngineLost
from app.core.text import REASON_LIMIT, safe_text

log = logging.getLogger(__name__)

# What distributed's client cancels its futures with when its connection to the scheduler closes.
LOST_REASON = "scheduler-connection-lost"
# `Client.status` values of a client that has no scheduler (any longer): reconnecting, or given up.
_NOT_CONNECTED = ("connecting", "closing", "closed")


class SchedulerCalls:
    """The batch's calls to the scheduler behind `client` (at `address`, for the messages)."""

    ASK_S = 5.0  # the longest the batch waits for the cluster's thread count (a lost scheduler: 20 s)

    def __init__(self, client: Any, address: str) -> None:
        self.client, self.address = client, address
        self.lost = False  # once true, nothing more is asked of the scheduler (each ask would wait)
        self.threads: int | None = None  # the cluster's worker threads when last asked

    @contextlib.contextmanager
    def call(self) -> Iterator[None]:
        """Around a call to the scheduler: a lost connection comes out as `EngineLost`, and a client that
        already lost it asks nothing (the call would wait for Dask's reconnection, 20 s, then fail)."""
        if self.gone():
            raise self.lost_error()
        try:
            yield
        except EngineLost:
            raise
        except Exception as exc:
            if not (isinstance(exc, (OSError, TimeoutError)) or self.gone(exc)):
                raise
            raise self.lost_error(exc) from exc

    def gone(self, exc: BaseException | None = None) -> bool:
        """Whether `exc` (or the client's state) says the scheduler is out of reach."""
        if getattr(exc, "reason", None) == LOST_REASON:
            return True
        return str(getattr(self.client, "status", "running")) in _NOT_CONNECTED

    def lost_error(self, exc: BaseException | None = None) -> EngineLost:
        """What the batch is told; from now on nothing more is asked of the scheduler."""
        self.lost = True
        closed = exc is None or getattr(exc, "reason", None) == LOST_REASON
        why = "the connection to it closed" if closed else _root(exc)
        return EngineLost(f"lost the Dask scheduler at {safe_text(self.address)}: {why}")

    def nthreads(self) -> int | None:
        """Worker threads on the cluster now (workers may join or leave as the batch runs); when the
        scheduler is slow to answer, the last count (a busy scheduler is not a lost one)."""
        with self.call():
            try:
                self.threads = sum(self.client.nthreads(callback_timeout=self.ASK_S).values())
            except TimeoutError:
                if self.gone():
                    raise
        return self.threads

    def stop(self, cancelled: Callable[[], bool], event: Any) -> bool:
        """Whether the batch is to stop; the first time, the workers are told (`event`) to begin no photo."""
        if not cancelled():
            return False
        with self.call():
            event.set()
        return True

    def wait(self, fut: Any, cancelled: Callable[[], bool], event: Any) -> bool:
        """Wait for `fut`, telling the workers at once when the batch is stopped meanwhile (so the photos
        queued behind this one do not begin); whether it was. A lost scheduler ends the wait: the client
        then cancels every future."""
        stopping = False
        while not fut.done():
            if self.gone():  # a photo sent as the connection closed is never cancelled nor finished
                raise self.lost_error()
            stopping = stopping or self.stop(cancelled, event)
            time.sleep(0.02)  # polled: a stop must reach the workers while a photo runs, not after it
        return stopping

    def outcome(self, item: PlannedPhoto, fut: Any) -> PhotoOutcome | None:
        """The outcome of `item`'s finished task; a failed one when it raised `retries + 1` times, or its
        workers kept dying; `EngineLost` when the scheduler went away before it came back (the photo is
        then not analysed: whether its worker finished it is not known here, and a rerun finds out)."""
        try:
            return fut.result()
        except Exception as exc:
            if self.gone(exc):
                raise self.lost_error(exc) from exc
            reason = f"the cluster could not run this photo: {type(exc).__name__}: {exc}"
            return PhotoOutcome(item.index, item.path, FAILED, failure=PhotoFailure(item.path, reason))

    def cancel(self, futures: list[Any]) -> None:
        """Call back photos sent and not waited for; nothing to call back from a lost scheduler."""
        if futures and not self.lost:
            with contextlib.suppress(Exception):  # in a `finally`: the error under way is the one to tell
                self.client.cancel(futures)

    def forget(self, event: Any) -> None:
        """The stop event off the scheduler (a remote one outlives the batch); a lost one is no error."""
        if self.lost:
            return
        try:
            event.clear()
        except Exception as exc:  # the cluster is going down with this batch
            log.debug("stop event not cleared: %s", exc)


def _root(exc: BaseException) -> str:
    """The first cause of `exc` (a reset connection, a time-out), in one line for the user."""
    while exc.__cause__ is not None and exc.__cause__ is not exc:
        exc = exc.__cause__
    text = str(exc).strip()
    return safe_text(f"{type(exc).__name__}: {text}" if text else type(exc).__name__, REASON_LIMIT)


@contextlib.contextmanager
def quiet_dask(level: int = logging.ERROR) -> Iterator[None]:
    """Dask's records below `level` dropped in this process (scheduler, nannies, client) while the cluster
    closes: after a Ctrl+C they tell of cut-off photos in Dask's terms. The project's own still show.
    Every `distributed` logger with a level of its own too (Dask's config gives `distributed.client` one)."""
    names = ["distributed", *(n for n in logging.root.manager.loggerDict if n.startswith("distributed."))]
    loggers = [logging.getLogger(n) for n in names]
    saved = [
        (logger, logger.level) for logger in loggers if logger.level != logging.NOTSET or logger is loggers[0]
    ]
    for logger, _level in saved:
        logger.setLevel(max(level, logger.level))
    try:
        yield
    finally:
        for logger, old in saved:
            logger.setLevel(old)


def close_quietly(calls: SchedulerCalls | None, client: Any, cluster: Any) -> None:
    """Close the client (and a local cluster). A client whose scheduler is gone closes without a word:
    it would log its cancelled reconnection as an error with a traceback, or "Failed to reconnect ..."
    20 s later; the batch says what happened, once."""
    lost = calls is not None and (calls.lost or calls.gone())
    with quiet_dask(logging.CRITICAL if lost else logging.ERROR), contextlib.suppress(Exception):
        client.close()
    if cluster is not None:
        with quiet_dask():
            cluster.close()
