"""Tab order as laid out: widgets created later (the overlay panel's rows, rebuilt when a model loads)
joined the end of the window's focus chain, so Tab reached the top of the side panel last."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QLayout, QWidget


def _items(layout: QLayout) -> list:
    """The layout's items in reading order (a grid's by row, then column)."""
    items = [layout.itemAt(i) for i in range(layout.count())]
    if isinstance(layout, QGridLayout):
        places = {id(item): layout.getItemPosition(i)[:2] for i, item in enumerate(items)}
        items.sort(key=lambda item: places[id(item)])
    return items


def tab_stops(layout: QLayout | None) -> list[QWidget]:
    """The widgets of `layout` (and of the widgets in it) that Tab stops at, in layout order."""
    stops: list[QWidget] = []
    for item in _items(layout) if layout is not None else []:
        widget = item.widget()
        if widget is not None:
            if widget.focusPolicy() & Qt.FocusPolicy.TabFocus:
                stops.append(widget)
            stops.extend(tab_stops(widget.layout()))
        elif item.layout() is not None:
            stops.extend(tab_stops(item.layout()))
    return stops


def chain_after(first: QWidget, container: QWidget, then: QWidget | None = None) -> None:
    """Tab goes from `first` through `container`'s tab stops top to bottom, as laid out, then to `then`.
    A part rebuilt later (the overlay's rows) is chained again alone, between its neighbours: relinking
    the whole panel each time left Qt's focus chain broken (a crash on the next form rebuild)."""
    previous = first
    for widget in tab_stops(container.layout()):
        QWidget.setTabOrder(previous, widget)
        previous = widget
    if then is not None and previous is not first:
        QWidget.setTabOrder(previous, then)
