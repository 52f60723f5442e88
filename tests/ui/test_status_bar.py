"""Status messages on a small window: cut with "…" (not mid-letter), the whole text in the tooltip, and
never painted up against the cursor readout (pytest-qt, real window, tiny ONNX model)."""

from __future__ import annotations

from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication

from tests.ui.conftest import open_and_wait, photo

GAP = 16  # app/ui/status_bar.py
LONG = "Saved the reviewed mask: /tmp/" + "gutachten-korrosion-" * 12 + "mask.png"


def _inked_columns(window, left: int, right: int) -> list[int]:
    """The status bar's columns left..right (bar pixels) where something darker than the panel is drawn."""
    image = window.statusBar().grab().toImage()
    ratio = image.devicePixelRatio()
    inked = []
    for x in range(left, right):
        for y in range(image.height()):
            if QColor(image.pixel(int(x * ratio), y)).lightness() < 120:
                inked.append(x)
                break
    return inked


def test_a_long_message_is_elided_clear_of_the_readout(qtbot, window, tmp_path) -> None:
    window.resize(1024, 600)
    open_and_wait(qtbot, window, photo(tmp_path, 5)[0])
    window.readout.show_at(3, 4)  # the cursor over the photo: "x 3, y 4 · …"
    window.show_status(LONG)
    QApplication.processEvents()
    bar, readout = window.statusBar(), window.readout
    assert readout.text().startswith("x 3, y 4")
    # nothing of the message is painted in the gap before the readout (it was, up to 2 px from it)
    assert _inked_columns(window, readout.x() - GAP + 2, readout.x() - 1) == []
    assert bar.currentMessage() == LONG and bar.toolTip() == LONG
    shown = bar.shown_message()
    assert shown.endswith("…") and LONG.startswith(shown[:-1]) and len(shown) < len(LONG)
    assert bar.message_rect().right() <= readout.x() - GAP


def test_the_tooltip_goes_with_the_message(qtbot, window) -> None:
    window.show_status("Marked reviewed by Jürgen Ölmann", 50)
    assert window.statusBar().toolTip() == "Marked reviewed by Jürgen Ölmann"
    qtbot.waitUntil(lambda: window.statusBar().currentMessage() == "")
    assert window.statusBar().toolTip() == ""
