"""A new folder batch never leaves the last folder's photo above its table: the view is cleared and says
to pick a row; a photo the new batch takes in stays, its row selected."""

from __future__ import annotations

from app.ui.figures_widget import NO_PHOTO_TEXT
from app.ui.image_viewer_widget import BATCH_PLACEHOLDER_TEXT
from tests.ui.conftest import TIMEOUT_MS, open_and_wait, photo
from tests.ui.test_batch import make_folder


def test_the_last_folders_photo_goes_when_a_new_folder_batch_starts(qtbot, window, tmp_path):
    earlier = tmp_path / "earlier"
    earlier.mkdir()
    open_and_wait(qtbot, window, photo(earlier, 7)[0])
    assert window.viewer.has_photo() and window.figures.values()
    folder = make_folder(tmp_path, 2)
    with qtbot.waitSignal(window.controller.batch_started, timeout=TIMEOUT_MS):
        window.open_folder(folder)
    assert window.controller.current is None and window.controller.result is None
    assert not window.viewer.has_photo() and window.viewer.placeholder_text == BATCH_PLACEHOLDER_TEXT
    assert window.figures.review_label.text() == NO_PHOTO_TEXT and "pick a row of the batch" in NO_PHOTO_TEXT
    assert "pipe_" not in window.windowTitle()
    qtbot.waitUntil(lambda: not window.controller.batch_running, timeout=TIMEOUT_MS)
    assert not window.viewer.has_photo(), "no row picked yet: still no photo"


def test_a_photo_the_new_batch_takes_in_stays_with_its_row_selected(qtbot, window, tmp_path):
    folder = make_folder(tmp_path, 2)
    shown = folder / "pipe_01.png"
    open_and_wait(qtbot, window, shown)
    with qtbot.waitSignal(window.controller.batch_finished, timeout=TIMEOUT_MS):
        window.open_folder(folder)
    assert window.controller.current is not None and window.controller.current.path == shown
    assert window.viewer.has_photo()
    selected = window.batch.table.selectionModel().selectedRows()
    assert [window.batch.proxy.mapToSource(i).row() for i in selected] == [1]
