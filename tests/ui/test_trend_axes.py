"""The trend window on a small screen (1024x600): the value axes' titles fit along the short plots, and
the y ranges leave room past the scales' ends, so a worst photo at 98 % (or a grade 10 or 0) is drawn
whole and not on the plot's edge."""

from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtCore import QPointF
from PySide6.QtGui import QColor, QFontMetrics

from app.core.project import Trend, TrendRow
from app.core.project.trend import fit_rate
from app.ui.trend_view_widget import TrendDialog, _stamp

DATES = [dt.date(2020, 1, 1), dt.date(2021, 1, 1), dt.date(2022, 1, 1), dt.date(2023, 1, 1)]
MEANS, WORST, GRADES = [0.0, 40.0, 70.0, 90.0], [2.0, 60.0, 85.0, 98.0], [10, 4, 1, 0]


def shown_trend(qtbot, rows: tuple[TrendRow, ...], width: int, height: int) -> TrendDialog:
    """The trend window of `rows` (asset P-98), shown and resized to at most width x height."""
    dialog = TrendDialog(Trend("P-98", rows, fit_rate(rows)))
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.resize(width, height)
    qtbot.waitUntil(lambda: dialog.height() <= height)
    return dialog


def _dialog(qtbot, width: int, height: int) -> TrendDialog:
    rows = tuple(
        TrendRow(n, d, "J. Doe", 4, 0, m, w, g, 5)
        for n, (d, m, w, g) in enumerate(zip(DATES, MEANS, WORST, GRADES, strict=True))
    )
    return shown_trend(qtbot, rows, width, height)


def _marks_inside(plot, curve, values) -> None:
    """Each mark (a symbol around the point) lies wholly inside the plot's view, a pixel off its edges."""
    vb = plot.plotItem.vb
    box = vb.sceneBoundingRect()
    half = curve.opts["symbolSize"] / 2 + 1  # and the symbol's outline
    for date, value in zip(DATES, values, strict=True):
        y = vb.mapViewToScene(QPointF(_stamp(date), value)).y()
        assert box.top() < y - half and y + half < box.bottom(), (value, y, box)


def test_a_worst_photo_at_98_percent_and_the_grades_ends_are_drawn_whole(qtbot) -> None:
    dialog = _dialog(qtbot, 1000, 560)  # what a 1024x600 screen leaves it
    view = dialog.view
    _marks_inside(view.share_plot, view.max_curve, WORST)
    _marks_inside(view.share_plot, view.mean_curve, MEANS)
    vb = view.share_plot.plotItem.vb
    above = vb.mapViewToScene(QPointF(0, 100)).y() - vb.sceneBoundingRect().top()
    axis = view.share_plot.plotItem.getAxis("left")
    assert above >= QFontMetrics(axis.font()).height() / 2, "room for the label 100, centred on its tick"
    (_x0, _x1), (y0, y1) = view.share_plot.viewRange()
    ticks = [v for _spacing, values in axis.tickValues(y0, y1, 400) for v in values]
    assert min(ticks) == 0 and max(ticks) == 100, "labelled on the scale only, 100 included"
    _marks_inside(view.grade_plot, view.grade_curve, GRADES)


@pytest.mark.parametrize(("width", "height"), [(1000, 560), (760, 740), (900, 1000)])
def test_the_axes_titles_fit_along_the_plots(qtbot, width: int, height: int) -> None:
    dialog = _dialog(qtbot, width, height)
    view = dialog.view
    for plot in (view.share_plot, view.grade_plot):
        axis = plot.plotItem.getAxis("left")
        assert axis.label.isVisible() and axis.labelText
        assert axis.label.boundingRect().width() <= axis.size().height(), (axis.labelText, height)


def test_a_tall_window_keeps_the_whole_titles(qtbot) -> None:
    dialog = _dialog(qtbot, 900, 1000)
    view = dialog.view
    assert view.share_plot.plotItem.getAxis("left").labelText == "corroded share of the asset"
    assert view.grade_plot.plotItem.getAxis("left").labelText == "ASTM D610 (worst)"


def _luminance(colour) -> float:
    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    return (
        0.2126 * channel(colour.redF()) + 0.7152 * channel(colour.greenF()) + 0.0722 * channel(colour.blueF())
    )


def test_the_axes_text_is_dark_enough_to_read_on_white(qtbot) -> None:
    """pyqtgraph's grey (150, 150, 150) is 3:1 on the white plots; text needs 4.5:1 (WCAG AA)."""
    dialog = _dialog(qtbot, 760, 740)
    for plot in (dialog.view.share_plot, dialog.view.grade_plot):
        for name in ("left", "bottom"):
            axis = plot.getAxis(name)
            for colour in (axis.textPen().color(), QColor(axis.labelStyle["color"])):
                assert (1.0 + 0.05) / (_luminance(colour) + 0.05) >= 4.5, (name, colour.name())
