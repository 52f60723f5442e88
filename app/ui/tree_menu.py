"""A tree's context menu, asked with the mouse (on the item under it) or the keyboard (Menu key,
Shift+F10: on the current item), opened at the item it acts on."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QPoint, Qt
from PySide6.QtGui import QContextMenuEvent, QKeyEvent
from PySide6.QtWidgets import QMenu, QTreeWidget, QTreeWidgetItem


class TreeMenu(QObject):
    """Opens `menu_for(item)` for the item clicked with the right button, or for the current item when
    the menu is asked from the keyboard; the item is made current first (its actions act on it)."""

    def __init__(self, tree: QTreeWidget, menu_for: Callable[[QTreeWidgetItem], QMenu]) -> None:
        super().__init__(tree)
        self.tree, self.menu_for = tree, menu_for
        tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        tree.customContextMenuRequested.connect(self._at_mouse)
        # Qt places a keyboard menu at the current item in the tree's own coordinates (input method
        # rectangle), but customContextMenuRequested is read in the viewport's: off by the header, so
        # itemAt found the row below. Keyboard menus are handled here before that signal is sent.
        tree.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.tree and (_keyboard_menu(event) or _shift_f10(event)):
            self.open_at_current()
            return True  # never the signal: its position would name another row
        return super().eventFilter(watched, event)

    def _at_mouse(self, pos: QPoint) -> None:
        """A right-click: `pos` is in the viewport's coordinates (a mouse's menu comes through it)."""
        item = self.tree.itemAt(pos)
        if item is not None:
            self._open(item, pos)

    def open_at_current(self) -> None:
        """The current item's menu at its row (scrolled into view first); none when no item is current."""
        item = self.tree.currentItem()
        if item is None:
            return
        self.tree.scrollToItem(item)
        rect = self.tree.visualItemRect(item)
        self._open(item, QPoint(rect.left() + rect.height(), rect.center().y()))

    def _open(self, item: QTreeWidgetItem, pos: QPoint) -> None:
        self.tree.setCurrentItem(item)
        self.menu_for(item).exec(self.tree.viewport().mapToGlobal(pos))


def _keyboard_menu(event: QEvent) -> bool:
    """A context menu Qt sends for the Menu key."""
    return (
        event.type() == QEvent.Type.ContextMenu
        and isinstance(event, QContextMenuEvent)
        and event.reason() == QContextMenuEvent.Reason.Keyboard
    )


def _shift_f10(event: QEvent) -> bool:
    """Shift+F10, the other key for a context menu, which Qt on X11 leaves as a plain key press."""
    return (
        event.type() == QEvent.Type.KeyPress
        and isinstance(event, QKeyEvent)
        and event.key() == Qt.Key.Key_F10
        and event.modifiers() == Qt.KeyboardModifier.ShiftModifier
    )
