"""The PDF reports' layout holds whatever they are given: a header field in Arabic or holding a bidi
override reorders nothing around it, a long one takes three lines at most, a failed photo's name is
escaped, a heading never ends a page alone, the footer's note never runs into the page number, table
headings keep apart, a tall photo's caption shows whole, and every page of a trend report names its
asset. Read from what the canvas draws where (`drawn_text`), not from the PDF's text."""

from __future__ import annotations

import datetime as dt
import io
import itertools
from pathlib import Path

import pypdf
import pytest
from PySide6.QtCore import QBuffer, QIODevice
from PySide6.QtGui import QFont, QPdfWriter

from app.core.analysis import PhotoFailure, analyze_rgb
from app.core.overlay import blend_overlay
from app.core.project.records import Asset
from app.core.project.trend import ModelUse, Trend, TrendRow
from app.core.report_header import ReportHeader
from app.core.synthetic import synthetic_pipe
from app.report import render_batch_pdf, render_pdf_report
from app.report.canvas import DPI, render
from app.report.pdf import draw_accuracy
from app.report.project_pdf import render_asset_pdf
from tests.ui.drawn_text import Drawn, recording

MM = DPI / 25.4  # device pixels of a millimetre


def _pages(data: bytes) -> list[str]:
    # the fi ligature read back as letters, whitespace as single spaces
    pages = pypdf.PdfReader(io.BytesIO(data)).pages
    return [" ".join(p.extract_text().replace("\ufb01", "fi").split()) for p in pages]


def _body(c) -> None:
    for n in range(3):
        c.text(f"body line {n}")


def test_each_header_field_is_drawn_alone_with_its_controls_escaped(qapp, monkeypatch) -> None:
    """A header from a project another program wrote (a typed one is refused: `field_problem`): the
    asset's override and ESC show as escapes, the Arabic client stays in its field, the date reads
    2024-05-01 (the override printed it "10-50-4202" and reversed the line)."""
    header = ReportHeader("PIPE-\u202e7-evil", "Quay \x1b[31m3", "شركة النفط 12", "J. Doe", "2024-05-01")
    with recording(monkeypatch) as drawn:
        data = render(_body, "t", header)
    texts = [d.text for d in drawn]
    assert "Inspection date: 2024-05-01" in texts and "Inspector: J. Doe" in texts
    assert "Asset ID: PIPE-\\u202e7-evil" in texts and "Location: Quay \\x1b[31m3" in texts
    assert [t for t in texts if t.startswith("Client: ")] == ["Client: \u2068شركة النفط 12\u2069"]
    assert not any(ch in t for t in texts for ch in "\u202e\x1b")
    text = _pages(data)[0]
    assert "2024-05-01" in text and "10-50-4202" not in text


def test_a_long_header_field_takes_three_lines_at_most_and_leaves_the_page_to_the_body(qapp) -> None:
    """A project's asset location has no length limit: cut with "…" after three lines, on every page."""
    tops: list[float] = []

    def draw(c) -> None:
        tops.append(c.y)
        _body(c)

    header = ReportHeader("P-7", "Loc " * 3000, "ACME", "Ann", "2024-05-01")
    data = render(draw, "t", header)
    assert len(_pages(data)) == 1, "the 28 pages of headers only"
    assert tops[0] < 22 * MM, "the header is a few lines"
    text = _pages(data)[0]
    assert "…" in text and text.count("Loc") < 100, "cut after three lines"


@pytest.mark.parametrize(
    "value", ["Loc " * 500, "x" * 5000, "شارع " * 400, "P-" + "\u200b-" * 900, "a " * 30 + "b" * 600]
)
def test_the_header_layout_cuts_any_field_to_three_lines(qapp, value: str) -> None:
    from app.report import page_header

    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    writer = QPdfWriter(buffer)  # the device whose metrics the report uses; nothing is drawn
    writer.setResolution(DPI)
    font = QFont("DejaVu Sans")
    font.setPointSizeF(7.5)
    items = [("Asset ID", value), ("Location", value), ("Client", "ACME"), ("Inspection date", "2024-05-01")]
    placed = page_header.layout(items, font, writer, 180 * MM)
    assert [p.lines for p in placed][:2] == [3, 3] and all(p.lines <= 3 for p in placed)
    assert placed[-1].text == "Inspection date: 2024-05-01"
    assert placed[-1].line <= 7


@pytest.mark.parametrize("letter", ["A", "8", "x"])
def test_a_typed_field_of_200_unbroken_letters_is_printed_whole(qapp, letter: str) -> None:
    """An asset ID of 200 letters went whole to the line after "Asset ID:" and was cut there with "…"
    (a report must name the asset it is of): broken anywhere, it fits its lines whole."""
    from app.report import page_header

    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    writer = QPdfWriter(buffer)
    writer.setResolution(DPI)
    font = QFont("DejaVu Sans")
    font.setPointSizeF(7.5)
    (placed,) = page_header.layout([("Asset ID", letter * 200)], font, writer, 180 * MM)
    assert placed.text == f"Asset ID: {letter * 200}" and placed.anywhere


def _analysed(tiny_model, size=(90, 120), seed: int = 2):
    rgb, _ = synthetic_pipe(seed, size, rust=0.4)
    return analyze_rgb(tiny_model, rgb, "site-7/pipe.png"), rgb


def test_the_batch_pdf_escapes_a_failed_photos_name_and_reason(qapp, tiny_model) -> None:
    result, _rgb = _analysed(tiny_model)
    failed = PhotoFailure(Path("site/bad\x1b]0;pwned\u202e.png"), "cannot read \x1b[31mit")
    text = " ".join(_pages(render_batch_pdf([result, failed], tiny_model)))
    assert "bad\\x1b]0;pwned\\u202e.png" in text and "cannot read \\x1b[31mit" in text
    assert "\x1b" not in text and "\u202e" not in text


