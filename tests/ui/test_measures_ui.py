"""The scale line, the scale panel, the layers and the scale bar in the real main window."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication

from app.core.analysis import PhotoResult
from app.core.grading import GradeScale, ReviewPolicy, assess, d610_distribution, d610_label
from app.core.inference import InferenceMode
from app.core.measures import measure_photo
from app.core.palette import DEFAULT_CLASSES
from app.core.patches import patch_outlines, patch_stats
from app.core.physical import OBLIQUE_NOTE, format_area
from app.core.share_range import range_text
from app.core.stats import area_stats
from app.core.synthetic import synthetic_pipe
from app.ui.layers import OUTLINES, UNCERTAINTY
from app.ui.qimage import qimage_to_rgb, rgb_to_qimage
from app.ui.result_state import OpenedPhoto
from bench.heartbeat import Heartbeat
from tests.ui.conftest import TIMEOUT_MS, open_and_wait, photo


def _measured(qtbot, window, layers: bool = False) -> None:
    """Wait for the measures of the label map shown in the panel; with `layers`, show the outlines and
    wait for the layer images too (they are made only while a layer shows)."""
    ui = window.measure_ui
    qtbot.waitUntil(lambda: ui.panel._figures is window.controller.result, timeout=TIMEOUT_MS)
    if layers:
        ui.layers.set_visible(OUTLINES, True)
        qtbot.waitUntil(lambda: ui._layers_of is window.controller.result.labels, timeout=TIMEOUT_MS)


def _draw(qtbot, window, start: QPoint, end: QPoint) -> float:
    """Drag with the left button from `start` to `end` (viewport pixels); the line's length in photo px."""
    viewport = window.viewer.viewport()
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=start)
    for t in (0.25, 0.5, 0.75, 1.0):
        qtbot.mouseMove(viewport, start + (end - start) * t)
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=end)
    a, b = window.viewer.mapToScene(start), window.viewer.mapToScene(end)
    return float(np.hypot(b.x() - a.x(), b.y() - a.y()))


def test_drawing_the_scale_line_and_typing_its_length_sets_mm_per_px_and_areas_in_cm2(
    qtbot, window, tmp_path
):
    path, _rgb = photo(tmp_path, 5, size=(96, 128))
    open_and_wait(qtbot, window, path)
    _measured(qtbot, window)
    ui, panel = window.measure_ui, window.measure_ui.panel
    assert "corrosion area" not in panel.values() and not panel.note_label.isVisible()
    assert "Corrosion area" not in window.figures.values()
    assert not ui.scale_bar.isVisible(), "no scale, no scale bar"
    qtbot.mouseClick(panel.draw_button, Qt.MouseButton.LeftButton)
    assert window.viewer.tool is ui.tool and window.actions and ui.draw_action.isChecked()
    centre = window.viewer.viewport().rect().center()
    length_px = _draw(qtbot, window, centre - QPoint(150, 0), centre + QPoint(150, 0))
    assert ui.tool.length == pytest.approx(length_px, abs=1e-6)
    assert panel.length_edit.isEnabled() and f"{length_px:.1f} px" in panel.line_label.text()
    qtbot.keyClicks(panel.length_edit, "114.3")  # a DN 100 pipe's outer diameter
    qtbot.keyClick(panel.length_edit, Qt.Key.Key_Return)
    scale = 114.3 / length_px
    assert ui.mm_per_px == pytest.approx(scale)
    assert window.viewer.tool is None and not panel.draw_button.isChecked(), "back to pan and zoom"
    result = window.controller.result
    values = panel.values()
    for name, pixels in result.stats.pixels.items():
        assert values[f"{name} area"] == format_area(pixels * ui.mm_per_px**2)
    assert values["corrosion area"].endswith("cm²")
    assert values["Scale"] == f"{ui.mm_per_px:.4g} mm/px"
    assert result.measures.mm_per_px == pytest.approx(scale), "the result carries the scale (PDF, edits)"
    shown = window.figures.values()
    assert shown["Corrosion area"] == format_area(result.stats.pixels["corrosion"] * scale**2)
    assert panel.note_label.text() == OBLIQUE_NOTE and panel.isVisible()
    assert ui.scale_bar.isVisible() and ui.scale_bar.bar is not None
    assert ui.scale_bar.bar.pixels == pytest.approx(ui.scale_bar.bar.mm / ui.mm_per_px)
    shown = qimage_to_rgb(window.viewer.rendered_image())
    bar = ui.scale_bar.boundingRect().toRect()
    assert (shown[bar.top() : bar.bottom(), bar.left() : bar.right()] == 255).all(axis=2).any(), "bar drawn"
    other, _ = photo(tmp_path, 6)
    open_and_wait(qtbot, window, other)
    _measured(qtbot, window)
    assert ui.mm_per_px is None and "corrosion area" not in panel.values(), "the scale is per photo"
    assert window.controller.result.measures.mm_per_px is None
    assert not ui.scale_bar.isVisible()
    open_and_wait(qtbot, window, path)
    _measured(qtbot, window)
    assert ui.mm_per_px == pytest.approx(scale) and panel.values()["corrosion area"].endswith("cm²")
    assert window.controller.result.measures.mm_per_px == pytest.approx(scale), "given to the new result"
    assert window.figures.values()["Corrosion area"].endswith("cm²")
    qtbot.mouseClick(panel.clear_button, Qt.MouseButton.LeftButton)
    assert ui.mm_per_px is None and "corrosion area" not in panel.values()


