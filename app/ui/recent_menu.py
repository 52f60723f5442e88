"""File ▸ Open recent: each photo with its folder (elided), the full path as tooltip, Clear recent."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QMenu, QWidget

from app.ui.settings import AppSettings

FOLDER_WIDTH_PX = 260  # the folder part of an entry is elided in the middle to this width


def recent_entry_text(path: str | Path, metrics: QFontMetrics, width: int = FOLDER_WIDTH_PX) -> str:
    """ "ORI_010.png — …/site-b/photos": the name, then its folder elided in the middle."""
    p = Path(path)
    folder = metrics.elidedText(str(p.parent), Qt.TextElideMode.ElideMiddle, width)
    # '&' would make a mnemonic; a tab would move the folder into the shortcut column
    return f"{p.name} — {folder}".replace("&", "&&")


class RecentMenu(QMenu):
    """The recent files the settings keep, newest first; says which one was chosen."""

    chosen = Signal(Path)
    cleared = Signal()

    def __init__(self, title: str, settings: AppSettings, parent: QWidget | None = None) -> None:
        super().__init__(title, parent)
        self.setObjectName("menu_recent")
        self.setToolTipsVisible(True)
        self.settings = settings
        self.cleared.connect(self._clear)
        self.rebuild(settings.recent_files)

    def remember(self, path: str | Path) -> None:
        """`path` first in the list (once)."""
        self.settings.add_recent_file(path)
        self.rebuild(self.settings.recent_files)

    def _clear(self) -> None:
        self.settings.clear_recent_files()
        self.rebuild(self.settings.recent_files)

    def rebuild(self, paths: Sequence[str]) -> None:
        self.clear()
        metrics = QFontMetrics(self.font())
        for path in paths:
            action = self.addAction(recent_entry_text(path, metrics))
            action.setToolTip(str(path))
            action.setStatusTip(str(path))
            action.setData(str(path))
            action.triggered.connect(lambda _c=False, p=path: self.chosen.emit(Path(p)))
        if paths:
            self.addSeparator()
            clear = self.addAction("Clear recent")
            clear.setObjectName("action_clear_recent")
            clear.triggered.connect(self.cleared)
        self.setEnabled(bool(paths))

    def paths(self) -> list[str]:
        return [a.data() for a in self.actions() if isinstance(a.data(), str) and a.data()]
