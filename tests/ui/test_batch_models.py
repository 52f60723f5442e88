"""A batch table whose rows two models made (a model loaded between them): its CSV's run record and its
PDF name each model with the photos it made and its typical error, never one model for every row."""

from __future__ import annotations

import dataclasses
import json

from PySide6.QtCore import Qt

from app.core.grading import GradeScale
from app.report import BatchReportOptions, render_batch_pdf
from app.ui.batch_exports import start_batch_csv_export, start_batch_pdf_export
from tests.ui.conftest import TIMEOUT_MS
from tests.ui.test_batch import make_folder, run_batch
from tests.ui.test_report_content import pages_text


def _two_model_batch(qtbot, window, other_model_path, tmp_path):
    """Three rows by the first model; the second, loaded, re-analyses the photo on screen (row 2)."""
    run_batch(qtbot, window, make_folder(tmp_path, 3))
    first = window.controller.model
    rect = window.batch.table.visualRect(window.batch.proxy.index(1, 0))
    with qtbot.waitSignal(window.controller.photo_analyzed, timeout=TIMEOUT_MS):
        qtbot.mouseClick(window.batch.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    with qtbot.waitSignal(window.controller.photo_analyzed, timeout=TIMEOUT_MS):
        window.controller.load_model(other_model_path, "cpu")
    second = window.controller.model
    shown = window.controller.result
    # the row follows the photo on screen once it is edited (EditMenu._update_batch_row): B's figures
    assert window.batch_model.update_figures(shown.path, shown.figures())
    shas = [r.result.model_sha256 for r in window.batch_model.rows]
    assert shas == [first.sha256, second.sha256, first.sha256]
    return first, second


def test_csv_and_pdf_of_a_two_model_batch_name_both_models(qtbot, window, other_model_path, tmp_path):
    first, second = _two_model_batch(qtbot, window, other_model_path, tmp_path)
    with qtbot.waitSignal(window.controller.export_finished, timeout=TIMEOUT_MS):
        start_batch_csv_export(window, tmp_path / "table.csv")
    run = json.loads((tmp_path / "table.json").read_text(encoding="utf-8"))
    assert run["model"] is None, "no one model made every row"
    assert [(m["sha256"], m["file"], m["photos"]) for m in run["models"]] == [
        (first.sha256, first.path.name, 2),
        (second.sha256, second.path.name, 1),
    ]
    assert run["models"][0]["accuracy"] == first.accuracy_line
    with qtbot.waitSignal(window.controller.export_finished, timeout=TIMEOUT_MS):
        start_batch_pdf_export(window, tmp_path / "batch.pdf")
    text = _flat((tmp_path / "batch.pdf").read_bytes())
    assert "Model1of2" in text and "Model2of2" in text
    assert f"{first.path.name}(SHA-256{first.sha256}):made2of3photos" in text
    assert f"{second.path.name}(SHA-256{second.sha256}):made1of3photos" in text
    assert "Figuresfrom2models" in text
    assert f"{first.path.name}:{first.accuracy_line}".replace(" ", "") in text, "each model's error"
    assert f"model:{second.path.name}" in text, "each card names its model"


def test_a_batch_one_other_model_made_names_that_model(tiny_model):
    result = dataclasses.replace(
        _result(tiny_model), model_sha256="ab" * 32, model_file="old.onnx", model_accuracy="Old error line."
    )
    text = _flat(render_batch_pdf([result], tiny_model, GradeScale.ASTM_D610))
    assert "old.onnx(SHA-256" + "ab" * 32 + "):made1of1photo" in text
    assert "old.onnx:Olderrorline." in text
    assert tiny_model.sha256 not in text, "the loaded model made none of these figures"


def test_a_one_model_batch_report_is_as_before(tiny_model):
    text = _flat(render_batch_pdf([_result(tiny_model)], tiny_model, "astm", BatchReportOptions()))
    assert f"SHA-256{tiny_model.sha256})" in text and "Model1of" not in text and "made1of" not in text


def _flat(data: bytes) -> str:
    """The PDF's text without spaces (a SHA-256 wraps at the cell's edge) or the ff ligature."""
    return "".join(pages_text(data)).replace("\ufb00", "ff").replace(" ", "")


def _result(model):
    from app.core.analysis import analyze_rgb
    from app.core.synthetic import synthetic_pipe

    rgb, _ = synthetic_pipe(1, (90, 120), rust=0.2)
    return dataclasses.replace(analyze_rgb(model, rgb, "site/pipe.png"), labels=None, confidence=None)


def test_loading_another_model_says_the_table_keeps_the_first_ones_figures(
    qtbot, window, other_model_path, tmp_path
):
    """The photo on screen was analysed again by the new model while its row, the CSV and the PDF kept
    the first model's figures, with nothing on screen to say the two differ."""
    run_batch(qtbot, window, make_folder(tmp_path, 3))
    first = window.controller.model.path.name
    with qtbot.waitSignal(window.controller.model_loaded, timeout=TIMEOUT_MS):
        window.controller.load_model(other_model_path, "cpu")
    text = window.banner.text
    assert f"The batch table keeps the figures of {first} for 3 photos" in text, text
    assert "open the folder again to analyse them with this model" in text
