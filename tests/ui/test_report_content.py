"""What the PDF reports say, read back with pypdf: the provider as the app names it, a legend of the
shown classes only, the batch summary (counts, grade chart, worst first), a thumbnail per photo, the
folder, the mode and every review reason."""

from __future__ import annotations

import dataclasses
import io
import json
from pathlib import Path

import numpy as np
import pypdf  # the dev extra
import pytest

from app.core.analysis import PhotoFailure, analyze_rgb
from app.core.grading import Assessment, GradeScale
from app.core.inference import InferenceMode
from app.core.overlay import blend_overlay
from app.core.overlay_style import OverlayStyle
from app.core.synthetic import synthetic_pipe
from app.report import BatchReportOptions, render_batch_pdf, render_pdf_report
from app.report.batch_pdf import grade_counts, worst_first
from app.report.thumbnails import make_thumbnail
from tests.ui.conftest import TIMEOUT_MS
from tests.ui.test_batch import make_folder, run_batch


def pages_text(data: bytes) -> list[str]:
    reader = pypdf.PdfReader(io.BytesIO(data))
    return [" ".join(p.extract_text().replace("\ufb01", "fi").split()) for p in reader.pages]


def images_per_page(data: bytes) -> list[int]:
    return [len(p.images) for p in pypdf.PdfReader(io.BytesIO(data)).pages]


@pytest.fixture(scope="module")
def photos(tiny_model):
    """Three analysed photos with different shares, their thumbnails, and one that needs review."""
    out = []
    for seed, rust in ((1, 0.05), (2, 0.4), (3, 0.2)):
        rgb, _ = synthetic_pipe(seed, (90, 120), rust=rust)
        result = analyze_rgb(tiny_model, rgb, f"site-7/pipe_{seed}.png")
        out.append((result, rgb))
    review = Assessment(
        out[2][0].assessment.astm, out[2][0].assessment.iso, True, ("first reason here", "second reason")
    )
    out[2] = (dataclasses.replace(out[2][0], assessment=review), out[2][1])
    return out


def _batch(photos, tiny_model, **options) -> bytes:
    results = [dataclasses.replace(r, labels=None, confidence=None) for r, _ in photos]
    thumbs = {r.path: make_thumbnail(rgb, r.labels) for r, rgb in photos}
    records = [*results, PhotoFailure(Path("site-7/broken.jpg"), "not a photo (cannot decode)")]
    opts = BatchReportOptions(folder=Path("site-7"), thumbnails=thumbs, **options)
    return render_batch_pdf(records, tiny_model, GradeScale.ASTM_D610, opts)


def test_batch_pdf_names_the_provider_as_the_app_does(qapp, photos, tiny_model):
    text = " ".join(pages_text(_batch(photos, tiny_model)))
    assert "Provider CPU" in text
    assert "ExecutionProvider" not in text


def test_batch_summary_page(qapp, photos, tiny_model):
    summary = pages_text(_batch(photos, tiny_model))[0]
    review = sum(r.assessment.needs_review for r, _ in photos)
    expected = (
        "Folder site-7",
        "Photos 4",
        "Analysed 3",
        "Failed 1",
        f"Needs review {review}",
        "Mode resize",
    )
    for words in expected:
        assert words in summary, words
    assert "Photos per ASTM D610 grade" in summary
    worst = [r.path.name for r in worst_first([r for r, _ in photos])]
    assert summary.index(worst[0]) < summary.index(worst[1]) < summary.index(worst[2])
    shares = [r.stats.corroded_share for r, _ in photos]
    assert worst[0] == photos[int(np.argmax(shares))][0].path.name


def test_a_stopped_batchs_report_says_it_is_incomplete_and_lists_what_it_did_not_reach(
    qapp, photos, tiny_model
):
    results = [r for r, _ in photos]
    records = [*results, PhotoFailure.not_reached(Path("site-7/later_01.jpg"))]
    text = pages_text(render_batch_pdf(records, tiny_model, GradeScale.ASTM_D610))
    assert "Incomplete: the batch was stopped; 1 of 4 photos were not analysed" in text[0]
    assert "Photos 4" in text[0] and "Analysed 3" in text[0] and "Failed 0" in text[0]
    assert "Not analysed (batch stopped) 1" in text[0]
    assert "Photos not analysed: the batch was stopped before them later_01.jpg" in " ".join(text)
    whole = pages_text(render_batch_pdf(results, tiny_model, GradeScale.ASTM_D610))
    assert "Incomplete" not in " ".join(whole) and "Not analysed" not in whole[0]


