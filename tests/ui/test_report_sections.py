"""A short section of a PDF report (a heading and its rows) is never split with a row or two alone on the
next page: it moves whole."""

from __future__ import annotations

import io

import pypdf

from app.report.canvas import render

ROWS = [("Model file", "model.onnx (SHA-256 " + "ab" * 32 + ")"), ("Architecture", "x"), ("Provider", "CPU")]


def _pages(filler_lines: int, keep_together: bool) -> list[str]:
    def draw(c) -> None:
        for n in range(filler_lines):
            c.text(f"filler line {n}", size=10)
        if keep_together:
            c.section("Model", ROWS, size=8.5)
        else:
            c.text("Model", size=11, bold=True)
            c.rows(ROWS, size=8.5)

    reader = pypdf.PdfReader(io.BytesIO(render(draw, "test")))
    # the fi ligature read back as letters, whitespace (tabs between words) as single spaces
    return [" ".join(page.extract_text().replace("\ufb01", "fi").split()) for page in reader.pages]


def test_a_section_that_would_spill_moves_whole_to_the_next_page(qapp) -> None:
    # find the filler that leaves room for the heading and a row but not for all three rows
    for n in range(40, 90):
        pages = _pages(n, keep_together=False)
        if len(pages) == 2 and "Model" in pages[0] and "Provider" in pages[1]:
            break
    else:
        raise AssertionError("no filler length splits the rows; the page geometry changed")
    kept = _pages(n, keep_together=True)
    assert len(kept) == 2
    assert "Model" not in kept[0] and "Model" in kept[1]
    assert all(key in kept[1] for key, _value in ROWS), "heading and rows together"