def _drawing_on_a_photo(qtbot, window, tmp_path):
    """A photo opened and measured, the scale line tool on: (measure UI, its panel, the view's centre)."""
    path, _ = photo(tmp_path, 5)
    open_and_wait(qtbot, window, path)
    _measured(qtbot, window)
    ui, panel = window.measure_ui, window.measure_ui.panel
    panel.draw_button.setChecked(True)
    return ui, panel, window.viewer.viewport().rect().center()


def test_a_zero_length_line_or_length_is_refused_with_a_reason(qtbot, window, tmp_path):
    ui, panel, centre = _drawing_on_a_photo(qtbot, window, tmp_path)
    _draw(qtbot, window, centre, centre + QPoint(80, 60))
    qtbot.keyClicks(panel.length_edit, "0")
    qtbot.keyClick(panel.length_edit, Qt.Key.Key_Return)
    assert ui.mm_per_px is None and "positive number of mm" in panel.line_label.text()
    panel.length_edit.clear()
    qtbot.keyClicks(panel.length_edit, "0.0001")  # finer than 0.1 µm a pixel: no photo's true scale
    qtbot.keyClick(panel.length_edit, Qt.Key.Key_Return)
    assert ui.mm_per_px is None and "from 0.0001 to 10,000" in panel.line_label.text()


def test_a_length_typed_with_a_comma_is_read_as_a_decimal_and_a_click_is_refused(qtbot, window, tmp_path):
    """'12,5' became 125 (the validator dropped the comma as a thousands separator): a scale ten times too
    big and areas a hundred times, everywhere. A click (a line of no length) said nothing."""
    ui, panel, centre = _drawing_on_a_photo(qtbot, window, tmp_path)
    _draw(qtbot, window, centre, centre)
    assert "no length" in panel.line_label.text() and not panel.length_edit.isEnabled()
    length_px = _draw(qtbot, window, centre, centre + QPoint(80, 60))
    qtbot.keyClicks(panel.length_edit, "12,5")
    assert panel.length_edit.text() == "12,5"
    qtbot.keyClick(panel.length_edit, Qt.Key.Key_Return)
    assert ui.mm_per_px == pytest.approx(12.5 / length_px)
    panel.draw_button.setChecked(True)
    _draw(qtbot, window, centre, centre + QPoint(80, 60))
    panel.length_edit.clear()
    qtbot.keyClicks(panel.length_edit, "1,000.5")  # 1000.5 or 1.0005? not guessed
    qtbot.keyClick(panel.length_edit, Qt.Key.Key_Return)
    assert "one decimal point or comma" in panel.line_label.text()
    assert ui.mm_per_px == pytest.approx(12.5 / length_px), "the scale set stays"


