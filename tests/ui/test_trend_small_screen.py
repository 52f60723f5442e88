"""The trend window on small screens: at 1280x720 and 150 % the share plot drew in 6 px, and at 1024x600
with 7 inspections the table cut the newest row in half. The plots keep a useful height (the window
scrolls) and the newest row is in view, whole."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication

from app.core.project.trend import TrendRow
from app.ui.trend_view_widget import TrendDialog
from tests.ui.test_trend_axes import shown_trend


def _dialog(qtbot, count: int, width: int, height: int) -> TrendDialog:
    rows = tuple(
        TrendRow(n, dt.date(2017 + n, 5, 1), "J. Doe", 4, 0, 5.0 * n, 8.0 * n, 10 - n, 1 + n)
        for n in range(count)
    )
    dialog = shown_trend(qtbot, rows, width, height)
    qtbot.wait(50)
    return dialog


def test_the_plots_keep_a_useful_height_in_a_small_window(qtbot) -> None:
    dialog = _dialog(qtbot, 7, 850, 440)  # what 1280x720 at 150 % leaves the window
    for plot, least in ((dialog.view.share_plot, 100), (dialog.view.grade_plot, 50)):
        drawn = plot.plotItem.vb.sceneBoundingRect().height()
        assert drawn >= least, (plot, drawn)


def test_the_newest_inspection_is_shown_whole(qtbot) -> None:
    dialog = _dialog(qtbot, 7, 1000, 560)  # what a 1024x600 screen leaves it
    table = dialog.view.table
    last = table.visualRect(table.model().index(table.rowCount() - 1, 0))
    port = table.viewport().rect()
    assert port.top() <= last.top() and last.bottom() <= port.bottom(), (last, port)


def test_a_window_with_room_for_everything_does_not_scroll(qtbot) -> None:
    """In the scroll area the view took its preferred height (1,252 px: the wrapped rate line asks the
    area for a height for its width), so even a 760x740 window scrolled and the mouse wheel, over a plot,
    zoomed the plot instead of bringing the table into view."""
    dialog = _dialog(qtbot, 7, 760, 740)
    view = dialog.view
    area = view.parentWidget().parentWidget()  # the view sits in the scroll area's viewport
    assert view.height() <= area.viewport().height(), (view.height(), area.viewport().height())
    assert view.share_plot.height() > view.grade_plot.height() >= 120


def _turn_wheel(plot, modifiers=Qt.KeyboardModifier.NoModifier) -> None:
    """One wheel notch down over the middle of `plot`, as the mouse sends it (to the view's viewport)."""
    port = plot.viewport()
    at = QPointF(port.rect().center())
    event = QWheelEvent(
        at,
        QPointF(port.mapToGlobal(at.toPoint())),
        QPoint(),
        QPoint(0, -120),
        Qt.MouseButton.NoButton,
        modifiers,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(port, event)


def test_the_wheel_over_a_plot_scrolls_a_window_that_scrolls(qtbot) -> None:
    """At 850x440 the plots fill the window: the wheel over one zoomed it and the table under it could
    not be brought into view with the wheel. Now it scrolls the window; Ctrl+wheel still zooms."""
    dialog = _dialog(qtbot, 7, 850, 440)
    plot = dialog.view.share_plot
    bar = dialog.view.parentWidget().parentWidget().verticalScrollBar()
    assert bar.maximum() > 0
    dates = plot.plotItem.vb.viewRange()[0]
    _turn_wheel(plot)
    assert bar.value() > 0
    assert plot.plotItem.vb.viewRange()[0] == dates
    _turn_wheel(plot, Qt.KeyboardModifier.ControlModifier)
    assert plot.plotItem.vb.viewRange()[0] != dates


def test_the_wheel_zooms_a_plot_where_nothing_scrolls(qtbot) -> None:
    dialog = _dialog(qtbot, 7, 1000, 900)
    plot = dialog.view.grade_plot
    assert dialog.view.parentWidget().parentWidget().verticalScrollBar().maximum() == 0
    dates = plot.plotItem.vb.viewRange()[0]
    _turn_wheel(plot)
    assert plot.plotItem.vb.viewRange()[0] != dates
