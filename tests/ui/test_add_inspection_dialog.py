"""The "Add inspection" dialog keeps the photos' paths as the file system gave them."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from app.ui.add_inspection_dialog import AddInspectionDialog
from tests.helpers.pipe_photos import photo_folder


@pytest.mark.skipif(sys.platform != "linux", reason="names that are not UTF-8 exist on Linux file systems")
def test_a_photo_name_that_is_not_utf8_reaches_the_request_whole(qtbot, tmp_path: Path) -> None:
    folder = photo_folder(tmp_path / "photos", 2, 0.1, size=(48, 64))
    first = sorted(folder.iterdir())[0]
    odd = Path(os.fsdecode(os.fsencode(folder) + b"/pipe_\xff\xfe.png"))  # surrogate escapes
    first.rename(odd)
    dialog = AddInspectionDialog([], parent=None)
    qtbot.addWidget(dialog)
    for _ in range(2):  # each photo once
        with qtbot.waitSignal(dialog.listed, timeout=10_000):
            dialog.add_paths([folder])
    paths = dialog.request().paths
    assert len(paths) == 2 and odd in paths
    assert all(p.is_file() for p in paths), "every path names the file on disk"
    shown = [dialog.photos.item(n).text() for n in range(dialog.photos.count())]
    assert any("\\xff\\xfe" in text for text in shown), "the list shows the odd bytes readably"


def test_a_folder_names_what_it_holds_that_is_not_read(qtbot, tmp_path: Path) -> None:
    """A phone's HEIC photos beside the JPEGs would vanish from the inspection unseen."""
    folder = photo_folder(tmp_path / "photos", 2, 0.1, size=(48, 64))
    (folder / "IMG_0003.HEIC").write_bytes(b"\x00\x00\x00\x18ftypheic")
    dialog = AddInspectionDialog([], parent=None)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.left_out_label.isHidden()
    with qtbot.waitSignal(dialog.listed, timeout=10_000):
        dialog.add_paths([folder])
    assert len(dialog.request().paths) == 2
    assert dialog.left_out_label.isVisible()
    assert dialog.left_out_label.text().startswith("Left out 1 file named like photos: 1 .heic")


def test_a_folder_is_listed_off_the_ui_thread_and_ok_waits_for_it(qtbot, tmp_path: Path, monkeypatch) -> None:
    """A share may hold thousands of files: the dialog stays responsive, and "Analyse and store" is not
    offered until every photo picked is in the list."""
    import threading

    from PySide6.QtWidgets import QDialogButtonBox

    from app.ui import add_inspection_dialog as module

    folder = photo_folder(tmp_path / "photos", 2, 0.1, size=(48, 64))
    release, threads = threading.Event(), []
    real = module.photos_in

    def slow_listing(paths):
        threads.append(threading.current_thread() is threading.main_thread())
        release.wait(10)
        return real(paths)

    monkeypatch.setattr(module, "photos_in", slow_listing)
    dialog = AddInspectionDialog(["P-1"], parent=None)
    qtbot.addWidget(dialog)
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    dialog.add_paths([folder])  # returns while the worker lists
    assert dialog.photos.count() == 0 and not ok.isEnabled()
    with qtbot.waitSignal(dialog.listed, timeout=10_000):
        release.set()
    assert threads == [False] and dialog.photos.count() == 2 and ok.isEnabled()


def test_a_date_later_than_the_store_allows_keeps_ok_off(qtbot) -> None:
    from PySide6.QtCore import QDate
    from PySide6.QtWidgets import QDialogButtonBox

    dialog = AddInspectionDialog(["P-1"], parent=None)
    qtbot.addWidget(dialog)
    dialog._add_found([Path("a.png")], None)
    dialog._update_ok()
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    assert ok.isEnabled()
    dialog.date.setDate(QDate(2099, 1, 1))  # as typing a wrong year would: said, not clamped
    assert not ok.isEnabled() and "in the future" in dialog.date.problem()


def test_tab_leaves_the_date_so_a_name_typed_after_it_reaches_the_inspector(qtbot) -> None:
    """Asset, Tab, date, Tab, inspector: a plain date field kept the second Tab for its month, and the
    name typed next was lost in the date."""
    from PySide6.QtCore import Qt

    from tests.ui.conftest import tab_into_date

    dialog = AddInspectionDialog(["P-1"], parent=None)
    tab_into_date(qtbot, dialog)
    qtbot.keyClick(dialog.focusWidget(), Qt.Key.Key_Tab)
    qtbot.keyClicks(dialog.focusWidget(), "Jane Doe")
    assert dialog.inspector.text() == "Jane Doe"
    assert dialog.request().inspector == "Jane Doe"
    # a date typed in full, its "-" moving between year, month and day, stays in the date
    qtbot.keyClick(dialog.focusWidget(), Qt.Key.Key_Backtab)
    assert dialog.date.hasFocus()
    dialog.date.setSelectedSection(dialog.date.Section.YearSection)
    qtbot.keyClicks(dialog.date, "2023-05-03")
    assert dialog.date.hasFocus() and dialog.inspector.text() == "Jane Doe"
    assert dialog.request().date.isoformat() == "2023-05-03"


@pytest.mark.parametrize("how", ["select all", "home", "inside the year"])
def test_a_date_typed_after_select_all_or_a_click_is_taken_whole(qtbot, how: str) -> None:
    """Qt dropped digits typed over the whole text or at a cursor inside a full part: Ctrl+A then
    "2023-05-10" kept the old year and saved 2024-05-10 without a word."""
    import datetime as dt

    from PySide6.QtCore import Qt

    from app.ui.date_field import DateField

    field = DateField(dt.date(2024, 5, 12), dt.date(2026, 12, 8))
    qtbot.addWidget(field)
    field.show()
    field.setFocus()
    if how == "select all":
        qtbot.keyClick(field, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    elif how == "home":
        qtbot.keyClick(field, Qt.Key.Key_Home)
    else:
        field.lineEdit().setCursorPosition(2)  # where a click in the year puts it
    qtbot.keyClicks(field, "2019-12-31")
    assert field.date().toString("yyyy-MM-dd") == "2019-12-31"


def test_enter_after_adding_photos_analyses_and_stores_rather_than_reopening_the_file_dialog(
    qtbot, tmp_path: Path, monkeypatch
) -> None:
    """The focus stayed on Add photos… (a push button in a dialog is its default while focused), so Enter
    opened the file dialog again instead of Analyse and store."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QFileDialog, QPushButton

    folder = photo_folder(tmp_path / "photos", 2, 0.1, size=(48, 64))
    dialog = AddInspectionDialog(["P-1"], parent=None)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    with qtbot.waitSignal(dialog.listed, timeout=10_000):
        dialog.add_paths([folder])
    add_photos = next(b for b in dialog.findChildren(QPushButton) if b.text() == "Add photos…")
    add_photos.setFocus()
    picked: list[bool] = []
    monkeypatch.setattr(QFileDialog, "getOpenFileNames", lambda *a, **k: (picked.append(True), ([], ""))[1])
    with qtbot.waitSignal(dialog.accepted, timeout=2000):
        qtbot.keyClick(add_photos, Qt.Key.Key_Return)
    assert not picked
