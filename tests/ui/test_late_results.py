"""A worker's result that arrives after the objects it would update are gone does nothing (no error in
Qt's event loop): the window closed while its figures were being measured."""

from __future__ import annotations

import threading

import shiboken6

from app.ui.main_window import MainWindow
from tests.ui.conftest import TIMEOUT_MS, open_and_wait, photo


def test_figures_measured_after_their_state_is_gone_are_dropped(
    qtbot, settings, model_path, tmp_path
) -> None:
    win = MainWindow(settings)
    with qtbot.waitSignal(win.controller.model_loaded, timeout=TIMEOUT_MS):
        win.controller.load_model(model_path, "cpu")
    open_and_wait(qtbot, win, photo(tmp_path, 3)[0])
    state = win.controller.state
    gate = threading.Event()
    measure = state.reassessed
    state.reassessed = lambda labels: gate.wait(30) and measure(labels)  # held until the state is gone
    win.controller._remeasure()
    shiboken6.delete(state)  # as when the window closes and Qt deletes its children
    gate.set()
    assert win.controller.pool.wait(TIMEOUT_MS)
    qtbot.wait(200)  # the queued result arrives now: it must find nothing to update and raise nothing
    win.close()
