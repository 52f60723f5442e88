"""The header a client expects on every page of the photo and batch reports (asset ID, location, client,
inspector, inspection date: from the project when it holds the photo, else typed and remembered), and
the statement of accuracy (the model's typical error; who reviewed the figures, when)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pypdf
from PySide6.QtWidgets import QDialog, QDialogButtonBox

from app.core.files import write_png
from app.core.report_header import ReportHeader
from app.core.synthetic import synthetic_pipe
from app.ui import batch_exports, export_jobs
from app.ui.export_dialog import ExportDialog
from app.ui.report_header_fields import ReportHeaderDialog
from tests.ui.conftest import TIMEOUT_MS, open_and_wait, photo
from tests.ui.test_batch import make_folder, run_batch
from tests.ui.test_projects import project_window  # noqa: F401  (the fixture)
from tests.ui.test_report_words import pdf_text

HEADER = ReportHeader("P-7", "Quay 3, Rotterdam", "ACME Pipelines", "J. Doe", "2026-11-30")


def page_texts(path: Path) -> list[str]:
    return [pdf_text_of(page) for page in pypdf.PdfReader(path).pages]


def pdf_text_of(page) -> str:
    return " ".join(page.extract_text().replace("\u00a0", " ").replace("\u2011", "-").split())


def assert_header_on_every_page(path: Path, header: ReportHeader) -> None:
    pages = page_texts(path)
    for n, text in enumerate(pages, 1):
        for label, value in header.items():
            assert f"{label}: {value}" in text, f"page {n} lacks {label}: {value}"


def _export_pdf(qtbot, win, out: Path, header: ReportHeader | None = None) -> Path:
    written: list[list] = []
    win.controller.export_finished.connect(written.append)
    export_jobs.start_photo_export(win, out, ["pdf"], header)
    qtbot.waitUntil(lambda: len(written) >= 1, timeout=TIMEOUT_MS)
    return written[0][0]


def test_the_cli_prints_the_typed_header_on_every_page(tmp_path: Path, tiny_model_path: Path) -> None:
    image = write_png(tmp_path / "pipe.png", synthetic_pipe(seed=4, size=(60, 80))[0])
    cmd = [sys.executable, "-m", "app", "analyze", str(image), "--out", str(tmp_path / "o"), "--pdf"]
    cmd += ["--model", str(tiny_model_path), "--device", "cpu", "--asset-id", "P-7"]
    cmd += ["--location", "Quay 3, Rotterdam", "--client", "ACME Pipelines", "--inspector", "J. Doe"]
    cmd += ["--inspection-date", "2026-11-30"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env={**os.environ})
    assert done.returncode == 0, done.stderr
    assert_header_on_every_page(tmp_path / "o" / "pipe.pdf", HEADER)
    text = " ".join(page_texts(tmp_path / "o" / "pipe.pdf"))
    assert "Statement of accuracy" in text
    assert "Figures proposed by a model; not reviewed by a person." in text


def test_the_export_dialog_asks_the_header_and_remembers_it(qtbot, window, tmp_path: Path, monkeypatch):
    path, _ = photo(tmp_path, 1)
    open_and_wait(qtbot, window, path)
    seen: list[ReportHeader] = []

    def fake_exec(dialog: ExportDialog) -> int:
        seen.append(dialog.header)
        dialog.folder_edit.setText(str(tmp_path / f"out{len(seen)}"))  # nothing to replace
        for kind, check in dialog.checks.items():
            check.setChecked(kind == "pdf")
        dialog.header_fields.set_header(HEADER)
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(ExportDialog, "exec", fake_exec)
    with qtbot.waitSignal(window.controller.export_finished, timeout=TIMEOUT_MS):
        window.export_dialog()
    assert_header_on_every_page(tmp_path / "out1" / f"{path.stem}.pdf", HEADER)
    assert window.settings.report_header == HEADER
    with qtbot.waitSignal(window.controller.export_finished, timeout=TIMEOUT_MS):
        window.export_dialog()
    assert seen[-1] == HEADER, "the next export starts from what was typed"


def test_a_photo_of_the_project_takes_its_header_from_the_project(qtbot, project_window, tmp_path):  # noqa: F811
    win, target = project_window
    win.settings.report_header = ReportHeader(client="ACME Pipelines", asset_id="typed, not used")
    open_and_wait(qtbot, win, sorted((target.parent / "insp1").iterdir())[0])
    pdf = _export_pdf(qtbot, win, tmp_path / "out")
    expected = ReportHeader("P-101-A", "", "ACME Pipelines", "inspector 1", "2024-05-01")
    assert_header_on_every_page(pdf, expected)


def test_the_batch_pdf_has_the_header_on_every_page(qtbot, window, tmp_path: Path, monkeypatch):
    run_batch(qtbot, window, make_folder(tmp_path, 3))
    window.settings.report_header = HEADER
    asked: list[ReportHeader] = []

    def fake_exec(dialog: ReportHeaderDialog) -> int:
        asked.append(dialog.fields.header())
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(ReportHeaderDialog, "exec", fake_exec)
    monkeypatch.setattr(
        batch_exports.QFileDialog, "getSaveFileName", lambda *a, **k: (str(tmp_path / "b.pdf"), "")
    )
    with qtbot.waitSignal(window.controller.export_finished, timeout=TIMEOUT_MS):
        batch_exports.export_batch_pdf_interactive(window)
    assert asked == [HEADER]
    assert len(page_texts(tmp_path / "b.pdf")) >= 3
    assert_header_on_every_page(tmp_path / "b.pdf", HEADER)
    text = " ".join(page_texts(tmp_path / "b.pdf"))
    assert "Statement of accuracy" in text and "Model estimate:" in text


def test_the_statement_of_accuracy_names_the_reviewer_and_the_typical_error(qapp, tiny_model):
    from app.core.analysis import analyze_rgb
    from app.core.overlay import blend_overlay
    from app.report import render_pdf_report

    rgb = synthetic_pipe(seed=4, size=(60, 80))[0]
    result = analyze_rgb(tiny_model, rgb, "pipe.png")
    review = {
        "figures_source": "reviewed",
        "reviewed_by": "A. Inspector",
        "reviewed_at": "2026-12-06T02:43:04+00:00",
    }
    overlay = blend_overlay(rgb, result.labels, result.classes)
    line = "Typical error of the model: ±3.1 points of corroded share on 40 validation photos."
    data = render_pdf_report(result, overlay, rgb, tiny_model, review=review, typical_error=line)
    text = pdf_text(data)
    assert line in text
    assert "Figures proposed by a model; reviewed by A. Inspector on 2026-12-06 02:43 UTC." in text
    assert "2026-12-06T02:43:04" not in text, "one timestamp format"


def test_an_inspector_never_typed_in_the_header_is_the_one_the_app_knows(window) -> None:
    report_header = export_jobs.report_header

    window.settings.inspector_name = "Jane Doe"
    assert report_header(window).inspector == "Jane Doe"
    window.settings.report_header = ReportHeader(inspector="J. Müller")  # typed there: kept
    assert report_header(window).inspector == "J. Müller"


def test_the_header_dialogs_refuse_a_date_that_is_no_real_date_or_in_the_future(qtbot, tmp_path: Path):
    batch = ReportHeaderDialog(HEADER)
    photo_export = ExportDialog(tmp_path, header=HEADER)
    qtbot.addWidget(batch)
    qtbot.addWidget(photo_export)
    ok = QDialogButtonBox.StandardButton.Ok
    for dialog, fields in ((batch, batch.fields), (photo_export, photo_export.header_fields)):
        for typed in ("31.02.2024", "2024-02-30", "2099-01-01", "0001-01-01"):
            fields.edits["inspection_date"].setText(typed)
            assert not fields.problem_label.isHidden(), typed
            assert typed in fields.problem_label.text() and "Inspection date" in fields.problem_label.text()
            assert not dialog.buttons.button(ok).isEnabled(), typed
            dialog.accept()
            assert dialog.result() != QDialog.DialogCode.Accepted, f"{typed} was accepted"
        for typed in ("", "2024-02-29"):  # no date given, or a real one
            fields.edits["inspection_date"].setText(typed)
            assert fields.problem_label.isHidden() and dialog.buttons.button(ok).isEnabled(), typed
    photo_export.header_fields.edits["inspection_date"].setText("31.02.2024")
    photo_export.checks["pdf"].setChecked(False)  # no PDF, no header printed: nothing to hold back
    assert photo_export.buttons.button(ok).isEnabled()
    assert photo_export.header_fields.problem_label.isHidden(), "nor a problem with it to show"
    photo_export.checks["pdf"].setChecked(True)
    assert not photo_export.header_fields.problem_label.isHidden()
    batch.fields.edits["inspection_date"].setText(" 2024-02-29 ")
    batch.accept()
    assert batch.result() == QDialog.DialogCode.Accepted
    assert batch.fields.header().inspection_date == "2024-02-29"


def test_the_date_problem_shows_whole_in_plain_words(qtbot) -> None:
    """Two lines at the dialogs' width: the dialog grows for the second rather than cut it."""
    batch = ReportHeaderDialog(HEADER)
    photo_export = ExportDialog(Path("out"), header=HEADER)  # a short folder: the dialog at its narrowest
    for dialog, fields in ((batch, batch.fields), (photo_export, photo_export.header_fields)):
        qtbot.addWidget(dialog)
        dialog.show()
        qtbot.waitExposed(dialog)
        label = fields.problem_label
        fields.edits["inspection_date"].setText("2024-02-30")
        want = "Inspection date: not a real date: '2024-02-30' (February 2024 has 29 days)."
        assert label.text() == want
        assert label.heightForWidth(label.width()) > label.fontMetrics().height() * 1.5, "two lines here"

        def whole(label=label, fields=fields, dialog=dialog) -> bool:
            bottom = label.mapTo(dialog, label.rect().bottomLeft()).y()
            tall = label.height() >= label.heightForWidth(label.width())
            return tall and bottom <= fields.mapTo(dialog, fields.rect().bottomLeft()).y() < dialog.height()

        qtbot.waitUntil(whole)


