"""The status bar's cursor readout: photo pixel x, y and the class with its probability there (or that an
edit changed the model's class there)."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

from app.core.analysis import PhotoResult
from app.ui.result_state import ResultState

IDLE_TEXT = ""


def readout_text(
    result: PhotoResult | None,
    size: tuple[int, int] | None,
    x: int,
    y: int,
    model_labels: np.ndarray | None = None,
) -> str:
    """ "x 120, y 45 · corrosion 87 %"; "corrosion (edited)" where the map shown differs there from the
    model's `model_labels`; only x, y while the photo has no result; "" off the photo."""
    if size is None or not (0 <= x < size[0] and 0 <= y < size[1]):
        return IDLE_TEXT
    text = f"x {x}, y {y}"
    if result is None or result.labels is None or result.labels.shape[:2] != (size[1], size[0]):
        return text
    class_id = int(result.labels[y, x])
    name = next((c.name for c in result.classes if c.id == class_id), f"class {class_id}")
    model = model_labels if model_labels is not None and model_labels.shape == result.labels.shape else None
    if model is not None and int(model[y, x]) != class_id:  # the probability there is of the model's class
        return f"{text} · {name} (edited)"
    probability = 100.0 * int(result.confidence[y, x]) / 255.0
    return f"{text} · {name} {probability:.0f} %"


class CursorReadoutLabel(QLabel):
    """Follows the viewer's cursor and the map under it; the photo and result are the state's (it listens
    to them)."""

    def __init__(self, state: ResultState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("cursor_readout")
        self.setToolTip(
            "Photo pixel under the cursor, its class and the model's probability of it; "
            '"(edited)" in place of the probability where an edit changed the model\'s class'
        )
        self.setMinimumWidth(self.fontMetrics().horizontalAdvance("x 00000, y 00000 · background 100 %"))
        self._result: PhotoResult | None = None
        self._size: tuple[int, int] | None = None
        self._at: tuple[int, int] | None = None  # the cursor's pixel, while it is over the viewer
        self._state = state
        state.photo_changed.connect(self._on_photo)
        state.result_changed.connect(self._on_result)
        state.figures_changed.connect(self._on_result)  # an edit (a fill under a still cursor) included

    def _on_photo(self, photo) -> None:
        size = None if photo is None else (int(photo.rgb.shape[1]), int(photo.rgb.shape[0]))
        self._size, self._result, self._at = size, None, None
        self.setText(IDLE_TEXT)

    def _on_result(self, result: PhotoResult | None) -> None:
        self._result = self._state.result if result is not None else None
        if self._at is not None:
            self.show_at(*self._at)

    def show_at(self, x: int, y: int) -> None:
        self._at = (x, y)
        self.setText(readout_text(self._result, self._size, x, y, self._state.model_labels))

    def leave(self) -> None:
        self._at = None
        self.setText(IDLE_TEXT)


class ElidedLabel(QLabel):
    """A status-bar label no wider than `max_width` nor, to fit a small window, narrower than 80 px: the
    text is elided (`mode`) to fit and `text()` gives the whole text."""

    def __init__(
        self,
        max_width: int,
        mode: Qt.TextElideMode = Qt.TextElideMode.ElideMiddle,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._full = ""
        self._mode = mode
        self.setMaximumWidth(max_width)
        self.setMinimumWidth(80)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)

    def setText(self, text: str) -> None:
        self._full = text
        self.setMinimumWidth(80 if text else 0)  # an empty one takes no room from the messages
        self._elide()

    def text(self) -> str:
        return self._full

    def sizeHint(self):
        hint = super().sizeHint()
        hint.setWidth(min(self.maximumWidth(), self.fontMetrics().horizontalAdvance(self._full) + 8))
        return hint

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        width = self.width() if self.isVisible() else self.maximumWidth()
        super().setText(self.fontMetrics().elidedText(self._full, self._mode, max(width, 80)))
