"""A photo whose analysis fails stays shown and the Figures box says so, briefly and why, instead of
"Analysing…" for good; a photo that could not even be read leaves the last one's figures as they were."""

from __future__ import annotations

from tests.reliability import hostile_onnx as hostile
from tests.ui.conftest import TIMEOUT_MS, open_and_wait, photo


def test_a_model_giving_nan_fails_the_photo_and_the_figures_say_why(qtbot, window, tmp_path):
    nan_model = hostile.output_model(tmp_path / "gives-nan.onnx", "nan")
    with qtbot.waitSignal(window.controller.model_loaded, timeout=TIMEOUT_MS):
        window.controller.load_model(nan_model, "cpu")
    path, _ = photo(tmp_path, 21)
    with qtbot.waitSignal(window.controller.photo_failed, timeout=TIMEOUT_MS):
        window.open_photo(path)
    qtbot.waitUntil(lambda: window.controller._photo_worker is None, timeout=TIMEOUT_MS)
    assert window.controller.current.path == path and window.controller.result is None
    assert window.banner.level == "error" and "NaN" in window.banner.text
    text = window.figures.review_label.text()
    assert text.startswith("✖ Analysis failed:") and "NaN" in text, text
    assert "Analysing" not in text and len(text) < 220
    assert "color" in window.figures.review_label.styleSheet()  # in red, as the banner
    assert window.figures.values() == {}


def test_a_photo_that_cannot_be_read_leaves_the_last_ones_figures(qtbot, window, tmp_path):
    good, _ = photo(tmp_path, 22)
    open_and_wait(qtbot, window, good)
    shown = window.figures.values()
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not a png")
    with qtbot.waitSignal(window.controller.photo_failed, timeout=TIMEOUT_MS):
        window.open_photo(broken)
    assert window.controller.current.path == good
    assert window.figures.values() == shown and "failed" not in window.figures.review_label.text()
