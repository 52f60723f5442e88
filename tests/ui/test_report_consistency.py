"""One wording and format for the same thing everywhere in the reports: the Review column of the batch
table says what its summary says, the window's photo report grades on both scales as the CLI's does."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from app.report import BatchReportOptions, render_batch_pdf
from app.report.thumbnails import make_thumbnail
from tests.ui.conftest import TIMEOUT_MS, open_and_wait, photo
from tests.ui.test_report_words import _analysed, pdf_text


def test_the_batch_table_says_review_as_its_summary_does(qapp, tiny_model):
    pairs = [_analysed(tiny_model, seed, rust) for seed, rust in ((1, 0.05), (2, 0.4))]
    results = [dataclasses.replace(r, labels=None, confidence=None) for r, _ in pairs]
    thumbs = {r.path: make_thumbnail(rgb, r.labels) for r, rgb in pairs}
    data = render_batch_pdf(results, tiny_model, None, BatchReportOptions(thumbnails=thumbs))
    table = pdf_text(data).split("Every photo", 1)[1]
    assert " yes " not in f" {table} " and " no " not in f" {table} "
    assert table.count("needs review") + table.count(" ok ") == len(results)


def test_the_windows_photo_report_grades_on_both_scales(qtbot, window, tmp_path: Path):
    from app.ui import export_jobs

    path, _ = photo(tmp_path, 2)
    open_and_wait(qtbot, window, path)
    written: list[list] = []
    window.controller.export_finished.connect(written.append)
    export_jobs.start_photo_export(window, tmp_path / "out", ["pdf"])
    qtbot.waitUntil(lambda: len(written) >= 1, timeout=TIMEOUT_MS)
    text = pdf_text(written[0][0].read_bytes())
    assert "ISO 4628-3: Ri" in text and "ASTM D610: " in text
