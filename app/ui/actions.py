"""All menu actions made by one factory from a table (labelme habit)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu


@dataclass(frozen=True)
class ActionSpec:
    """One menu entry: `slot` names a method of the window; `shortcut` is a key sequence or standard key,
    `more_shortcuts` further keys for the same action (Ctrl+= beside Ctrl++)."""

    name: str
    menu: str
    text: str
    slot: str
    shortcut: str | QKeySequence.StandardKey | None = None
    tip: str = ""
    checkable: bool = False
    separator_before: bool = False
    more_shortcuts: tuple[str, ...] = ()


def key_sequences(spec: ActionSpec, primary_only: bool = False) -> list[QKeySequence]:
    """Every key sequence of an action, none empty; a standard key may stand for several (Ctrl+O and
    the Open media key): `primary_only` keeps its first, as a shortcut list shows it."""
    keys: list[QKeySequence] = []
    if isinstance(spec.shortcut, QKeySequence.StandardKey):
        keys += QKeySequence.keyBindings(spec.shortcut)[: 1 if primary_only else None]
    elif spec.shortcut is not None:
        keys.append(QKeySequence(spec.shortcut))
    keys += [QKeySequence(k) for k in spec.more_shortcuts]
    unique: list[QKeySequence] = []
    for key in keys:
        if not key.isEmpty() and key not in unique:
            unique.append(key)
    return unique


def shortcut_rows(specs: Sequence[ActionSpec]) -> list[tuple[str, str, str]]:
    """(menu, action, keys as the platform writes them) for every action that has a key."""
    rows = []
    for spec in specs:
        keys = key_sequences(spec, primary_only=True)
        if keys:
            text = ", ".join(k.toString(QKeySequence.SequenceFormat.NativeText) for k in keys)
            rows.append((spec.menu.replace("&", ""), spec.text.replace("&", "").rstrip("…"), text))
    return rows


def make_actions(
    window: QMainWindow, specs: Sequence[ActionSpec], handlers: Sequence[object] = ()
) -> tuple[dict[str, QAction], dict[str, QMenu]]:
    """Build every action and its menu (menus appear in the order they are first named); a slot is the
    first of `handlers` (composed parts of the window) that has it, else the window's."""
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
        keys = key_sequences(spec)
        if keys:
            action.setShortcuts(keys)
        if spec.tip:
            action.setStatusTip(spec.tip)
            action.setToolTip(spec.tip)
        action.setCheckable(spec.checkable)
        owner = next((h for h in handlers if hasattr(h, spec.slot)), window)
        slot: Callable = getattr(owner, spec.slot)
        if spec.checkable:
            action.toggled.connect(slot)
        else:
            action.triggered.connect(lambda _checked=False, s=slot: s())
        menu.addAction(action)
        actions[spec.name] = action
    return actions, menus
