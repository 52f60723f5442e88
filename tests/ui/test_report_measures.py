"""The standards' measures in the PDF reports, read back with pypdf and drawn onto page images: the
distribution with its evidence, the range, the scale bar and areas only with a scale, the histogram."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from app.core import figures
from app.core.analysis import analyze_rgb
from app.core.grading import GradeScale
from app.core.overlay import blend_overlay
from app.core.physical import format_area
from app.core.scale_bar import scale_bar
from app.core.synthetic import synthetic_pipe
from app.report import BatchReportOptions, render_batch_pdf, render_pdf_report
from app.report.measures_pdf import histogram_bins
from app.report.pdf import draw_photo_report
from app.report.preview import render_page_images
from app.report.thumbnails import make_thumbnail
from app.ui.qimage import qimage_to_rgb
from tests.ui.test_report_content import pages_text

SCALE = 0.4  # mm per pixel


@pytest.fixture(scope="module")
def analysed(tiny_model):
    rgb, _ = synthetic_pipe(40, (300, 400))
    return analyze_rgb(tiny_model, rgb, "site-7/pipe.jpg", mm_per_px=SCALE), rgb


def _pdf_text(result, rgb, model) -> str:
    overlay = blend_overlay(rgb, result.labels, result.classes)
    pages = pages_text(render_pdf_report(result, overlay, rgb, model))
    assert len(pages) == 1, "still one page with the measures, both scales and a scale"
    return pages[0]


def test_photo_report_gives_distribution_evidence_range_areas_histogram_and_scale_bar(
    qapp, analysed, tiny_model
):
    result, rgb = analysed
    m = result.measures
    text = _pdf_text(result, rgb, tiny_model)
    assert m.distribution is not None and m.share_range is not None
    assert f"ASTM D610: {result.assessment.astm.label}-{m.distribution.type}" in text  # "6-G"
    assert m.distribution.evidence.split(": ", 1)[1] in text
    assert figures.share_range_text(result, GradeScale.ASTM_D610) in text  # "D610 5-6 (share ..., range ...)"
    bar = scale_bar(SCALE, rgb.shape[1])
    assert bar.label in text, "the scale bar's length is written on it"
    for name in ("asset", "background"):
        assert f"{name} area {format_area(result.stats.pixels[name] * SCALE**2)}" in text
    assert "oblique photo" in text
    assert "Patches by size (% of asset)" in text
    for label, _n in histogram_bins(m.patches):
        assert label in text


def test_a_share_of_the_photo_and_an_area_never_share_a_label(qapp, analysed, tiny_model):
    """With a scale, each class has a % of the photo and an area in cm²: two rows, two names."""
    result, rgb = analysed
    text = _pdf_text(result, rgb, tiny_model)
    for name, pct in result.stats.percent.items():
        assert f"{name}, % of the photo {figures.percent_text(pct, unit=True)}" in text
        assert f"{name} area {figures.percent_text(pct, unit=True)}" not in text
    assert text.count("asset area") == 1 and text.count("corrosion area") + text.count("Corrosion area") == 1


def test_without_a_scale_nothing_claims_physical_units(qapp, analysed, tiny_model):
    result, rgb = analysed
    plain = dataclasses.replace(result, measures=dataclasses.replace(result.measures, mm_per_px=None))
    text = _pdf_text(plain, rgb, tiny_model)
    assert "mm²" not in text and "cm²" not in text and " mm " not in f"{text} "
    assert "oblique photo" not in text and "Largest patch" in text


def test_the_scale_bar_is_drawn_on_the_overlay(qapp, analysed, tiny_model):
    result, rgb = analysed
    overlay = blend_overlay(rgb, result.labels, result.classes)
    scales = (GradeScale.ASTM_D610,)
    plain = dataclasses.replace(result, measures=dataclasses.replace(result.measures, mm_per_px=None))
    with_bar = qimage_to_rgb(
        render_page_images(lambda c: draw_photo_report(c, result, overlay, rgb, tiny_model, scales))[0]
    )
    without = qimage_to_rgb(
        render_page_images(lambda c: draw_photo_report(c, plain, overlay, rgb, tiny_model, scales))[0]
    )
    h, w = with_bar.shape[:2]
    # Qt's smooth scaling can move an image's edge pixel by one level between two renders (it reads
    # past the last row): a bar is far more than that
    gap = np.abs(with_bar.astype(np.int16) - without.astype(np.int16))
    diff = (gap > 2).any(axis=2)
    diff[int(h * 0.5) :] = False  # below the images the rows differ too (areas)
    ys, xs = np.nonzero(diff)
    assert xs.size, "the bar changes the overlay"
    assert xs.min() > w / 2, "drawn on the overlay (the right image), not the photo"
    white = (with_bar[ys, xs] == 255).all(axis=1)
    assert white.sum() > 50, "a white bar"


def test_batch_cards_give_the_evidence_the_range_and_the_area(qapp, analysed, tiny_model):
    result, rgb = analysed
    figs = dataclasses.replace(result, labels=None, confidence=None)
    opts = BatchReportOptions(thumbnails={result.path: make_thumbnail(rgb, result.labels)})
    text = pages_text(render_batch_pdf([figs], tiny_model, GradeScale.ASTM_D610, opts))[1]
    cards = "".join(text.split())  # a card wraps anywhere: compare without the spaces

    def shown(line: str) -> bool:
        return "".join(line.split()) in cards

    m = result.measures
    assert shown(m.distribution.evidence)
    assert shown(f"range: {figures.share_range_text(result, GradeScale.ASTM_D610)}")
    assert shown(f"corrosion {format_area(m.corrosion_area_mm2)}")
    assert scale_bar(SCALE, rgb.shape[1]).label in text, "the scale bar on the thumbnail"


def test_the_models_own_figures_are_printed_only_where_they_read_differently() -> None:
    """A signed mask whose share equals the model's to the two decimals printed gets no "the model's own
    figures" line (it said "corroded share 100.00 %" beside the same 100.00 %)."""
    from types import SimpleNamespace

    from app.core.record import PhotoRecord
    from app.report.pdf import review_source_lines

    def lines(model_share: float, shown: float) -> list[str]:
        record = PhotoRecord(
            {
                "figures_source": "reviewed",
                "reviewed_by": "Anna",
                "model_figures": {"corroded_share": model_share, "astm_d610": "0-G", "iso_4628_3": "Ri 5"},
            }
        )
        result = SimpleNamespace(stats=SimpleNamespace(corroded_share=shown), labels_source="reviewed")
        return review_source_lines(result, record)

    assert not any("model's own" in line for line in lines(99.99999, 100.0))
    assert "The model's own figures: corroded share 97.31 %" in lines(97.31, 100.0)[-1]
