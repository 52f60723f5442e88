"""How a model's figures were measured is the model file's own text: read escaped and cut, and shown in the
figures panel's tooltip as written, never as rich text (a heading, a local image) nor as a terminal's ESC
or a bidi override (docs/design.md section 4)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtGui import Qt, QTextDocument

from app.core import contract
from app.core.analysis import analyze_rgb
from app.core.model import SegmentationModel
from app.core.model_accuracy import check_accuracy
from app.core.synthetic import synthetic_pipe
from app.core.text import TEXT_LIMIT
from app.ui.figures_widget import FiguresWidget
from app.ui.result_state import ResultState
from tests.helpers.tiny_models import channel_model, figures_metadata

HOSTILE = "<h1 style='color:red'>CERTIFIED</h1><img src='/some/local.jpg'>\x1b[31m\u202eabc"


def _metadata(measured_on: object) -> dict[str, str]:
    meta = figures_metadata()
    accuracy = json.loads(meta[contract.KEY_ACCURACY])
    accuracy["measured_on"] = measured_on
    return {**meta, contract.KEY_ACCURACY: json.dumps(accuracy)}


def _shown(tip: str) -> str:
    """What a tooltip holding `tip` displays: Qt renders one that looks like markup as rich text."""
    if not Qt.mightBeRichText(tip):
        return tip
    doc = QTextDocument()
    doc.setHtml(tip)
    return doc.toPlainText()


@pytest.mark.parametrize("measured_on", [HOSTILE, HOSTILE * 20_000], ids=["markup", "300k characters"])
def test_how_the_figures_were_measured_is_read_escaped_and_cut(measured_on: str) -> None:
    accuracy, note = check_accuracy(_metadata(measured_on))
    assert accuracy is not None and note is None
    record = json.dumps(accuracy.to_json(), ensure_ascii=False)  # what run records and results.json hold
    for bad in ("\x1b", "\u202e"):
        assert bad not in accuracy.measured_on and bad not in record
    assert accuracy.measured_on.startswith("<h1 style='color:red'>CERTIFIED</h1>")
    assert len(accuracy.how_measured()) < TEXT_LIMIT + 80


def test_measured_on_that_is_not_text_sets_the_figures_aside() -> None:
    accuracy, note = check_accuracy(_metadata(["5-fold", 194]))
    assert accuracy is None and note is not None and "measured_on" in note


@pytest.mark.parametrize("measured_on", [HOSTILE, HOSTILE * 20_000], ids=["markup", "300k characters"])
def test_the_figures_panels_tooltip_shows_the_models_text_as_written(
    qtbot, tmp_path: Path, measured_on: str
) -> None:
    model = SegmentationModel.load(channel_model(tmp_path / "m.onnx", metadata=_metadata(measured_on)), "cpu")
    panel = FiguresWidget(ResultState(), model=lambda: model)
    qtbot.addWidget(panel)
    rgb, _labels = synthetic_pipe(seed=3, size=(96, 128))
    panel.set_result(analyze_rgb(model, rgb, "pipe.png"))
    tip = panel.accuracy_label.toolTip()
    shown = _shown(tip)
    written = "<h1 style='color:red'>CERTIFIED</h1><img src='/some/local.jpg'>\\x1b[31m\\u202eabc"
    assert f"Measured by {written}" in shown  # as written, the controls as escapes: no heading, no image
    assert "\x1b" not in tip and "\u202e" not in tip
    assert len(tip) < 2_000
