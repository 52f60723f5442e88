"""Model metadata JSON nested deeper than Python's parser can go ("[" * 200,000): every key is read the one
way (`meta_json.strict_json`), so the required class list refuses the model naming its key (exit 2, no
traceback), and the optional ones (metrics, adaptation record, ensemble) are set aside saying why while
the model loads and runs."""

from __future__ import annotations

import html
import logging
from pathlib import Path

import pytest

from app import cli
from app.core import contract
from app.core.adapt_record import KEY_ADAPTATION, earlier_steps
from app.core.model import SegmentationModel
from app.report.adapted import adapted_text
from app.ui.model_info_dialog import model_info_html
from tests.helpers.tiny_models import channel_model
from tests.reliability.conftest import small_photos

DEEP = "[" * 200_000 + "]" * 200_000
NESTED = "nested too deeply"


def _model(tmp_path: Path, key: str) -> Path:
    return channel_model(tmp_path / "deep.onnx", metadata={key: DEEP})


def test_deeply_nested_classes_refuse_the_model_naming_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _model(tmp_path, contract.KEY_CLASSES)
    photos = small_photos(tmp_path / "in", 1)
    rc = cli.main(["analyze", str(photos[0]), "--out", str(tmp_path / "out"), "--model", str(path)])
    err = capsys.readouterr().err
    assert rc == 2
    assert "'corroscope.classes' is malformed" in err and NESTED in err and "Traceback" not in err
    assert cli.main(["selftest", "--model", str(path), "--device", "cpu"]) != 0
    err = capsys.readouterr().err
    assert "'corroscope.classes' is malformed" in err and "Traceback" not in err


def test_deeply_nested_metrics_are_set_aside_and_the_model_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    path = _model(tmp_path, contract.KEY_METRICS)
    with caplog.at_level(logging.WARNING, logger="app.core.model"):
        model = SegmentationModel.load(path, "cpu")
    assert model.metrics == {} and model.metrics_note is not None
    assert contract.KEY_METRICS in model.metrics_note and NESTED in model.metrics_note
    assert any(model.metrics_note in r.getMessage() for r in caplog.records)  # said at load
    assert f"Not shown: {html.escape(model.metrics_note)}." in model_info_html(model)
    assert cli.main(["selftest", "--model", str(path), "--device", "cpu"]) == 0
    assert "Traceback" not in capsys.readouterr().err


def test_a_deeply_nested_adaptation_record_is_unreadable_not_a_crash(tmp_path: Path) -> None:
    model = SegmentationModel.load(_model(tmp_path, KEY_ADAPTATION), "cpu")
    assert earlier_steps(model.metadata) == ([], False)  # what `adapt` and the chain read
    assert adapted_text(model.metadata) == "site-adapted model (its record of how is not readable)"  # PDFs
    html = model_info_html(model)
    assert f"its record of how is not readable (it is {NESTED})" in html


def test_a_deeply_nested_ensemble_list_is_unreadable_not_a_crash(tmp_path: Path) -> None:
    model = SegmentationModel.load(_model(tmp_path, contract.KEY_ENSEMBLE), "cpu")
    assert f"listed, but not readable (it is {NESTED})" in model_info_html(model)
