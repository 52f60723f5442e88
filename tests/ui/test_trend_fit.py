"""The trend's rate: a least-squares line through every inspection (not the first and latest only), with
its standard error, drawn in the trend view and PDF; too few inspections say so instead of a number."""

from __future__ import annotations

import datetime as dt
import itertools

import numpy as np
import pytest

from app.core.project import Trend, TrendRow
from app.core.project.records import Asset
from app.core.project.trend import build_trend, fit_rate, iso_text, rate_text
from app.report.project_pdf import render_asset_pdf
from tests.ui.test_report_words import assert_words_whole, pdf_text

DATES = [dt.date(2020, 1, 1), dt.date(2021, 1, 1), dt.date(2022, 1, 1), dt.date(2023, 1, 1)]
MEANS = [10.0, 30.0, 20.0, 40.0]  # first to latest: 10 points a year; the line through all: 8.7


def _rows(means, dates=DATES) -> tuple[TrendRow, ...]:
    return tuple(
        TrendRow(n, d, "J. Doe", 4, 0, m, m + 5, 3, 5)
        for n, (d, m) in enumerate(zip(dates, means, strict=True))
    )


def _trend(means, dates=DATES) -> Trend:
    rows = _rows(means, dates)
    return Trend("P-7", rows, fit_rate(rows))


def test_the_rate_is_the_least_squares_line_through_every_inspection():
    trend = _trend(MEANS)
    years = np.array([(d - DATES[0]).days / 365.25 for d in DATES])
    slope, start = np.polyfit(years, MEANS, 1)
    residual = np.asarray(MEANS) - (start + slope * years)
    stderr = np.sqrt(residual @ residual / (len(years) - 2) / ((years - years.mean()) ** 2).sum())
    assert trend.rate_points_per_year == pytest.approx(slope)
    assert trend.fit.standard_error == pytest.approx(stderr)
    assert trend.fit.at(DATES[0]) == pytest.approx(start)
    first_to_latest = (MEANS[-1] - MEANS[0]) / years[-1]
    assert trend.rate_points_per_year != pytest.approx(first_to_latest, abs=0.5)
    text = rate_text(trend)
    assert f"{slope:+.2f} ± {stderr:.2f} points per year" in text and "4 inspections" in text


def test_fewer_than_three_inspections_give_no_rate():
    for n in (1, 2):
        trend = _trend(MEANS[:n], DATES[:n])
        assert trend.fit is None and trend.rate_points_per_year is None
        assert "too few inspections for a rate" in rate_text(trend)
    assert build_trend("P-7", [], {}).fit is None
    assert iso_text(5) == "Ri 5"


def test_the_trend_pdf_says_the_fit_and_its_error_without_breaking_a_word(qapp):
    trend = _trend(MEANS)
    data = render_asset_pdf(Asset(1, "P-7", "Main line", "Quay 3"), trend, "site")
    assert_words_whole(data, [rate_text(trend)])
    text = pdf_text(data)
    assert "least-squares line of the mean" in text  # the fit's legend in the plot
    assert "Ri 5" in text
    few = render_asset_pdf(Asset(1, "P-7"), _trend(MEANS[:2], DATES[:2]), "site")
    assert "too few inspections for a rate" in pdf_text(few)


def test_the_trend_view_draws_the_fitted_line(qtbot):
    from app.ui.trend_view_widget import TrendViewWidget, _stamp

    view = TrendViewWidget()
    qtbot.addWidget(view)
    trend = _trend(MEANS)
    view.set_trend(trend)
    xs, ys = view.curve_data()["fit"]
    assert xs == [_stamp(DATES[0]), _stamp(DATES[-1])]
    assert ys == pytest.approx([trend.fit.at(DATES[0]), trend.fit.at(DATES[-1])])
    assert "±" in view.rate_label.text()
    view.set_trend(_trend(MEANS[:2], DATES[:2]))
    assert view.curve_data()["fit"] == ([], [])
    assert "too few inspections" in view.rate_label.text()


def test_one_inspection_is_drawn_against_months_not_seconds(qtbot):
    from app.ui.trend_view_widget import TrendViewWidget, _stamp

    view = TrendViewWidget()
    qtbot.addWidget(view)
    view.set_trend(_trend(MEANS[:1], DATES[:1]))
    (x0, x1), (y0, y1) = view.share_plot.viewRange()
    assert x0 < _stamp(DATES[0]) < x1 and x1 - x0 >= 60 * 86_400, "the date axis spans months"
    assert view.grade_plot.viewRange()[0] == [x0, x1], "the grade plot shares the dates"
    assert y0 <= 0 and y1 >= 100, "the share on its whole scale, as the trend PDF draws it"
    names = [label.text for _sample, label in view.share_plot.plotItem.legend.items]
    assert "least-squares line of the mean" not in names, "no line, no legend entry for it"
    view.set_trend(_trend(MEANS))
    names = [label.text for _sample, label in view.share_plot.plotItem.legend.items]
    assert names.count("least-squares line of the mean") == 1
    (x0, x1), _ = view.share_plot.viewRange()
    assert x0 < _stamp(DATES[0]) and x1 > _stamp(DATES[-1])


