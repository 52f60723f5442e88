"""superqt-style thread workers: a QRunnable whose signals live on a separate QObject.

`run()` catches everything and emits `failed`, and always emits `finished`; cancel is a flag checked
between the items a generator function yields, or by the work itself (`cancelled=lambda:
worker.is_cancelled`, e.g. `segment`'s check per tile), which then raises `Cancelled`. Workers call
core code and never touch widgets.

A started worker's signals belong to its pool (a child of the window's controller) until it finished:
when the window goes, Qt deletes the pool, which first waits for its threads and then deletes those
signals, dropping every result still queued for delivery (a slot would find its objects gone).
"""

from __future__ import annotations

import inspect
import logging
import weakref
from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from app.core.errors import Cancelled, CorroscopeError

log = logging.getLogger(__name__)


def alive(obj: QObject) -> bool:
    """Whether Qt still holds `obj`: a worker's result can arrive after the window that asked for it
    closed, and a slot must then do nothing (its objects' C++ halves are gone)."""
    return shiboken6.isValid(obj)


class WorkerSignals(QObject):
    """Signals of one worker; created on the UI thread, so slots run there (queued connections)."""

    started = Signal()
    yielded = Signal(object)  # one item from a generator function (a batch row, a loaded photo, ...)
    returned = Signal(object)  # the function's return value, when it was not cancelled
    failed = Signal(str)  # a message a user can act on
    cancelled = Signal()
    progressed = Signal(int, int)  # (done, total) steps within one item, e.g. the tiles of a photo
    finished = Signal()  # always, last


class Worker(QRunnable):
    """Runs `fn(*args, **kwargs)` on a thread pool; a generator's items arrive through `yielded`."""

    def __init__(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        super().__init__()
        self.setAutoDelete(False)  # the owner keeps a reference until `finished`
        self._fn = fn
        self._args = args
        self._kwargs = kwargs
        self._cancel_requested = False
        self.signals = WorkerSignals()

    def cancel(self) -> None:
        """Ask the work to stop at its next item; `cancelled` and `finished` follow."""
        self._cancel_requested = True

    @property
    def is_cancelled(self) -> bool:
        return self._cancel_requested

    def with_callbacks(self) -> Worker:
        """Also pass the work `cancelled=` (asks this worker's flag) and `progress=` (emits
        `progressed`), for work that can stop or report within one item (the tiles of a photo)."""
        self._kwargs["cancelled"] = lambda: self._cancel_requested
        self._kwargs["progress"] = lambda done, total: self.signals.progressed.emit(done, total)
        return self

    def run(self) -> None:
        sig = self.signals
        try:
            sig.started.emit()
            if inspect.isgeneratorfunction(self._fn):
                gen = self._fn(*self._args, **self._kwargs)
                value = None
                try:
                    while True:
                        if self._cancel_requested:
                            gen.close()
                            break
                        sig.yielded.emit(next(gen))
                except StopIteration as stop:
                    value = stop.value
            else:
                value = self._fn(*self._args, **self._kwargs)
            if self._cancel_requested:
                sig.cancelled.emit()
            else:
                sig.returned.emit(value)
        except Cancelled:  # the work saw the flag itself, mid-item
            sig.cancelled.emit()
        except CorroscopeError as exc:
            sig.failed.emit(str(exc))
        except MemoryError:
            sig.failed.emit("Not enough memory for this photo; close other programs or use a smaller photo.")
        except Exception as exc:  # a worker must never take the app down
            log.exception("worker %s failed", getattr(self._fn, "__name__", self._fn))
            sig.failed.emit(f"Unexpected error ({type(exc).__name__}: {exc})")
        finally:
            # the work's inputs (a photo, its label map, an export's arrays) go now: a worker object
            # kept by a caller, or a cycle through its signals, must not keep them for the session
            self._fn, self._args, self._kwargs = _done, (), {}
            sig.finished.emit()


def _done(*_args: Any, **_kwargs: Any) -> None:
    """What a finished worker holds instead of its work."""


class WorkerPool(QObject):
    """Starts workers on a QThreadPool and keeps them alive until they finish."""

    def __init__(self, parent: QObject | None = None, max_threads: int = 2) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(max_threads)
        self._running: set[Worker] = set()

    def start(self, worker: Worker) -> Worker:
        """Run `worker`; its signals are the pool's until it finished (deleted with the pool)."""
        worker.signals.setParent(self)
        self._running.add(worker)
        # a weak reference: the worker holds its signals, whose C++ connection would hold the worker,
        # a cycle Python's collector cannot see (every finished worker and its inputs stayed for good)
        ref = weakref.ref(worker)
        worker.signals.finished.connect(lambda: self._finished(ref()))
        self._pool.start(worker)
        return worker

    def _finished(self, worker: Worker | None) -> None:
        if worker is None:
            return
        self._running.discard(worker)
        # Delivered: back to Python, freed with the worker (a long session keeps none). Never deleted
        # here: the worker's thread may still be inside its last emit, and Qt forbids that.
        worker.signals.setParent(None)

    @property
    def active(self) -> int:
        return len(self._running)

    def cancel_all(self) -> None:
        for worker in list(self._running):
            worker.cancel()

    def wait(self, msecs: int = 30000) -> bool:
        """Cancel nothing; wait for running workers (used on close and in tests)."""
        return self._pool.waitForDone(msecs)
