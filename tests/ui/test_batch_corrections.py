"""A batch in the window counts what the inspector corrected, as the photo opened alone does: a signed
correction saved in an earlier run (in `<folder> results`) gives its photo's row, and a photo edited in
this run keeps its edit's figures when the batch runs over it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtWidgets import QFileDialog

from app.core import figures
from app.report.thumbnails import make_thumbnail, relabelled
from app.ui import review_actions
from app.ui.batch_exports import batch_report_options
from app.ui.batch_table import COLUMNS
from tests.ui.conftest import TIMEOUT_MS, open_and_wait
from tests.ui.test_batch import make_folder, run_batch
from tests.ui.test_review_flags import _paint


@pytest.fixture(autouse=True)
def _discard_on_close(monkeypatch) -> None:
    monkeypatch.setattr(review_actions, "ask_discard_edits", lambda parent, names, action: True)
    monkeypatch.setattr(review_actions, "ask_unsaved_on_quit", lambda parent, names: "discard")


def _row(win, name: str):
    return next(r for r in win.batch_model.rows if r.path.name == name)


def _cell(win, name: str, column: str) -> str:
    m = win.batch_model
    i = next(i for i, r in enumerate(m.rows) if r.path.name == name)
    return m.data(m.index(i, COLUMNS.index(column)))


def test_a_signed_correction_saved_earlier_gives_its_photos_row(qtbot, window, tmp_path, monkeypatch) -> None:
    folder = make_folder(tmp_path, 2)
    target = folder / "pipe_01.png"
    open_and_wait(qtbot, window, target)
    model_share = window.controller.result.stats.corroded_share
    _paint(qtbot, window, "asset")
    window.editing.edits.mark_reviewed("Bo Inspector")
    signed_share = window.controller.result.stats.corroded_share
    assert signed_share != model_share
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda parent, title, start, *a, **k: (start, ""))
    with qtbot.waitSignal(window.controller.export_finished, timeout=TIMEOUT_MS) as written:
        window.editing.actions["save_reviewed"].trigger()
    saved = Path(written.args[0][0])
    assert saved.parent == tmp_path / "photos results"
    # as in a new run of the app: only the file is left (no session, and no photo on screen whose late
    # re-measure of the edit would give its batch row the figures with no review)
    window.editing.edits.sessions.clear()
    window.controller.clear_photo()

    run_batch(qtbot, window, folder)
    row = _row(window, "pipe_01.png")
    assert row.result.stats.corroded_share == pytest.approx(signed_share)
    assert row.review is not None and row.review.reviewed_by == "Bo Inspector"
    assert _cell(window, "pipe_01.png", "Review") == "reviewed"
    assert _cell(window, "pipe_01.png", "Reason").startswith("reviewed by Bo Inspector on ")
    assert _cell(window, "pipe_01.png", "Corroded share %") == figures.percent_text(signed_share)
    other = _row(window, "pipe_00.png")
    assert other.review is None and _cell(window, "pipe_00.png", "Review") != "reviewed"
    reviews = batch_report_options(window).reviews  # the batch PDF's cards say who vouches
    assert list(reviews) == [target] and reviews[target].startswith("reviewed by Bo Inspector on ")
    from app.core.record import PhotoRecord
    from app.ui.batch_exports import batch_records
    from app.ui.export_jobs import review_fields

    records = batch_records(window.batch_model.rows)
    signed = next(r for r in records if isinstance(r, PhotoRecord) and r.get("reviewed_by"))
    assert signed["reviewed_mask"] == str(saved)  # Export CSV names the file the figures are
    with qtbot.waitSignal(window.editing.edits.mask_opened, timeout=TIMEOUT_MS):
        open_and_wait(qtbot, window, target)  # the saved mask is found again when the photo opens
    assert review_fields(window).mask == saved  # and so does the photo's own export (Ctrl+E)


def test_a_photo_edited_in_this_run_keeps_its_edit_in_a_new_batch(qtbot, window, tmp_path) -> None:
    folder = make_folder(tmp_path, 2)
    open_and_wait(qtbot, window, folder / "pipe_00.png")
    model_share = window.controller.result.stats.corroded_share
    _paint(qtbot, window, "asset")
    qtbot.waitUntil(lambda: window.editing.edits.session.figures is not None, timeout=TIMEOUT_MS)
    edited_share = window.controller.result.stats.corroded_share
    assert edited_share != model_share

    run_batch(qtbot, window, folder)
    row = _row(window, "pipe_00.png")
    assert row.result.stats.corroded_share == pytest.approx(edited_share)
    assert np.array_equal(row.thumbnail.labels(), window.editing.edits.sessions[row.path].editor.labels)
    assert row.review is not None and not row.review.is_reviewed
    assert _cell(window, "pipe_00.png", "Review") == "needs review"
    assert _row(window, "pipe_01.png").review is None


def test_an_edited_rows_thumbnail_shows_the_edit_its_figures_count(qtbot, window, tmp_path) -> None:
    """The batch report's card prints the edit's figures beside its thumbnail, which shows the strokes."""
    folder = make_folder(tmp_path, 2)
    run_batch(qtbot, window, folder)
    target = folder / "pipe_01.png"
    model_thumb = _row(window, "pipe_01.png").thumbnail.labels()
    open_and_wait(qtbot, window, target)
    _paint(qtbot, window, "corrosion")
    qtbot.waitUntil(lambda: _row(window, "pipe_01.png").review is not None, timeout=TIMEOUT_MS)
    edited = window.controller.result.labels
    assert not np.array_equal(edited, window.controller.state.model_labels)
    thumb = batch_report_options(window).thumbnails[target]
    assert np.array_equal(thumb.labels(), edited)  # the photo is under the thumbnail's size: pixel for pixel
    assert not np.array_equal(thumb.labels(), model_thumb)
    assert np.array_equal(thumb.rgb(), _row(window, "pipe_01.png").thumbnail.rgb())


def test_relabelling_a_thumbnail_shrinks_the_labels_as_making_one_does() -> None:
    rng = np.random.default_rng(3)
    rgb = rng.integers(0, 256, (900, 1200, 3), dtype=np.uint8)
    labels, edited = (rng.integers(0, 3, (900, 1200), dtype=np.uint8) for _ in range(2))
    thumb = relabelled(make_thumbnail(rgb, labels), edited)
    fresh = make_thumbnail(rgb, edited)
    assert thumb.labels().shape == (240, 320)
    assert np.array_equal(thumb.labels(), fresh.labels()) and thumb.jpeg == fresh.jpeg
