"""Export dialogs start in a results folder next to the photos (never in the app's install or its
samples) and remember the last folder per kind of export and per photo folder; folders are shown and
printed whole, never relative to where the app was started."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QDialog, QFileDialog

from app.core.paths import app_root, samples_dir
from app.core.saved_corrections import HOME_RESULTS, default_results_folder
from app.ui import batch_exports, export_jobs
from app.ui.export_dialog import ExportDialog
from app.ui.export_folders import photos_folder
from app.ui.report_header_fields import ReportHeaderDialog
from tests.ui.conftest import open_and_wait, photo
from tests.ui.test_batch import make_folder, run_batch
from tests.ui.test_report_words import pdf_text


def test_default_is_beside_the_photo_folder(tmp_path):
    assert default_results_folder(tmp_path / "site-7") == tmp_path / "site-7 results"


def test_default_is_never_inside_the_app(tmp_path):
    for inside in (samples_dir(), app_root() / "docs"):
        folder = default_results_folder(inside, home=tmp_path)
        assert folder == tmp_path / HOME_RESULTS / inside.name
        assert not folder.resolve().is_relative_to(app_root().resolve())
    assert default_results_folder(None, home=tmp_path) == tmp_path / HOME_RESULTS


def test_photos_folder_is_the_shared_folder(tmp_path):
    paths = [tmp_path / "a" / "x.png", tmp_path / "a" / "b" / "y.png"]
    assert photos_folder(paths) == tmp_path / "a"
    assert photos_folder([]) is None


def _dialog_starts(monkeypatch, window, answer: Path | None) -> list[str]:
    """Run File ▸ Export results…; returns the folder the dialog showed, answering `answer` (or cancel)."""
    seen: list[str] = []

    def fake_exec(dialog: ExportDialog) -> int:
        seen.append(dialog.folder_edit.text())
        if answer is None:
            return QDialog.DialogCode.Rejected
        dialog.folder_edit.setText(str(answer))
        for kind, check in dialog.checks.items():
            check.setChecked(kind == "json")
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(ExportDialog, "exec", fake_exec)
    window.export_dialog()
    return seen


def test_photo_export_starts_beside_and_remembers_per_folder(qtbot, window, tmp_path, monkeypatch):
    site = tmp_path / "site"
    site.mkdir()
    open_and_wait(qtbot, window, photo(site, 3)[0])
    assert _dialog_starts(monkeypatch, window, None) == [str(tmp_path / "site results")]
    chosen = tmp_path / "reports" / "site"
    with qtbot.waitSignal(window.controller.export_finished, timeout=30_000):
        _dialog_starts(monkeypatch, window, chosen)
    assert (chosen / "pipe_03.json").is_file()
    assert _dialog_starts(monkeypatch, window, None) == [str(chosen)]
    other = tmp_path / "other"
    other.mkdir()
    open_and_wait(qtbot, window, photo(other, 4)[0])
    assert _dialog_starts(monkeypatch, window, None) == [str(tmp_path / "other results")]


def test_batch_exports_start_beside_the_batch_folder_per_kind(qtbot, window, tmp_path, monkeypatch):
    folder = make_folder(tmp_path, 2)
    run_batch(qtbot, window, folder)
    starts: list[str] = []
    answers = iter([str(tmp_path / "mine" / "t.csv"), "", ""])

    def fake_save(_parent, _title, start, _pattern, options=None):
        starts.append(start)
        return next(answers), ""

    monkeypatch.setattr(QFileDialog, "getSaveFileName", fake_save)
    monkeypatch.setattr(ReportHeaderDialog, "exec", lambda _dialog: QDialog.DialogCode.Accepted)
    (tmp_path / "mine").mkdir()
    with qtbot.waitSignal(window.controller.export_finished, timeout=30_000):
        batch_exports.export_batch_csv_interactive(window)
    batch_exports.export_batch_csv_interactive(window)  # cancelled
    batch_exports.export_batch_pdf_interactive(window)  # cancelled
    assert starts == [
        str(tmp_path / "photos results" / "results.csv"),
        str(tmp_path / "mine" / "results.csv"),
        str(tmp_path / "photos results" / "batch_report.pdf"),
    ]
    assert not (tmp_path / "photos results").exists(), "a cancelled dialog leaves no empty folder"


def test_a_photo_named_relative_to_where_the_app_started_exports_with_whole_paths(
    qtbot, window, tmp_path, monkeypatch
):
    """`corroscope gui photos/pipe.png`: the dialog and the PDF name the folders from the root (the
    user may have started the app from anywhere), not "photos results" and "Folder: photos"."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "photos").mkdir()
    photo(tmp_path / "photos", 3, name="pipe.png")
    open_and_wait(qtbot, window, Path("photos") / "pipe.png")
    assert _dialog_starts(monkeypatch, window, None) == [str(tmp_path / "photos results")]
    with qtbot.waitSignal(window.controller.export_finished, timeout=30_000):
        assert export_jobs.start_photo_export(window, Path("out"), {"pdf"}) is not None
    text = pdf_text((tmp_path / "out" / "pipe.pdf").read_bytes())
    assert f"Folder: {tmp_path / 'photos'} · mode" in text
