"""View ▸ Overlay: each class's visibility and opacity, the values shown, in step with the panel."""

from __future__ import annotations

from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QMenu, QWidget

from app.ui.overlay_panel_widget import class_shortcut
from app.ui.overlay_state import OverlayState

OPACITY_STEPS = (0.0, 0.25, 0.5, 0.75, 1.0)


def percent(value: float) -> str:
    return f"{round(value * 100)} %"


class OverlayMenu(QMenu):
    """Writes through `OverlayState`'s setters and rebuilds on its change events (like the panel)."""

    def __init__(self, state: OverlayState, parent: QWidget | None = None) -> None:
        super().__init__("&Overlay", parent)
        self.setObjectName("menu_overlay")
        self._state = state
        self._show: dict[int, QAction] = {}
        self._opacity_menus: dict[int, QMenu] = {}
        self._steps: dict[int, list[QAction]] = {}
        state.classes_changed.connect(self._rebuild)
        state.changed.connect(self._sync)  # in place: rebuilding would delete the action being triggered
        self._rebuild()

    def _rebuild(self) -> None:
        self.clear()
        self._show.clear()
        self._opacity_menus.clear()
        self._steps.clear()
        for row, info in enumerate(self._state.classes):
            key = class_shortcut(row)
            # the key after a tab is only shown: the panel's shortcut does the toggling
            show = self.addAction(f"Show {info.name}" + (f"\t{key}" if key else ""))
            show.setObjectName(f"action_show_{info.name}")
            show.setCheckable(True)
            show.setChecked(self._state.is_visible(info.id))
            show.toggled.connect(lambda on, cid=info.id: self._state.set_visible(cid, on))
            self._show[info.id] = show
        if self._state.classes:
            self.addSeparator()
        for info in self._state.classes:
            sub = self.addMenu("")
            sub.setObjectName(f"menu_opacity_{info.name}")
            group = QActionGroup(sub)
            group.setExclusionPolicy(QActionGroup.ExclusionPolicy.ExclusiveOptional)  # a slider value between
            self._opacity_menus[info.id], self._steps[info.id] = sub, []
            for step in OPACITY_STEPS:
                action = sub.addAction(percent(step))
                action.setCheckable(True)
                action.triggered.connect(
                    lambda _c=False, cid=info.id, v=step: self._state.set_opacity(cid, v)
                )
                group.addAction(action)
                self._steps[info.id].append(action)
        self.setEnabled(bool(self._state.classes))
        self._sync()

    def _sync(self) -> None:
        for info in self._state.classes:
            if info.id not in self._show:
                continue
            show = self._show[info.id]
            show.blockSignals(True)
            show.setChecked(self._state.is_visible(info.id))
            show.blockSignals(False)
            value = self._state.opacity(info.id)
            self._opacity_menus[info.id].setTitle(f"{info.name.capitalize()} opacity: {percent(value)}")
            for step, action in zip(OPACITY_STEPS, self._steps[info.id], strict=True):
                action.setChecked(abs(step - value) < 0.005)
