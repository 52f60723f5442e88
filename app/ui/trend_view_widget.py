"""The trend of one asset drawn with pyqtgraph: corroded share (mean and worst photo) and the worst
ASTM D610 grade against the inspection date, with the rate of change in points per year."""

from __future__ import annotations

import datetime as _dt
from pathlib import Path

import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core.project import Asset, Trend
from app.core.project.trend import TREND_TABLE_HEADER, falling_text, rate_text, reviewed_text, trend_table_row
from app.ui.forms import plain_label
from app.ui.project_texts import ASSET_FIELDS
from app.ui.screen_fit import resize_on_screen, scrolled
from app.ui.trend_axes import ScaleAxis
from app.ui.wheel_guard import PlotWheel

MEAN_COLOUR, MAX_COLOUR, GRADE_COLOUR = (200, 40, 30), (90, 90, 90), (30, 80, 170)
FIT_NAME = "least-squares line of the mean"
TABLE_ROWS = 6  # inspections the table shows before it scrolls
# The plots' least useful heights (their drawing areas about 110 and 60 px): a smaller window scrolls
# (TrendDialog) rather than squeeze them (at 1280x720 and 150 % the share plot drew in 6 px)
SHARE_PLOT_MIN_H, GRADE_PLOT_MIN_H = 190, 120
MIN_MARGIN_S = 45 * 86_400.0  # at least 45 days either side: one inspection is not drawn against seconds
# Shown past either end of the scales (labelled on the scale only): a mark at 98 % or 0 %, grade 10 or 0,
# and the "100" label are drawn whole even in the short plots of a 1024x600 screen (5 points were not).
SHARE_HEADROOM = 12.0  # points of share
GRADE_HEADROOM = 1.0  # grades
# axis text and lines on the white plots: pyqtgraph's default grey (150, 150, 150) is 3:1 on white
AXIS_TEXT, AXIS_LINE = "#202020", "#505050"  # 16:1 and 8:1
SHARE_TITLES = ("corroded share of the asset", "corroded share", "share")  # the longest that fits
GRADE_TITLES = ("ASTM D610 (worst)", "D610 (worst)", "D610")


def _stamp(date: _dt.date) -> float:
    """Seconds since the epoch at noon UTC of the date (what DateAxisItem reads)."""
    return _dt.datetime(date.year, date.month, date.day, 12, tzinfo=_dt.timezone.utc).timestamp()


