"""The project in the window (pytest-qt, real widgets, real SQLite): create a project from the File
menu, add two inspections through the dialog, open a stored photo, the trend view and compare. The panel
reads the project on a worker: a test waits until it has (`_read`)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import QDialogButtonBox, QFileDialog

from app.core.photos import read_image
from app.core.project import Project
from app.ui.compare_dialog import CompareDialog
from app.ui.project_panel_widget import ROLE
from app.ui.qimage import qimage_to_rgb
from app.ui.readout_widget import readout_text
from app.ui.trend_view_widget import TrendDialog, _stamp
from tests.helpers.pipe_photos import photo_folder
from tests.ui.conftest import TIMEOUT_MS, open_and_wait
from tests.ui.test_report_words import pdf_text

DATES = (dt.date(2022, 5, 1), dt.date(2024, 5, 1))


def _read(qtbot, win) -> None:
    """Wait until the panel has read the project (it does on a worker)."""
    qtbot.waitUntil(lambda: not win.projects.panel.loading, timeout=TIMEOUT_MS)


def _add_through_dialog(qtbot, win, folder: Path, date: dt.date, inspector: str, count: int = 3) -> None:
    win.projects.panel.add_button.click()
    dialog = win.projects.dialogs[-1]
    dialog.asset.setCurrentText("P-101-A")
    dialog.date.setDate(QDate(date.year, date.month, date.day))
    dialog.inspector.setText(inspector)
    with qtbot.waitSignal(dialog.listed, timeout=TIMEOUT_MS):  # the folder is listed on a worker
        dialog.add_paths([folder])
    assert dialog.photos.count() == count
    with qtbot.waitSignal(win.projects.inspection_added, timeout=TIMEOUT_MS):
        dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    _read(qtbot, win)


@pytest.fixture
def project_window(qtbot, window, tmp_path: Path, monkeypatch):
    """The window with a project made through File > New project… and two inspections added."""
    target = tmp_path / "site.corroscope"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(tmp_path / "site"), ""))
    with qtbot.waitSignal(window.projects.project_changed, timeout=TIMEOUT_MS):  # made on a worker
        window.actions["new_project"].trigger()
    assert target.is_file() and window.projects.project is not None
    _read(qtbot, window)
    for n, date in enumerate(DATES):
        folder = photo_folder(tmp_path / f"insp{n}", 3, 0.05 + 0.15 * n, seed=n, size=(48, 64))
        _add_through_dialog(qtbot, window, folder, date, inspector=f"inspector {n}")
    return window, target


def test_the_tree_shows_asset_inspections_and_photos(project_window) -> None:
    win, _target = project_window
    tree = win.projects.panel.tree
    assert tree.topLevelItemCount() == 1
    asset = tree.topLevelItem(0)
    assert asset.text(0) == "P-101-A"
    assert [asset.child(n).text(0) for n in range(2)] == [
        "2022-05-01 · inspector 0",
        "2024-05-01 · inspector 1",
    ]
    assert [asset.child(0).child(n).text(0) for n in range(3)] == [f"photo_00{n}.png" for n in range(3)]


def test_a_stored_photo_opens_like_any_photo_with_its_overlay_and_readout(qtbot, project_window) -> None:
    win, target = project_window
    open_and_wait(qtbot, win, next((target.parent / "insp0").iterdir()))  # a photo analysed the usual way
    item = win.projects.panel.tree.topLevelItem(0).child(1).child(2)
    photo_id = item.data(0, ROLE)[1]
    with Project.open(target) as project:
        stored = project.latest_result(photo_id)
        path = project.photo_file(project.photo(photo_id))
    assert stored is not None and path is not None
    with qtbot.waitSignal(win.controller.photo_analyzed, timeout=TIMEOUT_MS):
        win.projects.panel.tree.setCurrentItem(item)
    text = win.projects.panel.figures.text()  # the stored figures stay in the panel
    first = text.splitlines()[0]  # named as the project's, in their mode (the window's run may differ)
    assert first.startswith("Stored in the project on 20") and first.endswith(" UTC (whole photo):")
    assert f"{stored.corroded_share:.2f} %" in text and f"ASTM D610: {stored.astm_d610}" in text
    assert "Model estimate: typically within ±9 points" in text  # the model's typical error, stored with it
    result = win.controller.result
    assert result is not None and result.path == path and win.actions["export"].isEnabled()
    assert win.figures.result is result  # the figures panel and the window show the same photo
    shown = qimage_to_rgb(win.viewer.rendered_image())
    assert not np.array_equal(shown, read_image(path)), "the overlay is drawn over the stored photo"
    y, x = np.argwhere(result.labels == result.labels.max())[0]
    win.readout.show_at(int(x), int(y))  # the readout speaks of this photo's classes, not the last one's
    assert win.readout.text() == readout_text(result, result.size, int(x), int(y))
    assert "·" in win.readout.text()
    win.projects.panel.rerun_button.click()  # the same model in the same mode: the same figures again
    assert "already comes from this model" in win.banner.text
    assert "Re-running" not in win.busy_label.text()  # nothing was started
    win.actions["use_tiles"].trigger()  # another mode: a result worth storing
    with qtbot.waitSignal(win.projects.result_added, timeout=TIMEOUT_MS):
        win.projects.panel.rerun_button.click()
    with Project.open(target) as project:
        results = project.results(photo_id)
    assert [r.mode for r in results] == ["resize", "tiles"]  # the re-run is kept beside the first result


def test_the_trend_view_plots_each_inspection(qtbot, project_window) -> None:
    win, target = project_window
    with qtbot.waitSignal(win.projects.dialog_opened, timeout=TIMEOUT_MS) as opened:
        win.projects.panel.trend_button.click()
    dialog = opened.args[0]
    assert isinstance(dialog, TrendDialog) and dialog.isVisible()
    with Project.open(target) as project:
        trend = project.trend("P-101-A")
    xs, means = dialog.view.curve_data()["mean"]
    assert xs == [_stamp(d) for d in DATES]
    assert means == pytest.approx([r.corroded_share_mean for r in trend.rows])
    assert dialog.view.curve_data()["max"][1] == pytest.approx([r.corroded_share_max for r in trend.rows])
    assert "too few inspections for a rate" in dialog.view.rate_label.text()  # two are not a trend
    assert dialog.heading.text() == "Asset P-101-A" and dialog.windowTitle() == "Trend of P-101-A"


def test_the_trend_window_names_the_asset_and_saves_its_pdf_replacing_only_on_yes(
    qtbot, project_window, monkeypatch
) -> None:
    from PySide6.QtWidgets import QFileDialog

    from app.ui import project_export_job

    win, target = project_window
    with Project.open(target) as project:
        project.ensure_asset("P-101-A", name="Feed line north", location="Rack 3")
    with qtbot.waitSignal(win.projects.dialog_opened, timeout=TIMEOUT_MS) as opened:
        win.projects.panel.trend_button.click()
    dialog = opened.args[0]
    assert dialog.windowTitle() == "Trend of P-101-A – Feed line north"
    assert dialog.heading.text() == "Asset P-101-A · Name: Feed line north · Location: Rack 3"
    offered = []

    def save_as(_parent, _title, start, *_a, **_k):
        offered.append(Path(start))
        return str(target.parent / "north"), ""  # typed without .pdf

    monkeypatch.setattr(QFileDialog, "getSaveFileName", save_as)
    with Project.open(target) as project:  # another inspector re-dates an inspection meanwhile
        first = project.inspections("P-101-A")[0]
        project.correct_inspection(first.id, "P-101-A", dt.date(2021, 5, 1), first.inspector, "", by="Cy")
    with qtbot.waitSignal(win.controller.export_finished, timeout=TIMEOUT_MS):
        dialog.save_button.click()
    written = target.parent / "north.pdf"
    text = pdf_text(written.read_bytes())  # the project as it is now, its table and change log agreeing
    assert "2021-05-01 inspector 0" in text and "2022-05-01 inspector 0" not in text  # the table
    assert "date 2022-05-01 → 2021-05-01" in text
    assert offered == [target.parent / "P-101-A_trend.pdf"]  # beside the project
    assert written.read_bytes().startswith(b"%PDF") and "north.pdf" in win.banner.text
    qtbot.waitUntil(lambda: dialog.saved.text() == f"Saved {written}", timeout=TIMEOUT_MS)  # there too
    # and the window shows what was written, not the figures of the read it was opened from
    assert [row[0] for row in dialog.view.table_cells()] == ["2021-05-01", "2024-05-01"]
    written.write_bytes(b"an inspector's own file")
    asked = []
    kept = project_export_job.save_trend_pdf(
        win.projects,
        dialog,
        dialog.asset,
        dialog.view.trend,
        ask_path=lambda *_a: written,
        replace=lambda _p, paths: asked.append(paths) or False,
    )
    assert kept is None and asked == [[written]] and written.read_bytes() == b"an inspector's own file"


def test_compare_keeps_zoom_and_pan_in_step(qtbot, project_window) -> None:
    win, _target = project_window
    with qtbot.waitSignal(win.projects.dialog_opened, timeout=TIMEOUT_MS) as opened:
        win.projects.panel.compare_button.click()
    dialog = opened.args[0]
    assert isinstance(dialog, CompareDialog) and dialog.isVisible()
    left, right = dialog.views
    qtbot.waitUntil(lambda: all(p is not None for p in dialog.photos), timeout=TIMEOUT_MS)
    assert [b.currentText()[:10] for b in dialog.inspection_boxes] == ["2022-05-01", "2024-05-01"]
    assert (
        "Corroded share" in dialog.figure_labels[0].text()
        and "Corroded share" in dialog.figure_labels[1].text()
    )
    assert dialog.style == win.overlay_state.style, "the classes drawn as in the window"
    text = dialog.figure_labels[0].text()
    assert ", CPU, resize" in text and "ExecutionProvider" not in text, "the provider named as elsewhere"
    left.zoom_by(4.0)
    assert right.zoom == pytest.approx(left.zoom)
    left.horizontalScrollBar().setValue(left.horizontalScrollBar().maximum())
    assert right.center().x() == pytest.approx(left.center().x(), abs=1.0)
    right.zoom_by(0.5)
    assert left.zoom == pytest.approx(right.zoom)
    # the keys the window zooms with, for both panes; the focus on a pane, not on a photo list
    qtbot.waitUntil(lambda: dialog.isActiveWindow(), timeout=TIMEOUT_MS)
    assert dialog.focusWidget() is left
    before = left.relative_zoom
    qtbot.keyClick(left, Qt.Key.Key_Equal, Qt.KeyboardModifier.ControlModifier)
    assert left.relative_zoom == pytest.approx(before * 1.25) and right.zoom == pytest.approx(left.zoom)
    qtbot.keyClick(left, Qt.Key.Key_0, Qt.KeyboardModifier.ControlModifier)
    assert left.relative_zoom == pytest.approx(1.0) and right.relative_zoom == pytest.approx(1.0)


def test_moved_photos_are_found_again_from_the_panel(
    qtbot, project_window, tmp_path: Path, monkeypatch
) -> None:
    win, _target = project_window
    (tmp_path / "insp1").rename(tmp_path / "moved")
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(tmp_path / "moved"))
    with qtbot.waitSignal(win.projects.photos_relocated, timeout=TIMEOUT_MS) as found:
        win.projects.panel.relocate_button.click()
    assert found.args == [3]


def _tree_state(tree) -> tuple[set, object]:
    items, stack = [], [tree.topLevelItem(n) for n in range(tree.topLevelItemCount())]
    while stack:
        item = stack.pop(0)
        items.append(item)
        stack += [item.child(n) for n in range(item.childCount())]
    expanded = {tuple(i.data(0, ROLE)[:2]) for i in items if i.isExpanded()}
    current = tree.currentItem()
    return expanded, None if current is None else tuple(current.data(0, ROLE)[:2])


def test_the_tree_keeps_expansion_and_selection_and_rerun_says_what_it_stored(
    qtbot, project_window, tmp_path: Path
) -> None:
    win, _target = project_window
    tree = win.projects.panel.tree
    asset = tree.topLevelItem(0)
    asset.child(0).setExpanded(True)
    item = asset.child(1).child(1)
    asset.child(1).setExpanded(True)
    with qtbot.waitSignal(win.controller.photo_analyzed, timeout=TIMEOUT_MS):
        tree.setCurrentItem(item)
    before = _tree_state(tree)
    assert before[1] == ("photo", item.data(0, ROLE)[1])
    folder = photo_folder(tmp_path / "insp2", 2, 0.3, seed=7, size=(48, 64))
    _add_through_dialog(qtbot, win, folder, dt.date(2025, 5, 1), "inspector 2", count=2)
    assert _tree_state(tree) == before  # Add inspection keeps what was open and picked
    win.actions["use_tiles"].trigger()  # the same model and mode would store nothing new
    with qtbot.waitSignal(win.projects.result_added, timeout=TIMEOUT_MS):
        win.projects.panel.rerun_button.click()
        assert "Re-running the model on" in win.busy_label.text()
    _read(qtbot, win)
    assert _tree_state(tree) == before  # so does Re-run
    assert "Stored a new result for" in win.banner.text and "all 2 results" in win.banner.text


def test_the_photos_column_header_is_not_clipped(qtbot, project_window) -> None:
    win, _target = project_window
    tree, header = win.projects.panel.tree, win.projects.panel.tree.header()
    win.resizeDocks([win.projects.dock], [300], Qt.Orientation.Horizontal)  # a narrow dock
    qtbot.wait(50)
    text = tree.headerItem().text(1)
    assert header.sectionSize(1) >= header.fontMetrics().horizontalAdvance(text)
    assert header.sectionViewportPosition(1) + header.sectionSize(1) <= header.viewport().width()


def test_add_inspection_prefills_the_last_inspector_typed_and_never_changes_who_signs(project_window) -> None:
    win, _target = project_window
    assert win.settings.inspector_name == ""  # the fixture's inspections by "inspector 0" and "inspector 1"
    win.settings.inspector_name = "Dana Inspector"  # who signs reviews at this computer
    win.projects.panel.add_button.click()
    dialog = win.projects.dialogs[-1]
    assert dialog.inspector.text() == "inspector 1"
    dialog.reject()
    win.settings.inspection_inspector = ""  # none typed yet: the reviewer's name is offered
    win.projects.panel.add_button.click()
    dialog = win.projects.dialogs[-1]
    assert dialog.inspector.text() == "Dana Inspector"
    dialog.reject()
    assert win.settings.inspector_name == "Dana Inspector"


def test_a_server_project_connects_in_the_background_and_a_silent_server_is_reported(
    qtbot, window, monkeypatch
) -> None:
    """File ▸ Open project on a server…: the window keeps responding while it connects, and a server
    that never answers ends in a message after the connect timeout, not a frozen window."""
    import socket
    import time

    from app.ui import project_jobs

    pytest.importorskip("psycopg")
    monkeypatch.setenv("CORROSCOPE_DB_CONNECT_SECONDS", "5")  # far above the bound below, even on a busy CI
    with socket.socket() as silent:  # the kernel completes the TCP handshake; nothing ever answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"postgresql://nobody@127.0.0.1:{silent.getsockname()[1]}/site"
        monkeypatch.setattr(project_jobs, "ask_server_url", lambda _parent, _last="": url)
        start = time.monotonic()
        worker = window.projects.open_project_server_dialog()
        assert worker is not None and time.monotonic() - start < 2.5  # returned at once: not connecting here
        assert "Connecting" in window.busy_label.text()
        # the failure and then the worker's end arrive as two queued signals: wait for both
        ended = lambda: window.banner.level == "error" and not window.busy_label.text()  # noqa: E731
        qtbot.waitUntil(ended, timeout=30_000)
    assert "Cannot open" in window.banner.text and "timeout" in window.banner.text.lower()
    assert window.projects.project is None


def test_the_server_url_dialog_is_wide_enough_for_a_url(qtbot, window, monkeypatch) -> None:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QInputDialog

    from app.ui.project_jobs import ask_server_url

    url = "postgresql://inspector@db.plant-north.example.com:5432/corrosion_2026"
    seen: list[int] = []

    def type_and_accept() -> None:
        dialog = QApplication.activeModalWidget()
        assert isinstance(dialog, QInputDialog)
        seen.append(dialog.width())
        dialog.setTextValue(f"  {url} ")
        dialog.accept()

    QTimer.singleShot(0, type_and_accept)
    assert ask_server_url(window) == url
    assert seen and seen[0] >= 560

    def accept_as_filled() -> None:
        dialog = QApplication.activeModalWidget()
        assert isinstance(dialog, QInputDialog) and dialog.textValue() == url
        dialog.accept()

    QTimer.singleShot(0, accept_as_filled)
    assert ask_server_url(window, url) == url  # the last server, offered again


def test_reload_shows_what_another_inspector_added_meanwhile(
    qtbot, project_window, tmp_path, tiny_model
) -> None:
    from app.core.project import add_inspection_photos

    win, target = project_window
    panel = win.projects.panel
    qtbot.waitUntil(lambda: not panel.loading, timeout=TIMEOUT_MS)
    tree = panel.tree
    assert tree.topLevelItem(0).childCount() == 2
    folder = photo_folder(tmp_path / "colleague", 2, 0.3, seed=9, size=(48, 64))
    with Project.open(target) as other:  # another window, another inspector: its own connection
        add_inspection_photos(
            other, tiny_model, "P-101-A", dt.date(2026, 5, 1), sorted(folder.iterdir()), "C"
        )
    assert tree.topLevelItem(0).childCount() == 2, "the panel shows the project as last read"
    assert panel.reload_button.isEnabled() and win.actions["reload_project"].isEnabled()
    assert win.actions["reload_project"].shortcut().toString() == "F5"  # Project ▸ Reload
    with qtbot.waitSignal(panel.loaded, timeout=TIMEOUT_MS):
        panel.reload_button.click()
    assert tree.topLevelItem(0).childCount() == 3
    assert tree.topLevelItem(0).child(2).text(0) == "2026-05-01 · C"


def test_a_project_file_is_in_open_recent_and_reopens_from_there(qtbot, project_window, tmp_path) -> None:
    win, target = project_window
    assert win.settings.recent_files[0] == str(target)
    entry = next(a for a in win._recent_menu.actions() if a.toolTip() == str(target))
    assert entry.text().startswith("site.corroscope")
    win.projects.set_project(None)  # closed (as Stop waiting does), then picked from Open recent
    with qtbot.waitSignal(win.projects.panel.loaded, timeout=TIMEOUT_MS):
        entry.trigger()
    assert win.projects.project is not None and win.projects.project.location.file == target
    assert win.projects.panel.tree.topLevelItem(0).text(0) == "P-101-A"
    assert win.controller.current is None  # a project is not opened as a photo


def test_file_close_project_closes_it_and_leaves_the_file(qtbot, project_window) -> None:
    win, target = project_window
    assert win.actions["close_project"].isEnabled()
    win.actions["close_project"].trigger()
    assert win.projects.project is None and not win.projects.dock.isVisible()
    assert not win.actions["close_project"].isEnabled() and not win.actions["export_project"].isEnabled()
    assert target.is_file() and "Closed the project" in win.statusBar().currentMessage()
    with qtbot.waitSignal(win.projects.project_changed, timeout=TIMEOUT_MS):
        win.projects.open(target)  # and opens again as it was
    _read(qtbot, win)
    assert win.projects.panel.tree.topLevelItem(0).text(0) == "P-101-A"


def test_the_banner_after_add_inspection_names_the_inspection(project_window) -> None:
    """ "3 photos stored, 0 already stored, 0 failed" did not say which inspection took them (the CLI's
    line does): the window says it as the CLI does."""
    win, _target = project_window
    assert win.banner.text.startswith(
        f"New inspection P-101-A {DATES[-1].isoformat()} (inspector 1): 3 photos stored, 0 already stored"
    ), win.banner.text
