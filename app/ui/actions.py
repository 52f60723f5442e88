"""All menu actions made by one factory from a table (labelme habit)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu


@dataclass(frozen=True)
class ActionSpec:
    """One menu entry: `slot` names a method of the window; `shortcut` is a key sequence or standard key."""

    name: str
    menu: str
    text: str
    slot: str
    shortcut: str | QKeySequence.StandardKey | None = None
    tip: str = ""
    checkable: bool = False
    separator_before: bool = False


def make_actions(
    window: QMainWindow, specs: Sequence[ActionSpec]
) -> tuple[dict[str, QAction], dict[str, QMenu]]:
    """Build every action and its menu (menus appear in the order they are first named)."""
    actions: dict[str, QAction] = {}
    menus: dict[str, QMenu] = {}
    for spec in specs:
        menu = menus.get(spec.menu)
        if menu is None:
            menu = menus[spec.menu] = window.menuBar().addMenu(spec.menu)
            menu.setObjectName(f"menu_{spec.menu.strip('&').lower()}")
        if spec.separator_before:
            menu.addSeparator()
        action = QAction(spec.text, window)
        action.setObjectName(f"action_{spec.name}")
        if spec.shortcut is not None:
            action.setShortcut(QKeySequence(spec.shortcut))
        if spec.tip:
            action.setStatusTip(spec.tip)
            action.setToolTip(spec.tip)
        action.setCheckable(spec.checkable)
        slot: Callable = getattr(window, spec.slot)
        if spec.checkable:
            action.toggled.connect(slot)
        else:
            action.triggered.connect(lambda _checked=False, s=slot: s())
        menu.addAction(action)
        actions[spec.name] = action
    return actions, menus