def test_the_footer_note_ends_before_the_page_number_of_two_or_three_digits(qapp, monkeypatch) -> None:
    note = "Model estimate: typically within ±11 points of an inspector's mask (90 % within ±34); " * 2

    def draw(c) -> None:
        c.note = note
        for _ in range(101):
            c.new_page()

    with recording(monkeypatch) as drawn:
        render(draw, "t")
    for page in (9, 10, 100):
        notes = [d for d in drawn if d.page == page and d.text == note]
        label = [d for d in drawn if d.page == page and d.text.endswith(f"page {page}")]
        assert len(notes) == 1 and len(label) == 1, page
        assert notes[0].ink.right() + 2 * MM <= label[0].ink.left(), f"page {page}: the note runs into it"


def _header_cells(drawn: list[Drawn], first: str, count: int) -> list[Drawn]:
    start = max(i for i, d in enumerate(drawn) if d.text.startswith(first))  # the last table's header
    return drawn[start : start + count]


@pytest.mark.parametrize("scale", [None, "astm"])
def test_the_every_photo_tables_headings_keep_apart_and_whole(qapp, tiny_model, monkeypatch, scale) -> None:
    result, _rgb = _analysed(tiny_model)
    with recording(monkeypatch) as drawn:
        render_batch_pdf([result], tiny_model, scale)
    heads = [
        "Photo",
        "Corrosion %",
        "Corroded share %",
        "ASTM D610",
        *(["ISO 4628-3"] if scale is None else []),
    ]
    heads += ["Review", "Conf.", "Time s"]
    cells = _header_cells(drawn, "Photo", len(heads))
    assert [c.text for c in cells] == heads, "no heading cut short"
    for left, right in itertools.pairwise(cells):
        assert left.ink.right() + 2.5 * MM <= right.ink.left(), f"{left.text!r} runs into {right.text!r}"


def test_a_tall_narrow_photos_captions_show_whole(qapp, tiny_model, monkeypatch) -> None:
    result, rgb = _analysed(tiny_model, size=(600, 12))
    overlay = blend_overlay(rgb, result.labels, result.classes)
    with recording(monkeypatch) as drawn:
        render_pdf_report(result, overlay, rgb, tiny_model)
    captions = [d for d in drawn if d.text in ("Photo", "Segmentation overlay")]
    assert len(captions) == 2 and not any(c.clipped for c in captions)


def test_a_photo_report_with_a_header_of_several_lines_stays_one_page(qapp, tiny_model, monkeypatch) -> None:
    """Its photos give up the header's extra lines: the Model section no longer goes alone to page 2."""
    result, rgb = _analysed(tiny_model)
    overlay = blend_overlay(rgb, result.labels, result.classes)
    long = "Quay 3 north side of the jetty, " * 6
    header = ReportHeader("P-7" * 60, long[:200], long[:200], long[:200], "2024-05-01")
    review = {"figures_source": "reviewed", "reviewed_by": "Ann", "reviewed_at": "2026-12-06T02:43:04+00:00"}
    data = render_pdf_report(result, overlay, rgb, tiny_model, review=review, header=header)
    pages = _pages(data)
    assert len(pages) == 1, [p[:120] for p in pages]
    assert "Statement of accuracy" in pages[0] and "Model file" in pages[0]


def test_a_heading_is_never_left_alone_at_the_foot_of_a_page(qapp, monkeypatch) -> None:
    lines = ["Model estimate: typically within ±11 points of an inspector's mask. " * 3, "Not reviewed."]

    def draw(c, filler: int) -> None:
        for i in range(filler):
            c.text(f"filler {i}")
        draw_accuracy(c, lines)

    for filler in range(35, 60):  # the statement from well above the foot of page 1 to below it
        with recording(monkeypatch) as drawn:
            render(lambda c, n=filler: draw(c, n), "t")
        heading = next(d for d in drawn if d.text == "Statement of accuracy")
        first = next(d for d in drawn if d.text.startswith("Model estimate"))
        assert heading.page == first.page, (
            f"filler {filler}: heading on {heading.page}, lines on {first.page}"
        )


def test_every_page_of_a_trend_report_names_its_asset(qapp, monkeypatch) -> None:
    """The hostile export: a long location pushes the statement of accuracy onto page 2, which named no
    asset, and left its heading alone on page 1."""
    rows = tuple(
        TrendRow(n, dt.date(2024 + n, 5, 17), name, 3, 0, share, share + 1, 0, 5, "0-G")
        for n, (name, share) in enumerate((("Ann", 98.4), ("Bob", 80.0)), 1)
    )
    uses = (ModelUse("tiny.onnx", "ab" * 32, 5, 0, "Model estimate: typically within ±11 points."),)
    trend = Trend("P-101", rows, None, uses)
    split = 0
    for words in range(200, 420, 20):
        asset = Asset(1, "P-101", location="Loc " * words)
        with recording(monkeypatch) as drawn:
            render_asset_pdf(asset, trend, "site")
        pages = max(d.page for d in drawn)
        split += pages > 1
        heading = next(d for d in drawn if d.text == "Statement of accuracy")
        first = next(d for d in drawn if d.text.startswith("Model tiny.onnx"))
        assert heading.page == first.page, f"{words} words: the heading alone on page {heading.page}"
        named = {d.page for d in drawn if d.text == "Asset: P-101"}
        assert named == set(range(1, pages + 1)), f"{words} words: pages naming the asset {sorted(named)}"
    assert split, "no location long enough for a second page: the page geometry changed"
