"""Every project action without a mouse: the window's Project menu (with keys), the tree's context menu,
and Tab then Space, Return or keypad Enter on the panel's buttons (Space was eaten by the hold-to-compare
key and a push button outside a dialog ignored Enter, so Tab reached Trend… and nothing pressed it)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from app.ui.trend_view_widget import TrendDialog
from tests.ui.conftest import TIMEOUT_MS
from tests.ui.test_project_menu_keys import _menu_key, _popup
from tests.ui.test_projects import project_window  # noqa: F401  (the fixture)

PROJECT_ITEMS = [
    "Add inspection…",
    "Trend…",
    "Compare…",
    "",
    "Re-run model",
    "Find moved photos…",
    "",
    "Reload",
]


def _close_dialogs(win) -> None:
    for dialog in list(win.projects.dialogs):
        dialog.close()


def test_the_project_menu_holds_the_panels_actions_enabled_as_they_apply(qtbot, window) -> None:
    menu = window.menus["&Project"]
    assert [a.text().replace("&", "") for a in menu.actions()] == PROJECT_ITEMS
    assert not any(a.isEnabled() for a in menu.actions() if a.text()), "no project: nothing applies"
    assert window.actions["reload_project"].shortcut().toString() == "F5"
    assert window.actions["trend"].shortcut().toString() == "Ctrl+T"


def test_project_actions_from_the_menu_and_its_keys(qtbot, project_window) -> None:  # noqa: F811
    win, _target = project_window
    panel = win.projects.panel
    for name in ("add_inspection", "trend", "compare", "relocate", "reload_project"):
        assert win.actions[name].isEnabled(), name  # one asset: Trend and Compare act on it
    assert not win.actions["rerun"].isEnabled(), "no photo picked"
    with qtbot.waitSignal(win.projects.dialog_opened, timeout=TIMEOUT_MS) as opened:
        win.actions["trend"].trigger()
    assert isinstance(opened.args[0], TrendDialog)
    _close_dialogs(win)
    win.activateWindow()
    panel.tree.setFocus()
    qtbot.waitUntil(panel.tree.hasFocus, timeout=TIMEOUT_MS)
    with qtbot.waitSignal(win.projects.dialog_opened, timeout=TIMEOUT_MS) as opened:
        qtbot.keyClick(
            panel.tree, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
        )
    assert type(opened.args[0]).__name__ == "CompareDialog"
    _close_dialogs(win)
    photo = panel.tree.topLevelItem(0).child(0).child(0)
    with qtbot.waitSignal(win.controller.photo_analyzed, timeout=TIMEOUT_MS):
        panel.tree.setCurrentItem(photo)
    assert win.actions["rerun"].isEnabled()


def test_tab_then_space_return_or_enter_presses_a_panel_button(qtbot, project_window) -> None:  # noqa: F811
    win, _target = project_window
    panel = win.projects.panel
    win.activateWindow()
    panel.add_button.setFocus()
    qtbot.waitUntil(panel.add_button.hasFocus, timeout=TIMEOUT_MS)
    for _ in range(30):  # Tab on, as a user does, to Trend…
        if QApplication.focusWidget() is panel.trend_button:
            break
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
    assert QApplication.focusWidget() is panel.trend_button
    for key, modifier in (
        (Qt.Key.Key_Space, Qt.KeyboardModifier.NoModifier),
        (Qt.Key.Key_Return, Qt.KeyboardModifier.NoModifier),
        (Qt.Key.Key_Enter, Qt.KeyboardModifier.KeypadModifier),
    ):
        with qtbot.waitSignal(win.projects.dialog_opened, timeout=TIMEOUT_MS) as opened:
            qtbot.keyClick(panel.trend_button, key, modifier)
        assert isinstance(opened.args[0], TrendDialog), key
        assert not win.overlay_state.comparing
        _close_dialogs(win)
        win.activateWindow()
        panel.trend_button.setFocus(Qt.FocusReason.TabFocusReason)
        qtbot.waitUntil(panel.trend_button.hasFocus, timeout=TIMEOUT_MS)


def test_a_clicked_button_leaves_space_to_compare(qtbot, project_window) -> None:  # noqa: F811
    win, _target = project_window
    panel = win.projects.panel
    win.activateWindow()
    panel.reload_button.setFocus(Qt.FocusReason.MouseFocusReason)  # as a click leaves it
    qtbot.waitUntil(panel.reload_button.hasFocus, timeout=TIMEOUT_MS)
    qtbot.keyPress(panel.reload_button, Qt.Key.Key_Space)
    assert win.overlay_state.comparing
    qtbot.keyRelease(panel.reload_button, Qt.Key.Key_Space)
    assert not win.overlay_state.comparing and not panel.loading, "no reload was pressed"


def test_the_tree_menu_offers_the_project_actions_of_the_item(qtbot, project_window) -> None:  # noqa: F811
    win, _target = project_window
    tree = win.projects.panel.tree
    tree.setCurrentItem(tree.topLevelItem(0))
    opened = _popup(lambda: _menu_key(qtbot, tree))
    assert [texts for texts, _at in opened] == [
        ["Asset details…", "Change log…", "", "Add inspection…", "Trend…", "Compare…"]
    ]
