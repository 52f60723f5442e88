"""No word of a PDF report is broken across lines: each line the report draws is read back with pypdf
and must appear whole, line breaks falling between words only (not "th e largest", "50 / %")."""

from __future__ import annotations

import dataclasses
import io
import os
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

import pypdf  # the dev extra
import pytest

from app.core import figures
from app.core.analysis import analyze_rgb
from app.core.files import write_png
from app.core.grading import GradeScale
from app.core.overlay import blend_overlay
from app.core.synthetic import synthetic_pipe
from app.report import BatchReportOptions, render_batch_pdf, render_pdf_report
from app.report.measures_pdf import card_lines
from app.report.pdf import review_lines
from app.report.thumbnails import make_thumbnail
from tests.ui.conftest import TIMEOUT_MS, open_and_wait, photo

# pypdf gives the ligatures and the no-break characters the report draws; a reader sees letters
_READ_BACK = str.maketrans({"\ufb01": "fi", "\ufb00": "ff", "\ufb02": "fl", "\u2011": "-", "\u00a0": " "})


def pdf_text(data: bytes) -> str:
    """The whole report's text, whitespace (line breaks included) collapsed to single spaces."""
    reader = pypdf.PdfReader(io.BytesIO(data))
    return " ".join(" ".join(p.extract_text() for p in reader.pages).translate(_READ_BACK).split())


def assert_words_whole(data: bytes, lines: Iterable[str]) -> None:
    text = pdf_text(data)
    for line in lines:
        assert " ".join(line.split()) in text, f"{line!r} is broken in the PDF"


def _analysed(tiny_model, seed: int, rust: float, size=(90, 120)):
    rgb, _ = synthetic_pipe(seed, size, rust=rust)
    return analyze_rgb(tiny_model, rgb, f"site-7/pipe_{seed}.png", mm_per_px=0.4), rgb


def _photo_lines(result, scales) -> list[str]:
    rows = [
        v
        for k, v in figures.figure_rows(result, scales[0])
        if k not in ("Grade", "Needs review", "Time taken")
    ]
    grades = [figures.grade_text(result.assessment, s, result.measures.distribution) for s in scales]
    return [*rows, *grades, *review_lines(result, scales)]


@pytest.mark.parametrize("seed", range(1, 7))
def test_photo_report_breaks_no_word(qapp, tiny_model, seed):
    result, rgb = _analysed(tiny_model, seed, 0.08 * seed)
    overlay = blend_overlay(rgb, result.labels, result.classes)
    data = render_pdf_report(result, overlay, rgb, tiny_model)
    assert_words_whole(data, _photo_lines(result, tuple(GradeScale)))


def test_the_windows_photo_report_breaks_no_word(qtbot, window, tmp_path: Path):
    from app.ui import export_jobs

    for seed in (1, 3, 5):
        path, _ = photo(tmp_path, seed, size=(90, 120))
        open_and_wait(qtbot, window, path)
        written: list[list] = []
        window.controller.export_finished.connect(written.append)
        export_jobs.start_photo_export(window, tmp_path / f"out{seed}", ["pdf"])
        qtbot.waitUntil(lambda written=written: len(written) >= 1, timeout=TIMEOUT_MS)
        result = window.controller.result
        assert_words_whole(written[0][0].read_bytes(), _photo_lines(result, tuple(GradeScale)))


def test_batch_cards_break_no_word(qapp, tiny_model):
    pairs = [_analysed(tiny_model, seed, rust) for seed, rust in ((1, 0.05), (2, 0.4), (3, 0.2))]
    thumbs = {r.path: make_thumbnail(rgb, r.labels) for r, rgb in pairs}
    results = [dataclasses.replace(r, labels=None, confidence=None) for r, _ in pairs]
    opts = BatchReportOptions(folder=Path("site-7"), thumbnails=thumbs)
    data = render_batch_pdf(results, tiny_model, None, opts)
    scales = tuple(GradeScale)
    lines = [line for r in results for line in (*card_lines(r, scales), *review_lines(r, scales))]
    lines += [f"review: {line}" for r in results for line in review_lines(r, scales)]
    assert lines
    assert_words_whole(data, lines)


def test_cli_photo_report_breaks_no_word(tmp_path: Path, tiny_model_path: Path, tiny_model):
    rgb = synthetic_pipe(seed=2, size=(90, 120), rust=0.4)[0]
    photo = write_png(tmp_path / "pipe_2.png", rgb)
    cmd = [sys.executable, "-m", "app", "analyze", str(photo), "--out", str(tmp_path / "o")]
    cmd += ["--model", str(tiny_model_path), "--device", "cpu", "--pdf", "--mm-per-px", "0.4"]
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr
    result = analyze_rgb(tiny_model, rgb, photo, mm_per_px=0.4)
    data = (tmp_path / "o" / "pipe_2.pdf").read_bytes()
    assert_words_whole(data, _photo_lines(result, tuple(GradeScale)))


def test_a_batch_card_says_who_reviewed_its_figures(qapp, tiny_model):
    pairs = [_analysed(tiny_model, seed, rust) for seed, rust in ((1, 0.05), (2, 0.4))]
    results = [dataclasses.replace(r, labels=None, confidence=None) for r, _ in pairs]
    signed = "reviewed by Ann Inspector on 2026-12-06 22:31 UTC"
    opts = BatchReportOptions(reviews={results[0].path: signed, results[1].path: "edited, not reviewed"})
    text = pdf_text(render_batch_pdf(results, tiny_model, None, opts))
    assert signed in text and "edited, not reviewed" in text
    assert "Ann Inspector" not in pdf_text(render_batch_pdf(results, tiny_model, None, BatchReportOptions()))


def test_reports_of_an_edit_nobody_signed_do_not_call_its_figures_the_models(qapp, tiny_model):
    """A photo report said "Figures from an edited mask" and "Figures proposed by a model; not reviewed
    by a person" at once; the batch report counted an edited photo as the model's."""
    result, rgb = _analysed(tiny_model, 1, 0.3)
    edited = dataclasses.replace(result, labels_source="edited")
    overlay = blend_overlay(rgb, result.labels, tiny_model.classes)
    text = pdf_text(render_pdf_report(edited, overlay, rgb, tiny_model, GradeScale.ASTM_D610))
    assert "edited by hand; not signed by a reviewer" in text and "not reviewed by a person" not in text
    model_only = pdf_text(render_pdf_report(result, overlay, rgb, tiny_model, GradeScale.ASTM_D610))
    assert "not reviewed by a person" in model_only and "edited by hand" not in model_only
    batch = pdf_text(render_batch_pdf([edited, result], tiny_model, None))
    assert "1 of 2 photos' masks edited by hand and not signed by a reviewer." in batch
