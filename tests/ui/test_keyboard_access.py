"""Screen readers and the keyboard in the main window: each control says what it is (the three opacity
sliders all said "Overlay", the toolbar's spin boxes and the viewer nothing, the grade scale box its
value), and Tab goes top to bottom through the side panel (pytest-qt, real window, tiny ONNX model)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAccessible, QColor, QPalette
from PySide6.QtWidgets import QScrollArea, QWidget

from tests.ui.conftest import open_and_wait, photo


def _said(widget: QWidget) -> str:
    """The name a screen reader reads for `widget`."""
    return QAccessible.queryAccessibleInterface(widget).text(QAccessible.Text.Name)


def _labelled_by(widget: QWidget) -> list[str]:
    """The labels a screen reader reads with `widget` (on Linux a combo box's own name is its value)."""
    relations = QAccessible.queryAccessibleInterface(widget).relations(QAccessible.RelationFlag.Label)
    return [label.text(QAccessible.Text.Name) for label, _flag in relations]


def test_each_control_has_its_own_accessible_name(qtbot, window, tmp_path) -> None:
    open_and_wait(qtbot, window, photo(tmp_path, 5)[0])
    classes = window.overlay_state.classes
    assert len(classes) >= 2
    for info in classes:
        assert _said(window.overlay_panel.slider(info.id)) == f"Opacity of {info.name}"
    assert _said(window.findChild(QWidget, "brush_size")) == "Brush size"
    assert _said(window.findChild(QWidget, "similar_tolerance")) == "Similar colour tolerance"
    combo = window.figures.scale_combo
    assert combo.accessibleName() == "Grade scale" and "Grade scale" in _labelled_by(combo)
    assert _labelled_by(window.findChild(QWidget, "brush_size")) == ["Brush"]
    assert _said(window.viewer) == "Photo and overlay"
    assert _said(window.batch.table) == "Batch photos"


def _tab_stops_from(widget: QWidget, count: int) -> list[QWidget]:
    """The next `count` widgets Tab stops at after `widget` (shown, enabled, taking Tab focus)."""
    stops, at = [], widget.nextInFocusChain()
    while len(stops) < count and at is not widget:
        taking = at.focusPolicy() & Qt.FocusPolicy.TabFocus and at.focusProxy() is None
        if taking and at.isVisible() and at.isEnabled():
            stops.append(at)
        at = at.nextInFocusChain()
    return stops


def test_tab_goes_from_the_photo_down_the_side_panel(qtbot, window, tmp_path) -> None:
    open_and_wait(qtbot, window, photo(tmp_path, 5)[0])
    panel = window.overlay_panel
    first = window.overlay_state.classes[0]
    stops = _tab_stops_from(window.viewer, 8)
    # the overlay's first row right after the photo (the panel's scroll area is no stop), then its slider
    assert stops[:2] == [panel.check_box(first.id), panel.slider(first.id)], stops
    outlines = next(iter(window.measure_ui.layers_widget.checks.values()))  # "Patch outlines  (O)"
    stops = _tab_stops_from(window.viewer, 40)
    assert stops.index(panel.slider(window.overlay_state.classes[-1].id)) < stops.index(outlines)
    assert stops.index(outlines) < stops.index(window.figures.scale_combo)
    assert all(not isinstance(stop, QScrollArea) for stop in stops)


def _edge_colours(viewer) -> set[str]:
    image = viewer.viewport().grab().toImage()
    ratio = image.devicePixelRatio()
    return {QColor(image.pixel(int(x * ratio), int(1 * ratio))).name() for x in range(10, 40)}


def test_the_photo_shows_when_it_has_the_keyboard(qtbot, window, tmp_path) -> None:
    """The viewer is a Tab stop (arrows pan, + and - zoom): with the focus it has a highlight frame."""
    open_and_wait(qtbot, window, photo(tmp_path, 5)[0])
    highlight = window.viewer.palette().color(QPalette.ColorRole.Highlight).name()
    window.figures.scale_combo.setFocus()
    qtbot.waitUntil(lambda: not window.viewer.hasFocus())
    assert highlight not in _edge_colours(window.viewer)
    window.viewer.setFocus()
    qtbot.waitUntil(window.viewer.hasFocus)
    assert _edge_colours(window.viewer) == {highlight}
