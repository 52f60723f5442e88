"""The Edit menu paints the loaded model's classes: its names, colours and order (Alt+1 … Alt+N; C, P,
N for the default classes), rebuilt when a model with other classes loads."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QKeySequence
from PySide6.QtWidgets import QWidget

from app.core import contract
from app.core.editing import LabelEditor
from app.core.palette import ClassInfo, classes_to_json
from app.ui import review_actions
from app.ui.edit_keys import paint_keys
from tests.helpers.tiny_models import channel_model
from tests.ui.conftest import TIMEOUT_MS, open_and_wait, photo
from tests.ui.test_edit_gui import drag

# Four classes in another order and colours than the default model's, two of them its own, each from one
# colour channel of the photo (every model names "corrosion" and "asset": docs/design.md section 4).
OTHER_CLASSES = (
    ClassInfo(0, "asset", (0, 0, 200)),
    ClassInfo(1, "corrosion", (200, 80, 0)),
    ClassInfo(2, "weld", (255, 255, 0)),
    ClassInfo(3, "sky", (0, 255, 0)),
)


@pytest.fixture(scope="module")
def other_classes_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("other-classes") / "four-classes.onnx"
    metadata = {contract.KEY_CLASSES: classes_to_json(OTHER_CLASSES)}
    return channel_model(path, channels=(2, 0, 1, 1), metadata=metadata)


@pytest.fixture(autouse=True)
def _discard_on_close(monkeypatch) -> None:
    monkeypatch.setattr(review_actions, "ask_discard_edits", lambda parent, names, action: True)
    monkeypatch.setattr(review_actions, "ask_unsaved_on_quit", lambda parent, names: "discard")


def paint_entries(widget) -> list[tuple[str, str, str]]:
    """(text, key, swatch colour) of the checkable paint actions among `widget`'s actions, in order."""
    rows = []
    for action in widget.actions():
        if action.objectName().startswith("action_class_"):
            swatch = action.icon().pixmap(12, 12).toImage().pixelColor(6, 6)
            rows.append((action.text(), action.shortcut().toString(), swatch.name()))
    return rows


def expected(classes) -> list[tuple[str, str, str]]:
    return [
        (f"Paint {c.name}", paint_keys(i, c.name)[0], QColor(*c.color).name()) for i, c in enumerate(classes)
    ]


def load(qtbot, win, path: Path) -> None:
    with qtbot.waitSignal(win.controller.model_loaded, timeout=TIMEOUT_MS):
        win.controller.load_model(path, "cpu")


def test_the_paint_actions_follow_the_loaded_models_classes(
    qtbot, window, model_path: Path, other_classes_model: Path, tmp_path: Path
) -> None:
    ui, menu_widget = window.editing, window.menus["&Edit"]
    default = window.controller.model.classes
    assert paint_entries(menu_widget) == paint_entries(ui.toolbar) == expected(default)

    load(qtbot, window, other_classes_model)
    assert paint_entries(menu_widget) == paint_entries(ui.toolbar) == expected(OTHER_CLASSES)
    # the old model's actions are gone from the window too (their keys would still paint otherwise)
    names = {a.objectName() for a in QWidget.actions(window) if a.objectName().startswith("action_class_")}
    assert names == {f"action_class_{c.name}" for c in OTHER_CLASSES}
    # they stand where the classes stood: after the tools, before the brush size
    menu = [a.objectName() for a in menu_widget.actions()]
    assert menu.index("action_tool_similar") < menu.index("action_class_asset")
    assert menu.index("action_class_sky") < menu.index("action_brush_bigger")
    assert ui.tool_settings.class_name == "corrosion"  # the model's own, though not its first

    path, _rgb = photo(tmp_path, 3, size=(96, 128))
    open_and_wait(qtbot, window, path)
    qtbot.keyClick(window, Qt.Key.Key_3, Qt.KeyboardModifier.AltModifier)
    assert ui.tool_settings.class_name == "weld" and ui.actions["class_weld"].isChecked()
    ui.set_tool("brush")
    ui.size_spin.setValue(6)
    before = window.controller.result.labels.copy()
    seen = drag(qtbot, window, [(10, 20), (60, 40)])
    want = before.copy()
    LabelEditor(want).stroke(seen, 6, class_id=2)  # weld is the model's class 2
    assert np.array_equal(window.controller.result.labels, want)
    assert not np.array_equal(want, before)

    load(qtbot, window, model_path)
    assert paint_entries(menu_widget) == paint_entries(ui.toolbar) == expected(default)
    assert ui.tool_settings.class_name == "corrosion"  # weld is gone
    # the default classes keep their letters beside the positional key
    assert ui.actions["class_asset"].shortcuts() == [QKeySequence("P"), QKeySequence("Alt+2")]
    qtbot.keyClick(window, Qt.Key.Key_N)
    assert ui.tool_settings.class_name == "background"
