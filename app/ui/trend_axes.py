"""The trend plots' value axes: a title that fits along the axis however short the plot, and labels
only on the scale (a share 0-100 %, a grade 0-10), however far the view shows past its ends."""

from __future__ import annotations

from collections.abc import Sequence

import pyqtgraph as pg

TITLE_ROOM = 4  # pixels kept free at either end of the title (its rotated text is centred on the axis)


class ScaleAxis(pg.AxisItem):
    """A left or right axis labelled within [low, high] only, titled with the longest of `titles` that
    fits its height: on a small screen (1024x600) the plots are short, and a long rotated title was cut
    at both ends ("corroded share of the ass")."""

    def __init__(
        self, orientation: str, low: float, high: float, titles: Sequence[str], units: str | None = None
    ) -> None:
        self.titles: tuple[str, ...] = ()  # none to fit while pyqtgraph lays the axis out in __init__
        self._fitting = False
        super().__init__(orientation)
        self.low, self.high = low, high
        self.titles, self.units = tuple(titles), units
        self.setLabel(self.titles[0], units=units)
        self.setToolTip(self.titles[0] + (f" ({units})" if units else ""))  # the whole title, when cut short

    def tickValues(self, minVal: float, maxVal: float, size: float) -> list:  # pyqtgraph's name
        levels = super().tickValues(minVal, maxVal, size)
        return [(spacing, [v for v in values if self.low <= v <= self.high]) for spacing, values in levels]

    def title_width(self) -> float:
        """The drawn title's length along the axis, in pixels."""
        return self.label.boundingRect().width()

    def fit_title(self) -> None:
        """Show the longest title that fits the axis's height (else the shortest)."""
        if self._fitting or not self.titles or self.label is None:  # pyqtgraph drops the label on close
            return
        self._fitting = True  # a new title re-lays the axis out, which resizes it: no fit within a fit
        try:
            room = self.size().height() - 2 * TITLE_ROOM
            for title in self.titles:
                self._show_title(title)
                if self.title_width() <= room:
                    return
        finally:
            self._fitting = False

    def _show_title(self, title: str) -> None:
        if self.labelText != title:  # setLabel re-lays the axis out: only when the words change
            self.setLabel(title, units=self.units)

    def resizeEvent(self, ev=None) -> None:  # pyqtgraph places the title here, from its width
        self.fit_title()
        super().resizeEvent(ev)
