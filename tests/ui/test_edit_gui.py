"""Editing in the real window with real mouse events: brush, undo/redo, review state across photos,
the question on quit, smart select, reviewed masks saved and reopened, training export."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, QRectF, Qt

from app.core.analysis import reassess
from app.core.editing import LabelEditor
from app.core.reviewed import read_reviewed_mask, reviewed_mask_path
from app.core.smart_select import SmartSelectOptions
from app.core.stats import area_stats
from app.core.synthetic import synthetic_pipe
from app.ui import review_actions
from app.ui.batch_table import COLUMNS
from app.ui.edit_tools import _point
from tests.helpers.pipe_photos import two_pipes
from tests.ui.conftest import TIMEOUT_MS, exported_pdf_text, open_and_wait, photo

LEFT = Qt.MouseButton.LeftButton
OPTIONS = SmartSelectOptions()


def viewport_pos(win, x: float, y: float) -> QPoint:
    """Where photo pixel (x, y) is on the viewer's viewport."""
    return win.viewer.mapFromScene(QPointF(x + 0.5, y + 0.5))


def drag(qtbot, win, points: list[tuple[float, float]], modifier=Qt.KeyboardModifier.NoModifier) -> list:
    """Press at the first point, move through the others, release at the last; returns the editor
    points the viewer saw (scene points of the integer viewport positions)."""
    vp = win.viewer.viewport()
    positions = [viewport_pos(win, x, y) for x, y in points]
    qtbot.mousePress(vp, LEFT, modifier, positions[0])
    for pos in positions[1:]:
        qtbot.mouseMove(vp, pos)
    qtbot.mouseRelease(vp, LEFT, modifier, positions[-1])
    return [_point(win.viewer.mapToScene(p)) for p in positions]


@pytest.fixture(autouse=True)
def _discard_on_close(monkeypatch) -> None:
    """The window fixture closes the window after each test: its edits may go without a modal question
    (a test that checks the question patches it again)."""
    monkeypatch.setattr(review_actions, "ask_discard_edits", lambda parent, names, action: True)
    monkeypatch.setattr(review_actions, "ask_unsaved_on_quit", lambda parent, names: "discard")


@pytest.fixture
def opened(qtbot, window, tmp_path: Path):
    path, _rgb = photo(tmp_path, 3, size=(96, 128))
    open_and_wait(qtbot, window, path)
    return window, path


def test_a_stroke_changes_the_figures_as_the_same_edit_in_numpy(qtbot, opened) -> None:
    win, _path = opened
    model = win.controller.state.model_labels.copy()
    ui = win.editing
    ui.set_tool("brush")
    ui.set_class("corrosion")
    ui.size_spin.setValue(6)
    seen = drag(qtbot, win, [(10, 20), (30, 25), (60, 40), (90, 42)])
    expected = model.copy()
    LabelEditor(expected).stroke(seen, 6, class_id=0)
    shown = win.controller.result
    assert np.array_equal(shown.labels, expected)
    assert not np.array_equal(expected, model)  # the stroke did something
    want = reassess(shown, expected, win.controller.policy)
    assert shown.stats == area_stats(expected, shown.classes) == want.stats
    assert win.figures.result.stats == want.stats  # the panel shows the edited figures
    assert win.figures.values() and "edited" in win.figures.source_label.text()


