"""Overlay layers beyond the classes: patch outlines and the model's uncertainty, toggled like the classes.

Their images are composed in a worker (`layer_images`, QImage only), so a 12 MP photo reaches the UI
thread ready to show; the viewer's scene gets one item per layer above the class overlay.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction, QImage, QKeySequence, QShortcut
from PySide6.QtWidgets import QCheckBox, QGraphicsScene, QGroupBox, QMenu, QVBoxLayout

from app.core.palette import ClassInfo
from app.core.patches import patch_outlines
from app.core.share_range import uncertainty_layer
from app.ui.display_levels import Level, LevelsItem, value_levels
from app.ui.overlay_state import OverlayState
from app.ui.qimage import colour_by_table

OUTLINES, UNCERTAINTY = "outlines", "uncertainty"
LAYERS = (OUTLINES, UNCERTAINTY)
TITLES = {OUTLINES: "Patch outlines", UNCERTAINTY: "Uncertainty (1 − top probability)"}
KEYS = {OUTLINES: "O", UNCERTAINTY: "U"}
OUTLINE_RGB = (255, 230, 0)
UNCERTAINTY_RGB = (255, 0, 200)
# With three classes the top probability is at least 1/3, so 1 - top reaches 2/3 at most: full colour there.
UNCERTAINTY_GAIN = 1.5
LAYER_Z = 2  # above the photo (0) and the class overlay (1)
# Outlines over the uncertainty band: class edges are where the model is least sure, so the band would
# cover the very lines drawn there.
STACKED = (UNCERTAINTY, OUTLINES)  # bottom to top


def _argb(rgb: tuple[int, int, int], alpha: int) -> int:
    a = max(0, min(255, alpha))
    r, g, b = (round(c * a / 255) for c in rgb)  # premultiplied, as the image is converted
    return (a << 24) | (r << 16) | (g << 8) | b


def _compose(values: np.ndarray, table: list[int]) -> QImage:
    """uint8 HxW through a colour table -> a premultiplied ARGB image that owns its pixels."""
    return colour_by_table(np.ascontiguousarray(values), table)  # numpy: lets go of Python's lock


def _layer_values(
    labels: np.ndarray, confidence: np.ndarray | None, classes: Sequence[ClassInfo]
) -> dict[str, tuple[np.ndarray, list[int]]]:
    """Each layer's uint8 values and colour table; no uncertainty without a confidence."""
    # a ramp, not 255 alone: a reduced copy averages the outline mask into partial cover (the full-size
    # mask holds 0 and 255 only, coloured as before)
    outline_table = [_argb(OUTLINE_RGB, v) for v in range(256)]
    thickness = max(1, round(max(labels.shape) / 1500))  # still visible when a 12 MP photo is fitted
    values = {OUTLINES: (patch_outlines(labels, classes, thickness), outline_table)}
    if confidence is not None:
        table = [_argb(UNCERTAINTY_RGB, round(u * UNCERTAINTY_GAIN)) for u in range(256)]
        values[UNCERTAINTY] = (uncertainty_layer(confidence), table)
    return values


def layer_images(
    labels: np.ndarray, confidence: np.ndarray | None, classes: Sequence[ClassInfo]
) -> dict[str, QImage]:
    """The layers' images of one result (safe on a worker thread); no uncertainty without a confidence."""
    return {name: _compose(v, t) for name, (v, t) in _layer_values(labels, confidence, classes).items()}


def layer_images_and_levels(
    labels: np.ndarray, confidence: np.ndarray | None, classes: Sequence[ClassInfo]
) -> tuple[dict[str, QImage], dict[str, tuple[Level, ...]]]:
    """`layer_images` and each image's reduced copies for the viewer (values area-averaged, then
    coloured: a quarter of the work of averaging the coloured image), on a worker thread."""
    values = _layer_values(labels, confidence, classes)
    images = {name: _compose(v, t) for name, (v, t) in values.items()}
    return images, {name: value_levels(v, t) for name, (v, t) in values.items()}


