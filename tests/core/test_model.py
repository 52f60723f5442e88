"""SegmentationModel: loading, the contract checks, providers and prediction, on tiny real ONNX models."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
from onnx import TensorProto

from app.core import contract
from app.core import model as model_module
from app.core.errors import ModelContractError
from app.core.model import SegmentationModel, default_model_path
from app.core.palette import DEFAULT_CLASSES
from tests.helpers.tiny_models import channel_model, expected_probabilities


def test_load_reads_contract_and_identity(tiny_model_path: Path, tiny_model: SegmentationModel) -> None:
    assert tiny_model.classes == DEFAULT_CLASSES
    assert tiny_model.input_size == (32, 32)
    assert tiny_model.sha256 == hashlib.sha256(tiny_model_path.read_bytes()).hexdigest()
    assert tiny_model.metrics == {"miou": 1.0}
    assert tiny_model.metadata[contract.KEY_ARCHITECTURE] == "channel-argmax test model"
    assert tiny_model.providers == ("CPUExecutionProvider",)
    assert tiny_model.device == "CPU"
    assert tiny_model.cuda_note == "CUDA not used: CPU was chosen"


def test_predict_gives_the_known_probabilities(tiny_model: SegmentationModel) -> None:
    rng = np.random.default_rng(0)
    batch = rng.integers(0, 256, size=(3, 32, 32, 3), dtype=np.uint8)
    probs = tiny_model.predict(batch)
    assert probs.dtype == np.float32 and probs.shape == (3, 32, 32, 3)
    np.testing.assert_allclose(probs, expected_probabilities(batch), atol=1e-5)


def test_predict_rejects_a_wrong_batch(tiny_model: SegmentationModel) -> None:
    with pytest.raises(ValueError, match="uint8"):
        tiny_model.predict(np.zeros((1, 32, 32, 3), dtype=np.float32))


def test_auto_device_reads_back_what_runs_and_keeps_the_console_clean(
    tiny_model_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    m = SegmentationModel.load(tiny_model_path, device="auto")
    out, err = capfd.readouterr()
    assert out == "" and err == ""
    assert m.providers[-1] == "CPUExecutionProvider"
    if m.device == "CPU":
        assert m.cuda_note and m.cuda_note.startswith("CUDA")
        assert "\n" not in m.cuda_note
    else:
        assert m.cuda_note is None


def test_unknown_device_is_refused(tiny_model_path: Path) -> None:
    with pytest.raises(ValueError, match="device"):
        SegmentationModel.load(tiny_model_path, device="tpu")


def test_dynamic_input_size_runs_at_any_size(tmp_path: Path) -> None:
    m = SegmentationModel.load(channel_model(tmp_path / "dyn.onnx", fixed_hw=False), device="cpu")
    batch = np.full((2, 17, 45, 3), (10, 200, 30), dtype=np.uint8)
    probs = m.predict(batch)
    assert probs.shape == (2, 17, 45, 3)
    assert (probs.argmax(-1) == 2).all()  # green -> background


def test_fixed_batch_of_one_is_fed_one_image_at_a_time(tmp_path: Path) -> None:
    m = SegmentationModel.load(channel_model(tmp_path / "b1.onnx", fixed_batch=1), device="cpu")
    assert m.max_batch == 1
    batch = np.zeros((3, 32, 32, 3), dtype=np.uint8)
    batch[1, ..., 0] = 255
    probs = m.predict(batch)
    assert probs.shape == (3, 32, 32, 3)
    assert (probs[1].argmax(-1) == 0).all()


@pytest.mark.parametrize("fixed_hw", [True, False], ids=["fixed size", "dynamic size, classes probed"])
def test_a_fixed_batch_of_two_is_padded_and_the_padding_dropped(tmp_path: Path, fixed_hw: bool) -> None:
    """The contract allows a fixed N ("the app then batches at most N"): 1 photo and 3 photos run as
    batches of exactly 2, zeros filling the last, whose rows never reach the caller."""
    m = SegmentationModel.load(channel_model(tmp_path / "b2.onnx", fixed_batch=2, fixed_hw=fixed_hw), "cpu")
    assert m.max_batch == 2
    rng = np.random.default_rng(1)
    for n in (1, 3):
        batch = rng.integers(0, 256, size=(n, 32, 32, 3), dtype=np.uint8)
        probs = m.predict(batch)
        assert probs.shape == (n, 32, 32, 3)
        np.testing.assert_allclose(probs, expected_probabilities(batch), atol=1e-5)


def test_a_batch_fixed_at_zero_is_refused_at_load(tmp_path: Path) -> None:
    with pytest.raises(ModelContractError, match="input batch size is fixed at 0; the contract wants"):
        SegmentationModel.load(channel_model(tmp_path / "b0.onnx", fixed_batch=0), "cpu")


def test_probabilities_at_another_size_than_the_input_are_refused_at_load(tmp_path: Path) -> None:
    """An output fixed at half the input's height and width had loaded and then failed every photo."""
    with pytest.raises(ModelContractError, match="has height 16 where the input has 32; the contract wants"):
        SegmentationModel.load(channel_model(tmp_path / "half.onnx", shrink=2), "cpu")
    # the same graph with dynamic sizes: the photo fails, naming both shapes
    model = SegmentationModel.load(channel_model(tmp_path / "dyn.onnx", shrink=2, fixed_hw=False), "cpu")
    with pytest.raises(ModelContractError, match=r"has shape \(1, 16, 16, 3\), expected \(1, 32, 32, 3\)"):
        model.predict(np.zeros((1, 32, 32, 3), np.uint8))


