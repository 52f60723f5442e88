"""First impression and reading aids: the empty canvas, Help, shortcuts, Ctrl+=, the cursor readout,
the overlay in the View menu, labels that are not cut off."""

from __future__ import annotations

import re

import numpy as np
from PySide6.QtCore import QEvent, QObject, QPointF, Qt, QUrl, Slot
from PySide6.QtGui import QDesktopServices, QKeySequence, QMouseEvent
from PySide6.QtWidgets import QApplication, QDialog

from app.ui import review_actions
from app.ui.help_dialogs import KeyboardShortcutsDialog, user_guide_path
from app.ui.image_viewer_widget import PLACEHOLDER_TEXT
from app.ui.main_window import MainWindow
from app.ui.model_menu import loaded_text
from app.ui.qimage import qimage_to_rgb
from app.ui.readout_widget import readout_text
from app.ui.window_actions import ACTIONS
from tests.ui.conftest import open_and_wait, photo
from tests.ui.test_batch import make_folder, run_batch


class _UrlCatcher(QObject):
    """Takes file:// URLs in place of the desktop (Qt's own hook for this)."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[QUrl] = []

    @Slot(QUrl)
    def open(self, url: QUrl) -> None:
        self.urls.append(url)


def test_empty_canvas_says_how_to_start(qtbot, settings):
    win = MainWindow(settings)
    qtbot.addWidget(win)
    win.resize(900, 600)
    win.show()
    assert win.viewer.placeholder_text == PLACEHOLDER_TEXT
    assert PLACEHOLDER_TEXT == "Open a photo (Ctrl+O) or drop photos or a folder here"
    drawn = qimage_to_rgb(win.viewer.viewport().grab().toImage())
    assert (drawn.max(axis=2) > 150).sum() > 200, "the text is drawn on the empty canvas"


def test_canvas_text_goes_once_a_photo_shows(qtbot, window, tmp_path):
    open_and_wait(qtbot, window, photo(tmp_path, 3)[0])
    with_text = qimage_to_rgb(window.viewer.viewport().grab().toImage())
    window.viewer.placeholder_text = ""
    without = qimage_to_rgb(window.viewer.viewport().grab().toImage())
    np.testing.assert_array_equal(with_text, without)


def test_help_opens_the_local_user_guide(qtbot, window):
    catcher = _UrlCatcher()
    QDesktopServices.setUrlHandler("file", catcher, "open")
    try:
        window.actions["user_guide"].trigger()
    finally:
        QDesktopServices.unsetUrlHandler("file")
    assert catcher.urls == [QUrl.fromLocalFile(str(user_guide_path()))]
    assert user_guide_path().is_file() and user_guide_path().name == "user-guide.md"


def test_shortcut_dialog_lists_every_action_key(qtbot, window, monkeypatch):
    shown: list[KeyboardShortcutsDialog] = []
    monkeypatch.setattr(KeyboardShortcutsDialog, "exec", lambda self: shown.append(self) or 0)
    window.actions["shortcuts"].trigger()
    rows = shown[0].rows()
    for name, action in window.actions.items():
        if action.shortcut().isEmpty():
            continue
        text = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        assert any(text in r[2] for r in rows), f"{name}: {text} missing from the shortcut list"
    assert "Ctrl+Q" in {r[1]: r[2] for r in rows}["Quit"]
    assert len([s for s in ACTIONS if s.shortcut]) <= len(rows)
    what = {r[1]: r[2] for r in rows}
    assert "Ctrl+=" in what["Zoom in"]
    assert "A" in what["Previous photo"] and "D" in what["Next photo"]
    assert any("Space" in r[2] for r in rows)
    assert isinstance(shown[0], QDialog)


def test_ctrl_equals_zooms_in(qtbot, window, tmp_path):
    open_and_wait(qtbot, window, photo(tmp_path, 3)[0])
    before = window.viewer.zoom()
    qtbot.keyClick(window.viewer, Qt.Key.Key_Equal, Qt.KeyboardModifier.ControlModifier)
    assert window.viewer.zoom() > before * 1.2


def _move(viewer, x: float, y: float) -> None:
    pos = viewer.mapFromScene(QPointF(x + 0.5, y + 0.5))
    event = QMouseEvent(
        QEvent.Type.MouseMove,
        QPointF(pos),
        QPointF(viewer.viewport().mapToGlobal(pos)),
        Qt.MouseButton.NoButton,
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(viewer.viewport(), event)


def test_cursor_readout_shows_pixel_class_and_probability(qtbot, window, tmp_path):
    path, _ = photo(tmp_path, 7, size=(96, 128))
    open_and_wait(qtbot, window, path)
    window.viewer.zoom_actual_size()
    window.viewer.zoom_by(4.0)  # a photo pixel spans 4 screen pixels: the centre of one is unambiguous
    result = window.controller.result
    ys, xs = np.nonzero(result.labels == 0)
    y, x = int(ys[len(ys) // 2]), int(xs[len(xs) // 2])
    window.viewer.centerOn(QPointF(x, y))
    _move(window.viewer, x, y)
    want = f"x {x}, y {y} · corrosion {100 * int(result.confidence[y, x]) / 255:.0f} %"
    assert window.readout.text() == want
    _move(window.viewer, -5, 3)  # off the photo
    assert window.readout.text() == ""
    assert window.readout.isVisible()


def test_the_readout_says_edited_where_an_edit_changed_the_class_and_follows_edits_in_place(
    qtbot, window, tmp_path, monkeypatch
):
    """The probability under the cursor is the model's, of its own class: over a pixel an edit changed it
    would be read as the edited class's; and a fill or an undo under a still cursor changes the readout."""
    monkeypatch.setattr(review_actions, "ask_discard_edits", lambda parent, names, action: True)
    monkeypatch.setattr(review_actions, "ask_unsaved_on_quit", lambda parent, names: "discard")
    path, _ = photo(tmp_path, 7, size=(96, 128))
    open_and_wait(qtbot, window, path)
    window.viewer.zoom_actual_size()
    window.viewer.zoom_by(4.0)
    result = window.controller.result
    ys, xs = np.nonzero(result.labels == 1)
    y, x = int(ys[len(ys) // 2]), int(xs[len(xs) // 2])
    window.viewer.centerOn(QPointF(x, y))
    _move(window.viewer, x, y)
    model_text = f"x {x}, y {y} · asset {100 * int(result.confidence[y, x]) / 255:.0f} %"
    assert window.readout.text() == model_text
    window.editing.set_tool("fill")
    window.editing.set_class("corrosion")
    pos = window.viewer.mapFromScene(QPointF(x + 0.5, y + 0.5))
    with qtbot.waitSignal(window.editing.edits.busy_changed, timeout=5000, check_params_cb=lambda b: not b):
        qtbot.mouseClick(window.viewer.viewport(), Qt.MouseButton.LeftButton, pos=pos)  # a fill's worker
    assert window.controller.result.labels[y, x] == 0
    assert window.readout.text() == f"x {x}, y {y} · corrosion (edited)"
    shown, model = window.controller.result, window.controller.state.model_labels
    ys, xs = np.nonzero((shown.labels == 0) & (model == 0))  # the model's class: its probability stands
    cy, cx = int(ys[0]), int(xs[0])
    want = f"x {cx}, y {cy} · corrosion {100 * int(shown.confidence[cy, cx]) / 255:.0f} %"
    assert readout_text(shown, result.size, cx, cy, model) == want
    qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # the cursor stays put
    assert window.readout.text() == model_text


def test_overlay_toggles_and_opacities_in_the_view_menu(qtbot, window):
    menu = window.overlay_menu
    assert menu in [a.menu() for a in window.menus["&View"].actions() if a.menu()]
    show_asset = next(a for a in menu.actions() if a.text().startswith("Show asset"))
    assert show_asset.isChecked() == window.overlay_state.is_visible(1)
    show_asset.trigger()
    assert not window.overlay_state.is_visible(1)
    assert not window.overlay_panel.check_box(1).isChecked()
    titles = [a.text() for a in menu.actions() if a.menu()]
    assert "Corrosion opacity: 50 %" in titles
    sub = next(a.menu() for a in menu.actions() if a.menu() and a.text().startswith("Corrosion"))
    next(a for a in sub.actions() if a.text() == "75 %").trigger()
    assert window.overlay_state.opacity(0) == 0.75
    assert window.overlay_panel.slider(0).value() == 75
    assert window.overlay_panel.value_label(0).text() == "75 %"
    assert "Corrosion opacity: 75 %" in [a.text() for a in menu.actions() if a.menu()]
    window.overlay_panel.slider(0).setValue(40)
    assert window.overlay_panel.value_label(0).text() == "40 %"
    assert "Corrosion opacity: 40 %" in [a.text() for a in menu.actions() if a.menu()]


def test_batch_headers_are_not_cut_off(qtbot, window, tmp_path):
    header = window.batch.table.horizontalHeader()
    model = window.batch_model

    def check() -> None:
        for col in range(model.columnCount()):
            title = model.headerData(col, Qt.Orientation.Horizontal)
            assert header.sectionSize(col) >= header.fontMetrics().horizontalAdvance(title) + 12, title

    check()
    run_batch(qtbot, window, make_folder(tmp_path, 2))
    check()


def test_status_messages_fit_beside_the_permanent_labels(qtbot, window, tmp_path):
    window.resize(1280, 820)
    run_batch(qtbot, window, make_folder(tmp_path, 2))
    bar = window.statusBar()
    permanent = sum(
        w.width() for w in (window.readout, window.busy_label, window.zoom_label, window.provider_label)
    )
    room = bar.width() - permanent - 40  # the size grip and spacing
    model = window.controller.model
    for message in (bar.currentMessage(), loaded_text(model)):
        assert bar.fontMetrics().horizontalAdvance(message) <= room, (message, room)
    assert window.provider_label.width() <= 480
    assert window.provider_label.text().startswith(f"Running on {model.device}")


def test_user_guide_has_the_shortcut_table(qapp):
    from app.ui.window_actions import all_shortcuts

    guide = user_guide_path().read_text(encoding="utf-8")
    for where, what, keys in all_shortcuts():
        assert f"| {where} | {what} | {keys} |" in guide, f"the guide's shortcut table lacks {what}: {keys}"


def _mnemonic(text: str) -> str | None:
    """The letter after a single "&" (Alt+letter in a menu), None without one ("&&" is a literal &)."""
    found = re.search(r"(?<!&)&([^&])", text)
    return found.group(1).lower() if found else None


def test_no_two_items_of_a_menu_share_an_alt_letter(window: MainWindow) -> None:
    """A letter two items share only moves between them: File ▸ S highlighted "Include subfolders"
    instead of opening the server dialog. Every menu, its submenus and the menu bar are checked."""
    menus = [("menu bar", window.menuBar().actions())]
    clashes = []
    while menus:
        where, actions = menus.pop()
        letters: dict[str, list[str]] = {}
        for action in actions:
            if action.isSeparator():
                continue
            letter = _mnemonic(action.text())
            if letter is not None:
                letters.setdefault(letter, []).append(action.text())
            if action.menu() is not None:
                menus.append((action.text(), action.menu().actions()))
        clashes += [f"{where}: {texts}" for texts in letters.values() if len(texts) > 1]
    assert not clashes, clashes
    assert _mnemonic("Open project on a ser&ver…") == "v" and _mnemonic("Save && close") is None


def test_a_camera_file_name_is_not_cut_off_in_a_running_batch(qtbot, window):
    """The columns are fitted to the first photo done; a camera's longer name on a later row must still
    show whole."""
    header = window.batch.table.horizontalHeader()
    name = "IMG_20240501_123456.jpg"
    assert header.sectionSize(0) >= header.fontMetrics().horizontalAdvance(name) + 12