def test_grade_distribution_counts_every_grade(photos):
    results = [r for r, _ in photos]
    counts = dict(grade_counts(results, GradeScale.ASTM_D610))
    assert list(counts)[:11] == [str(v) for v in range(10, -1, -1)]
    assert sum(counts.values()) == len(results)
    for r in results:
        assert counts[r.assessment.astm.label] >= 1
    assert list(dict(grade_counts(results, GradeScale.ISO_4628_3)))[:6] == [f"Ri {v}" for v in range(6)]


def test_a_thumbnail_with_overlay_per_photo_and_every_review_reason(qapp, photos, tiny_model):
    data = _batch(photos, tiny_model, overlay=OverlayStyle.of({0}, {0: 0.7}))
    cards = pages_text(data)[1]
    assert sum(images_per_page(data)) == len(photos)
    for r, _ in photos:
        assert r.path.name in cards
    assert "review: first reason here" in cards and "review: second reason" in cards
    thumb = make_thumbnail(photos[0][1], photos[0][0].labels)
    shown = thumb.overlay(photos[0][0].classes, OverlayStyle.of({0}, {0: 0.7}))
    assert not np.array_equal(shown, thumb.rgb()) or not (thumb.labels() == 0).any()
    np.testing.assert_array_equal(thumb.overlay(photos[0][0].classes, OverlayStyle.of(set())), thumb.rgb())


def test_batch_legend_lists_only_the_visible_classes(qapp, photos, tiny_model):
    cards = pages_text(_batch(photos, tiny_model, overlay=OverlayStyle.of({0})))[1]
    assert "corrosion" in cards
    # a card's distribution evidence may say "% of the asset"; the legend adds one more when drawn
    assert "background" not in cards
    every = pages_text(_batch(photos, tiny_model))[1]
    assert every.count("asset") == cards.count("asset") + 1 and "background" in every


def test_batch_pdf_says_the_mode_used(qapp, photos, tiny_model):
    tiles = [(dataclasses.replace(r, mode=InferenceMode.TILES), rgb) for r, rgb in photos]
    assert "Mode tiles" in pages_text(_batch(tiles, tiny_model))[0]


def test_photo_report_legend_lists_only_the_visible_classes(qapp, photos, tiny_model):
    result, rgb = photos[2]
    overlay = blend_overlay(rgb, result.labels, result.classes, {0, 1})
    hidden = pages_text(
        render_pdf_report(result, overlay, rgb, tiny_model, GradeScale.ASTM_D610, OverlayStyle.of({0, 1}))
    )[0]
    shown = pages_text(render_pdf_report(result, overlay, rgb, tiny_model, GradeScale.ASTM_D610))[0]
    # "background area" is a figure either way; the legend adds one more only when it is drawn
    assert shown.count("background") == hidden.count("background") + 1
    assert "first reason here" in hidden and "second reason" in hidden
    # the folder whole (the app may have been started anywhere): the relative "site-7" from where it runs
    assert f"Folder: {Path('site-7').absolute()}" in hidden and "mode: resize" in hidden
    assert "ExecutionProvider" not in hidden


def test_batch_pdf_from_the_window_has_thumbnails(qtbot, window, tmp_path):
    from app.ui.batch_exports import start_batch_pdf_export

    run_batch(qtbot, window, make_folder(tmp_path, 3))
    assert all(r.thumbnail is not None for r in window.batch_model.rows)
    window.overlay_state.set_visible(1, False)
    out = tmp_path / "batch.pdf"
    with qtbot.waitSignal(window.controller.export_finished, timeout=TIMEOUT_MS):
        start_batch_pdf_export(window, out)
    data = out.read_bytes()
    assert sum(images_per_page(data)) == 3
    text = pages_text(data)
    assert f"Folder{tmp_path / 'photos'}" in text[0].replace(" ", "")  # a long path wraps
    legend = text[1].split("pipe_")[0]  # the page's title and legend, before the first card
    assert "corrosion" in legend
    assert "asset" not in legend, "asset was hidden in the window, so not in the report's legend"


def test_report_pages_render_as_images_for_the_guide(qapp, photos, tiny_model):
    from app.report.batch_pdf import draw_batch_report
    from app.report.preview import render_page_images
    from app.ui.qimage import qimage_to_rgb

    results = [r for r, _ in photos]
    thumbs = {r.path: make_thumbnail(rgb, r.labels) for r, rgb in photos}
    opts = BatchReportOptions(folder=Path("site-7"), thumbnails=thumbs)
    pages = render_page_images(
        lambda c: draw_batch_report(c, results, [], tiny_model, [GradeScale.ASTM_D610], opts)
    )
    assert len(pages) == len(pages_text(_batch(photos, tiny_model))) == 3  # summary, cards, table
    assert abs(pages[0].width() / pages[0].height() - 210 / 297) < 0.01
    summary = qimage_to_rgb(pages[0])
    bars = (summary[..., 0] > 150) & (summary[..., 1] < 110) & (summary[..., 2] < 90)
    assert bars.sum() > 500, "the grade chart's bars are drawn"


