"""The batch CSV and PDF land where the save dialog was answered: the name typed gets its extension, a
folder typed that does not exist yet is made, and what goes wrong is said in the window's words."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QDialog, QFileDialog

from app.ui import export_jobs
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

    monkeypatch.setattr(export_jobs, "confirm_overwrite", no)
    return seen


def _export(qtbot, window, start) -> list[Path]:
    with qtbot.waitSignal(window.controller.export_finished, timeout=TIMEOUT_MS) as done:
        assert start(window) is not None
    return [Path(p) for p in done.args[0]]


def test_a_name_typed_without_extension_gets_it_and_the_question_is_about_that_file(
    qtbot, window, tmp_path, answers, asked
):
    run_batch(qtbot, window, make_folder(tmp_path, 2))
    out = tmp_path / "out"
    out.mkdir()
    answers.append(str(out / "report"))
    assert _export(qtbot, window, export_jobs.export_batch_pdf_interactive) == [out / "report.pdf"]
    pdf = (out / "report.pdf").read_bytes()
    answers.append(str(out / "report"))
    written = _export(qtbot, window, export_jobs.export_batch_csv_interactive)
    assert written == [out / "report.csv", out / "report.json"]
    assert asked == [], "the PDF is no CSV: nothing to ask"
    assert (out / "report.pdf").read_bytes() == pdf
    answers.append(str(out / "report"))
    assert export_jobs.export_batch_csv_interactive(window) is None
    assert asked == [["report.csv", "report.json"]]
    answers.append(str(out / "Summary.PDF"))  # an extension in another case is the extension
    assert _export(qtbot, window, export_jobs.export_batch_pdf_interactive) == [out / "Summary.PDF"]
