"""A PDF's Title (what `pdfinfo` and `exiftool` print, and a viewer shows in its title bar) names a photo
or an asset escaped as the page does: a terminal escape in a file name is shown, never run."""

from __future__ import annotations

import io
import os
from pathlib import Path

from pypdf import PdfReader

from app.core.analysis import analyze_rgb
from app.core.overlay import blend_overlay
from app.core.project.records import Asset
from app.core.synthetic import synthetic_pipe
from app.report import render_batch_pdf, render_pdf_report
from app.report.project_pdf import render_asset_pdf
from tests.ui.test_trend_fit import MEANS, _trend

HOSTILE = "esc\x1b]0;PWNED\x07name"


def _title(data: bytes) -> str:
    return PdfReader(io.BytesIO(data)).metadata.title


def test_a_photo_pdf_title_escapes_terminal_controls_and_bytes_not_utf8(qapp, tiny_model) -> None:
    rgb, _ = synthetic_pipe(1, (60, 80))
    name = HOSTILE + os.fsdecode(b"\xff") + ".png"  # a byte that is not UTF-8 (surrogate escape)
    result = analyze_rgb(tiny_model, rgb, Path(name))
    overlay = blend_overlay(rgb, result.labels, result.classes)
    title = _title(render_pdf_report(result, overlay, rgb, tiny_model))
    assert title == "Corroscope report: esc\\x1b]0;PWNED\\x07name\\xff.png"


def test_batch_and_trend_pdf_titles_hold_no_controls(qapp, tiny_model) -> None:
    rgb, _ = synthetic_pipe(2, (60, 80))
    result = analyze_rgb(tiny_model, rgb, Path(HOSTILE + ".png")).figures()
    assert _title(render_batch_pdf([result], tiny_model)) == "Corroscope batch report"
    trend = render_asset_pdf(Asset(1, HOSTILE), _trend(MEANS), "site")
    assert _title(trend) == "Corroscope trend: esc\\x1b]0;PWNED\\x07name"


def test_a_photo_pdf_s_text_copies_out_as_written_without_ligatures(qapp, tiny_model) -> None:
    """ "ff" and "fi" were drawn as one ligature glyph: the text copied out of the PDF (or searched for)
    was "ofﬁce_ﬀ" and no longer the file name the CSV and the folder have."""
    rgb, _ = synthetic_pipe(3, (60, 80))
    name = "office_fire_cliff.png"
    result = analyze_rgb(tiny_model, rgb, Path(name))
    overlay = blend_overlay(rgb, result.labels, result.classes)
    text = " ".join(
        p.extract_text()
        for p in PdfReader(io.BytesIO(render_pdf_report(result, overlay, rgb, tiny_model))).pages
    )
    assert name in text and not {"\ufb00", "\ufb01", "\ufb02"} & set(text)
