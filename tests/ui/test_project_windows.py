"""Open trend and compare windows follow the project (they kept the figures of the read they were made
from, while Save PDF… wrote newer ones), and closed ones are freed (each closed Compare kept its photos,
~100 MB for a 12 MP one: hidden, with the main window as parent)."""

from __future__ import annotations

import datetime as dt
import gc
import weakref

from app.core.project import Project, add_inspection_photos
from app.ui.compare_dialog import CompareDialog, starting_pair
from app.ui.trend_view_widget import TrendDialog
from app.ui.workers import alive
from tests.helpers.pipe_photos import photo_folder
from tests.ui.conftest import TIMEOUT_MS
from tests.ui.test_projects import project_window  # noqa: F401  (the fixture)


def _open(qtbot, win, button):
    with qtbot.waitSignal(win.projects.dialog_opened, timeout=TIMEOUT_MS) as opened:
        button.click()
    return opened.args[0]


def test_open_trend_and_compare_windows_follow_a_reload(qtbot, project_window, tmp_path, tiny_model) -> None:  # noqa: F811
    win, target = project_window
    panel = win.projects.panel
    trend = _open(qtbot, win, panel.trend_button)
    compare = _open(qtbot, win, panel.compare_button)
    qtbot.waitUntil(lambda: all(p is not None for p in compare.photos), timeout=TIMEOUT_MS)
    left_photo = compare.photo_boxes[0].currentData()
    assert [row[0] for row in trend.view.table_cells()] == ["2022-05-01", "2024-05-01"]
    folder = photo_folder(tmp_path / "colleague", 2, 0.3, seed=9, size=(48, 64))
    with Project.open(target) as other:  # another inspector: a third inspection, a re-dated first one
        add_inspection_photos(
            other, tiny_model, "P-101-A", dt.date(2025, 5, 1), sorted(folder.iterdir()), "C"
        )
        first = other.inspections("P-101-A")[0]
        other.correct_inspection(first.id, "P-101-A", dt.date(2021, 5, 1), first.inspector, "", by="Cy")
    with qtbot.waitSignal(panel.loaded, timeout=TIMEOUT_MS):
        panel.reload_button.click()
    assert [row[0] for row in trend.view.table_cells()] == ["2021-05-01", "2024-05-01", "2025-05-01"]
    box = compare.inspection_boxes[0]
    assert [box.itemText(n)[:10] for n in range(box.count())] == ["2021-05-01", "2024-05-01", "2025-05-01"]
    assert box.currentText().startswith("2021-05-01"), "the inspection picked stays picked"
    assert compare.photo_boxes[0].currentData() == left_photo
    assert compare.photos[0] is not None, "the same photo with the same result is not read again"


def test_closed_trend_and_compare_windows_are_freed(qtbot, project_window) -> None:  # noqa: F811
    win, _target = project_window
    panel = win.projects.panel
    refs = []
    for button in (panel.compare_button, panel.trend_button, panel.compare_button):
        dialog = _open(qtbot, win, button)
        if isinstance(dialog, CompareDialog):
            qtbot.waitUntil(lambda d=dialog: all(p is not None for p in d.photos), timeout=TIMEOUT_MS)
        refs.append(weakref.ref(dialog))
        dialog.close()  # as the title bar's ✕, Esc or Close do
        del dialog
    qtbot.waitUntil(
        lambda: not win.findChildren(CompareDialog) and not win.findChildren(TrendDialog), timeout=TIMEOUT_MS
    )
    assert not [d for d in win.projects.dialogs if alive(d)]
    gc.collect()
    assert [r() for r in refs] == [None, None, None], "nothing keeps a closed window (or its photos)"


def test_a_photo_arriving_after_compare_closed_is_dropped(qtbot, project_window) -> None:  # noqa: F811
    win, _target = project_window
    dialog = _open(qtbot, win, win.projects.panel.compare_button)
    dialog.close()  # before its photos were read: their results come to a closed window
    qtbot.waitUntil(lambda: not alive(dialog), timeout=TIMEOUT_MS)
    qtbot.wait(100)  # nothing raised in a slot meanwhile (pytest-qt fails the test on an exception there)


def test_compare_starts_from_the_inspection_or_photo_picked(qtbot, project_window) -> None:  # noqa: F811
    """Compare… from an inspection's or a photo's menu showed the first and the latest inspection's first
    photos whatever was picked; now the photo picked, against the same file name in the other one."""
    win, _target = project_window
    panel = win.projects.panel
    asset = panel.tree.topLevelItem(0)
    panel.tree.setCurrentItem(asset.child(0).child(2))  # photo_002.png of the first inspection
    compare = _open(qtbot, win, panel.compare_button)
    texts = [
        (compare.inspection_boxes[s].currentText()[:10], compare.photo_boxes[s].currentText()) for s in (0, 1)
    ]
    assert texts == [("2022-05-01", "photo_002.png"), ("2024-05-01", "photo_002.png")]
    qtbot.waitUntil(lambda: all(p is not None for p in compare.photos), timeout=TIMEOUT_MS)
    compare.close()
    panel.tree.setCurrentItem(panel.tree.topLevelItem(0).child(1))  # the latest: against the one before
    compare = _open(qtbot, win, panel.compare_button)
    assert [compare.photo_boxes[s].currentText() for s in (0, 1)] == ["photo_000.png"] * 2
    assert compare.inspection_boxes[1].currentText().startswith("2024-05-01")


def test_the_inspections_shown_first() -> None:
    assert starting_pair([4, 7, 9], None) == (0, 2)
    assert starting_pair([4, 7, 9], 7) == (0, 1)
    assert starting_pair([4, 7, 9], 9) == (1, 2)
    assert starting_pair([4, 7, 9], 4) == (0, 1)
    assert starting_pair([4], 4) == (0, 0)
    assert starting_pair([], None) == (0, 0)