def test_a_new_photo_turns_the_scale_line_tool_off_in_the_menu_and_the_panel_too(qtbot, window, tmp_path):
    """The tool was given back on a new photo while View ▸ Draw scale line stayed ticked: the first click
    only unticked it. The length typed for the old photo's line goes too."""
    path, _ = photo(tmp_path, 5)
    other, _ = photo(tmp_path, 6)
    open_and_wait(qtbot, window, path)
    ui, panel = window.measure_ui, window.measure_ui.panel
    ui.draw_action.setChecked(True)
    centre = window.viewer.viewport().rect().center()
    _draw(qtbot, window, centre, centre + QPoint(80, 60))
    qtbot.keyClicks(panel.length_edit, "100")
    open_and_wait(qtbot, window, other)
    assert not ui.draw_action.isChecked() and not panel.draw_button.isChecked()
    assert window.viewer.tool is None and panel.length_edit.text() == ""
    ui.draw_action.setChecked(True)  # one click draws again
    assert window.viewer.tool is ui.tool


def test_the_figures_panel_shows_the_distribution_with_its_evidence_and_the_range(qtbot, window, tmp_path):
    path, _ = photo(tmp_path, 5)
    open_and_wait(qtbot, window, path)
    _measured(qtbot, window)
    result = window.controller.result
    patches = patch_stats(result.labels, result.classes)
    want = d610_distribution(patches)
    assert want is not None
    values = window.figures.values()
    assert values["D610 distribution"] == f"{want.type} ({want.name}): {want.evidence.split(': ', 1)[1]}"
    label = d610_label(result.assessment.astm, want)
    assert window.figures.grade_label.text() == f"ASTM D610: {label}" and label.endswith(f"-{want.type}")
    r = result.measures.share_range
    assert r is not None and values["Share range"] == range_text(r, GradeScale.ASTM_D610)
    assert values["Share range"].startswith("D610 ") and ", 80 % range " in values["Share range"]
    largest = window.measure_ui.panel.values()["Largest patch"]
    assert largest.startswith(f"{100.0 * patches.largest_pixels / patches.asset_pixels:.3g} % of the asset")