def _named(*names: str) -> str:
    """Classes metadata with these names, in the default colours."""
    return json.dumps([{**c.to_json(), "name": n} for c, n in zip(DEFAULT_CLASSES, names, strict=True)])


# A model whose classes are not named so that corrosion and asset can be found loaded and then said "no
# asset in view" on every photo.
_NEITHER = "has no class named 'corrosion' or 'asset' (it lists 'Rust', 'Pipe', 'background')"


def _broken(tmp_path: Path, **kwargs) -> Path:
    return channel_model(tmp_path / "broken.onnx", **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"metadata": {contract.KEY_CLASSES: None}}, "missing metadata 'corroscope.classes'"),
        (
            {"metadata": {k: None for k in contract.REQUIRED_KEYS}},
            "missing metadata 'corroscope.contract', 'corroscope.classes', 'corroscope.input_size'",
        ),
        ({"metadata": {contract.KEY_CONTRACT: "2"}}, "contract version '2'"),
        ({"metadata": {contract.KEY_CLASSES: "[{"}}, "'corroscope.classes' is malformed"),
        ({"metadata": {contract.KEY_CLASSES: json.dumps([{"id": 0}])}}, "'corroscope.classes' is malformed"),
        ({"metadata": {contract.KEY_INPUT_SIZE: "big"}}, "'corroscope.input_size' is malformed"),
        ({"metadata": {contract.KEY_INPUT_SIZE: "64,64"}}, "fixed at 32"),
        ({"input_dtype": TensorProto.FLOAT}, "tensor(float); the contract wants tensor(uint8)"),
        ({"layout": "NCHW"}, "NHWC"),
        ({"output_name": "scores"}, "no output named 'probabilities'"),
        ({"channels": (0, 2)}, "2 channels but 'corroscope.classes' lists 3 classes"),
        ({"metadata": {contract.KEY_CLASSES: _named("Rust", "Pipe", "background")}}, _NEITHER),
        ({"metadata": {contract.KEY_CLASSES: _named("corrosion", "pipe", "background")}}, "named 'asset' ("),
        (
            {"metadata": {contract.KEY_CLASSES: _named("Corrosion", "asset", "background")}},
            "matched exactly, in lower case: rename 'Corrosion' to 'corrosion'",
        ),
    ],
)
def test_contract_violations_are_refused_with_the_reason(tmp_path: Path, kwargs: dict, message: str) -> None:
    path = _broken(tmp_path, **kwargs)
    with pytest.raises(ModelContractError) as info:
        SegmentationModel.load(path, device="cpu")
    assert message in str(info.value)
    assert "broken.onnx" in str(info.value)


def test_class_count_checked_when_output_channels_are_dynamic(tmp_path: Path) -> None:
    meta = {contract.KEY_CLASSES: json.dumps([c.to_json() for c in DEFAULT_CLASSES[:2]])}
    path = _broken(tmp_path, metadata=meta, fixed_hw=False)
    with pytest.raises(ModelContractError, match=r"3 channels but 'corroscope.classes' lists 2 classes"):
        SegmentationModel.load(path, device="cpu")


def test_a_file_that_is_not_onnx_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "photo.onnx"
    path.write_bytes(b"\xff\xd8\xff\xe0 definitely a JPEG, not a model" * 10)
    with pytest.raises(ModelContractError, match=r"photo\.onnx is not a usable ONNX model"):
        SegmentationModel.load(path)


def test_missing_file_and_folder_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelContractError, match="not found"):
        SegmentationModel.load(tmp_path / "nope.onnx")
    with pytest.raises(ModelContractError, match="not a file"):
        SegmentationModel.load(tmp_path)


def test_default_model_path_finds_the_first_onnx_in_models(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(model_module, "models_dir", lambda: tmp_path)
    assert default_model_path() is None
    (tmp_path / "b.onnx").write_bytes(b"x")
    (tmp_path / "a.onnx").write_bytes(b"x")
    (tmp_path / "MODEL_CARD.md").write_text("card")
    assert default_model_path() == tmp_path / "a.onnx"


def test_an_empty_model_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "m.onnx").write_bytes(b"")
    with pytest.raises(ModelContractError, match=r"empty \(0 bytes\)"):
        SegmentationModel.load(tmp_path / "m.onnx")
