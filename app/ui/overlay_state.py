"""What the overlay shows: classes, visibility, opacity, compare mode. Setters validate, store, notify."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from PySide6.QtCore import QObject, Signal

from app.core.overlay import DEFAULT_OPACITY
from app.core.overlay_style import OverlayStyle
from app.core.palette import ClassInfo

__all__ = ["DEFAULT_OPACITY", "HIDDEN_BY_DEFAULT", "OverlayState"]
HIDDEN_BY_DEFAULT = frozenset({"background"})


class OverlayState(QObject):
    """The model behind the overlay panel and the viewer (napari habit: widgets listen to it)."""

    classes_changed = Signal()
    changed = Signal()  # visibility or opacity of some class
    comparing_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._classes: tuple[ClassInfo, ...] = ()
        self._visible: dict[int, bool] = {}
        self._opacity: dict[int, float] = {}
        self._comparing = False

    @property
    def classes(self) -> tuple[ClassInfo, ...]:
        return self._classes

    def set_classes(self, classes: Sequence[ClassInfo], opacities: Mapping[str, float] | None = None) -> None:
        """New classes (a model was loaded); keeps a class's visibility when its name stays."""
        old = {c.name: self._visible.get(c.id, True) for c in self._classes}
        opacities = opacities or {}
        self._classes = tuple(classes)
        self._visible = {c.id: old.get(c.name, c.name not in HIDDEN_BY_DEFAULT) for c in self._classes}
        self._opacity = {c.id: _clamp(opacities.get(c.name, DEFAULT_OPACITY)) for c in self._classes}
        self.classes_changed.emit()
        self.changed.emit()

    def _check(self, class_id: int) -> None:
        if class_id not in self._visible:
            raise KeyError(f"no class with id {class_id}")

    def is_visible(self, class_id: int) -> bool:
        self._check(class_id)
        return self._visible[class_id]

    def set_visible(self, class_id: int, visible: bool) -> None:
        self._check(class_id)
        if self._visible[class_id] != bool(visible):
            self._visible[class_id] = bool(visible)
            self.changed.emit()

    def toggle(self, class_id: int) -> None:
        self.set_visible(class_id, not self.is_visible(class_id))

    def opacity(self, class_id: int) -> float:
        self._check(class_id)
        return self._opacity[class_id]

    def set_opacity(self, class_id: int, value: float) -> None:
        self._check(class_id)
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"opacity must be within 0..1, got {value}")
        if self._opacity[class_id] != value:
            self._opacity[class_id] = float(value)
            self.changed.emit()

    @property
    def visible_ids(self) -> set[int]:
        return {i for i, v in self._visible.items() if v}

    @property
    def opacities(self) -> dict[int, float]:
        return dict(self._opacity)

    @property
    def style(self) -> OverlayStyle:
        """The overlay as shown now, for the files and reports that show it the same way."""
        return OverlayStyle.of(self.visible_ids, self._opacity)

    @property
    def comparing(self) -> bool:
        """True while the user holds the compare key: the plain photo shows."""
        return self._comparing

    def set_comparing(self, value: bool) -> None:
        if self._comparing != bool(value):
            self._comparing = bool(value)
            self.comparing_changed.emit(self._comparing)

    def color_table(self, size: int = 256) -> list[int]:
        """ARGB colour table for an indexed label image: class colour at its opacity, else transparent."""
        table = [0] * size
        for c in self._classes:
            if self._visible.get(c.id) and 0 <= c.id < size:
                alpha = round(self._opacity[c.id] * 255)
                r, g, b = c.color
                table[c.id] = (alpha << 24) | (r << 16) | (g << 8) | b
        return table


def _clamp(value: float) -> float:
    return min(1.0, max(0.0, float(value)))
