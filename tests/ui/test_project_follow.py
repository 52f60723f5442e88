"""The project tree follows the photo on screen: stepping with D to the next photo of the folder picks
its stored photo (and its stored figures) instead of leaving the previous one picked, a photo the project
does not hold leaves no photo picked (and adding it to the project picks it), and a stored photo whose
file is gone is not shown as another."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

from app.ui.project_panel_widget import ROLE
from tests.helpers.pipe_photos import photo_folder
from tests.ui.conftest import TIMEOUT_MS, open_and_wait
from tests.ui.test_projects import _add_through_dialog, project_window  # noqa: F401  (the fixture)


def _pick(qtbot, win, inspection: int, photo: int):
    item = win.projects.panel.tree.topLevelItem(0).child(inspection).child(photo)
    with qtbot.waitSignal(win.controller.photo_analyzed, timeout=TIMEOUT_MS):
        win.projects.panel.tree.setCurrentItem(item)
    return item


def _picked(win):
    item = win.projects.panel.tree.currentItem()
    return None if item is None else item.data(0, ROLE)[:2]


def test_stepping_to_the_next_photo_picks_it_in_the_tree(qtbot, project_window, tmp_path) -> None:  # noqa: F811
    win, _target = project_window
    panel = win.projects.panel
    first = _pick(qtbot, win, 0, 0)
    assert win.controller.current.path.name == "photo_000.png"
    second = panel.tree.topLevelItem(0).child(0).child(1)
    with qtbot.waitSignal(win.controller.photo_analyzed, timeout=TIMEOUT_MS):
        win.next_photo()
    assert win.controller.current.path.name == "photo_001.png"
    assert _picked(win) == ("photo", second.data(0, ROLE)[1]) != ("photo", first.data(0, ROLE)[1])
    assert panel.figures.text() and panel.remove_button.text() == "Remove photo…"
    stored = win.projects.view.latest_result(second.data(0, ROLE)[1])
    assert f"{stored.corroded_share:.2f}" in panel.figures.text().replace(",", ".")

    elsewhere = tmp_path / "other" / "loose.png"
    elsewhere.parent.mkdir()
    shutil.copy(win.controller.current.path, elsewhere)  # the same content, not a stored path
    with qtbot.waitSignal(win.controller.photo_analyzed, timeout=TIMEOUT_MS):
        win.open_photo(elsewhere)
    assert _picked(win) is None and panel.figures.text() == ""
    assert not panel.remove_button.isEnabled()


def test_a_stored_photo_whose_file_is_gone_clears_the_photo_on_screen_and_opens_when_found(
    qtbot,
    project_window,  # noqa: F811
) -> None:
    win, target = project_window
    _pick(qtbot, win, 0, 0)
    gone = target.parent / "insp0" / "photo_002.png"
    gone.rename(gone.with_name("moved.png"))
    item = win.projects.panel.tree.topLevelItem(0).child(0).child(2)
    picked = item.data(0, ROLE)[:2]
    win.projects.panel.tree.setCurrentItem(item)
    qtbot.waitUntil(lambda: "is not at" in win.banner.text, timeout=TIMEOUT_MS)
    assert win.controller.current is None and win.windowTitle() == "photo_002.png (not found) – Corroscope"
    assert "photo_002.png is not at" in win.banner.text and "Find moved photos" in win.banner.text
    with qtbot.waitSignal(win.controller.photo_analyzed, timeout=TIMEOUT_MS):  # found: the picked photo opens
        win.projects.relocate(gone.parent)
    assert win.controller.current.path == gone.with_name("moved.png")
    assert win.windowTitle().startswith("moved.png") and _picked(win) == picked


def test_reload_marks_photos_whose_files_are_gone_and_finding_them_clears_the_mark(
    qtbot,
    project_window,  # noqa: F811
) -> None:
    win, target = project_window
    panel = win.projects.panel
    moved = target.parent / "moved"
    moved.mkdir()
    for name in ("photo_001.png", "photo_002.png"):
        (target.parent / "insp1" / name).rename(moved / name)
    with qtbot.waitSignal(panel.loaded, timeout=TIMEOUT_MS):
        panel.reload_button.click()
    photos = panel.tree.topLevelItem(0).child(1)
    assert [photos.child(n).text(0) for n in range(3)] == [
        "photo_000.png",
        "photo_001.png (not found)",
        "photo_002.png (not found)",
    ]
    assert "Find moved photos" in photos.child(1).toolTip(0) and "2 not found" in photos.toolTip(1)
    assert panel.missing.isVisibleTo(panel) and panel.missing.text().startswith("2 photos not found")
    with qtbot.waitSignal(win.projects.photos_relocated, timeout=TIMEOUT_MS):
        win.projects.relocate(moved)
    assert win.banner.text == f"2 moved photos found again in {moved}"
    qtbot.waitUntil(lambda: not panel.missing.isVisibleTo(panel), timeout=TIMEOUT_MS)
    assert photos is not panel.tree.topLevelItem(0).child(1)  # rebuilt
    assert "not found" not in panel.tree.topLevelItem(0).child(1).child(1).text(0)


def test_adding_the_photo_on_screen_to_the_project_picks_it_in_the_tree(
    qtbot,
    project_window,  # noqa: F811
    tmp_path: Path,
) -> None:
    win, _target = project_window
    panel = win.projects.panel
    folder = photo_folder(tmp_path / "insp2", 2, 0.4, seed=2, size=(48, 64))
    shown = folder / "photo_001.png"
    open_and_wait(qtbot, win, shown)
    assert _picked(win) is None  # not in the project yet
    opened = []
    win.projects.panel.photo_activated.connect(opened.append)
    _add_through_dialog(qtbot, win, folder, dt.date(2025, 5, 1), inspector="inspector 2", count=2)
    item = panel.tree.currentItem()
    assert item is not None and item.data(0, ROLE)[0] == "photo"
    assert Path(win.projects.view.photo(item.data(0, ROLE)[1]).path) == shown
    assert item.parent().text(0) == "2025-05-01 · inspector 2" and item.parent().isExpanded()
    assert panel.remove_button.text() == "Remove photo…" and panel.figures.text()
    assert win.controller.current.path == shown and opened == []  # picked, not opened again
