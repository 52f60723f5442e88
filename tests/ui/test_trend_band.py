"""The trend's share stays on its 0-100 % scale: the PDF's axis never reads above 100 %, and the fitted
line (a least-squares line, which knows no bounds) is drawn only where it lies within 0-100 %, in the
PDF and in the trend window alike."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from app.core.project import Trend, TrendRow
from app.core.project.records import Asset
from app.core.project.trend import fit_rate
from app.report.project_pdf import render_asset_pdf
from tests.ui.test_report_words import pdf_text
from tests.ui.test_trend_fit import _placed_text

DATES = [dt.date(2021, 4, 10), dt.date(2022, 4, 10), dt.date(2023, 4, 10), dt.date(2024, 4, 10)]
# what a tester's project held: the worst photos near 99 %, the line through the means starts above 100 %
MEANS, WORST = [95.85, 74.18, 73.74, 5.64], [98.87, 74.18, 99.02, 5.64]


def _trend(means=MEANS, worst=WORST) -> Trend:
    rows = tuple(
        TrendRow(n, d, "Ann", 2, 0, m, w, 0, 5)
        for n, (d, m, w) in enumerate(zip(DATES, means, worst, strict=True))
    )
    return Trend("P-1", rows, fit_rate(rows))


def test_the_fitted_line_is_cut_to_the_share_scale():
    trend = _trend()
    fit = trend.fit
    assert fit.at(DATES[0]) > 100, "the case at hand: a least-squares line above 100 % at the start"
    (d0, y0), (d1, y1) = fit.band_segment(DATES[-1])
    assert 0 < d0 < d1 == (DATES[-1] - DATES[0]).days
    assert y0 == pytest.approx(100.0) and 0 <= y1 <= 100
    assert fit.band_segment(DATES[-1], high=-1.0) is None  # never within the band: nothing drawn
    rising = _trend([10.0, 40.0, 70.0, 99.0], [20.0, 50.0, 80.0, 100.0]).fit
    (_d0, a), (_d1, b) = rising.band_segment(DATES[-1])
    assert 0 <= a <= b <= 100


def _axis_labels(data: bytes) -> list[float]:
    """The plot's share labels ("25 %"): the text runs that are a number and "%" alone."""
    return [float(t[:-2]) for t, _x, _y in _placed_text(data) if re.fullmatch(r"\d+(\.\d+)? %", t)]


def test_the_trend_pdf_axis_never_reads_above_100_percent(qapp):
    data = render_asset_pdf(Asset(1, "P-1"), _trend(), "site")
    labels = _axis_labels(data)
    assert 100 in labels and max(labels) <= 100, labels
    text = pdf_text(data)
    assert "least-squares line" in text and "0-100 %" in text  # the note says where the line is cut
    low = _axis_labels(render_asset_pdf(Asset(1, "P-1"), _trend([1.0, 2.0, 2.5, 3.0], [2, 3, 3, 4]), "site"))
    assert max(low) == 5, "a clean asset keeps a readable, finer scale"


def test_the_trend_window_keeps_the_line_and_its_axis_within_0_to_100(qtbot):
    from app.ui.trend_view_widget import SHARE_HEADROOM, TrendViewWidget

    view = TrendViewWidget()
    qtbot.addWidget(view)
    view.set_trend(_trend())
    _xs, ys = view.curve_data()["fit"]
    assert ys and all(0 <= y <= 100 for y in ys), ys
    view.share_plot.plotItem.vb.autoRange()  # the plot's "A" button: every curve in view
    (_x0, _x1), (y0, y1) = view.share_plot.viewRange()
    assert y0 >= -SHARE_HEADROOM and y1 <= 100 + SHARE_HEADROOM, (y0, y1)
    axis = view.share_plot.plotItem.getAxis("left")
    ticks = [v for _spacing, values in axis.tickValues(-10, 130, 400) for v in values]
    assert ticks and max(ticks) <= 100 and min(ticks) >= 0, ticks
