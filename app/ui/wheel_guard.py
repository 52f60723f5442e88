"""The mouse wheel scrolls a panel, not the combo box, spin box or slider that passes under the pointer:
inside a scroll area or a dock those change on the wheel only once they have keyboard focus (clicked or
tabbed into). Scrolling the figures panel had switched its grade scale, and the grades and exports too."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import (
    QAbstractScrollArea,
    QAbstractSlider,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QDockWidget,
    QScrollBar,
    QWidget,
)

_GUARDED = (QComboBox, QAbstractSpinBox, QAbstractSlider)


def _panel_of(widget: QWidget) -> QWidget | None:
    """The nearest scroll area or dock holding `widget`, or None."""
    parent = widget.parentWidget()
    while parent is not None:
        if isinstance(parent, (QAbstractScrollArea, QDockWidget)):
            return parent
        parent = parent.parentWidget()
    return None


def is_guarded(widget: QObject) -> bool:
    """A value widget (not a scroll bar) in a scrollable panel."""
    return (
        isinstance(widget, _GUARDED) and not isinstance(widget, QScrollBar) and _panel_of(widget) is not None
    )


class WheelGuard(QObject):
    """An application event filter (one for the app, `QApplication.installEventFilter`)."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind in (QEvent.Type.Polish, QEvent.Type.Show) and is_guarded(watched):
            # WheelFocus (combo and spin boxes) gave focus to the widget the wheel passed over, so it
            # would change: focus only by click or Tab
            if watched.focusPolicy() == Qt.FocusPolicy.WheelFocus:
                watched.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        elif kind == QEvent.Type.Wheel and is_guarded(watched) and not watched.hasFocus():
            scroll_panel(watched, event)
            return True
        return False


def scroll_area_of(widget: QWidget) -> QAbstractScrollArea | None:
    parent = widget.parentWidget()
    while parent is not None and not isinstance(parent, QAbstractScrollArea):
        parent = parent.parentWidget()
    return parent


def scroll_panel(widget: QWidget, event: QWheelEvent) -> None:
    """The wheel goes to the scroll area around `widget` (a dock without one: it goes nowhere)."""
    parent = scroll_area_of(widget)
    if parent is None:
        return
    viewport = parent.viewport()
    moved = QWheelEvent(
        viewport.mapFromGlobal(event.globalPosition()),
        event.globalPosition(),
        event.pixelDelta(),
        event.angleDelta(),
        event.buttons(),
        event.modifiers(),
        event.phase(),
        event.inverted(),
    )
    QApplication.sendEvent(viewport, moved)


def scrolls(area: QAbstractScrollArea | None) -> bool:
    """Whether `area` has somewhere to scroll (vertically or across)."""
    if area is None:
        return False
    bars = (area.verticalScrollBar(), area.horizontalScrollBar())
    return any(bar.maximum() > bar.minimum() for bar in bars)


class PlotWheel(QObject):
    """Over a plot in a window that scrolls, the wheel scrolls the window and Ctrl+wheel zooms the plot;
    where nothing scrolls, the wheel zooms as usual. Install on the plots' viewports: a plot filling the
    window's height caught every wheel turn, so the table under it could not be reached by the wheel."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() != QEvent.Type.Wheel or not isinstance(watched, QWidget):
            return False
        plot = watched.parentWidget()  # a plot is a scroll area itself: the one around it is wanted
        if plot is None or event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            return False
        if not scrolls(scroll_area_of(plot)):
            return False
        scroll_panel(plot, event)
        return True
