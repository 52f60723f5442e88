"""Edits and a photo analysed again or being replaced: after Fine detail or another model the eraser and
Revert gave back the first model's map, which nothing else showed any more; a stroke made while the next
photo loaded landed on the photo being left."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt

from tests.helpers.tiny_models import CHANNEL_OF_CLASS, channel_model
from tests.ui.conftest import TIMEOUT_MS, open_and_wait, photo
from tests.ui.test_edit_gui import _discard_on_close, drag  # noqa: F401  (the fixture: no question at close)


def test_edits_stay_over_the_new_model_map_after_another_analysis(qtbot, window, tmp_path: Path) -> None:
    path, _rgb = photo(tmp_path, 3, size=(96, 128))
    open_and_wait(qtbot, window, path)
    window.editing.set_tool("brush")
    drag(qtbot, window, [(20, 20), (70, 50)])
    session = window.editing.edits.session
    edited = session.editor.labels.copy()
    swapped = channel_model(tmp_path / "swapped.onnx", channels=tuple(reversed(CHANNEL_OF_CLASS)))
    with qtbot.waitSignal(window.controller.photo_analyzed, timeout=TIMEOUT_MS):
        window.controller.load_model(swapped, "cpu")
    new_map = window.controller.state.model_labels
    assert window.editing.edits.session is session and np.array_equal(session.editor.labels, edited)
    assert not np.array_equal(new_map, edited)
    assert np.array_equal(session.editor.model_labels, new_map), "the eraser gives the new model's map"
    assert "was analysed again: your edits are kept over the new model mask" in window.banner.text


def test_a_stroke_while_the_next_photo_opens_changes_nothing(qtbot, window, tmp_path: Path) -> None:
    first, _ = photo(tmp_path, 3, size=(96, 128), name="first.png")
    second, _ = photo(tmp_path, 4, size=(96, 128), name="second.png")
    open_and_wait(qtbot, window, first)
    window.editing.set_tool("brush")
    with qtbot.waitSignal(window.controller.photo_analyzed, timeout=TIMEOUT_MS):
        window.open_photo(second)
        drag(qtbot, window, [(20, 20), (70, 50)])  # while "Analysing second.png…"
    assert first not in window.editing.edits.sessions, "no edit landed on the photo being left"
    assert window.controller.result.path == second


def test_a_map_back_to_the_models_shows_the_models_figures_at_once(qtbot, window, tmp_path: Path) -> None:
    """After an undo back to the model's map (or a stroke that changed nothing) the panel said "edited, not
    marked reviewed yet" with no range until the recount came back."""
    path, _rgb = photo(tmp_path, 3, size=(96, 128))
    open_and_wait(qtbot, window, path)
    own = window.controller.state.model_result
    window.controller._measure_timer.setInterval(60_000)  # no recount comes to the rescue
    window.editing.set_tool("brush")
    drag(qtbot, window, [(20, 20), (70, 50)])
    assert window.controller.result.labels_source != own.labels_source
    window.editing.edits.undo()
    shown = window.controller.result
    assert shown.labels_source == own.labels_source and shown.measures.share_range == own.measures.share_range
    assert shown.assessment == own.assessment
    assert "edited, not marked reviewed" not in window.figures.review_label.text()


def test_esc_cancels_a_fill_still_running(qtbot, window, tmp_path: Path, monkeypatch) -> None:
    """A flood fill or smart select over a 50 MP photo ran for seconds with no way to stop it; Esc now
    drops it: editing goes on at once and its edit, when it comes, is not applied."""
    import threading

    from app.core.editing import LabelEditor

    path, _rgb = photo(tmp_path, 3, size=(96, 128))
    open_and_wait(qtbot, window, path)
    release = threading.Event()
    real = LabelEditor.fill_edit

    def slow(editor, point, class_id):
        release.wait(10)
        return real(editor, point, class_id)

    monkeypatch.setattr(LabelEditor, "fill_edit", slow)
    edits = window.editing.edits
    before = window.controller.result.labels.copy()
    worker = edits.flood_fill((40.0, 15.0), 2)
    assert edits.busy
    window.editing.actions["cancel_tool"].trigger()  # Esc
    assert not edits.busy and "Cancelled" in window.statusBar().currentMessage()
    finished: list[bool] = []
    worker.signals.finished.connect(lambda: finished.append(True))
    release.set()
    qtbot.waitUntil(lambda: bool(finished), timeout=TIMEOUT_MS)
    qtbot.wait(50)
    assert np.array_equal(window.controller.result.labels, before), "the cancelled fill was not applied"
    window.editing.set_tool("brush")
    drag(qtbot, window, [(20, 20), (70, 50)])
    assert edits.session is not None and edits.session.edited


def test_the_smart_select_hint_goes_once_a_box_is_drawn(qtbot, window, tmp_path: Path) -> None:
    """ "Smart select: first drag a box…" stayed up after the box was drawn and its edit applied."""
    from app.ui.edit_tools import SMART_NEEDS_BOX
    from tests.ui.test_edit_gui import viewport_pos

    path, _rgb = photo(tmp_path, 3, size=(96, 128))
    open_and_wait(qtbot, window, path)
    window.editing.set_tool("smart")
    qtbot.mouseClick(window.viewer.viewport(), Qt.MouseButton.LeftButton, pos=viewport_pos(window, 60, 40))
    assert window.banner.text == SMART_NEEDS_BOX
    with qtbot.waitSignal(
        window.editing.edits.busy_changed, timeout=TIMEOUT_MS, check_params_cb=lambda b: not b
    ):
        drag(qtbot, window, [(10, 20), (60, 50), (110, 80)])
    assert window.banner.text != SMART_NEEDS_BOX
