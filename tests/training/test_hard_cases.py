"""The hard-cases tool: a channel-argmax model paints rust-brown ground as corrosion, soil as background."""

from __future__ import annotations

import logging

from PIL import Image

from tests.helpers.tiny_models import channel_model
from training.evaluate import load_predictor
from training.hard_cases import main, run_scenes, score


def test_rust_ground_is_taken_for_corrosion_by_a_colour_model(tmp_path):
    predictor = load_predictor(channel_model(tmp_path / "m.onnx", input_size=(64, 64)))
    rust = [score(s, "rust") for s in run_scenes(predictor, (1, 2), "rust", 64)]
    soil = [score(s, "soil") for s in run_scenes(predictor, (1, 2), "soil", 64)]
    assert all(s.ground_as_corrosion > 0.9 for s in rust)  # the colour alone says "corrosion"
    assert all(s.ground_as_corrosion < 0.1 for s in soil)
    assert all(s.iou[2] > 0.8 for s in soil) and all(s.iou[2] < 0.1 for s in rust)


def test_cli_writes_the_figure_and_logs_both_grounds(tmp_path, caplog):
    model = channel_model(tmp_path / "m.onnx", input_size=(64, 64))
    out = tmp_path / "figs" / "hard.png"
    with caplog.at_level(logging.INFO, logger="training.hard_cases"):
        assert main(["--model", str(model), "--out", str(out), "--seeds", "1", "2", "--size", "64"]) == 0
    with Image.open(out) as im:
        assert im.size[0] > 200 and im.size[1] > 200
    text = caplog.text
    assert "rust ground, mean of 2 scenes" in text and "soil ground, mean of 2 scenes" in text


def test_cli_refuses_a_missing_model(tmp_path):
    assert main(["--model", str(tmp_path / "none.onnx")]) == 2