class TrendViewWidget(QWidget):
    """Two plots sharing the date axis: the share curves above, the worst ASTM D610 grade below; the
    inspections' figures in a table under them, as the asset PDF lists them."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.trend: Trend | None = None
        self.rate_label = plain_label()
        share_axis = ScaleAxis("left", 0, 100, SHARE_TITLES, units="%")  # a share can take no other
        self.share_plot = pg.PlotWidget(
            axisItems={"bottom": pg.DateAxisItem(), "left": share_axis}, background="w"
        )
        self._legend_below(self.share_plot.plotItem)
        self.share_plot.showGrid(x=True, y=True, alpha=0.2)
        self._whole_scale(self.share_plot, 100, SHARE_HEADROOM)
        grade_axis = ScaleAxis("left", 0, 10, GRADE_TITLES)
        self.grade_plot = pg.PlotWidget(
            axisItems={"bottom": pg.DateAxisItem(), "left": grade_axis}, background="w"
        )
        self._whole_scale(self.grade_plot, 10, GRADE_HEADROOM)
        for plot in (self.share_plot, self.grade_plot):
            self._dark_axes(plot)
        self.grade_plot.setXLink(self.share_plot)
        mean_pen = pg.mkPen(MEAN_COLOUR, width=2)
        max_pen = pg.mkPen(MAX_COLOUR, width=2, style=Qt.PenStyle.DashLine)
        self.mean_curve = self.share_plot.plot(
            [], [], pen=mean_pen, symbol="o", symbolBrush=MEAN_COLOUR, name="mean of the photos"
        )
        self.max_curve = self.share_plot.plot(
            [], [], pen=max_pen, symbol="s", symbolBrush=MAX_COLOUR, name="worst photo"
        )
        fit_pen = pg.mkPen(GRADE_COLOUR, width=2, style=Qt.PenStyle.DotLine)
        self.fit_curve = self.share_plot.plot([], [], pen=fit_pen, name=FIT_NAME)
        grade_pen = pg.mkPen(GRADE_COLOUR, width=2)
        self.grade_curve = self.grade_plot.plot([], [], pen=grade_pen, symbol="o", symbolBrush=GRADE_COLOUR)
        self.table = QTableWidget(0, len(TREND_TABLE_HEADER))
        self.table.setObjectName("trend_table")
        self.table.setHorizontalHeaderLabels(list(TREND_TABLE_HEADER))
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.share_plot.setMinimumHeight(SHARE_PLOT_MIN_H)
        self.grade_plot.setMinimumHeight(GRADE_PLOT_MIN_H)
        self._wheel = PlotWheel(self)
        for plot in (self.share_plot, self.grade_plot):
            plot.viewport().installEventFilter(self._wheel)
        layout = QVBoxLayout(self)
        layout.addWidget(self.rate_label)
        layout.addWidget(self.share_plot, 3)
        layout.addWidget(self.grade_plot, 2)
        layout.addWidget(self.table)

    def heightForWidth(self, width: int) -> int:
        """The height a scroll area gives the view: the least it needs at `width` (the plots' minimums, the
        wrapped rate line), not the preferred one (1,252 px, which made a 760x740 window scroll)."""
        layout = self.layout()
        return super().heightForWidth(width) if layout is None else layout.minimumHeightForWidth(width)

    @staticmethod
    def _whole_scale(plot: pg.PlotWidget, top: float, headroom: float) -> None:
        """The scale 0-`top` in view with `headroom` past both ends (no padding on top of it); zoom, pan
        and "A" (every curve in view) stay within that too."""
        plot.setYRange(-headroom, top + headroom, padding=0)
        plot.setLimits(yMin=-headroom, yMax=top + headroom)

    @staticmethod
    def _dark_axes(plot: pg.PlotWidget) -> None:
        """Axis lines, tick labels and titles dark enough to read on the white plot."""
        for name in ("left", "bottom"):
            axis = plot.getAxis(name)
            axis.setPen(AXIS_LINE)
            axis.setTextPen(AXIS_TEXT)  # after setPen, which sets the title's colour too

    @staticmethod
    def _legend_below(plot: pg.PlotItem) -> None:
        """The curves' keys in one row under the date axis: inside the plot, where addLegend puts them,
        they lay over the first inspections' points (the top-left corner, where a worsening trend starts)."""
        legend = pg.LegendItem(colCount=3, labelTextColor="k", frame=False)
        plot.layout.addItem(legend, 4, 1)  # the row below the bottom axis
        plot.legend = legend  # plot(name=...) adds its curve to the plot's legend

    def set_trend(self, trend: Trend) -> None:
        self.trend = trend
        shares = [r for r in trend.rows if r.corroded_share_mean is not None]
        xs = [_stamp(r.date) for r in shares]
        self.mean_curve.setData(xs, [r.corroded_share_mean for r in shares])
        self.max_curve.setData(xs, [r.corroded_share_max for r in shares])
        graded = [r for r in trend.rows if r.d610_worst is not None]
        self.grade_curve.setData([_stamp(r.date) for r in graded], [r.d610_worst for r in graded])
        fit = trend.fit
        segment = fit.band_segment(shares[-1].date) if fit is not None and shares else None
        if fit is None or segment is None:
            self.fit_curve.setData([], [])
        else:  # the line where it lies within 0-100 %: a share can take no other
            first = _stamp(fit.first_date)
            self.fit_curve.setData([first + day * 86_400 for day, _s in segment], [s for _d, s in segment])
        legend = self.share_plot.plotItem.legend
        legend.removeItem(self.fit_curve)  # named only when there is a line to name
        if fit is not None:
            legend.addItem(self.fit_curve, FIT_NAME)
        lines = [f"{trend.asset_tag}: {rate_text(trend)}", falling_text(trend), reviewed_text(trend)]
        self.rate_label.setText("\n".join(line for line in lines if line))
        self.rate_label.setWordWrap(True)
        self._fill_table(trend)
        stamps = [_stamp(r.date) for r in trend.rows]
        if stamps:  # the dates with a margin; the grade plot follows (linked)
            margin = max(MIN_MARGIN_S, 0.05 * (max(stamps) - min(stamps)))
            self.share_plot.setXRange(min(stamps) - margin, max(stamps) + margin, padding=0)

    def _fill_table(self, trend: Trend) -> None:
        self.table.setRowCount(len(trend.rows))
        numbers = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        for r, row in enumerate(trend.rows):
            for c, text in enumerate(trend_table_row(row)):
                item = QTableWidgetItem(text)
                if c >= 2:  # counts, shares and grades line up on the right
                    item.setTextAlignment(numbers)
                self.table.setItem(r, c, item)
        # as tall as its rows, up to TABLE_ROWS of them (then it scrolls): the plots keep the rest
        shown = min(max(len(trend.rows), 1), TABLE_ROWS)
        rows_h = (
            sum(self.table.rowHeight(r) for r in range(shown))
            or self.table.verticalHeader().defaultSectionSize()
        )
        frame = 2 * self.table.frameWidth() + self.table.horizontalHeader().sizeHint().height()
        scroll = self.table.horizontalScrollBar().sizeHint().height()
        self.table.setFixedHeight(rows_h + frame + scroll)
        self.table.scrollToBottom()  # the newest inspection (the last row) in view, whole

    def table_cells(self) -> list[list[str]]:
        """What the table shows, row by row (for tests)."""
        return [
            [self.table.item(r, c).text() for c in range(self.table.columnCount())]
            for r in range(self.table.rowCount())
        ]

    def curve_data(self) -> dict[str, tuple[list[float], list[float]]]:
        """What each curve shows (x: epoch seconds), for tests and exports."""
        out = {}
        curves = (("mean", self.mean_curve), ("max", self.max_curve), ("d610", self.grade_curve))
        for name, curve in (*curves, ("fit", self.fit_curve)):
            x, y = curve.getData()
            out[name] = ([] if x is None else list(map(float, x)), [] if y is None else list(map(float, y)))
        return out


