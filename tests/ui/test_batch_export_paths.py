"""The batch CSV and PDF land where the save dialog was answered: the name typed gets its extension, a
folder typed that does not exist yet is made, and what goes wrong is said in the window's words."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QDialog, QFileDialog

from app.ui import batch_exports
from app.ui.report_header_fields import ReportHeaderDialog
from tests.ui.conftest import TIMEOUT_MS
from tests.ui.test_batch import make_folder, run_batch


@pytest.fixture
def answers(monkeypatch) -> list[str]:
    """What the save dialogs are answered, in turn (append before each export); the report header
    dialog is accepted as it stands."""
    given: list[str] = []

    def fake_save(_parent, _title, _start, _pattern, options=None):
        return given.pop(0), ""

    monkeypatch.setattr(QFileDialog, "getSaveFileName", fake_save)
    monkeypatch.setattr(ReportHeaderDialog, "exec", lambda _dialog: QDialog.DialogCode.Accepted)
    return given


@pytest.fixture
def asked(monkeypatch) -> list[list[str]]:
    """The names each replace question lists; every question is answered No."""
    seen: list[list[str]] = []

    def no(_parent, existing):
        seen.append([p.name for p in existing])
        return False

    monkeypatch.setattr(batch_exports, "confirm_overwrite", no)
    return seen


def _export(qtbot, window, start) -> list[Path]:
    """Run `start(window)`; the files it wrote (the test fails at once, with the banner, if it fails)."""
    done: list[list] = []
    failed: list[str] = []
    c = window.controller
    on_done, on_failed = c.export_finished.connect(done.append), c.export_failed.connect(failed.append)
    try:
        assert start(window) is not None
        qtbot.waitUntil(lambda: bool(done or failed), timeout=TIMEOUT_MS)
    finally:
        c.disconnect(on_done)
        c.disconnect(on_failed)
    assert not failed, window.banner.text
    return [Path(p) for p in done[0]]


def test_a_name_typed_without_extension_gets_it_and_the_question_is_about_that_file(
    qtbot, window, tmp_path, answers, asked
):
    run_batch(qtbot, window, make_folder(tmp_path, 2))
    out = tmp_path / "out"
    out.mkdir()
    answers.append(str(out / "report"))
    assert _export(qtbot, window, batch_exports.export_batch_pdf_interactive) == [out / "report.pdf"]
    pdf = (out / "report.pdf").read_bytes()
    answers.append(str(out / "report"))
    written = _export(qtbot, window, batch_exports.export_batch_csv_interactive)
    assert written == [out / "report.csv", out / "report.json"]
    assert asked == [], "the PDF is no CSV: nothing to ask"
    assert (out / "report.pdf").read_bytes() == pdf
    answers.append(str(out / "report"))
    assert batch_exports.export_batch_csv_interactive(window) is None
    assert asked == [["report.csv", "report.json"]]
    answers.append(str(out / "Summary.PDF"))  # an extension in another case is the extension
    assert _export(qtbot, window, batch_exports.export_batch_pdf_interactive) == [out / "Summary.PDF"]


def test_batch_exports_make_the_folder_typed_as_the_photo_export_does(qtbot, window, tmp_path, answers):
    run_batch(qtbot, window, make_folder(tmp_path, 2))
    answers.append(str(tmp_path / "new" / "sub" / "t.csv"))
    written = _export(qtbot, window, batch_exports.export_batch_csv_interactive)
    assert written == [tmp_path / "new" / "sub" / "t.csv", tmp_path / "new" / "sub" / "t.json"]
    answers.append(str(tmp_path / "other" / "r.pdf"))
    assert _export(qtbot, window, batch_exports.export_batch_pdf_interactive) == [
        tmp_path / "other" / "r.pdf"
    ]
    assert (tmp_path / "other" / "r.pdf").read_bytes().startswith(b"%PDF")
    assert "Exported 1 file to" in window.banner.text and "r.pdf" in window.banner.text
