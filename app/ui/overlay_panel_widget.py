"""One row per class (visibility, colour swatch, opacity, shortcut) and the compare-key hint."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QKeySequence, QPixmap, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QGridLayout,
    QGroupBox,
    QLabel,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from app.ui.overlay_state import OverlayState

COMPARE_KEY_TEXT = "Space"


def class_shortcut(index: int) -> str:
    """Keys 1..9 toggle the first nine classes."""
    return str(index + 1) if index < 9 else ""


def _percent(value: float) -> str:
    return f"{round(value * 100)} %"


def color_swatch(color: tuple[int, int, int], size: int = 16) -> QPixmap:
    pixmap = QPixmap(size, size)
    pixmap.fill(QColor(*color))
    return pixmap


class OverlayPanelWidget(QGroupBox):
    """Writes to `OverlayState` through its setters and follows its change events."""

    def __init__(self, state: OverlayState, parent: QWidget | None = None) -> None:
        super().__init__("Overlay", parent)
        self._state = state
        self._checks: dict[int, QCheckBox] = {}
        self._sliders: dict[int, QSlider] = {}
        self._values: dict[int, QLabel] = {}
        self._shortcuts: list[QShortcut] = []
        layout = QVBoxLayout(self)
        self._grid = QGridLayout()
        self._grid.setColumnStretch(2, 1)
        layout.addLayout(self._grid)
        self._hint = QLabel(f"Hold <b>{COMPARE_KEY_TEXT}</b> to compare with the plain photo.")
        self._hint.setWordWrap(True)
        layout.addWidget(self._hint)
        state.classes_changed.connect(self._rebuild)
        state.changed.connect(self._sync)
        state.comparing_changed.connect(self._on_comparing)
        self._rebuild()

    def check_box(self, class_id: int) -> QCheckBox:
        return self._checks[class_id]

    def slider(self, class_id: int) -> QSlider:
        return self._sliders[class_id]

    def value_label(self, class_id: int) -> QLabel:
        return self._values[class_id]

    def _rebuild(self) -> None:
        while self._grid.count():
            item = self._grid.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        for shortcut in self._shortcuts:
            shortcut.setEnabled(False)
            shortcut.deleteLater()
        self._checks.clear()
        self._sliders.clear()
        self._values.clear()
        self._shortcuts.clear()
        for row, info in enumerate(self._state.classes):
            key = class_shortcut(row)
            check = QCheckBox(info.name)
            check.setToolTip(f"Show or hide {info.name}" + (f" ({key})" if key else ""))
            check.setChecked(self._state.is_visible(info.id))
            check.toggled.connect(lambda on, cid=info.id: self._state.set_visible(cid, on))
            swatch = QLabel()
            swatch.setPixmap(color_swatch(info.color))
            swatch.setToolTip("RGB {}, {}, {}".format(*info.color))
            slider = QSlider(Qt.Orientation.Horizontal)
            slider.setRange(0, 100)
            slider.setValue(round(self._state.opacity(info.id) * 100))
            slider.setToolTip(f"Opacity of {info.name}")
            slider.setAccessibleName(f"Opacity of {info.name}")  # not the group's "Overlay" for each
            slider.valueChanged.connect(lambda v, cid=info.id: self._state.set_opacity(cid, v / 100))
            value = QLabel(_percent(self._state.opacity(info.id)))
            value.setMinimumWidth(value.fontMetrics().horizontalAdvance("100 %"))
            value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            value.setToolTip(f"Opacity of {info.name}")
            key_label = QLabel(f"<kbd>{key}</kbd>" if key else "")
            key_label.setToolTip("Keyboard shortcut that toggles this class")
            self._grid.addWidget(swatch, row, 0)
            self._grid.addWidget(check, row, 1)
            self._grid.addWidget(slider, row, 2)
            self._grid.addWidget(value, row, 3)
            self._grid.addWidget(key_label, row, 4)
            self._checks[info.id] = check
            self._sliders[info.id] = slider
            self._values[info.id] = value
            if key:
                shortcut = QShortcut(QKeySequence(key), self)
                shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
                shortcut.activated.connect(lambda cid=info.id: self._state.toggle(cid))
                self._shortcuts.append(shortcut)
        if not self._state.classes:
            self._grid.addWidget(QLabel("No model loaded."), 0, 0, 1, 5)

    def _sync(self) -> None:
        for cid, check in self._checks.items():
            check.blockSignals(True)
            check.setChecked(self._state.is_visible(cid))
            check.blockSignals(False)
        for cid, slider in self._sliders.items():
            slider.blockSignals(True)
            slider.setValue(round(self._state.opacity(cid) * 100))
            slider.blockSignals(False)
            self._values[cid].setText(_percent(self._state.opacity(cid)))

    def _on_comparing(self, comparing: bool) -> None:
        self._hint.setText(
            "Showing the plain photo."
            if comparing
            else f"Hold <b>{COMPARE_KEY_TEXT}</b> to compare with the plain photo."
        )


class LegendWidget(QLabel):
    """Colour and name of each class, as drawn (a compact legend under the viewer); it wraps between
    classes rather than make the window wider than a small screen."""

    def __init__(self, state: OverlayState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._state = state
        self.setWordWrap(True)
        self.setContentsMargins(6, 2, 6, 2)
        self.setToolTip("The classes drawn over the photo; a struck-out one is hidden")
        state.classes_changed.connect(self._rebuild)
        state.changed.connect(self._rebuild)
        self._rebuild()

    def _rebuild(self) -> None:
        entries = []
        for info in self._state.classes:
            name = html.escape(info.name).replace(" ", "&nbsp;")  # a class's swatch and name stay together
            name = name if self._state.is_visible(info.id) else f"<s>{name}</s>"
            entries.append(
                '<span style="color: #{:02x}{:02x}{:02x}">■</span>&nbsp;'.format(*info.color) + name
            )
        self.setText(" &nbsp;&nbsp; ".join(entries))
