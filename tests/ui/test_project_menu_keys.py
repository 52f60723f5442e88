"""The project tree's context menu asked from the keyboard (Menu key, Shift+F10) acts on the current
item and opens at it, as a right-click does on the item under the mouse (it named the row below)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QPoint, Qt, QTimer
from PySide6.QtGui import QContextMenuEvent
from PySide6.QtWidgets import QApplication, QMenu

from tests.ui.conftest import TIMEOUT_MS
from tests.ui.test_projects import project_window  # noqa: F401  (the fixture)


def _popup(ask: Callable[[], None]) -> list[tuple[list[str], QPoint]]:
    """The menus that `ask` pops up: their actions' texts and where (global); each is closed once seen."""
    seen: list[tuple[list[str], QPoint]] = []

    def close(tries: int = 100) -> None:
        menu = QApplication.activePopupWidget()
        if isinstance(menu, QMenu):
            seen.append(([a.text() for a in menu.actions()], menu.pos()))
            menu.close()
        elif tries:
            QTimer.singleShot(20, lambda: close(tries - 1))

    QTimer.singleShot(0, close)
    ask()
    return seen


def _menu_key(qtbot, tree) -> None:
    """The Menu key as Qt delivers it: a keyboard context menu event to the window, which Qt passes on
    to the focus widget at the rectangle the widget gives for its cursor (the current item)."""
    tree.window().activateWindow()
    tree.setFocus()
    qtbot.waitUntil(tree.hasFocus, timeout=TIMEOUT_MS)
    event = QContextMenuEvent(QContextMenuEvent.Reason.Keyboard, QPoint(), QPoint())
    QApplication.sendEvent(tree.window().windowHandle(), event)


def test_the_menu_key_opens_the_current_items_menu_at_it(qtbot, project_window) -> None:  # noqa: F811
    win, _target = project_window
    panel = win.projects.panel
    tree = panel.tree
    asset = tree.topLevelItem(0)
    tree.setCurrentItem(asset)
    opened = _popup(lambda: _menu_key(qtbot, tree))
    assert [texts for texts, _at in opened] == [
        ["Asset details…", "Change log…", "", "Add inspection…", "Trend…", "Compare…"]
    ]
    assert tree.currentItem() is asset

    inspection = asset.child(0)
    inspection.setExpanded(True)
    photo = inspection.child(2)  # the row below it is the next inspection
    with qtbot.waitSignal(win.controller.photo_analyzed, timeout=TIMEOUT_MS):
        tree.setCurrentItem(photo)
    opened = _popup(lambda: _menu_key(qtbot, tree))
    assert [texts for texts, _at in opened] == [
        [
            "History of this photo…",
            "Remove photo from the inspection…",
            "",
            "Re-run model",
            "Trend…",
            "Compare…",
        ]
    ]
    assert tree.currentItem() is photo
    row = tree.visualItemRect(photo)
    at = tree.viewport().mapFromGlobal(opened[0][1])
    assert row.top() <= at.y() <= row.bottom()  # at the photo's row, not the header's height below it


def test_a_right_click_opens_the_menu_of_the_item_under_the_mouse(qtbot, project_window) -> None:  # noqa: F811
    win, _target = project_window
    tree = win.projects.panel.tree
    tree.setCurrentItem(tree.topLevelItem(0))
    inspection = tree.topLevelItem(0).child(1)
    at = tree.visualItemRect(inspection).center()
    event = QContextMenuEvent(QContextMenuEvent.Reason.Mouse, at, tree.viewport().mapToGlobal(at))
    opened = _popup(lambda: QApplication.sendEvent(tree.viewport(), event))  # what a right-click brings
    assert [texts for texts, _at in opened] == [
        ["Correct inspection…", "Remove inspection…", "", "Add inspection…", "Trend…", "Compare…"]
    ]
    assert tree.currentItem() is inspection
    assert opened[0][1] == tree.viewport().mapToGlobal(at)


def test_shift_f10_opens_the_current_items_menu_too(qtbot, project_window) -> None:  # noqa: F811
    win, _target = project_window
    tree = win.projects.panel.tree
    inspection = tree.topLevelItem(0).child(0)
    tree.setCurrentItem(inspection)
    tree.setFocus()
    opened = _popup(lambda: qtbot.keyClick(tree, Qt.Key.Key_F10, Qt.KeyboardModifier.ShiftModifier))
    assert [texts for texts, _at in opened] == [
        ["Correct inspection…", "Remove inspection…", "", "Add inspection…", "Trend…", "Compare…"]
    ]
    assert tree.currentItem() is inspection