def test_the_trend_view_keeps_its_legend_off_the_curves(qtbot):
    """Inside the plot the keys lay over the first inspections' points (a worsening trend starts at the
    top left); they sit in one row under the date axis instead."""
    from app.ui.trend_view_widget import TrendViewWidget

    view = TrendViewWidget()
    qtbot.addWidget(view)
    view.resize(760, 520)
    view.show()
    view.set_trend(_trend([95.0, 80.0, 60.0, 40.0]))
    qtbot.wait(50)
    plot = view.share_plot.plotItem
    legend = plot.legend
    curves_box = plot.vb.sceneBoundingRect()
    legend_box = legend.sceneBoundingRect()
    assert legend.parentItem() is not plot.vb
    assert legend_box.top() >= curves_box.bottom(), (legend_box, curves_box)
    rows = {round(label.sceneBoundingRect().top()) for _sample, label in legend.items}
    assert len(legend.items) == 3 and len(rows) == 1  # one row


def _placed_text(data: bytes) -> list[tuple[str, float, float]]:
    """Each text run of the PDF's first page with where it starts (x, y; Qt's PDFs: y grows down)."""
    import io

    import pypdf

    found: list[tuple[str, float, float]] = []

    def visit(text, cm, tm, _font, _size) -> None:
        if text.strip():
            found.append((text.replace("\t", " "), cm[4] + tm[4], cm[5] + tm[5]))

    pypdf.PdfReader(io.BytesIO(data)).pages[0].extract_text(visitor_text=visit)
    return found


def test_the_trend_legend_is_one_row_above_the_plot(qapp):
    """Three keys stacked in the room of two ran the third into the plot's top line and first point."""
    placed = _placed_text(render_asset_pdf(Asset(1, "P-7"), _trend(MEANS), "site"))
    keys = ["mean of the photos", "worst photo", "least-squares line of the mean"]
    legend = [next(p for p in placed if p[0] == key) for key in keys]
    axis_top = min(y for text, _x, y in placed if text.endswith(" %") and text[0].isdigit())
    assert max(y for _t, _x, y in legend) - min(y for _t, _x, y in legend) < 1  # one row
    assert all(y < axis_top - 5 for _t, _x, y in legend)  # above the plot's top line
    xs = [x for _t, x, _y in legend]
    assert xs == sorted(xs) and min(b - a for a, b in itertools.pairwise(xs)) > 100  # side by side, apart


def test_a_share_that_falls_beyond_its_error_is_questioned_everywhere_the_rate_is(qtbot):
    """Corrosion does not recede by itself: a clearly falling trend says what else could cause it; a
    rising one, or a fall within twice its standard error, says nothing more."""
    from app.core.project.trend import falling_text
    from app.ui.trend_view_widget import TrendViewWidget

    falling = _trend([95.0, 80.0, 62.0, 40.0])
    assert falling.fit.rate < -2 * falling.fit.standard_error
    caution = falling_text(falling)
    assert "falls over time" in caution and "repair" in caution
    assert falling_text(_trend(MEANS)) == ""  # rising
    noisy = _trend([40.0, 10.0, 45.0, 25.0])  # falls a little, well within its error
    assert noisy.fit.rate < 0 and falling_text(noisy) == ""
    assert_words_whole(render_asset_pdf(Asset(1, "P-7"), falling, "site"), [caution])
    assert "falls over time" not in pdf_text(render_asset_pdf(Asset(1, "P-7"), _trend(MEANS), "site"))
    view = TrendViewWidget()
    qtbot.addWidget(view)
    view.set_trend(falling)
    assert caution in view.rate_label.text()
    view.set_trend(_trend(MEANS))
    assert "falls over time" not in view.rate_label.text()


def test_the_trend_says_how_many_photos_count_with_reviewed_figures(qtbot):
    from app.core.project.trend import reviewed_text
    from app.ui.trend_view_widget import TrendViewWidget

    rows = tuple(TrendRow(n, d, "", 4, n, 20.0 + n, 30.0, 3, 5) for n, d in enumerate(DATES[:3]))
    mixed = Trend("P-7", rows, fit_rate(rows))
    said = "3 of 12 photos count with reviewed masks' figures, the rest with the model's."
    assert reviewed_text(mixed) == said
    none = "No photo of the 16 has a reviewed mask: every figure is the model's."
    assert reviewed_text(_trend(MEANS)) == none
    signed = tuple(TrendRow(n, d, "", 2, 2, 20.0, 30.0, 3, 5) for n, d in enumerate(DATES[:2]))
    assert reviewed_text(Trend("P-7", signed, None)) == "All 4 photos count with reviewed masks' figures."
    assert_words_whole(render_asset_pdf(Asset(1, "P-7"), mixed, "site"), [said])
    view = TrendViewWidget()
    qtbot.addWidget(view)
    view.set_trend(mixed)
    assert said in view.rate_label.text()


def test_the_trend_window_lists_the_inspections_as_the_pdf_does(qtbot):
    from app.ui.trend_view_widget import TrendViewWidget

    rows = (
        TrendRow(1, DATES[0], "J. Doe", 4, 1, 12.345, 30.0, 3, 5),
        TrendRow(2, DATES[1], "", 2, 0, None, None, None, None),  # no asset in view on either photo
    )
    view = TrendViewWidget()
    qtbot.addWidget(view)
    view.set_trend(Trend("P-7", rows, None))
    assert view.table_cells() == [
        ["2020-01-01", "J. Doe", "4", "1", "12.35", "30.00", "3", "Ri 5"],
        ["2021-01-01", "–", "2", "0", "–", "–", "–", "–"],
    ]
    header = [view.table.horizontalHeaderItem(c).text() for c in range(view.table.columnCount())]
    assert header[:4] == ["Date", "Inspector", "Photos", "Reviewed"] and header[-1] == "ISO worst"
    pdf = pdf_text(render_asset_pdf(Asset(1, "P-7"), Trend("P-7", rows, None), "site"))
    assert "12.35" in pdf and "Ri 5" in pdf  # the same cells in the asset PDF
