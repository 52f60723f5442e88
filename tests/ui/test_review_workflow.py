"""The review workflow's faults a tester found: a saved mask applied to another photo of the same name,
signing refused without a word, long or marked-up reviewer names."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.files import write_png
from app.core.reviewed import read_reviewed_mask, reviewed_mask_path
from app.core.synthetic import synthetic_pipe
from app.ui import review_actions
from tests.ui.conftest import TIMEOUT_MS, open_and_wait, photo


class _Answer:
    def __init__(self, name: str, note: str = "") -> None:
        self.name, self.note = name, note


@pytest.fixture(autouse=True)
def _discard_on_close(monkeypatch) -> None:
    monkeypatch.setattr(review_actions, "ask_discard_edits", lambda parent, names, action: True)
    monkeypatch.setattr(review_actions, "ask_unsaved_on_quit", lambda parent, names: "discard")


def _sign_and_save(qtbot, win, path: Path, monkeypatch, name: str = "Bo") -> Path:
    """Mark the model's mask reviewed by `name` and save it beside the photo, as Ctrl+S would."""
    ui = win.editing
    monkeypatch.setattr(ui.review, "ask_inspector", lambda name_="": _Answer(name))
    ui.review.mark_reviewed()
    target = reviewed_mask_path(path.parent, path.stem)
    with qtbot.waitSignal(win.controller.export_finished, timeout=TIMEOUT_MS):
        ui.review.save_reviewed_mask(target)
    return target


def test_a_signed_mask_is_not_applied_to_another_photo_saved_under_its_name(
    qtbot, window, tmp_path, monkeypatch
) -> None:
    path, _rgb = photo(tmp_path, 3, size=(96, 128), name="ORI_003.png")
    open_and_wait(qtbot, window, path)
    target = _sign_and_save(qtbot, window, path, monkeypatch)
    assert read_reviewed_mask(target).review.photo_sha256, "the mask records its photo"
    window.editing.edits.sessions.clear()  # as in a new run of the app
    other, _ = synthetic_pipe(11, (96, 128))
    write_png(path, other, overwrite=True)  # another photo of the same size, under the same name
    with qtbot.waitSignal(window.editing.edits.message, timeout=TIMEOUT_MS):
        open_and_wait(qtbot, window, path)
    text = window.banner.text
    assert "ORI_003.png changed since its mask ORI_003_mask.reviewed.png was saved" in text
    assert "the mask was not applied" in text and "reviewed by" not in text
    assert window.editing.edits.session is None, "the model's own mask of the new photo stays"
    assert window.controller.result.labels_source == "model"
    assert "Reviewed by" not in window.figures.review_label.text()


def test_a_batch_row_of_a_changed_photo_does_not_take_its_old_signed_mask(
    qtbot, window, tmp_path, monkeypatch
) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    path, _rgb = photo(folder, 3, size=(96, 128))
    open_and_wait(qtbot, window, path)
    _sign_and_save(qtbot, window, path, monkeypatch)
    window.editing.edits.sessions.clear()
    write_png(path, synthetic_pipe(11, (96, 128))[0], overwrite=True)
    with qtbot.waitSignal(window.controller.batch_finished, timeout=TIMEOUT_MS):
        window.open_folder(folder)
    row = window.batch_model.row(0)
    assert row.failed and "changed since its mask" in row.reason