class TrendDialog(QDialog):
    """One asset's trend in its own window: the asset named with its details, the plots and table, and
    Save PDF… (`save_requested`; the project's jobs write it) and Close."""

    save_requested = Signal()

    def __init__(self, trend: Trend, parent: QWidget | None = None, asset: Asset | None = None) -> None:
        super().__init__(parent)
        self.asset = asset
        self.heading = plain_label()
        self.heading.setWordWrap(True)
        font = self.heading.font()
        font.setBold(True)
        self.heading.setFont(font)
        self.heading.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.view = TrendViewWidget(self)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.save_button = buttons.addButton("Save PDF…", QDialogButtonBox.ButtonRole.ActionRole)
        self.save_button.setToolTip("The asset's trend report as PDF, as File ▸ Export project… writes it")
        self.save_button.clicked.connect(self.save_requested)
        buttons.rejected.connect(self.reject)
        self.saved = plain_label()  # where Save PDF… wrote the report: the main window may be hidden
        self.saved.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        row = QHBoxLayout()
        row.addWidget(self.saved, 1)
        row.addWidget(buttons)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(scrolled(self.view), 1)  # a screen too small for the plots scrolls them
        layout.addLayout(row)
        self.show_trend(trend, asset)
        resize_on_screen(self, 760, 740)

    def show_trend(self, trend: Trend, asset: Asset | None) -> None:
        """Show the asset's trend as the project was last read (the window follows every read of it: it
        showed the figures of the read it was made from while Save PDF… wrote newer ones)."""
        if self.view.trend == trend and self.asset == asset:
            return
        self.asset = asset
        named = f" – {asset.name}" if asset is not None and asset.name else ""
        self.setWindowTitle(f"Trend of {trend.asset_tag}{named}")
        self.heading.setText(asset_heading(asset) if asset is not None else f"Asset {trend.asset_tag}")
        if self.view.trend is not None:
            self.saved.clear()  # "Saved …" spoke of other figures than these
        self.view.set_trend(trend)
        self.save_button.setEnabled(asset is not None)

    def show_gone(self, reason: str) -> None:
        """The asset is no longer in the project (corrected to another tag, removed): what is shown is
        out of date, and Save PDF… would write another asset's figures or none."""
        self.save_button.setEnabled(False)
        self.saved.setText(f"Out of date: {reason}. Close this window and open the trend again.")

    def show_saved(self, path: Path) -> None:
        self.saved.setText(f"Saved {path}")


def asset_heading(asset: Asset) -> str:
    """ "Asset P-101-A · Name: … · Location: … · Material or coating: …" (the details it has)."""
    facts = [f"{label}: {getattr(asset, name)}" for name, label in ASSET_FIELDS if getattr(asset, name)]
    return " · ".join([f"Asset {asset.tag}", *facts])
