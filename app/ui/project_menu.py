"""The project tree's context menu (right-click, Menu key, Shift+F10): an item's own actions, then the
project's actions that apply to it, so that every one of them is reachable from the keyboard where the
user is (the same actions are in the window's Project menu, app/ui/window_actions.py)."""

from __future__ import annotations

from typing import Any

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QTreeWidgetItem

from app.ui.project_tree import ROLE

# The ProjectPanelWidget, which imports this module (importing it back, even for type checking only,
# would make an import cycle)
Panel = Any


def item_menu(panel: Panel, item: QTreeWidgetItem) -> QMenu:
    """The menu of a tree item, which is current by now (the actions act on the current item)."""
    kind, key = item.data(0, ROLE)[0], item.data(0, ROLE)[1]
    menu = QMenu(panel.tree)
    if kind == "asset":
        menu.addAction("Asset details…", panel._edit_picked)
        menu.addAction("Change log…", lambda: panel.change_log_requested.emit(key))
    elif kind == "inspection":
        menu.addAction("Correct inspection…", panel._edit_picked)
        menu.addAction("Remove inspection…", panel._remove_picked)
    else:
        menu.addAction("History of this photo…", lambda: panel.history_requested.emit(key))
        menu.addAction("Remove photo from the inspection…", panel._remove_picked)
    menu.addSeparator()
    if kind == "photo":
        menu.addAction("Re-run model", panel._emit_rerun)
        if panel.view is not None and key in panel.view.missing:
            menu.addAction("Find moved photos…", panel.relocate_requested.emit)
    else:  # an asset's or an inspection's: of its asset
        menu.addAction("Add inspection…", panel.add_inspection_requested.emit)
    menu.addAction("Trend…", lambda: panel._emit_asset(panel.trend_requested))
    menu.addAction("Compare…", lambda: panel._emit_asset(panel.compare_requested))
    return menu


MENU_BUTTONS = (  # (action name in app/ui/window_actions.py, the panel's button it presses)
    ("add_inspection", "add_button"),
    ("trend", "trend_button"),
    ("compare", "compare_button"),
    ("rerun", "rerun_button"),
    ("relocate", "relocate_button"),
    ("reload_project", "reload_button"),
)


class ProjectMenuSlots:
    """The slots of the window's Project menu: each presses the panel's button of the same name, so the
    menu acts on what the button would and only when it would; `sync` enables the menu's items as the
    panel enables its buttons."""

    def __init__(self, panel: Panel) -> None:
        self.panel = panel

    def trend_of_picked(self) -> None:
        self.panel.trend_button.click()  # a disabled button does nothing

    def compare_of_picked(self) -> None:
        self.panel.compare_button.click()

    def rerun_picked(self) -> None:
        self.panel.rerun_button.click()

    def reload(self) -> None:
        self.panel.reload_button.click()

    def sync(self, actions: dict[str, QAction]) -> None:
        for name, button in MENU_BUTTONS:
            if name in actions:
                actions[name].setEnabled(getattr(self.panel, button).isEnabled())
