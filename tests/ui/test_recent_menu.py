"""File ▸ Open recent: a long name or folder is elided in the middle, a name with a bidi override or an
escape character is shown escaped (never spoofed), and the entry still opens the file as it is named."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QFontMetrics

from app.core.text import safe_path
from app.ui.recent_menu import RecentMenu
from tests.ui.conftest import TIMEOUT_MS, photo

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
    spoof.write_bytes(b"")  # there: a gone file's entry would leave the list instead
    entries[str(spoof)].trigger()
    qtbot.waitUntil(lambda: chosen == [spoof], timeout=TIMEOUT_MS)  # "the file opens by its real name"


def test_an_entry_whose_file_is_gone_leaves_the_list_and_the_banner_says_so(qtbot, window, tmp_path):
    """A gone file's entry showed a red banner and stayed first in the list, unmarked, for good."""
    kept, _rgb = photo(tmp_path, 4)
    gone = tmp_path / "site-b" / "ORI_010.png"
    for path in (kept, gone):
        window._recent_menu.remember(path)
    entry = next(a for a in window._recent_menu.actions() if a.data() == str(gone))
    entry.trigger()
    qtbot.waitUntil(lambda: window.banner.text != "", timeout=TIMEOUT_MS)
    text = window.banner.text
    assert "ORI_010.png is no longer in" in text and "removed from Open recent" in text, text
    assert window.settings.recent_files == [str(kept)]
    assert window._recent_menu.paths() == [str(kept)]
    assert window.controller.requested is None, "nothing was opened"
    with qtbot.waitSignal(window.controller.photo_analyzed, timeout=TIMEOUT_MS):
        window._recent_menu.actions()[0].trigger()  # one that is there opens as before
    assert window.controller.result.path == kept and window.settings.recent_files == [str(kept)]
