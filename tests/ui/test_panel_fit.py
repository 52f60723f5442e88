"""The side panel and the status bar at the window's default size and on a 1280 x 800 screen: wrapped
figures shown whole, a tooltip on every figure, the scale once, where the model runs not cut off
(pytest-qt, real window, tiny ONNX model)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import QSize
from PySide6.QtWidgets import QApplication, QLabel

from app.ui.figures_widget import FiguresWidget
from app.ui.main_window import MainWindow, default_size
from app.ui.measures_widget import MeasuresWidget
from tests.ui.conftest import TIMEOUT_MS, open_and_wait, photo

SHIPPED_NAME = "corrosion-deeplabv3plus-mobilenetv2.int8.onnx"  # the bundled model's file name
# the default size; what a 1280 x 800 screen leaves it; 1280 x 800 itself
SIZES = [(1280, 820), (1272, 760), (1280, 800)]


def _side_labels(window: MainWindow) -> list[QLabel]:
    panels = [window.findChild(FiguresWidget), window.findChild(MeasuresWidget)]
    return [lab for p in panels for lab in p.findChildren(QLabel) if lab.isVisible()]


def _shown_with_figures(qtbot, window: MainWindow, tmp_path: Path, size: tuple[int, int]) -> None:
    window.resize(*size)
    open_and_wait(qtbot, window, photo(tmp_path, 5)[0])
    qtbot.wait(100)  # the layout settles (scroll bar shown or not)


@pytest.mark.parametrize("size", SIZES)
def test_wrapped_figures_get_the_height_their_text_needs(qtbot, window, tmp_path, size) -> None:
    _shown_with_figures(qtbot, window, tmp_path, size)
    wrapped = [lab for lab in _side_labels(window) if lab.wordWrap() and lab.text()]
    assert len(wrapped) >= 5, "the range, patches, distribution, review and accuracy lines wrap"
    for lab in wrapped:
        need = lab.heightForWidth(lab.contentsRect().width())
        assert lab.contentsRect().height() >= need, (lab.text(), lab.size(), need)


def test_every_figure_has_a_tooltip_saying_what_it_means(qtbot, window, tmp_path) -> None:
    _shown_with_figures(qtbot, window, tmp_path, SIZES[0])
    figures = window.findChild(FiguresWidget)
    shown = [lab for lab in figures.findChildren(QLabel) if lab.isVisible() and lab.text()]
    assert len(shown) >= 12
    for lab in shown:
        if lab.text() == "Grade scale":  # the combo's caption, not a figure
            continue
        assert len(lab.toolTip()) > 20, lab.text()
    assert "corrosion pixels" in figures.findChild(QLabel, "figure:Corroded share of the asset").toolTip()


def test_the_scale_is_shown_once(qtbot, window, tmp_path) -> None:
    _shown_with_figures(qtbot, window, tmp_path, SIZES[0])
    with qtbot.waitSignal(window.controller.state.figures_changed, timeout=TIMEOUT_MS):
        window.measure_ui.scales.set_scale(window.controller.current.path, 0.25)
    qtbot.wait(50)
    showing = [lab.text() for lab in _side_labels(window) if "mm/px" in lab.text()]
    assert showing == ["0.25 mm/px"]
    assert "Corrosion area" in window.figures.values(), "the areas stay"


def test_the_default_size_fits_the_screen() -> None:
    assert default_size(QSize(1920, 1080)) == QSize(1280, 820)
    assert default_size(QSize(1280, 800)) == QSize(1272, 760)


def test_a_new_window_and_its_status_bar_lie_on_the_screen(qtbot, settings) -> None:
    window = MainWindow(settings)  # no saved geometry: the default size
    qtbot.addWidget(window)
    window.show()
    qtbot.wait(50)
    screen, frame = window.screen().availableGeometry(), window.frameGeometry()
    assert frame.width() <= screen.width() and frame.height() <= screen.height(), (frame, screen)
    bar = window.statusBar()
    assert bar.isVisible() and bar.geometry().bottom() < window.height()


def test_where_the_model_runs_and_why_not_cuda_is_shown_whole_at_1280(qtbot, settings, model_path, tmp_path):
    shipped = Path(shutil.copyfile(model_path, tmp_path / SHIPPED_NAME))  # a real file name's length
    window = MainWindow(settings)
    qtbot.addWidget(window)
    window.resize(*SIZES[1])
    window.show()
    with qtbot.waitSignal(window.controller.model_loaded, timeout=TIMEOUT_MS):
        window.controller.load_model(shipped, "cpu")
    QApplication.processEvents()
    label, model = window.provider_label, window.controller.model
    assert model.cuda_note and model.cuda_note in label.text()
    assert QLabel.text(label) == label.text(), "not elided"
    assert label.geometry().right() < window.statusBar().width()
    assert SHIPPED_NAME in label.toolTip()
    window.controller.shutdown()
