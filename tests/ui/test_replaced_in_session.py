"""A photo's edits and signature belong to the picture they were drawn on. Replaced on disk under its name
while the app ran, the photo came back with the old picture's mask and "✔ Reviewed by" over it, and a
save recorded the new picture's SHA-256 (so later runs took it too). And a correction thrown away (Revert,
Discard) came back from an export's copy, which the window searched as if it were a save."""

from __future__ import annotations

import shutil
from pathlib import Path

from app.core.reviewed import read_reviewed_mask
from app.core.saved_corrections import CorrectionSearch
from app.ui import export_jobs
from app.ui.export_folders import remember_export_folder
from tests.ui.conftest import TIMEOUT_MS, open_and_wait, photo
from tests.ui.test_edit_gui import _discard_on_close, drag  # noqa: F401  (the fixture: no question at close)


def _signed(qtbot, win, path: Path) -> None:
    open_and_wait(qtbot, win, path)
    win.editing.set_tool("brush")
    drag(qtbot, win, [(20, 20), (70, 50)])
    win.editing.edits.mark_reviewed("Hank Auditor")


def test_a_photo_replaced_while_the_app_runs_does_not_take_the_old_ones_signature(qtbot, window, tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    first, _ = photo(site, 3, size=(96, 128), name="ORI_142.png")
    other, _ = photo(tmp_path, 9, size=(96, 128), name="desert.png")
    _signed(qtbot, window, first)
    drawn_on = window.editing.edits.session.photo_sha256
    assert drawn_on
    saved = tmp_path / "site results" / "ORI_142_mask.reviewed.png"
    job = window.editing.edits.save_job(saved, overwrite=False)
    saved.parent.mkdir()
    shutil.copyfile(other, first)  # another picture under the same name, same size
    job()  # a save that ends after the swap records the picture the mask was drawn on
    assert read_reviewed_mask(saved).review.photo_sha256 == drawn_on
    open_and_wait(qtbot, window, other)
    open_and_wait(qtbot, window, first)
    assert first not in window.editing.edits.sessions
    assert not window.controller.state.review.is_reviewed
    # the session's banner, or the saved mask's refusal (found by a worker, it may come last): both say
    # the photo is another now and the old signature is not applied
    said = window.banner.text
    assert "is another photo by now (replaced on disk under its name)" in said or (
        "changed since its mask ORI_142_mask.reviewed.png was saved" in said
        and "the mask was not applied" in said
    ), said
    assert window.controller.result.labels is window.controller.state.model_labels


def test_a_correction_thrown_away_does_not_come_back_from_an_export_copy(qtbot, window, tmp_path):
    first, _ = photo(tmp_path, 3, size=(96, 128), name="ORI_111.png")
    other, _ = photo(tmp_path, 4, size=(96, 128), name="ORI_199.png")
    _signed(qtbot, window, first)
    out = tmp_path / "exp111"
    remember_export_folder(window.settings, "photo", first.parent, out)  # as the export dialog does
    with qtbot.waitSignal(window.controller.export_finished, timeout=TIMEOUT_MS):
        export_jobs.start_photo_export(window, out, ["mask"])
    assert (out / "ORI_111_mask.reviewed.png").is_file()
    window.editing.edits.discard(first)  # Edit ▸ Revert to the model's mask…, Discard
    assert CorrectionSearch().find(first) is None, "an export folder is not where corrections are kept"
    open_and_wait(qtbot, window, other)
    opened: list[object] = []
    window.editing.edits.mask_opened.connect(lambda *a: opened.append(a))
    open_and_wait(qtbot, window, first)
    qtbot.wait(200)
    assert opened == [] and not window.controller.state.review.is_reviewed