def test_layers_toggle_from_the_panel_keys_and_view_menu(qtbot, window, tmp_path):
    path, rgb = photo(tmp_path, 5)
    open_and_wait(qtbot, window, path)
    _measured(qtbot, window, layers=True)
    window.measure_ui.layers.set_visible(OUTLINES, False)
    ui = window.measure_ui
    result = window.controller.result
    items = ui.layer_items.items
    assert not items[OUTLINES].isVisible() and not items[UNCERTAINTY].isVisible()
    outline = qimage_to_rgb(items[OUTLINES].full_image())
    want = patch_outlines(result.labels, result.classes) > 0
    assert np.array_equal((outline.sum(axis=2) > 0), want), "the outline layer is the patches' outlines"
    unc = items[UNCERTAINTY].full_image()
    assert (unc.width(), unc.height()) == (rgb.shape[1], rgb.shape[0])
    before = qimage_to_rgb(window.viewer.rendered_image())
    check = ui.layers_widget.checks[OUTLINES]
    qtbot.mouseClick(check, Qt.MouseButton.LeftButton, pos=QPoint(8, check.height() // 2))  # the box
    assert items[OUTLINES].isVisible() and ui.layers_menu.toggles[OUTLINES].isChecked()
    after = qimage_to_rgb(window.viewer.rendered_image())
    changed = (before != after).any(axis=2)
    assert changed.any() and not changed[~want].any(), "only outline pixels change"
    window.viewer.setFocus()
    qtbot.keyClick(window, Qt.Key.Key_U)
    assert items[UNCERTAINTY].isVisible() and ui.layers_widget.checks[UNCERTAINTY].isChecked()
    ui.layers_menu.toggles[UNCERTAINTY].trigger()
    assert not items[UNCERTAINTY].isVisible()
    window.overlay_state.set_comparing(True)
    assert not items[OUTLINES].isVisible(), "the plain photo shows while comparing"
    window.overlay_state.set_comparing(False)
    assert items[OUTLINES].isVisible()


def test_patch_outlines_show_over_the_uncertainty_band(qtbot, window, tmp_path):
    """Class edges are where the model is least sure: with both layers on, the outlines are drawn on top
    of the uncertainty band, not hidden under it."""
    from app.ui.layers import OUTLINE_RGB

    path, _ = photo(tmp_path, 5)
    open_and_wait(qtbot, window, path)
    _measured(qtbot, window, layers=True)
    ui = window.measure_ui
    ui.layers.set_visible(OUTLINES, True)
    ui.layers.set_visible(UNCERTAINTY, True)
    result = window.controller.result
    on_outline = patch_outlines(result.labels, result.classes) > 0
    assert on_outline.any()
    shown = qimage_to_rgb(window.viewer.rendered_image()).astype(int)
    outline_coloured = (np.abs(shown - np.array(OUTLINE_RGB)).max(axis=2) <= 2) & on_outline
    assert outline_coloured.mean() > 0.9 * on_outline.mean(), "the outlines keep their colour"


def _result(
    rgb: np.ndarray, labels: np.ndarray, confidence: np.ndarray | None = None, path=None
) -> PhotoResult:

    stats = area_stats(labels, DEFAULT_CLASSES)
    h, w = labels.shape
    conf = np.full(labels.shape, 200, np.uint8) if confidence is None else confidence
    return PhotoResult(
        path=Path(path or "p.png"),
        width=w,
        height=h,
        stats=stats,
        assessment=assess(stats, 0.8, ReviewPolicy()),
        measures=measure_photo(labels, DEFAULT_CLASSES, None, None, stats),
        mean_confidence=0.8,
        seconds=0.0,
        analysed_at="2026-12-01T10:00:00Z",
        model_file="tiny.onnx",
        model_sha256="0" * 64,
        provider="CPU",
        mode=InferenceMode.RESIZE,
        classes=DEFAULT_CLASSES,
        labels=labels,
        confidence=conf,
    )


def test_the_layers_of_a_12_mp_result_are_made_off_the_ui_thread(qtbot, window, tmp_path, monkeypatch):
    """The layers are composed in a worker (the stall itself is measured in bench/, not timed here)."""
    import threading

    from app.ui import measure_ui

    threads = []
    real = measure_ui.compose_layers

    def spy(result):
        threads.append(threading.current_thread())
        return real(result)

    monkeypatch.setattr(measure_ui, "compose_layers", spy)
    small_rgb, small_labels = synthetic_pipe(9, (300, 400))
    rgb = np.repeat(np.repeat(small_rgb, 10, axis=0), 10, axis=1)  # 4000 x 3000
    labels = np.repeat(np.repeat(small_labels, 10, axis=0), 10, axis=1)
    rng = np.random.default_rng(0)
    confidence = rng.integers(90, 256, labels.shape, dtype=np.uint8)
    path = tmp_path / "big.png"
    state = window.controller.state
    state.set_photo(OpenedPhoto(path, rgb, rgb_to_qimage(rgb)))
    result = _result(rgb, labels, confidence, path)  # its measures are the analysis's, in its worker
    window.viewer.set_photo(state.photo.image)
    QApplication.processEvents()
    window.measure_ui.layers.set_visible(OUTLINES, True)  # layer images are made while a layer shows
    with Heartbeat() as beat:
        start = time.perf_counter()
        state.set_result(result)
        qtbot.waitUntil(lambda: window.measure_ui._layers_of is labels, timeout=120_000)
        for _ in range(5):  # the layer pixmaps are shown in the loop too
            QApplication.processEvents()
            time.sleep(0.02)
    took = time.perf_counter() - start
    assert window.measure_ui.layer_items.has_image(OUTLINES)
    print(f"12 MP layers: {took:.2f} s, longest UI stall {beat.longest_ms:.0f} ms")
    assert threads and all(t is not threading.main_thread() for t in threads)


def test_an_edit_in_place_redraws_the_outlines(qtbot, window, tmp_path):
    path, _ = photo(tmp_path, 5)
    open_and_wait(qtbot, window, path)
    _measured(qtbot, window, layers=True)
    state, ui = window.controller.state, window.measure_ui
    labels = state.result.labels.copy()  # the editor owns a copy and edits it in place
    state.set_labels(labels)
    _measured(qtbot, window, layers=True)
    labels[:, : labels.shape[1] // 2] = 0  # paint the left half corrosion, in place
    state.set_labels(labels)  # the same array, new labels
    _measured(qtbot, window, layers=True)
    outline = qimage_to_rgb(ui.layer_items.items[OUTLINES].full_image()).sum(axis=2) > 0
    assert np.array_equal(outline, patch_outlines(labels, state.result.classes) > 0)


def test_the_layer_images_are_made_only_while_a_layer_shows(qtbot, window, tmp_path, monkeypatch):
    """A hidden layer costs nothing per photo: its images are made when it is first shown."""
    from app.ui import measure_ui

    made = []
    real = measure_ui.compose_layers
    monkeypatch.setattr(measure_ui, "compose_layers", lambda result: made.append(result) or real(result))
    open_and_wait(qtbot, window, photo(tmp_path, 5)[0])
    _measured(qtbot, window)
    qtbot.wait(100)
    assert made == [] and not window.measure_ui.layer_items.has_image(OUTLINES)
    window.measure_ui.layers.set_visible(UNCERTAINTY, True)
    qtbot.waitUntil(lambda: window.measure_ui.layer_items.has_image(UNCERTAINTY), timeout=TIMEOUT_MS)
    assert len(made) == 1


def test_a_scale_line_dragged_past_the_photo_stops_at_its_edge(qtbot, window, tmp_path):
    ui, _panel, _centre = _drawing_on_a_photo(qtbot, window, tmp_path)
    window.zoom_fit()
    port = window.viewer.viewport().rect()
    _draw(qtbot, window, port.topLeft() + QPoint(1, 1), port.bottomRight() - QPoint(1, 1))  # past the photo
    rect = window.viewer.scene().sceneRect()
    assert ui.tool.length <= np.hypot(rect.width(), rect.height()) + 1e-6
    line = ui.tool.item.line()
    for p in (line.p1(), line.p2()):
        assert rect.left() <= p.x() <= rect.right() and rect.top() <= p.y() <= rect.bottom()


def test_a_scale_drawn_on_a_batch_photo_reaches_its_row_and_the_batch_csv(qtbot, window, tmp_path):
    """The panel and the photo's export gave areas once a scale line was drawn; its batch row (the batch
    CSV and PDF) kept none, reading as "no scale"."""
    from app.core.export import csv_columns, csv_row
    from app.ui.batch_exports import batch_records
    from tests.ui.test_batch import make_folder, run_batch

    folder = make_folder(tmp_path, 2, distinct=2)
    run_batch(qtbot, window, folder)
    first = window.batch_model.rows[0].path
    open_and_wait(qtbot, window, first)
    _measured(qtbot, window)
    window.measure_ui.scales.set_scale(first, 0.25)
    row = window.batch_model.rows[0]
    assert row.result.measures.mm_per_px == 0.25
    names = [c.name for c in DEFAULT_CLASSES]
    cells = dict(zip(csv_columns(names), csv_row(batch_records([row])[0], names), strict=True))
    assert cells["mm_per_px"] == "0.25" and float(cells["corrosion_area_mm2"]) == pytest.approx(
        row.result.stats.pixels["corrosion"] * 0.25**2, rel=1e-3
    )
    assert window.batch_model.rows[1].result.measures.mm_per_px is None, "the scale is the photo's own"
    window.measure_ui.scales.set_scale(first, None)
    assert window.batch_model.rows[0].result.measures.mm_per_px is None


def test_a_batch_row_of_a_photo_already_scaled_gives_its_areas(qtbot, window, tmp_path):
    from tests.ui.test_batch import make_folder, run_batch

    folder = make_folder(tmp_path, 2, distinct=2)
    first = sorted(folder.iterdir())[0]
    open_and_wait(qtbot, window, first)
    _measured(qtbot, window)
    window.measure_ui.scales.set_scale(first, 0.5)
    run_batch(qtbot, window, folder)
    rows = {r.path: r for r in window.batch_model.rows}
    assert rows[first].result.measures.mm_per_px == 0.5
    assert all(r.result.measures.mm_per_px is None for p, r in rows.items() if p != first)
