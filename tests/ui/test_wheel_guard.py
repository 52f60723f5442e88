"""The wheel over the side panel scrolls it: the grade scale combo (ASTM D610 -> ISO 4628-3 had changed the
grades and exports) and the opacity sliders change on the wheel only once focused (pytest-qt, real
window, tiny ONNX model)."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent, QWindow
from PySide6.QtWidgets import QApplication, QScrollArea, QWidget

from app.ui.wheel_guard import WheelGuard
from tests.ui.conftest import open_and_wait, photo


def _wheel_down(widget: QWidget) -> None:
    """One notch of the wheel down, over the middle of `widget`."""
    at = QPointF(widget.width() / 2, widget.height() / 2)
    event = QWheelEvent(
        at,
        QPointF(widget.mapToGlobal(at.toPoint())),
        QPoint(0, 0),
        QPoint(0, -120),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(widget, event)


def _side_scroll(window) -> QScrollArea:
    return window.findChild(QWidget, "dock_panel").widget()


def test_the_wheel_over_the_grade_scale_scrolls_the_panel(qtbot, window, tmp_path) -> None:
    window.resize(1000, 500)  # the side panel scrolls
    open_and_wait(qtbot, window, photo(tmp_path, 5)[0])
    combo, bar = window.figures.scale_combo, _side_scroll(window).verticalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 0)
    before, scale = bar.value(), window.grade_scale
    window.setFocus()
    _wheel_down(combo)
    assert window.grade_scale == scale and combo.currentIndex() == 0, "the grade scale stays"
    assert bar.value() > before, "the panel scrolled"
    assert combo.focusPolicy() == Qt.FocusPolicy.StrongFocus  # the wheel does not focus it
    combo.setFocus()  # clicked or tabbed into: now the wheel is the user's choice
    qtbot.waitUntil(combo.hasFocus)
    _wheel_down(combo)
    assert combo.currentIndex() == 1


def test_the_wheel_over_an_opacity_slider_leaves_it(qtbot, window, tmp_path) -> None:
    open_and_wait(qtbot, window, photo(tmp_path, 5)[0])
    class_id = window.overlay_state.classes[0].id
    slider = window.overlay_panel.slider(class_id)
    value = slider.value()
    window.setFocus()
    _wheel_down(slider)
    assert slider.value() == value
    assert window.overlay_state.opacity(class_id) * 100 == value


def test_the_guard_lets_wheel_events_to_windows_pass(qtbot) -> None:
    """On X11 a real wheel event reaches the QWindow first: the guard crashed on it (no hasFocus)."""
    window = QWindow()
    event = QWheelEvent(
        QPointF(1, 1),
        QPointF(1, 1),
        QPoint(0, 0),
        QPoint(0, -120),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    assert WheelGuard().eventFilter(window, event) is False
