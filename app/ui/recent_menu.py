"""File ▸ Open recent: each photo with its folder, both elided in the middle and shown through `safe_path`
(a bidi override or ESC in a name is written as an escape), the full path as tooltip, Clear recent; an
entry whose file is gone when chosen leaves the list."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QMenu, QWidget

from app.core.text import safe_path
from app.ui.settings import AppSettings
from app.ui.workers import Worker, WorkerPool

NAME_WIDTH_PX = 240  # a 200-character name made the menu as wide as the screen
FOLDER_WIDTH_PX = 260  # the folder part of an entry is elided in the middle to this width


def recent_entry_text(path: str | Path, metrics: QFontMetrics, width: int = FOLDER_WIDTH_PX) -> str:
    """ "ORI_010.png — …/site-b/photos": the name, then its folder, each elided in the middle."""
    p = Path(path)
    middle = Qt.TextElideMode.ElideMiddle
    name = metrics.elidedText(safe_path(p.name), middle, NAME_WIDTH_PX)
    folder = metrics.elidedText(safe_path(p.parent), middle, width)
    # '&' would make a mnemonic; a tab (escaped by safe_path) would move the folder into the shortcut column
    return f"{name} — {folder}".replace("&", "&&")


def is_gone(path: Path) -> bool:
    """Whether `path` is certainly not there (no such file or folder); one that cannot be reached now (a
    share that does not answer) is not: opening it says why, and the entry stays."""
    try:
        os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return True
    except (OSError, ValueError):  # ValueError: a NUL in a hand-edited path
        return False
    return False


def gone_text(path: Path) -> str:
    """What the banner says of a chosen entry whose file is gone."""
    name, folder = safe_path(path.name), safe_path(path.parent)
    return f"{name} is no longer in {folder} (moved, renamed or deleted): it was removed from Open recent."


class RecentMenu(QMenu):
    """The recent files the settings keep, newest first; says which one was chosen, or that its file was
    gone (`gone`, the banner's text) and the entry removed."""

    chosen = Signal(Path)
    cleared = Signal()
    gone = Signal(str)

    def __init__(self, title: str, settings: AppSettings, parent: QWidget | None = None) -> None:
        super().__init__(title, parent)
        self.setObjectName("menu_recent")
        self.setToolTipsVisible(True)
        self.settings = settings
        # whether a chosen file is there is asked on a thread: a share that hangs never freezes the window
        # (and the menu stats nothing when it is built)
        self._pool = WorkerPool(self, max_threads=1)
        self.cleared.connect(self._clear)
        self.rebuild(settings.recent_files)

    def remember(self, path: str | Path) -> None:
        """`path` first in the list (once)."""
        self.settings.add_recent_file(path)
        self.rebuild(self.settings.recent_files)

    def forget(self, path: str | Path) -> None:
        """`path` off the list."""
        self.settings.remove_recent_file(path)
        self.rebuild(self.settings.recent_files)

    def _choose(self, path: str) -> None:
        worker = Worker(is_gone, Path(path))
        worker.signals.returned.connect(lambda gone, p=path: self._checked(p, gone))
        self._pool.start(worker)

    def _checked(self, path: str, gone: bool) -> None:
        if not gone:
            self.chosen.emit(Path(path))
            return
        self.forget(path)
        self.gone.emit(gone_text(Path(path)))

    def _clear(self) -> None:
        self.settings.clear_recent_files()
        self.rebuild(self.settings.recent_files)

    def rebuild(self, paths: Sequence[str]) -> None:
        self.clear()
        metrics = QFontMetrics(self.font())
        for path in paths:
            action = self.addAction(recent_entry_text(path, metrics))
            action.setToolTip(safe_path(path))  # whole, escaped as the entry is
            action.setStatusTip(safe_path(path))
            action.setData(str(path))
            action.triggered.connect(lambda _c=False, p=str(path): self._choose(p))
        if paths:
            self.addSeparator()
            clear = self.addAction("Clear recent")
            clear.setObjectName("action_clear_recent")
            clear.triggered.connect(self.cleared)
        self.setEnabled(bool(paths))

    def paths(self) -> list[str]:
        return [a.data() for a in self.actions() if isinstance(a.data(), str) and a.data()]