def test_both_reports_state_the_models_typical_error(qapp, photos, tiny_model, uncalibrated_model):
    line = tiny_model.accuracy_line
    assert line.startswith("Model estimate: typically within ±9 points")
    pages = pages_text(_batch(photos, tiny_model))
    assert len(pages) > 1 and all(line in page for page in pages)  # each page's footer says it
    result, rgb = photos[0]
    overlay = blend_overlay(rgb, result.labels, result.classes)
    assert line in " ".join(pages_text(render_pdf_report(result, overlay, rgb, tiny_model)))
    unknown = " ".join(pages_text(render_pdf_report(result, overlay, rgb, uncalibrated_model)))
    assert "Model estimate: accuracy unknown" in unknown


def test_the_statement_of_accuracy_says_what_the_range_held_on_unseen_photos(qapp, photos, tmp_path):
    """A client reading "80 % range 4.9-38.1 %" learns from the report itself what the 80 % means."""
    from app.core.model import SegmentationModel
    from tests.helpers.tiny_models import channel_model, figures_metadata

    meta = figures_metadata(confidence=0.9)
    held = json.loads(meta["corroscope.share_range"])
    held["held_out"]["photos"] = 194
    meta["corroscope.share_range"] = json.dumps(held)
    model = SegmentationModel.load(channel_model(tmp_path / "m.onnx", metadata=meta), "cpu")
    result, rgb = photos[0]
    overlay = blend_overlay(rgb, result.labels, result.classes)
    text = " ".join(pages_text(render_pdf_report(result, overlay, rgb, model))).replace("\u2011", "-")
    said = "Its 80 % range held 81 % of inspectors' shares on 194 held-out photos"
    promise = (
        "; calibrated to hold at least 80 % of unseen photos' shares with 90 % confidence, on photos like "
        "those it was measured on."
    )
    assert said in text and promise in text
    made = [(dataclasses.replace(r, model_sha256=model.sha256), rgb) for r, rgb in photos]  # by `model`
    assert said in " ".join(pages_text(_batch(made, model))).replace("\u2011", "-")  # no-break hyphens


def test_the_statement_of_accuracy_leaves_out_a_range_whose_figures_are_implausible(qapp, photos, tmp_path):
    """A file stating its range held 5730 % of shares on -3 photos gets no range and no statement."""
    from app.core.model import SegmentationModel
    from tests.helpers.tiny_models import channel_model, figures_metadata

    meta = figures_metadata(confidence=0.9)
    held = json.loads(meta["corroscope.share_range"])
    held["held_out"] = {"coverage": 57.3, "photos": -3, "mean_width": 20.0}
    meta["corroscope.share_range"] = json.dumps(held)
    model = SegmentationModel.load(channel_model(tmp_path / "m.onnx", metadata=meta), "cpu")
    result, rgb = photos[0]
    text = " ".join(
        pages_text(render_pdf_report(result, blend_overlay(rgb, result.labels, result.classes), rgb, model))
    )
    assert "5730" not in text and "held-out photos" not in text.replace("\u2011", "-")


def test_a_signed_photo_reads_reviewed_in_both_tables_of_the_batch_report(qapp, photos, tiny_model):
    from app.core.analysis import as_signed

    signed = [(as_signed(photos[2][0]), photos[2][1]), *photos[:2]]
    text = " ".join(pages_text(_batch(signed, tiny_model)))
    name = signed[0][0].path.name
    cells = [part.split(" pipe_")[0] for part in text.split(name)[1:]]  # up to the next photo's name
    table_rows = [c for c in cells if "corroded share" not in c]  # not the photo's card
    assert len(table_rows) == 2, "the worst-first table and the full table"
    assert all("reviewed" in row and "needs review" not in row for row in table_rows)
    assert "1 of 3 photos reviewed by a person" in text


def test_odd_bytes_and_control_characters_of_a_name_read_as_escapes_in_the_batch_report(
    qapp, photos, tiny_model
):
    import os

    odd = Path(os.fsdecode(b"site-7/pipe_\xff\xfe.png"))
    esc = Path("site-7/pipe_\x1b[31mred.png")
    renamed = [
        (dataclasses.replace(photos[0][0], path=odd), photos[0][1]),
        (dataclasses.replace(photos[1][0], path=esc), photos[1][1]),
    ]
    text = " ".join(pages_text(_batch(renamed, tiny_model))).replace("\ufb00", "ff")  # the ff ligature
    assert text.count("pipe_\\xff\\xfe.png") == 3, "the card and both tables, as the CSV writes it"
    assert text.count("pipe_\\x1b[31mred.png") == 3
    assert "\ufffd" not in text and "\x1b" not in text
