"""The window's views follow `ResultState` (napari's rule): one update of the figures panel per photo,
and the cursor readout speaks of the photo on screen (pytest-qt, real window, tiny ONNX model)."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.ui.figures_widget import FiguresWidget
from app.ui.main_window import MainWindow
from tests.ui.conftest import TIMEOUT_MS, open_and_wait, photo


@pytest.fixture
def counted_window(qtbot, settings, model_path: Path, monkeypatch):
    """A window whose figures panel counts the results it is given."""
    shown: list[object] = []
    original = FiguresWidget.set_result

    def counting(self, result, message: str = "") -> None:
        if result is not None:
            shown.append(result)
        original(self, result, message)

    monkeypatch.setattr(FiguresWidget, "set_result", counting)
    win = MainWindow(settings)
    qtbot.addWidget(win)
    win.show()
    with qtbot.waitSignal(win.controller.model_loaded, timeout=TIMEOUT_MS):
        win.controller.load_model(model_path, "cpu")
    yield win, shown
    win.controller.shutdown()


def test_one_photo_sets_the_figures_panel_once(qtbot, counted_window, tmp_path: Path) -> None:
    win, shown = counted_window
    for seed in (1, 2):
        shown.clear()
        open_and_wait(qtbot, win, photo(tmp_path, seed)[0])
        qtbot.wait(50)  # queued updates, if any, land
        assert shown == [win.controller.result]
        assert win.figures.result is win.controller.result


def test_the_readout_forgets_the_last_photos_classes(qtbot, window, tmp_path: Path) -> None:
    open_and_wait(qtbot, window, photo(tmp_path, 1)[0])
    window.readout.show_at(3, 3)
    assert "·" in window.readout.text()  # a class and its probability
    with qtbot.waitSignal(window.controller.photo_opened, timeout=TIMEOUT_MS):
        window.controller.model = None  # the next photo only opens: it has no result
        window.open_photo(photo(tmp_path, 2)[0])
    window.readout.show_at(3, 3)
    assert window.readout.text() == "x 3, y 3"


def test_the_figures_panel_states_the_models_typical_error_where_the_model_gives_it(
    qtbot, window, tmp_path: Path
) -> None:
    open_and_wait(qtbot, window, photo(tmp_path, 1)[0])
    model, label = window.controller.model, window.figures.accuracy_label
    line = getattr(model, "accuracy_line", None)  # the figures core's API (the model's own metadata)
    line = line() if callable(line) else line
    if line is None:  # a model API without the typical error: no line rather than a made-up one
        assert not label.isVisible()
    else:
        assert label.isVisible() and label.text() == line and label.toolTip()