def test_the_header_dialogs_refuse_a_control_character_or_a_long_field_naming_it(qtbot, tmp_path: Path):
    """The CLI's rule (`field_problem`), shown under the form with OK off; an Arabic client is taken."""
    batch = ReportHeaderDialog(HEADER)
    photo_export = ExportDialog(tmp_path, header=HEADER)
    qtbot.addWidget(batch)
    qtbot.addWidget(photo_export)
    ok = QDialogButtonBox.StandardButton.Ok
    refused = [
        ("asset_id", "PIPE-\u202e7-evil", "Asset ID holds a control character (\\u202e); type it again"),
        ("client", "ACME\x1b[31m", "Client holds a control character (\\x1b)"),
        ("location", "Loc " * 60, "Location is 239 characters long; at most 200 fit in a report header."),
    ]
    for dialog, fields in ((batch, batch.fields), (photo_export, photo_export.header_fields)):
        for name, typed, problem in refused:
            fields.edits[name].setText(typed)
            assert not fields.problem_label.isHidden(), typed
            assert problem in fields.problem_label.text()
            assert not dialog.buttons.button(ok).isEnabled(), typed
            dialog.accept()
            assert dialog.result() != QDialog.DialogCode.Accepted, f"{typed!r} was accepted"
            fields.edits[name].setText(getattr(HEADER, name))
            assert fields.problem_label.isHidden() and dialog.buttons.button(ok).isEnabled()
        fields.edits["client"].setText("شركة النفط")
        assert fields.problem_label.isHidden() and dialog.buttons.button(ok).isEnabled()
    batch.accept()
    assert batch.result() == QDialog.DialogCode.Accepted and batch.fields.header().client == "شركة النفط"
