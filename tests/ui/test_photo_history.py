"""A stored photo's history: right-click ▸ History of this photo… lists every result the project keeps of
it (the first run, a re-run in another mode, a signed review), newest first, the counted one marked."""

from __future__ import annotations

import re

from PySide6.QtCore import QSize

from app.core.project import PhotoEntry, Project, ReviewMark
from app.core.project.photos import describe_photo
from app.ui.history_dialogs import HISTORY_HEADER, ChangeLogDialog, HistoryDialog, PhotoHistoryDialog
from app.ui.project_panel_widget import ROLE
from app.ui.screen_fit import fit_size
from tests.ui.conftest import TIMEOUT_MS
from tests.ui.test_projects import project_window  # noqa: F401  (the fixture)


def test_history_lists_every_result_newest_first_with_the_signed_one_named(
    qtbot,
    project_window,  # noqa: F811
) -> None:
    win, target = project_window
    panel = win.projects.panel
    item = panel.tree.topLevelItem(0).child(1).child(0)
    photo_id = item.data(0, ROLE)[1]
    with Project.open(target) as project:  # a second result: a signed review of the model's
        first = project.latest_result(photo_id)
        project_file = project.photo_file(project.photo(photo_id))
        assert first is not None and project_file is not None
        entry = PhotoEntry(describe_photo(project_file), dict(first.record), first.model_name)
        project.add_result(photo_id, entry, ReviewMark("/masks/photo_000_mask.reviewed.png", "Ann Inspector"))
    win.projects.panel.tree.setCurrentItem(item)
    menu = panel.menu_for(item)
    history = next(a for a in menu.actions() if a.text() == "History of this photo…")
    with qtbot.waitSignal(win.projects.dialog_opened, timeout=TIMEOUT_MS) as opened:
        history.trigger()
    dialog = opened.args[0]
    assert isinstance(dialog, PhotoHistoryDialog) and dialog.isVisible()
    assert dialog.windowTitle() == "History of photo_000.png"
    cells = dialog.cells()
    assert len(cells) == 2 and "2 results stored" in dialog.summary.text()
    assert cells[0][0].endswith("(counted)") and not cells[1][0].endswith("(counted)")
    assert cells[0][1] == "reviewed mask, Ann Inspector" and cells[0][5].startswith("signed 20")
    assert cells[1][1] == "model" and cells[1][5] in ("needs review", "no review needed")
    assert cells[1][2] == f"{first.corroded_share:.2f}" and first.model_sha256[:12] in cells[1][6]


def test_the_change_log_names_who_corrected_what_and_what_it_was(
    qtbot,
    project_window,  # noqa: F811
) -> None:
    win, _target = project_window
    win.settings.inspector_name = "Dana Inspector"
    panel = win.projects.panel
    inspection = win.projects.view.inspections("P-101-A")[0]
    with qtbot.waitSignal(win.projects.edits.corrected, timeout=TIMEOUT_MS):
        win.projects.edits.correct(inspection, "P-101-A", inspection.date, "Eve", "north side")
    qtbot.waitUntil(lambda: not panel.loading, timeout=TIMEOUT_MS)
    asset = panel.tree.topLevelItem(0)
    panel.tree.setCurrentItem(asset)
    log = next(a for a in panel.menu_for(asset).actions() if a.text() == "Change log…")
    with qtbot.waitSignal(win.projects.dialog_opened, timeout=TIMEOUT_MS) as opened:
        log.trigger()
    dialog = opened.args[0]
    assert isinstance(dialog, ChangeLogDialog) and dialog.windowTitle() == "Change log of P-101-A"
    ((when, who, subject, what),) = dialog.cells()
    assert who == "Dana Inspector" and subject == "inspection P-101-A 2022-05-01 by inspector 0"
    assert what == "inspector 'inspector 0' → Eve; notes were (none)" and when.endswith("UTC")
    assert "1 change made after the fact" in dialog.summary.text()


# a signed review and a model run; the shipped model's file name is the longest piece
MODEL_ROWS = [
    [
        "2026-12-06 14:03 UTC (counted)",
        "reviewed mask, Ann Inspector",
        "12.34",
        "4-G",
        "Ri 4",
        "signed 2026-12-06 14:03 UTC",
        "corrosion-deeplabv3plus-mobilenetv2.int8.onnx (a1b2c3d4e5f6), CPU, resize",
    ],
    [
        "2026-12-05 10:00 UTC",
        "model",
        "11.00",
        "4-S",
        "Ri 4",
        "needs review",
        "corrosion-deeplabv3plus-mobilenetv2.onnx (0123456789ab), CUDA, tiles",
    ],
]


def _model_column_whole(dialog: HistoryDialog) -> bool:
    """Every Model cell at least its longest unbreakable piece wide (a file name wraps after its hyphens)
    and its row as tall as its wrapped lines."""
    t = dialog.table
    last = t.columnCount() - 1
    width = t.columnWidth(last)
    for r in range(t.rowCount()):
        words = re.split(r"\s+|(?<=[a-z]-)", t.item(r, last).text())  # Qt breaks there
        if width < max(t.fontMetrics().horizontalAdvance(w) for w in words) or t.rowHeight(
            r
        ) < t.sizeHintForRow(r):
            return False
    return True


def test_the_model_column_shows_whole_on_a_1280_screen_and_a_small_one(qtbot) -> None:
    """File, SHA-256 prefix, provider and mode: the column was cut to "…" at the dialog's default size."""
    rows = MODEL_ROWS
    dialog = HistoryDialog("History of photo_000.png", "2 results", HISTORY_HEADER, rows, numbers=(2, 3, 4))
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    qtbot.waitUntil(lambda: _model_column_whole(dialog))  # the test screen's 800 px: it scrolls
    on_1280 = fit_size(QSize(dialog.wanted_width(), 360), QSize(1280, 984))
    dialog.resize(on_1280)
    bar = dialog.table.horizontalScrollBar()
    qtbot.waitUntil(lambda: dialog.table.viewport().width() > 1100 and not bar.isVisible())  # it fits
    qtbot.waitUntil(lambda: _model_column_whole(dialog))


def test_the_model_column_wraps_whole_on_a_1024_screen(qtbot) -> None:
    """At 1024 px the file name was cut ("corrosion-deeplabv3plus-mobi…") behind a horizontal scroll bar:
    it wraps after its hyphens, and the table fits the window."""
    dialog = HistoryDialog("History", "2 results", HISTORY_HEADER, MODEL_ROWS, numbers=(2, 3, 4))
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.resize(fit_size(QSize(dialog.wanted_width(), 360), QSize(1024, 768)))
    t = dialog.table
    qtbot.waitUntil(lambda: t.viewport().width() > 950)
    last = t.columnCount() - 1
    qtbot.waitUntil(lambda: t.columnViewportPosition(last) + t.columnWidth(last) <= t.viewport().width())
    qtbot.waitUntil(lambda: not t.horizontalScrollBar().isVisible())  # shown at first on an 800 px screen
    qtbot.waitUntil(lambda: _model_column_whole(dialog))
    assert all(t.rowHeight(r) >= 3 * t.fontMetrics().height() for r in range(t.rowCount())), "3 lines"
