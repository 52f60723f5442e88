"""Workers on a real thread pool: results and failures by signals, `finished` always, cancel flag."""

from __future__ import annotations

import threading
import time

import pytest

from app.core.errors import ImageReadError
from app.ui.workers import Worker, WorkerPool


@pytest.fixture
def pool(qapp):
    pool = WorkerPool(max_threads=2)
    yield pool
    pool.cancel_all()
    pool.wait()


def test_returned_value_arrives_on_the_ui_thread(qtbot, pool):
    seen = {}

    def job(a, b):
        seen["thread"] = threading.current_thread()
        return a + b

    worker = Worker(job, 2, 3)
    got = []
    worker.signals.returned.connect(got.append)
    with qtbot.waitSignals([worker.signals.returned, worker.signals.finished]):
        pool.start(worker)
    assert got == [5]
    assert seen["thread"] is not threading.main_thread()


def test_our_errors_become_failed_with_their_message(qtbot, pool):
    def job():
        raise ImageReadError("broken.jpg: not a photo")

    worker = Worker(job)
    got = []
    worker.signals.failed.connect(got.append)
    with qtbot.waitSignals([worker.signals.failed, worker.signals.finished]):
        pool.start(worker)
    assert got == ["broken.jpg: not a photo"]


def test_unexpected_errors_also_fail_and_finish(qtbot, pool):
    worker = Worker(lambda: 1 / 0)
    got = []
    worker.signals.failed.connect(got.append)
    with qtbot.waitSignals([worker.signals.failed, worker.signals.finished]):
        pool.start(worker)
    assert len(got) == 1 and "ZeroDivisionError" in got[0]


def test_generator_items_then_return(qtbot, pool):
    def job(n):
        yield from range(n)
        return "done"

    worker = Worker(job, 4)
    items = []
    worker.signals.yielded.connect(items.append)
    with qtbot.waitSignal(worker.signals.returned) as blocker:
        pool.start(worker)
    assert blocker.args == ["done"]
    qtbot.waitUntil(lambda: len(items) == 4)
    assert items == [0, 1, 2, 3]


def test_cancel_stops_between_items_and_still_finishes(qtbot, pool):
    closed = threading.Event()

    def job():
        try:
            for i in range(1000):
                time.sleep(0.005)
                yield i
        finally:
            closed.set()

    worker = Worker(job)
    items = []
    worker.signals.yielded.connect(items.append)
    returned = []
    worker.signals.returned.connect(returned.append)
    with qtbot.waitSignals([worker.signals.cancelled, worker.signals.finished], timeout=10_000):
        pool.start(worker)
        qtbot.waitUntil(lambda: len(items) >= 3)
        worker.cancel()
    assert closed.is_set()
    assert len(items) < 1000
    assert returned == []
    # The pool forgets the worker in its own queued slot of `finished`, which may run just after ours.
    qtbot.waitUntil(lambda: pool.active == 0, timeout=2_000)


def test_a_cancel_seen_by_the_work_itself_ends_as_cancelled(qtbot, pool, tiny_model):
    """Fine mode checks the flag before each tile: the worker stops mid-photo and reports `cancelled`."""
    from app.core.inference import InferenceOptions, segment
    from app.core.synthetic import synthetic_pipe

    rgb, _ = synthetic_pipe(seed=4, size=(240, 320))
    steps = []

    def progress(done, total):
        steps.append(done)
        if done == 2:
            worker.cancel()

    worker = Worker(
        segment,
        tiny_model,
        rgb,
        InferenceOptions(mode="tiles"),
        progress=progress,
        cancelled=lambda: worker.is_cancelled,
    )
    failed, returned = [], []
    worker.signals.failed.connect(failed.append)
    worker.signals.returned.connect(returned.append)
    with qtbot.waitSignals([worker.signals.cancelled, worker.signals.finished], timeout=10_000):
        pool.start(worker)
    assert steps == [1, 2] and failed == [] and returned == []


def test_results_queued_for_a_pool_that_is_gone_are_dropped(qtbot) -> None:
    """The window closed after the work finished but before its result was delivered: Qt deletes the
    pool with the window, and the queued result goes with it (a slot would find its objects gone)."""
    import shiboken6
    from PySide6.QtCore import QObject

    owner = QObject()  # the window's controller
    pool = WorkerPool(owner)
    got: list[object] = []
    worker = Worker(lambda: 42)
    worker.signals.returned.connect(got.append)  # a plain callable: nothing for Qt to watch
    pool.start(worker)
    assert pool.wait(5000)  # finished; its result is queued, not delivered (no event processed yet)
    shiboken6.delete(owner)
    qtbot.wait(100)
    assert got == []


def test_a_finished_worker_lets_go_of_its_inputs(qtbot, pool):
    """The pool (PySide keeps every runnable started on a QThreadPool) and a cycle through the signals'
    connections kept each finished worker, and so its inputs, for the whole session: an export's
    photo array or a 50 MP label map per action."""
    import gc
    import weakref

    import numpy as np

    photo = np.zeros((64, 64, 3), dtype=np.uint8)
    gone = weakref.ref(photo)
    worker = Worker(lambda rgb, scale=1: int(rgb.sum()) * scale, photo, scale=2)
    del photo
    with qtbot.waitSignal(worker.signals.finished, timeout=5000):
        pool.start(worker)
    qtbot.wait(20)
    gc.collect()
    assert gone() is None, "the photo is still held by a finished worker"
