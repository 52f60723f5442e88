"""The PDF report: drawn with QtGui only, offscreen or headless, atomic, never overwriting unasked."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from app.core import figures
from app.core.analysis import PhotoFailure, analyze_rgb
from app.core.errors import OutputExistsError
from app.core.grading import GradeScale
from app.core.overlay import blend_overlay
from app.core.synthetic import synthetic_pipe
from app.report import render_pdf_report, write_batch_pdf_report, write_pdf_report

ROOT = Path(__file__).resolve().parents[2]


def page_count(data: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page\b", data))


@pytest.fixture(scope="module")
def analysed(tiny_model):
    rgb, _ = synthetic_pipe(40, (120, 160))
    result = analyze_rgb(tiny_model, rgb, "site-7/pipe ä.jpg")
    overlay = blend_overlay(rgb, result.labels, result.classes, {0, 1}, {0: 0.6, 1: 0.4})
    return result, overlay, rgb


def test_photo_report_is_a_one_page_pdf(qapp, analysed, tiny_model, tmp_path):
    result, overlay, rgb = analysed
    path = write_pdf_report(tmp_path / "r.pdf", result, overlay, rgb, tiny_model)
    data = path.read_bytes()
    assert data.startswith(b"%PDF") and data.rstrip().endswith(b"%%EOF")
    assert page_count(data) == 1
    assert len(data) > 5_000  # the two images are in it
    assert not list(tmp_path.glob(".*.part")), "no temp file left behind"


def test_report_never_overwrites_unless_asked(qapp, analysed, tiny_model, tmp_path):
    result, overlay, rgb = analysed
    path = tmp_path / "r.pdf"
    path.write_bytes(b"older report")
    with pytest.raises(OutputExistsError):
        write_pdf_report(path, result, overlay, rgb, tiny_model)
    assert path.read_bytes() == b"older report"
    write_pdf_report(path, result, overlay, rgb, tiny_model, overwrite=True)
    assert path.read_bytes().startswith(b"%PDF")


def test_scale_choice_and_bad_scale(qapp, analysed, tiny_model):
    result, overlay, rgb = analysed
    both = render_pdf_report(result, overlay, rgb, tiny_model)
    one = render_pdf_report(result, overlay, rgb, tiny_model, scale=GradeScale.ISO_4628_3)
    assert both.startswith(b"%PDF") and one.startswith(b"%PDF")
    with pytest.raises(ValueError, match="grade scale"):
        render_pdf_report(result, overlay, rgb, tiny_model, scale="din")


def test_batch_report_paginates_and_lists_failures(qapp, analysed, tiny_model, tmp_path):
    result, *_ = analysed
    results = [result] * 120 + [PhotoFailure(Path("broken.jpg"), "not a photo (cannot decode)")]
    path = write_batch_pdf_report(tmp_path / "batch.pdf", results, tiny_model)
    data = path.read_bytes()
    assert data.startswith(b"%PDF")
    assert page_count(data) >= 3, "120 rows do not fit one page; the table continues"
    with pytest.raises(OutputExistsError):
        write_batch_pdf_report(path, results, tiny_model)


def test_figure_texts_follow_the_core_result(analysed):
    result, *_ = analysed
    rows = dict(figures.figure_rows(result, GradeScale.ASTM_D610))
    assert rows["Corroded share of the asset"] == figures.percent_text(result.stats.corroded_share, unit=True)
    d = result.measures.distribution
    assert rows["Grade"] == f"ASTM D610: {result.assessment.astm.label}" + ("" if d is None else f"-{d.type}")
    iso = result.assessment.iso
    iso_text = figures.grade_text(result.assessment, GradeScale.ISO_4628_3)
    shown = iso.reference if iso.reference.startswith("over ") else f"reference {iso.reference}"
    assert iso_text == f"ISO 4628-3: {iso.label} ({shown})"
    assert rows["Share range"].startswith("D610 ") and rows["Needs review"] == figures.review_text(
        result.assessment, GradeScale.ASTM_D610
    )
    assert rows["Provider"] == "CPU" and result.provider == "CPUExecutionProvider"  # shown short, kept whole


def test_headless_report_needs_no_display_and_no_qapplication(tiny_model_path, tmp_path):
    """What `corroscope analyze --pdf` does: no QApplication made by the caller, no display."""
    script = f"""
import sys
from app.core.analysis import analyze_rgb
from app.core.model import SegmentationModel
from app.core.overlay import blend_overlay
from app.core.synthetic import synthetic_pipe
from app.report import write_pdf_report
model = SegmentationModel.load({str(tiny_model_path)!r}, device="cpu")
rgb, _ = synthetic_pipe(1, (64, 64))
result = analyze_rgb(model, rgb, "p.png")
overlay = blend_overlay(rgb, result.labels, result.classes)
write_pdf_report({str(tmp_path / "h.pdf")!r}, result, overlay, rgb, model)
assert "PySide6.QtWidgets" not in sys.modules, "the report must not need widgets"
"""
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env["PYTHONPATH"] = str(ROOT)
    proc = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (tmp_path / "h.pdf").read_bytes().startswith(b"%PDF")
