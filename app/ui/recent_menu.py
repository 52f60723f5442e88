"""File ▸ Open recent: each photo with its folder (elided), the full path as tooltip, Clear recent."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QMenu, QWidget

FOLDER_WIDTH_PX = 260  # the folder part of an entry is elided in the middle to this width


def recent_entry_text(path: str | Path, metrics: QFontMetrics, width: int = FOLDER_WIDTH_PX) -> str:
    """ "ORI_010.png — …/site-b/photos": the name, then its folder elided in the middle."""
    p = Path(path)
    folder = metrics.elidedText(str(p.parent), Qt.TextElideMode.ElideMiddle, width)
    # '&' would make a mnemonic; a tab would move the folder into the shortcut column
    return f"{p.name} — {folder}".replace("&", "&&")


class RecentMenu(QMenu):
    """Rebuilt from the list of paths; says which one was chosen or that the list was cleared."""

    chosen = Signal(Path)
    cleared = Signal()

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(title, parent)
        self.setObjectName("menu_recent")
        self.setToolTipsVisible(True)

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
