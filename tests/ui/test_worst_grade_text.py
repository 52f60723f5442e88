"""The worst grades over 50 % corroded: ISO 4628-3 Ri 5 covers every share from its cut-off up, so its
text must not give the worst reference picture's 40-50 % for a share beyond it (a report read
"Ri 5 (40-50 %)" beside "Corroded share of the asset 63.33 %"); ASTM D610 grade 0 likewise."""

from __future__ import annotations

import pytest

from app.core import figures
from app.core.analysis import analyze_rgb
from app.core.grading import GradeScale, grade
from app.core.overlay import blend_overlay
from app.core.synthetic import synthetic_pipe
from app.report import render_batch_pdf, render_pdf_report
from tests.ui.test_report_words import pdf_text


@pytest.mark.parametrize("share", [50.01, 63.33, 100.0])
def test_a_share_past_the_worst_picture_is_not_given_its_range(share):
    iso = grade(share, GradeScale.ISO_4628_3)
    assert iso.label == "Ri 5" and "40-50" not in iso.display
    assert iso.display == "Ri 5 (over 50 %)" and iso.reference == "over 50 %"
    astm = grade(share, GradeScale.ASTM_D610)
    assert (astm.label, astm.display, astm.range_text) == ("0", "0", "p > 50 %")


@pytest.mark.parametrize("share", [18.5, 45.0, 50.0])
def test_a_share_up_to_the_worst_picture_keeps_its_reference(share):
    assert grade(share, GradeScale.ISO_4628_3).display == "Ri 5 (reference 40-50 %)"
    assert grade(share, GradeScale.ASTM_D610).label == ("0" if share > 50 else "1" if share > 33 else "2")


def test_the_photo_report_of_a_share_over_50_percent(qapp, tiny_model):
    rgb = synthetic_pipe(seed=4, size=(90, 120), rust=0.9)[0]
    result = analyze_rgb(tiny_model, rgb, "site-7/pipe_4.png")
    share = result.stats.corroded_share
    assert share is not None and share > 50, share
    text = pdf_text(
        render_pdf_report(result, blend_overlay(rgb, result.labels, result.classes), rgb, tiny_model)
    )
    assert "ISO 4628-3: Ri 5 (over 50 %)" in text and "40-50" not in text
    assert figures.grade_text(result.assessment, GradeScale.ISO_4628_3) == "ISO 4628-3: Ri 5 (over 50 %)"


def test_the_batch_pdf_tables_give_the_grade_whole_and_its_cards_the_reference(qapp, tiny_model):
    """A table's narrow column cut "Ri 5 (40-50 %)" to "Ri 5 (...-50 %)"; the card has room for it."""
    photos = [synthetic_pipe(seed=s, size=(60, 80), rust=0.3)[0] for s in (1, 2)]
    results = [analyze_rgb(tiny_model, rgb, f"p_{n}.png") for n, rgb in enumerate(photos)]
    text = pdf_text(render_batch_pdf(results, tiny_model, "iso_4628_3"))
    assert "…" not in text and "..." not in text
    for r in results:
        iso = r.assessment.iso
        assert iso is not None and f"ISO 4628-3: {iso.display}" in text  # the photo's card
        assert f" {r.stats.corroded_share:.2f} {iso.label} " in text  # the table's row: share, grade
    assert figures.grade_value_text(results[0].assessment, "iso", reference=False) == iso.label
