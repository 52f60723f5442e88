"""Moving between photos: the batch selection and the photo shown agree, A/D and PgUp/PgDn, folders
without photos, quitting while a batch runs, Open recent."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from tests.ui.conftest import TIMEOUT_MS, open_and_wait, photo
from tests.ui.test_batch import make_folder, run_batch
from tests.ui.test_exports import answer_question

Yes, No = QMessageBox.StandardButton.Yes, QMessageBox.StandardButton.No


def _shown(window) -> Path:
    return window.controller.current.path


def _selected(window) -> Path | None:
    return window.batch.current_path()


def test_arrow_keys_in_the_batch_table_change_the_photo(qtbot, window, tmp_path):
    folder = make_folder(tmp_path, 3)
    run_batch(qtbot, window, folder)
    table = window.batch.table
    rect = table.visualRect(window.batch.proxy.index(0, 0))
    with qtbot.waitSignal(window.controller.photo_analyzed, timeout=TIMEOUT_MS):
        qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert _shown(window) == _selected(window) == window.batch_model.row(0).path
    with qtbot.waitSignal(window.controller.photo_analyzed, timeout=TIMEOUT_MS):
        qtbot.keyClick(table, Qt.Key.Key_Down)
    row1 = window.batch_model.row(1).path
    assert _selected(window) == row1
    assert _shown(window) == row1 and window.controller.result.path == row1
    assert window.windowTitle().startswith(row1.name)


def test_photo_opened_elsewhere_moves_or_clears_the_selection(qtbot, window, tmp_path):
    folder = make_folder(tmp_path, 3)
    run_batch(qtbot, window, folder)
    open_and_wait(qtbot, window, window.batch_model.row(2).path)
    assert _selected(window) == window.batch_model.row(2).path
    outside, _ = photo(tmp_path, 30)
    open_and_wait(qtbot, window, outside)
    assert _selected(window) is None, "no row may look selected while another photo shows"


def test_a_d_and_page_keys_step_through_the_batch(qtbot, window, tmp_path):
    folder = make_folder(tmp_path, 3)
    run_batch(qtbot, window, folder)
    rows = [r.path for r in window.batch_model.rows]
    open_and_wait(qtbot, window, rows[0])
    for key, want in ((Qt.Key.Key_D, rows[1]), (Qt.Key.Key_PageDown, rows[2]), (Qt.Key.Key_A, rows[1])):
        with qtbot.waitSignal(window.controller.photo_analyzed, timeout=TIMEOUT_MS):
            qtbot.keyClick(window.viewer, key)
        assert _shown(window) == want == _selected(window)
    with qtbot.waitSignal(window.controller.photo_analyzed, timeout=TIMEOUT_MS):
        qtbot.keyClick(window.viewer, Qt.Key.Key_PageUp)
    assert _shown(window) == rows[0]
    qtbot.keyClick(window.viewer, Qt.Key.Key_A)
    assert _shown(window) == rows[0] == _selected(window)
    assert "first photo of the batch" in window.statusBar().currentMessage()


def test_the_photo_on_screen_is_selected_when_its_row_arrives(qtbot, window, tmp_path):
    folder = make_folder(tmp_path, 3)
    shown = folder / "pipe_01.png"
    open_and_wait(qtbot, window, shown)
    run_batch(qtbot, window, folder)
    assert _selected(window) == shown == _shown(window)


def test_a_d_step_through_the_folder_of_a_single_photo(qtbot, window, tmp_path):
    paths = [photo(tmp_path, i, name=f"p{i}.png")[0] for i in range(3)]
    open_and_wait(qtbot, window, paths[1])
    with qtbot.waitSignal(window.controller.photo_analyzed, timeout=TIMEOUT_MS):
        qtbot.keyClick(window.viewer, Qt.Key.Key_D)
    assert _shown(window) == paths[2]
    qtbot.keyClick(window.viewer, Qt.Key.Key_D)  # the last one: stays, says so
    assert _shown(window) == paths[2]
    assert "last photo" in window.statusBar().currentMessage()
    window.actions["previous_photo"].trigger()
    qtbot.waitUntil(lambda: window.controller.result is not None and _shown(window) == paths[1])


def test_empty_folder_with_photos_in_subfolders_offers_them(qtbot, window, tmp_path):
    folder = tmp_path / "site"
    (folder / "north").mkdir(parents=True)
    (folder / "south").mkdir()
    photo(folder / "north", 1)
    photo(folder / "south", 2)
    seen: list[str] = []
    answer_question(No, seen)
    window.open_folder(folder)  # the folder is listed on a worker, then the question comes
    qtbot.waitUntil(lambda: bool(seen), timeout=TIMEOUT_MS)
    assert seen == [f"No photos found in {folder} (2 in subfolders: include them?)"]
    assert window.batch_model.rowCount() == 0 and not window.controller.batch_running
    assert "No photos found" in window.banner.text
    assert window.batch.progress.text() != "0 / 1 photos"
    answer_question(Yes, seen)
    with qtbot.waitSignal(window.controller.batch_finished, timeout=TIMEOUT_MS) as blocker:
        window.open_folder(folder)
    assert blocker.args[0] == "Batch finished: 2 of 2 photos, 0 failed"
    assert {r.path.parent.name for r in window.batch_model.rows} == {"north", "south"}


def test_empty_folder_says_no_photos_and_starts_no_batch(qtbot, window, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    started: list[int] = []
    window.controller.batch_started.connect(started.append)
    window.open_folder(empty)
    qtbot.waitUntil(lambda: bool(window.banner.text), timeout=TIMEOUT_MS)
    assert f"No photos found in {empty}" in window.banner.text
    assert window.banner.level == "warning"
    assert started == [] and "0 of 0" not in window.batch.status_label.text()


def test_include_subfolders_setting_runs_them_directly(qtbot, window, tmp_path):
    folder = tmp_path / "site"
    (folder / "deep").mkdir(parents=True)
    photo(folder / "deep", 3)
    window.actions["recursive"].setChecked(True)
    assert window.settings.recursive
    with qtbot.waitSignal(window.controller.batch_finished, timeout=TIMEOUT_MS) as blocker:
        window.open_folder(folder)
    assert blocker.args[0] == "Batch finished: 1 of 1 photos, 0 failed"


def test_quit_during_a_batch_asks_and_says_how_much_is_done(qtbot, window, tmp_path):
    folder = make_folder(tmp_path, 12, size=(360, 480), distinct=2)
    with qtbot.waitSignal(window.controller.batch_row_ready, timeout=TIMEOUT_MS):
        window.open_folder(folder)
    seen: list[str] = []
    answer_question(No, seen)
    window.close()
    assert window.isVisible() and window.controller.batch_running
    assert len(seen) == 1 and "photos done" in seen[0] and "of 12" in seen[0]
    done = int(seen[0].split("running: ")[1].split(" of")[0])
    assert 1 <= done <= 12
    window.activateWindow()  # the question box had the focus
    qtbot.waitUntil(window.isActiveWindow)
    answer_question(Yes, seen)
    qtbot.keyClick(window.viewer, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    assert len(seen) == 2 and "photos done" in seen[1]
    assert not window.isVisible()
    qtbot.waitUntil(lambda: not window.controller.batch_running, timeout=TIMEOUT_MS)
    assert window.batch_model.done_count < 12  # the rest stays as "not analysed" rows


def test_recent_shows_folders_tooltips_and_clears(qtbot, window, tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    one, _ = photo(tmp_path / "a", 4, name="ORI_010.png")
    two, _ = photo(tmp_path / "b", 5, name="ORI_010.png")
    open_and_wait(qtbot, window, one)
    open_and_wait(qtbot, window, two)
    entries = [a for a in window._recent_menu.actions() if a.data()]
    texts = [a.text() for a in entries]
    assert len(set(texts)) == 2, f"two photos of the same name look the same: {texts}"
    assert texts[0].startswith("ORI_010.png") and texts[0].endswith("b") and texts[1].endswith("a")
    assert [a.toolTip() for a in entries] == [str(two), str(one)]
    clear = next(a for a in window._recent_menu.actions() if a.text() == "Clear recent")
    clear.trigger()
    assert window.settings.recent_files == []
    assert not window._recent_menu.isEnabled()


def test_batch_row_clicks_do_not_fill_recent(qtbot, window, tmp_path):
    folder = make_folder(tmp_path, 3)
    run_batch(qtbot, window, folder)
    table = window.batch.table
    for row in range(3):
        rect = table.visualRect(window.batch.proxy.index(row, 0))
        with qtbot.waitSignal(window.controller.photo_analyzed, timeout=TIMEOUT_MS):
            qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert window.settings.recent_files == []
    QApplication.processEvents()


def test_d_and_page_down_work_with_the_table_focused(qtbot, window, tmp_path):
    run_batch(qtbot, window, make_folder(tmp_path, 3))
    rows = [r.path for r in window.batch_model.rows]
    open_and_wait(qtbot, window, rows[0])
    window.batch.table.setFocus()
    for key, want in ((Qt.Key.Key_D, rows[1]), (Qt.Key.Key_PageDown, rows[2])):
        with qtbot.waitSignal(window.controller.photo_analyzed, timeout=TIMEOUT_MS):
            qtbot.keyClick(window.batch.table, key)  # not the table's type-ahead search or page jump
        assert _shown(window) == want == _selected(window)


def test_files_the_scan_leaves_out_are_named_in_the_window(qtbot, window, tmp_path):
    """A phone's HEIC photos or a GIF beside the JPEGs: the window names them, as `analyze` does, instead
    of leaving them out unseen; a folder of nothing else does not say "no photos" without them."""
    phone = tmp_path / "phone"
    phone.mkdir()
    for name in ("IMG_0001.HEIC", "IMG_0002.heic"):
        (phone / name).write_bytes(b"\x00\x00\x00\x18ftypheic")
    window.open_folder(phone)
    qtbot.waitUntil(lambda: bool(window.banner.text), timeout=TIMEOUT_MS)
    assert window.banner.level == "warning" and f"No photos found in {phone}" in window.banner.text
    assert "Left out 2 files named like photos: 2 .heic" in window.banner.text
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    photo(mixed, 0), photo(mixed, 1)
    (mixed / "sketch.gif").write_bytes(b"GIF89a")
    with qtbot.waitSignal(window.controller.batch_finished, timeout=TIMEOUT_MS) as blocker:
        window.open_folder(mixed)
    assert blocker.args[0] == "Batch finished: 2 of 2 photos, 0 failed"
    assert "Left out 1 file named like photos: 1 .gif" in window.banner.text
    assert "convert them to JPEG or PNG" in window.banner.text


def test_a_folder_is_listed_off_the_ui_thread(qtbot, window, tmp_path, monkeypatch):
    """A share may hold thousands of files: listing them before a batch must not freeze the window."""
    import threading

    from app.ui import folder_scan

    threads: list[bool] = []
    real = folder_scan.photos_in

    def listing(*args, **kwargs):
        threads.append(threading.current_thread() is threading.main_thread())
        return real(*args, **kwargs)

    monkeypatch.setattr(folder_scan, "photos_in", listing)
    folder = make_folder(tmp_path, 2)
    seen: list[str] = []
    # read as the batch starts, and its end counted from the start: a small batch may end in the same
    # round of events as it starts, before a test could wait for it
    window.controller.batch_started.connect(lambda _n: seen.append(window.busy_label.text()))
    finished: list[str] = []
    window.controller.batch_finished.connect(finished.append)
    window.open_folder(folder)
    seen.insert(0, window.busy_label.text())
    qtbot.waitUntil(lambda: bool(finished), timeout=TIMEOUT_MS)
    assert threads and not any(threads), "the folder was listed on the UI thread"
    assert seen[0] == "Looking for photos…" and seen[1] == "Batch running…", seen


def test_each_press_of_d_counts_while_the_last_photo_loads(qtbot, window, tmp_path):
    """Three presses of D before the next photo had loaded moved one photo: each stepped from the photo
    still shown and asked for the same neighbour again (holding D moved one photo in 4 s)."""
    paths = [photo(tmp_path, i, name=f"p{i}.png")[0] for i in range(5)]
    open_and_wait(qtbot, window, paths[0])
    for _ in range(3):
        qtbot.keyClick(window.viewer, Qt.Key.Key_D)  # no wait: the photos are still loading
    assert window.controller.requested == paths[3]
    qtbot.waitUntil(lambda: window.controller.result is not None and _shown(window) == paths[3])
    assert window.controller.result.path == paths[3]


def test_d_in_a_batch_with_no_row_picked_starts_at_its_first_row(qtbot, window, tmp_path):
    """The canvas says "A / D step through the rows"; D did nothing until a row was clicked."""
    run_batch(qtbot, window, make_folder(tmp_path, 3))
    rows = window.batch.paths()
    with qtbot.waitSignal(window.controller.photo_analyzed, timeout=TIMEOUT_MS):
        qtbot.keyClick(window.viewer, Qt.Key.Key_D)
    assert _shown(window) == rows[0] == _selected(window)


def test_tabbing_into_the_batch_table_keeps_the_photo_on_screen(qtbot, window, tmp_path):
    """Focus reaching the table with no row picked made its first row current, which replaced the photo
    being inspected (a scale line half drawn was lost with it). Focus picks nothing; Down shows row 1."""
    run_batch(qtbot, window, make_folder(tmp_path, 3))
    outside, _ = photo(tmp_path, 30)
    open_and_wait(qtbot, window, outside)
    opened: list[object] = []
    window.controller.photo_opened.connect(opened.append)
    window.batch.table.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(window.batch.table.hasFocus)
    qtbot.wait(200)
    assert opened == [] and _shown(window) == outside and _selected(window) is None
    with qtbot.waitSignal(window.controller.photo_analyzed, timeout=TIMEOUT_MS):
        qtbot.keyClick(window.batch.table, Qt.Key.Key_Down)
    assert _shown(window) == window.batch.paths()[0] == _selected(window)