class LayerState(QObject):
    """Which layers show; the panel, the View menu and the viewer follow it."""

    changed = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._visible = dict.fromkeys(LAYERS, False)

    def is_visible(self, name: str) -> bool:
        return self._visible[name]

    def set_visible(self, name: str, on: bool) -> None:
        if name not in self._visible:
            raise KeyError(f"no layer {name!r}")
        if self._visible[name] != bool(on):
            self._visible[name] = bool(on)
            self.changed.emit()

    def toggle(self, name: str) -> None:
        self.set_visible(name, not self.is_visible(name))


class LayerItems:
    """One item per layer in the viewer's scene, painted like the photo from reduced copies that fit the
    zoom (`display_levels.LevelsItem`); hidden while the plain photo is compared."""

    def __init__(self, scene: QGraphicsScene, state: LayerState, overlay: OverlayState) -> None:
        self._state, self._overlay = state, overlay
        self.items: dict[str, LevelsItem] = {}
        for name in LAYERS:
            item = LevelsItem()
            item.setZValue(LAYER_Z + STACKED.index(name))
            scene.addItem(item)
            self.items[name] = item
        state.changed.connect(self._sync)
        overlay.comparing_changed.connect(lambda _on: self._sync())
        self._sync()

    def set_images(
        self, images: Mapping[str, QImage] | None, levels: Mapping[str, Sequence[Level]] | None = None
    ) -> None:
        """Show these layer images (same size as the photo), or none; `levels`, their reduced copies
        (`display_levels.argb_levels`, made in a worker), or none (then the full images are scaled)."""
        for name, item in self.items.items():
            image = None if images is None else images.get(name)
            item.set_content(image, () if levels is None or image is None else levels.get(name, ()))
        self._sync()

    def has_image(self, name: str) -> bool:
        return not self.items[name].is_null()

    def _sync(self) -> None:
        for name, item in self.items.items():
            item.setVisible(self._state.is_visible(name) and not self._overlay.comparing)


class LayersWidget(QGroupBox):
    """A check box per layer (keys O and U), in the overlay panel's column."""

    def __init__(self, state: LayerState, parent=None) -> None:
        super().__init__("Layers", parent)
        self._state = state
        self.checks: dict[str, QCheckBox] = {}
        layout = QVBoxLayout(self)
        for name in LAYERS:
            check = QCheckBox(f"{TITLES[name]}  ({KEYS[name]})")
            check.setToolTip(f"Show or hide the {TITLES[name].lower()} layer ({KEYS[name]})")
            check.toggled.connect(lambda on, n=name: self._state.set_visible(n, on))
            layout.addWidget(check)
            self.checks[name] = check
            shortcut = QShortcut(QKeySequence(KEYS[name]), self)
            shortcut.activated.connect(lambda n=name: self._state.toggle(n))
        state.changed.connect(self._sync)
        self._sync()

    def _sync(self) -> None:
        for name, check in self.checks.items():
            check.blockSignals(True)
            check.setChecked(self._state.is_visible(name))
            check.blockSignals(False)


class LayersMenu(QMenu):
    """View ▸ Layers: the same toggles (the key after the tab is shown; the panel's shortcut acts)."""

    def __init__(self, state: LayerState, parent=None) -> None:
        super().__init__("&Layers", parent)
        self.setObjectName("menu_layers")
        self._state = state
        self.toggles: dict[str, QAction] = {}
        for name in LAYERS:
            action = self.addAction(f"Show {TITLES[name].lower()}\t{KEYS[name]}")
            action.setObjectName(f"action_layer_{name}")
            action.setCheckable(True)
            action.toggled.connect(lambda on, n=name: self._state.set_visible(n, on))
            self.toggles[name] = action
        state.changed.connect(self._sync)
        self._sync()

    def _sync(self) -> None:
        for name, action in self.toggles.items():
            action.blockSignals(True)
            action.setChecked(self._state.is_visible(name))
            action.blockSignals(False)
