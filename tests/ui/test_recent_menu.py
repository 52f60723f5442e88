"""File ▸ Open recent: a long name or folder is elided in the middle, a name with a bidi override or an
escape character is shown escaped (never spoofed), and the entry still opens the file as it is named."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QFontMetrics

from app.core.text import safe_path
from app.ui.recent_menu import RecentMenu

RLO = "\u202e"


def test_long_and_hostile_names_are_elided_and_escaped(qtbot, settings, tmp_path):
    long_name = tmp_path / ("n" * 200 + ".png")
    long_folder = tmp_path / ("f" * 200) / "pipe.png"
    spoof = tmp_path / f"invoice{RLO}gnp.exe"
    escape = tmp_path / "pipe\x1b[31m.png"
    for path in (long_name, long_folder, spoof, escape):
        settings.add_recent_file(path)
    menu = RecentMenu("Open recent", settings)
    qtbot.addWidget(menu)
    metrics = QFontMetrics(menu.font())
    entries = {a.data(): a for a in menu.actions() if a.data()}
    for path in (long_name, long_folder, spoof, escape):
        action = entries[str(path)]
        text = action.text()
        assert RLO not in text and "\x1b" not in text and "␛" not in text, text
        assert metrics.horizontalAdvance(text) <= 600, text  # name and folder, 240 + 260 px and the dash
        assert action.toolTip() == safe_path(path) == action.statusTip()
    assert "…" in entries[str(long_name)].text() and "…" in entries[str(long_folder)].text()
    assert entries[str(spoof)].text().startswith(r"invoice\u202egnp.exe")
    assert entries[str(escape)].text().startswith(r"pipe\x1b[31m.png")
    assert menu.sizeHint().width() < 800
    chosen: list[Path] = []
    menu.chosen.connect(chosen.append)
    entries[str(spoof)].trigger()
    assert chosen == [spoof], "the file opens by its real name"
