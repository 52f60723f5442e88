"""A batch in the window counts what the inspector corrected, as the photo opened alone does: a signed
correction saved in an earlier run (in `<folder> results`) gives its photo's row, and a photo edited in
this run keeps its edit's figures when the batch runs over it."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QFileDialog

from app.core import figures
from app.ui import review_actions
from app.ui.batch_table import COLUMNS
from app.ui.export_jobs import batch_report_options
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
    window.editing.edits.sessions.clear()  # as in a new run of the app: only the file is left

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
    from app.ui.export_jobs import batch_records, review_fields

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
    assert row.review is not None and not row.review.is_reviewed
    assert _cell(window, "pipe_00.png", "Review") == "needs review"
    assert _row(window, "pipe_01.png").review is None
