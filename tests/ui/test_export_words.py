"""What the window says when an export cannot be written: a plain sentence in its own words, never a
Python exception's name or the command line's "ask to overwrite"."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from app.ui import batch_exports, export_jobs
from app.ui.export_dialog import KEEP_BOTH
from app.ui.export_jobs import photo_targets
from tests.ui.conftest import TIMEOUT_MS, open_and_wait, photo
from tests.ui.test_batch import make_folder, run_batch
from tests.ui.test_export_folders import _dialog_starts


def _failed(qtbot, window, start) -> str:
    """Run `start()`, which must fail; the banner it left."""
    with qtbot.waitSignal(window.controller.export_failed, timeout=TIMEOUT_MS):
        assert start() is not None
    assert window.banner.level == "error"
    return window.banner.text


def _export_results_into(monkeypatch, window, folder: Path) -> None:
    """File ▸ Export results… (Ctrl+E), answered with `folder` and the JSON record."""
    _dialog_starts(monkeypatch, window, folder)


def test_a_file_given_as_the_folder_is_said_plainly(qtbot, window, tmp_path, monkeypatch):
    open_and_wait(qtbot, window, photo(tmp_path, 23)[0])
    a_file = tmp_path / "notes.txt"
    a_file.write_text("a file, not a folder")
    text = _failed(qtbot, window, lambda: _export_results_into(monkeypatch, window, a_file) or True)
    assert text == f"Export failed: {a_file} is a file, not a folder: choose a folder"
    text = _failed(qtbot, window, lambda: _export_results_into(monkeypatch, window, a_file / "out") or True)
    assert text == f"Export failed: {a_file} is a file, not a folder: choose a folder"
    assert a_file.read_text() == "a file, not a folder"
    gone = tmp_path / "gone"
    gone.symlink_to(tmp_path / "nowhere")
    text = _failed(qtbot, window, lambda: _export_results_into(monkeypatch, window, gone) or True)
    assert text == f"Export failed: {gone} is a link to nothing, not a folder: choose a folder"


def test_the_batch_pdf_says_its_own_failure(qtbot, window, tmp_path):
    run_batch(qtbot, window, make_folder(tmp_path, 2))
    a_file = tmp_path / "notes.txt"
    a_file.write_text("a file, not a folder")
    text = _failed(qtbot, window, lambda: batch_exports.start_batch_pdf_export(window, a_file / "r.pdf"))
    assert text == f"Export failed: {a_file} is a file, not a folder: choose a folder"
    text = _failed(qtbot, window, lambda: batch_exports.start_batch_csv_export(window, a_file / "t.csv"))
    assert text == f"Export failed: {a_file} is a file, not a folder: choose a folder"


def test_keep_both_when_the_free_name_was_taken_meanwhile_says_it_in_window_words(
    qtbot, window, tmp_path, monkeypatch
):
    path, _ = photo(tmp_path, 24)
    open_and_wait(qtbot, window, path)
    out = tmp_path / "out"
    out.mkdir()
    for target in photo_targets(out, path.stem, {"json"}).values():
        target.write_bytes(b"keep me")
    later = photo_targets(out, f"{path.stem} (2)", {"json"})["json"]
    real = export_jobs.write_photo_exports

    def taken_meanwhile(targets, *args):
        later.write_bytes(b"another program's")  # between the question and the write
        return real(targets, *args)

    monkeypatch.setattr(export_jobs, "write_photo_exports", taken_meanwhile)

    def keep_both() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(10, keep_both)
            return
        next(b for b in box.buttons() if b.text().startswith(KEEP_BOTH)).click()

    QTimer.singleShot(0, keep_both)
    text = _failed(qtbot, window, lambda: export_jobs.start_photo_export(window, out, {"json"}))
    assert text == f"Export failed: {later} already exists (export again to be asked whether to replace it)"
    assert later.read_bytes() == b"another program's"