def test_undo_and_redo_return_the_exact_maps(qtbot, opened) -> None:
    win, _path = opened
    ui = win.editing
    model = win.controller.state.model_labels.copy()
    ui.set_tool("brush")
    ui.set_class("background")
    drag(qtbot, win, [(40, 40), (80, 50)])
    first = win.controller.result.labels.copy()
    ui.set_tool("eraser")
    drag(qtbot, win, [(50, 40), (60, 40)])
    second = win.controller.result.labels.copy()
    assert not np.array_equal(first, second)
    qtbot.keyClick(win, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert np.array_equal(win.controller.result.labels, first)
    ui.actions["undo"].trigger()
    assert np.array_equal(win.controller.result.labels, model)
    assert not ui.actions["undo"].isEnabled()
    qtbot.keyClick(win, Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)
    assert np.array_equal(win.controller.result.labels, first)
    qtbot.keyClick(win, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert np.array_equal(win.controller.result.labels, second)
    assert win.figures.result.stats == area_stats(second, win.controller.result.classes)


def test_polygon_and_flood_fill(qtbot, opened) -> None:
    win, _path = opened
    ui = win.editing
    ui.set_class("asset")
    ui.set_tool("polygon")
    vp = win.viewer.viewport()
    for x, y in [(10, 10), (50, 10), (50, 50)]:
        qtbot.mouseClick(vp, LEFT, pos=viewport_pos(win, x, y))
    qtbot.mouseClick(vp, Qt.MouseButton.RightButton, pos=viewport_pos(win, 50, 50))
    qtbot.waitUntil(lambda: not ui.edits.busy, timeout=TIMEOUT_MS)  # fills run in a worker
    labels = win.controller.result.labels
    assert labels[15, 40] == 1  # inside the triangle
    assert labels[45, 12] == win.controller.state.model_labels[45, 12]  # outside it
    ui.set_tool("fill")
    ui.set_class("background")
    qtbot.mouseClick(vp, LEFT, pos=viewport_pos(win, 40, 15))
    qtbot.waitUntil(lambda: not ui.edits.busy, timeout=TIMEOUT_MS)
    assert win.controller.result.labels[15, 40] == 2


def test_review_state_and_edits_survive_switching_photos(qtbot, window, tmp_path, monkeypatch) -> None:
    a, _ = photo(tmp_path, 3, size=(96, 128))
    b, _ = photo(tmp_path, 4, size=(96, 128))
    open_and_wait(qtbot, window, a)
    ui = window.editing
    ui.set_tool("brush")
    drag(qtbot, window, [(20, 20), (70, 60)])
    edited = window.controller.result.labels.copy()
    monkeypatch.setattr(
        ui.review, "ask_inspector", lambda name="": _Answer("Ada Inspector", "pipe edge fixed")
    )
    ui.review.mark_reviewed()
    assert window.settings.inspector_name == "Ada Inspector"
    open_and_wait(qtbot, window, b)
    assert window.editing.edits.session is None
    assert "model" in window.figures.source_label.text()
    open_and_wait(qtbot, window, a)
    session = ui.edits.session
    assert session is not None and session.review.reviewed_by == "Ada Inspector"
    assert session.review.note == "pipe edge fixed"
    assert np.array_equal(window.controller.result.labels, edited)
    assert window.figures.result.stats == area_stats(edited, window.controller.result.classes)
    assert "reviewed mask" in window.figures.source_label.text()


class _Answer:
    def __init__(self, name: str, note: str = "") -> None:
        self.name, self.note = name, note


def test_quitting_with_unsaved_edits_asks(qtbot, opened, monkeypatch) -> None:
    win, path = opened
    win.editing.set_tool("brush")
    drag(qtbot, win, [(20, 20), (40, 30)])
    asked: list[list[str]] = []

    def answer(names, reply):
        asked.append(list(names))
        return reply

    monkeypatch.setattr(review_actions, "ask_unsaved_on_quit", lambda p, n: answer(n, "cancel"))
    assert not win.close()
    assert win.isVisible() and asked == [[path.name]]
    monkeypatch.setattr(review_actions, "ask_unsaved_on_quit", lambda p, n: answer(n, "discard"))
    assert win.close()
    assert len(asked) == 2


def test_quitting_with_unsaved_edits_can_save_them_all(qtbot, window, tmp_path, monkeypatch) -> None:
    folder = tmp_path / "site"
    folder.mkdir()
    paths = [photo(folder, seed, size=(96, 128))[0] for seed in (3, 4)]
    edited = {}
    for path in paths:
        open_and_wait(qtbot, window, path)
        window.editing.set_tool("brush")
        drag(qtbot, window, [(20, 20), (60, 40)])
        edited[path] = window.controller.result.labels.copy()
    window.editing.edits.mark_reviewed("Eve")  # the photo on screen is signed, the other is not
    monkeypatch.setattr(review_actions, "ask_unsaved_on_quit", lambda p, n: "save")
    assert window.close()
    results = tmp_path / "site results"
    unsigned = read_reviewed_mask(results / f"{paths[0].stem}_mask.edited.png")
    signed = read_reviewed_mask(results / f"{paths[1].stem}_mask.reviewed.png")
    assert np.array_equal(unsigned.labels, edited[paths[0]]) and np.array_equal(
        signed.labels, edited[paths[1]]
    )
    assert signed.review.reviewed_by == "Eve"
    assert not (results / f"{paths[0].stem}_mask.reviewed.png").exists()


def test_saved_reviewed_mask_reopens_with_the_photo(qtbot, opened, tmp_path, monkeypatch) -> None:
    win, path = opened
    ui = win.editing
    ui.set_tool("brush")
    ui.set_class("corrosion")
    drag(qtbot, win, [(30, 30), (60, 30)])
    monkeypatch.setattr(ui.review, "ask_inspector", lambda name="": _Answer("Bo"))
    ui.review.mark_reviewed()
    target = reviewed_mask_path(path.parent, path.stem)
    with qtbot.waitSignal(win.controller.export_finished, timeout=TIMEOUT_MS):
        ui.review.save_reviewed_mask(target)
    edited = win.controller.result.labels.copy()
    mask = read_reviewed_mask(target, win.controller.result.size)
    assert np.array_equal(mask.labels, edited) and mask.review.reviewed_by == "Bo"
    assert not ui.edits.unsaved_sessions()
    monkeypatch.setattr(review_actions, "confirm_overwrite", lambda parent, paths: False)
    before = target.read_bytes()
    drag(qtbot, win, [(10, 10), (20, 10)])
    ui.review.save_reviewed_mask(target)  # refused replacing: nothing written
    assert target.read_bytes() == before
    ui.edits.sessions.clear()  # as in a new run of the app
    reopened = ui.edits.session_changed
    with qtbot.waitSignal(reopened, timeout=TIMEOUT_MS, check_params_cb=lambda s: s is not None):
        open_and_wait(qtbot, win, path)
    assert np.array_equal(win.controller.result.labels, edited)
    assert ui.edits.session.review.reviewed_by == "Bo"
    assert "reviewed mask" in win.figures.source_label.text()


def test_export_reviewed_photos_as_training_data(qtbot, opened, tmp_path, monkeypatch) -> None:
    win, path = opened
    ui = win.editing
    monkeypatch.setattr(ui.review, "ask_inspector", lambda name="": _Answer("Cy"))
    ui.review.mark_reviewed()
    out = tmp_path / "train"
    starts = []
    cancelled = tmp_path.parent / f"{tmp_path.name} results"  # the photos' results folder: made, unused
    monkeypatch.setattr(review_actions.QFileDialog, "getExistingDirectory", lambda *a: "")
    ui.review.export_training()
    assert not cancelled.exists(), "a cancelled dialog leaves no folder made for it"

    def pick(_parent, _title, start):
        starts.append(start)
        return str(out)

    monkeypatch.setattr(review_actions.QFileDialog, "getExistingDirectory", pick)
    with qtbot.waitSignal(win.controller.export_finished, timeout=TIMEOUT_MS) as written:
        ui.review.export_training()
    # the dialog opened in the photos' results folder (it opened in the photos' own folder)
    assert starts == [str(path.parent.absolute().parent / f"{path.parent.name} results")]
    gt_path = out / "DATASET" / "ground_truth" / f"GT_{path.stem}.png"
    gt = read_reviewed_mask(gt_path)
    assert np.array_equal(gt.labels, win.controller.result.labels)
    photo_out = out / "DATASET" / "original" / f"ORI_{path.stem}.png"
    assert written.args[0] == [photo_out, gt_path, out / "manifest.json"], "every file written is named"
    assert not Path(starts[0]).exists(), "the results folder made for the dialog and not used goes again"


def _smart_select_on(qtbot, window, path: Path, rgb: np.ndarray):
    """The photo written to `path` and opened, Smart select chosen: (the model's labels, the edit UI)."""
    from app.core.files import write_png

    write_png(path, rgb)
    open_and_wait(qtbot, window, path)
    ui = window.editing
    ui.set_tool("smart")
    return window.controller.state.model_labels.copy(), ui


def test_smart_select_box_drag_changes_the_pipe_region_and_undo_restores(qtbot, window, tmp_path) -> None:
    rgb, truth = synthetic_pipe(11, (120, 160))
    model, ui = _smart_select_on(qtbot, window, tmp_path / "pipe_box.png", rgb)
    pipe = truth != 2
    rows, cols = np.flatnonzero(pipe.any(axis=1)), np.flatnonzero(pipe.any(axis=0))
    x0, x1 = 40, 120  # a box on part of the pipe only: outside it the pipe must go
    y0, y1 = int(rows[0]) - 2, int(rows[-1]) + 2
    with qtbot.waitSignal(ui.edits.busy_changed, timeout=TIMEOUT_MS, check_params_cb=lambda b: not b):
        drag(qtbot, window, [(x0, y0), ((x0 + x1) / 2, (y0 + y1) / 2), (x1, y1)])
    labels = window.controller.result.labels
    new_pipe = labels != 2
    inside = np.zeros_like(pipe)
    inside[max(0, y0) : y1 + 1, x0 : x1 + 1] = True
    assert not new_pipe[~inside].any()  # outside the box: background
    assert (model != 2)[~inside].any()  # ... where the model had pipe
    iou = (new_pipe & pipe & inside).sum() / ((new_pipe | (pipe & inside)).sum())
    assert iou > 0.8
    assert window.figures.result.stats == area_stats(labels, window.controller.result.classes)
    ui.actions["undo"].trigger()
    assert np.array_equal(window.controller.result.labels, model)
    assert cols.size  # the synthetic pipe spans the photo

    # The working copy and seed are kept on the photo's session: a click inside the box reuses them.
    session = ui.edits.session
    kept = session.smart_photo
    assert kept is not None and kept.fits(window.controller.state.photo.rgb, session.probabilities, OPTIONS)
    with qtbot.waitSignal(ui.edits.busy_changed, timeout=TIMEOUT_MS, check_params_cb=lambda b: not b):
        qtbot.mouseClick(window.viewer.viewport(), LEFT, pos=viewport_pos(window, 80, (y0 + y1) / 2))
    assert ui.edits.session.smart_photo is kept

    # A click outside the box cannot change the region (it stays inside its box): it says so, runs nothing.
    said: list[str] = []
    ui.edits.message.connect(lambda text, _level: said.append(text))
    before = window.controller.result.labels.copy()
    qtbot.mouseClick(window.viewer.viewport(), LEFT, pos=viewport_pos(window, 140, (y0 + y1) / 2))
    qtbot.wait(200)
    assert not ui.edits.busy and np.array_equal(window.controller.result.labels, before)
    assert said and said[-1].startswith("Smart select: a click outside the box changes nothing")


def test_ctrl_drag_keeps_the_other_pipe_and_a_plain_drag_wipes_it(qtbot, window, tmp_path) -> None:
    """A photo with two pipes, a box around the upper one: Ctrl+drag leaves everything outside the box
    as it was (its clicks too), a plain drag makes it background."""
    rgb, _truth = two_pipes(120, 160)
    model, ui = _smart_select_on(qtbot, window, tmp_path / "rack.png", rgb)
    tool = ui.tools["smart"]
    x0, y0, x1, y1 = 16, 14, 144, 55  # the upper pipe spans rows 24-45, the lower one 67-88
    inside = np.zeros(model.shape, bool)
    inside[y0 - 1 : y1 + 2, x0 - 1 : x1 + 2] = True  # the box as the viewer maps it, give or take a pixel
    assert (model != 2)[67:89].mean() > 0.9, "the model sees the lower pipe"
    done = {"timeout": TIMEOUT_MS, "check_params_cb": lambda busy: not busy}

    with qtbot.waitSignal(ui.edits.busy_changed, **done):
        drag(qtbot, window, [(x0, y0), (80, 30), (x1, y1)], Qt.KeyboardModifier.ControlModifier)
    labels = window.controller.result.labels
    assert tool.marks.keep_outside and tool._rect.pen().style() == Qt.PenStyle.DashDotLine
    assert "inside the box only" in window.statusBar().currentMessage()
    assert np.array_equal(labels[~inside], model[~inside]), "outside the box all is kept"
    assert (labels != model).any(), "the box changed the upper pipe"
    at, vp = viewport_pos(window, 60, 35), window.viewer.viewport()  # a click on the pipe, with a jitter
    with qtbot.waitSignal(ui.edits.busy_changed, **done):
        qtbot.mousePress(vp, LEFT, pos=at)
        qtbot.mouseMove(vp, at + QPoint(2, 1))
        qtbot.mouseRelease(vp, LEFT, pos=at + QPoint(2, 1))
    assert tool.marks.keep_outside and len(tool.marks.include) == 1, "a click keeps the box's mode"
    bx0, by0, bx1, by1 = tool.marks.box
    assert tool._rect.rect() == QRectF(QPointF(bx0, by0), QPointF(bx1, by1)), "the box stays drawn whole"
    labels = window.controller.result.labels
    assert np.array_equal(labels[~inside], model[~inside])
    while ui.actions["undo"].isEnabled():
        ui.actions["undo"].trigger()
    assert np.array_equal(window.controller.result.labels, model)

    with qtbot.waitSignal(ui.edits.busy_changed, **done):
        drag(qtbot, window, [(x0, y0), (80, 30), (x1, y1)])
    labels = window.controller.result.labels
    assert not tool.marks.keep_outside and tool._rect.pen().style() == Qt.PenStyle.DashLine
    assert not (labels != 2)[~inside].any(), "a plain box makes outside it background: the lower pipe goes"


def test_select_similar_grows_rust_back_over_a_patch_painted_away(qtbot, opened) -> None:
    win, _path = opened
    ui = win.editing
    model = win.controller.state.model_labels.copy()
    ys, xs = np.nonzero(model == 0)
    assert ys.size > 50, "the synthetic photo has rust the tiny model sees"
    y, x = int(ys[ys.size // 2]), int(xs[xs.size // 2])
    ui.set_tool("brush")
    ui.set_class("asset")
    ui.size_spin.setValue(3)
    drag(qtbot, win, [(x - 2, y), (x + 2, y)])
    painted = (model == 0) & (win.controller.result.labels == 1)
    assert painted.any()
    ui.set_tool("similar")
    ui.tolerance_spin.setValue(30)
    keep = ~painted[ys, xs]
    near = np.argmin((ys[keep] - y) ** 2 + (xs[keep] - x) ** 2)  # rust next to the painted patch
    seed = int(xs[keep][near]), int(ys[keep][near])
    before = win.controller.result.labels.copy()
    with qtbot.waitSignal(ui.edits.busy_changed, timeout=TIMEOUT_MS, check_params_cb=lambda b: not b):
        qtbot.mouseClick(win.viewer.viewport(), LEFT, pos=viewport_pos(win, *seed))
    labels = win.controller.result.labels
    assert (labels[painted] == 0).mean() > 0.5  # the rust came back over the painted patch
    assert not ((labels == 0) & (before == 2)).any()  # never outside the pipe
    ui.undo()
    assert np.array_equal(win.controller.result.labels, before)


def _batch_of(qtbot, window, tmp_path: Path, seeds: tuple[int, ...]) -> Path:
    """A folder of small pipe photos (`pipe_<seed>.png`), run as the window's batch; the folder."""
    folder = tmp_path / "photos"
    folder.mkdir()
    for seed in seeds:
        photo(folder, seed, size=(96, 128))
    with qtbot.waitSignal(window.controller.batch_finished, timeout=TIMEOUT_MS):
        window.open_folder(folder)
    return folder


def _click_row(qtbot, window, i: int) -> None:
    """A mouse click on the batch table's row `i`, once its photo is analysed."""
    table = window.batch.table
    rect = table.visualRect(window.batch.proxy.index(i, 0))
    with qtbot.waitSignal(window.controller.photo_analyzed, timeout=TIMEOUT_MS):
        qtbot.mouseClick(table.viewport(), LEFT, pos=rect.center())


def test_batch_rows_keep_edits_and_show_the_edited_figures(qtbot, window, tmp_path) -> None:
    _batch_of(qtbot, window, tmp_path, (3, 4))
    model = window.batch_model
    batch_seconds = model.row(0).result.seconds

    _click_row(qtbot, window, 0)
    window.editing.set_tool("brush")
    window.editing.set_class("background")
    drag(qtbot, window, [(10, 30), (110, 60)])
    edited = window.controller.result.labels.copy()
    qtbot.waitUntil(lambda: model.row(0).result.stats == area_stats(edited, window.controller.result.classes))
    assert window.controller.result.seconds != batch_seconds  # the window ran the photo again
    assert model.row(0).result.seconds == batch_seconds  # the row's Time stays the batch's
    _click_row(qtbot, window, 1)
    _click_row(qtbot, window, 0)  # back: the edits are there
    assert np.array_equal(window.controller.result.labels, edited)


def test_a_batch_row_says_who_signed_its_mask_and_goes_back_on_revert(qtbot, window, tmp_path) -> None:
    from app.ui.batch_exports import batch_records

    _batch_of(qtbot, window, tmp_path, (3,))
    model = window.batch_model
    _click_row(qtbot, window, 0)
    before = model.row(0).result
    window.editing.set_tool("brush")
    window.editing.set_class("background")
    drag(qtbot, window, [(10, 30), (110, 60)])
    column = {name: i for i, name in enumerate(COLUMNS)}

    def cell(name: str) -> str:
        return model.data(model.index(0, column[name]))

    qtbot.waitUntil(lambda: model.row(0).result.labels_source == "edited", timeout=TIMEOUT_MS)
    assert cell("Review") == "needs review" and "edited" in cell("Reason")
    (unsigned,) = batch_records(model.rows)  # an edit nobody signed: its figures are named edited
    assert unsigned["figures_source"] == "edited" and unsigned["labels_source"] == "edited"

    window.editing.edits.mark_reviewed("Ann Inspector")
    qtbot.waitUntil(lambda: cell("Review") == "reviewed", timeout=TIMEOUT_MS)
    assert cell("Reason").startswith("reviewed by Ann Inspector on ") and "UTC" in cell("Reason")
    (record,) = batch_records(model.rows)  # what Export CSV writes: the reviewer, with the signed figures
    assert record["figures_source"] == "reviewed" and record["reviewed_by"] == "Ann Inspector"
    assert not record["needs_review"]

    window.editing.edits.discard(model.row(0).path)  # Revert to the model's mask
    qtbot.waitUntil(lambda: model.row(0).review is None, timeout=TIMEOUT_MS)
    assert model.row(0).result.labels_source == "model"
    assert model.row(0).result.stats == before.stats


def test_middle_button_pans_while_a_tool_is_set(qtbot, opened) -> None:
    win, _path = opened
    win.editing.set_tool("brush")
    win.viewer.zoom_by(4.0)
    bar = win.viewer.horizontalScrollBar()
    start = bar.value()
    vp, mid = win.viewer.viewport(), Qt.MouseButton.MiddleButton
    before = win.controller.result.labels.copy()
    qtbot.mousePress(vp, mid, pos=QPoint(300, 200))
    qtbot.mouseMove(vp, QPoint(200, 200))
    qtbot.mouseRelease(vp, mid, pos=QPoint(200, 200))
    assert bar.value() == start + 100
    assert np.array_equal(win.controller.result.labels, before)  # panning paints nothing


def test_exporting_an_edited_photo_writes_its_edited_mask_beside_the_mask(qtbot, opened, tmp_path) -> None:
    from app.ui import export_jobs

    win, path = opened
    win.editing.set_tool("brush")
    drag(qtbot, win, [(20, 20), (70, 50)])
    out = tmp_path / "results"
    written: list[list] = []
    win.controller.export_finished.connect(written.append)
    export_jobs.start_photo_export(win, out, ["mask", "json"])
    target = out / f"{path.stem}_mask.edited.png"  # nobody signed it: never named "reviewed"
    qtbot.waitUntil(lambda: bool(written), timeout=TIMEOUT_MS)
    assert target.is_file() and target in written[0]  # one set with the export's files
    assert np.array_equal(read_reviewed_mask(target).labels, win.controller.result.labels)
    session = win.editing.edits.session  # a copy beside the exports: the app does not look there
    assert session.unsaved and session.mask_path is None
    assert win.banner.text.startswith("Exported 3 files")


def test_the_json_exported_from_the_window_says_who_reviewed_the_figures(qtbot, opened, tmp_path) -> None:
    import json

    from app.ui import export_jobs

    win, path = opened
    win.editing.set_tool("brush")
    drag(qtbot, win, [(20, 20), (70, 50)])
    win.editing.edits.mark_reviewed("A. Inspector", "checked on site")
    out = tmp_path / "results"
    written: list[list] = []
    win.controller.export_finished.connect(written.append)
    export_jobs.start_photo_export(win, out, ["json"])
    qtbot.waitUntil(lambda: len(written) >= 1, timeout=TIMEOUT_MS)
    record = json.loads((out / f"{path.stem}.json").read_text("utf-8"))
    assert record["figures_source"] == "reviewed" and record["reviewed_by"] == "A. Inspector"
    assert record["review_note"] == "checked on site" and record["reviewed_at"]
    assert record["labels_source"] == "reviewed"  # the figures are the edited mask's


def test_a_photo_exported_right_after_an_edit_has_the_patches_of_its_edited_map(
    qtbot, opened, tmp_path
) -> None:
    """Ctrl+E before the pause that recounts patches: the JSON's share and patches describe one map (the
    edited one), never the edit's share beside the patches from before it."""
    import json

    from app.ui import export_jobs

    win, path = opened
    before = win.controller.result.measures.patches
    win.controller._measure_timer.setInterval(60_000)  # the inspector exports before it fires
    win.editing.set_tool("brush")
    win.editing.set_class("background")
    drag(qtbot, win, [(10, 30), (110, 60)])
    state = win.controller.state
    expected = reassess(state.model_result, state.result.labels.copy(), state.policy)
    assert state.measures_pending and expected.measures.patches != before
    out = tmp_path / "results"
    with qtbot.waitSignal(win.controller.export_finished, timeout=TIMEOUT_MS):
        export_jobs.start_photo_export(win, out, ["json"])
    record = json.loads((out / f"{path.stem}.json").read_text("utf-8"))
    assert record["patches"] == expected.measures.patches.to_json()
    assert record["corroded_share"] == pytest.approx(expected.stats.corroded_share, abs=1e-6)


def test_the_pdf_of_a_reviewed_photo_says_who_and_shows_the_models_figures_too(
    qtbot, opened, tmp_path
) -> None:

    win, path = opened
    win.editing.set_tool("brush")
    drag(qtbot, win, [(10, 10), (90, 60)])
    win.editing.edits.mark_reviewed("A. Inspector")
    model = win.editing.edits.model_result()
    text = exported_pdf_text(qtbot, win, tmp_path / "results", path.stem)
    assert "Reviewed by A. Inspector" in text
    assert model.stats.corroded_share != win.controller.result.stats.corroded_share
    assert f"The model's own figures: corroded share {model.stats.corroded_share:.2f} %" in text


def test_the_smart_select_box_stays_drawn_while_the_worker_runs_and_after(qtbot, opened) -> None:
    """The dashed box is on screen from the drag until the result is shown, and stays for clicks."""
    window, _path = opened
    ui = window.editing
    ui.set_tool("smart")
    tool = ui.tools["smart"]
    seen: list[tuple[bool, bool]] = []  # (busy, box drawn) at each change of busy

    def drawn() -> bool:
        rect = tool._rect
        return rect is not None and rect.isVisible() and rect.scene() is window.viewer.scene()

    ui.edits.busy_changed.connect(lambda busy: seen.append((busy, drawn())))
    with qtbot.waitSignal(ui.edits.busy_changed, timeout=TIMEOUT_MS, check_params_cb=lambda b: not b):
        drag(qtbot, window, [(10, 20), (60, 50), (110, 80)])
    assert seen == [(True, True), (False, True)]
    qtbot.wait(50)
    assert drawn() and window.controller.result.labels is not window.controller.state.model_labels


def test_a_smart_select_that_ends_after_another_photo_opened_says_it_was_not_applied(
    qtbot, opened, tmp_path, monkeypatch
) -> None:
    """Shift+click, then PgDown before the worker ends: the edit was dropped without a word."""
    import threading

    from app.ui import edit_background

    window, path = opened
    other, _ = photo(tmp_path, 4, size=(96, 128))
    gate, real = threading.Event(), edit_background.smart.smart_select
    monkeypatch.setattr(
        edit_background.smart, "smart_select", lambda *a, **k: gate.wait(30) and real(*a, **k)
    )
    said: list[str] = []
    window.editing.edits.message.connect(lambda text, _level: said.append(text))
    window.editing.set_tool("smart")
    drag(qtbot, window, [(10, 20), (60, 50), (110, 80)])
    assert window.editing.edits.busy
    open_and_wait(qtbot, window, other)
    with qtbot.waitSignal(window.editing.edits.busy_changed, timeout=TIMEOUT_MS):
        gate.set()
    assert said and said[-1].startswith(f"Smart select on {path.name} was not applied")


def test_a_photo_opened_while_the_sign_dialog_is_open_is_not_signed(qtbot, opened, monkeypatch, tmp_path):
    """D pressed just before Ctrl+Shift+R: the dialog names the first photo, the next one loads behind
    it; the signature went to the photo on screen when the dialog closed. Now nothing is signed."""
    win, first = opened
    ui = win.editing
    second, _rgb = photo(tmp_path, 7, size=(96, 128))
    messages = []
    monkeypatch.setattr(win, "show_message", lambda text, kind="info": messages.append(text))

    def dialog_while_the_next_photo_loads(name=""):
        open_and_wait(qtbot, win, second)
        return _Answer("Anna")

    monkeypatch.setattr(ui.review, "ask_inspector", dialog_while_the_next_photo_loads)
    ui.review.mark_reviewed()
    assert win.controller.result.path == second
    assert not any(s.review.is_reviewed for s in ui.edits.sessions.values()), "no photo was signed"
    assert messages and messages[-1].startswith(f"Nothing was signed: {first.name} is no longer on screen")


def test_a_photo_left_before_its_measures_came_gets_them_in_its_batch_row(qtbot, window, tmp_path) -> None:
    """Edit, then the next photo before the pause that recounts patches: the row of the photo left gets
    the patches and distribution of its edited map, never its new share beside the old patches."""
    _batch_of(qtbot, window, tmp_path, (3, 4))
    model = window.batch_model
    window.controller._measure_timer.setInterval(60_000)  # the inspector moves on before it fires

    _click_row(qtbot, window, 0)
    before = model.row(0).result
    window.editing.set_tool("brush")
    window.editing.set_class("background")
    drag(qtbot, window, [(10, 30), (110, 60)])
    state = window.controller.state
    expected = reassess(state.model_result, state.result.labels.copy(), state.policy)
    assert expected.measures.patches != before.measures.patches  # the edit changes the patches
    qtbot.wait(400)  # the batch row's own pause
    row = model.row(0).result
    assert row.stats == before.stats or row.measures.patches == expected.measures.patches  # never mixed
    _click_row(qtbot, window, 1)
    path = model.row(0).path
    qtbot.waitUntil(lambda: model.row(0).result.stats == expected.stats, timeout=TIMEOUT_MS)
    row = model.row(0).result
    assert row.measures.patches == expected.measures.patches
    assert row.measures.distribution == expected.measures.distribution
    kept = window.editing.edits.sessions[path].figures
    assert kept.stats == row.stats and kept.measures == row.measures


def test_a_photo_left_keeps_its_saved_state_and_its_recent_undo_and_redo(
    qtbot, window, tmp_path, monkeypatch
) -> None:
    from app.ui import edit_controller

    a, _ = photo(tmp_path, 3, size=(96, 128))
    b, _ = photo(tmp_path, 4, size=(96, 128))
    open_and_wait(qtbot, window, a)
    ui = window.editing
    ui.set_tool("brush")
    drag(qtbot, window, [(20, 20), (70, 60)])
    drag(qtbot, window, [(10, 80), (90, 80)])
    ui.undo()
    open_and_wait(qtbot, window, b)
    open_and_wait(qtbot, window, a)
    assert ui.actions["undo"].isEnabled() and ui.actions["redo"].isEnabled()  # within the budget: kept
    ui.edits.session.mark_saved(None)
    monkeypatch.setattr(edit_controller, "BACKGROUND_UNDO_BYTES", 0)  # a step bigger than the budget
    open_and_wait(qtbot, window, b)
    assert not ui.edits.unsaved_sessions()  # its history went, but the map is still the saved one


def test_a_batch_export_waits_for_the_recount_of_an_edit(qtbot, window, tmp_path, monkeypatch) -> None:
    """Right after an edit the batch row still holds the figures from before it (its patches are being
    recounted): an export then would give them as current, so it says to wait and writes nothing."""
    from app.ui.batch_exports import start_batch_csv_export

    folder = _batch_of(qtbot, window, tmp_path, (3, 4))
    window.controller._measure_timer.setInterval(60_000)  # the recount on screen has not come yet
    open_and_wait(qtbot, window, folder / "pipe_03.png")
    window.editing.set_tool("brush")
    drag(qtbot, window, [(10, 30), (110, 60)])
    said: list[str] = []
    monkeypatch.setattr(window, "show_message", lambda text, kind="info": said.append(text))
    table = tmp_path / "table.csv"
    assert start_batch_csv_export(window, table) is None and not table.exists()
    assert said and said[-1].startswith("Not exported yet: the figures of pipe_03.png are being recounted")
    open_and_wait(qtbot, window, folder / "pipe_04.png")  # leaving it recounts it in a worker
    qtbot.waitUntil(lambda: not window.editing.edits.recounting(), timeout=TIMEOUT_MS)
    with qtbot.waitSignal(window.controller.export_finished, timeout=TIMEOUT_MS):
        start_batch_csv_export(window, table)
    assert table.is_file()


def test_a_photo_left_keeps_its_edits_but_not_what_smart_select_can_make_again(
    qtbot, opened, tmp_path
) -> None:
    """Each edited photo's session kept smart select's photo copy and the network's probabilities for the
    whole session (+128 MB a 12 MP photo, measured over a day's editing); a session holding no change
    was kept too."""
    import numpy as np

    window, first = opened
    edits = window.editing.edits
    window.editing.set_tool("brush")
    drag(qtbot, window, [(10, 20), (60, 50)])
    session = edits.sessions[first]
    edited = session.editor.labels.copy()
    session.probabilities = np.zeros((3, 8, 8), dtype=np.float32)
    session.smart_photo = object()
    second, _ = photo(tmp_path, 6, size=(96, 128))
    open_and_wait(qtbot, window, second)
    assert edits.sessions[first] is session and np.array_equal(session.editor.labels, edited)
    assert session.probabilities is None and session.smart_photo is None
    edits.begin()  # a session begun (a stroke that changed nothing), then left
    third, _ = photo(tmp_path, 7, size=(96, 128))
    open_and_wait(qtbot, window, third)
    assert second not in edits.sessions and first in edits.sessions


def test_undo_says_when_older_steps_were_let_go_for_memory(qtbot, opened) -> None:
    """Past the undo memory budget the oldest steps went silently: Undo greyed out one step short of the
    model's mask with no word why."""
    win, _path = opened
    ui = win.editing
    ui.set_tool("brush")
    ui.set_class("background")
    drag(qtbot, win, [(40, 40), (80, 50)])
    ui.edits.session.editor.max_undo_bytes = 1  # every new step pushes the older ones out
    ui.set_class("corrosion")
    drag(qtbot, win, [(20, 60), (70, 70)])
    drag(qtbot, win, [(10, 10), (30, 80)])
    ui.actions["undo"].trigger()
    assert not ui.actions["undo"].isEnabled()
    shown = win.statusBar().currentMessage()
    assert "That was the oldest step kept: 2 older edit steps of this photo were let go" in shown
    assert "let go to keep undo memory under 1 MB" in shown


def test_an_edit_while_a_fill_runs_is_refused_saying_so(qtbot, window, tmp_path) -> None:
    """A brush stroke, undo or redo while a fill or smart select worked was dropped without a word."""
    import threading

    from app.ui.edit_controller import BUSY_TEXT

    path, _ = photo(tmp_path, 3, size=(96, 128))
    open_and_wait(qtbot, window, path)
    ui = window.editing
    release = threading.Event()
    with qtbot.waitSignal(ui.edits.busy_changed, timeout=TIMEOUT_MS):
        ui.edits._run(lambda: release.wait(30) and None, "fill")
    before = window.controller.result.labels.copy()
    assert not ui.edits.stroke_begin((10.0, 10.0), 5.0, 0)
    assert window.statusBar().currentMessage() == BUSY_TEXT
    assert np.array_equal(window.controller.result.labels, before)
    with qtbot.waitSignal(ui.edits.busy_changed, timeout=TIMEOUT_MS, check_params_cb=lambda b: not b):
        release.set()
    assert ui.edits.stroke_begin((10.0, 10.0), 5.0, 0)
    ui.edits.stroke_end()
