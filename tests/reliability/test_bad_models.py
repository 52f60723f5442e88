"""Models people send: every broken one refused with a message saying what is wrong, the valid one
still accepted, no custom-operator library ever loaded, no file outside the model's folder read."""

from __future__ import annotations

import ctypes
import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from app import cli
from app.core import contract
from app.core.errors import ModelContractError
from app.core.files import write_png
from app.core.model import SegmentationModel
from app.core.palette import DEFAULT_CLASSES
from app.core.pipeline import run_batch
from app.core.synthetic import synthetic_pipe
from tests.helpers.tiny_models import OPSET, channel_model, default_metadata
from tests.reliability.conftest import read_csv, run_cli

_NO_METADATA = {k: None for k in (*contract.REQUIRED_KEYS, *contract.OPTIONAL_KEYS)}
_FOUR_CLASSES = json.dumps(
    [*(c.to_json() for c in DEFAULT_CLASSES), {"id": 3, "name": "paint", "color": [9, 9, 9]}]
)


def _reshape_model(path: Path, out_shape: list, reshape_to: list[int]) -> Path:
    """Follows the contract on paper, but its Reshape fails when it runs (32*32 is not a multiple of 7)."""
    inp = helper.make_tensor_value_info(contract.INPUT_NAME, TensorProto.UINT8, ["N", 32, 32, 3])
    out = helper.make_tensor_value_info(contract.PROBABILITIES_OUTPUT, TensorProto.FLOAT, out_shape)
    nodes = [
        helper.make_node("Cast", [contract.INPUT_NAME], ["f"], to=TensorProto.FLOAT),
        helper.make_node("Reshape", ["f", "shape"], ["r"]),
        helper.make_node("Softmax", ["r"], [contract.PROBABILITIES_OUTPUT], axis=-1),
    ]
    shape = numpy_helper.from_array(np.array(reshape_to, dtype=np.int64), "shape")
    graph = helper.make_graph(nodes, "fails_at_run_time", [inp], [out], initializer=[shape])
    return _save(graph, path)


def _custom_op_model(path: Path, library: Path) -> Path:
    """A model with a node from an operator domain ONNX Runtime does not know, whose metadata names a
    library that would provide it (as onnxruntime-extensions models do)."""
    inp = helper.make_tensor_value_info(contract.INPUT_NAME, TensorProto.UINT8, ["N", 32, 32, 3])
    out = helper.make_tensor_value_info(contract.PROBABILITIES_OUTPUT, TensorProto.FLOAT, ["N", 32, 32, 3])
    node = helper.make_node("Boom", [contract.INPUT_NAME], [contract.PROBABILITIES_OUTPUT], domain="evil.ops")
    graph = helper.make_graph([node], "custom_op", [inp], [out])
    extra = {
        "custom_op_library": str(library),
        "corroscope.custom_ops": str(library),
        "onnxruntime.custom_ops_library": library.name,
    }
    return _save(graph, path, extra, opsets=[("", OPSET), ("evil.ops", 1)])


def _save(graph, path: Path, extra: dict[str, str] | None = None, opsets=(("", OPSET),)) -> Path:
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid(d, v) for d, v in opsets])
    model.ir_version = 9
    for key, value in {**default_metadata(), **(extra or {})}.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(model, str(path))
    return path


def _external_data_model(path: Path, location: str) -> Path:
    """The valid model, but one constant is read from `location` (external data)."""
    model = onnx.load(str(channel_model(path.with_name("base.onnx"))))
    for init in model.graph.initializer:
        if init.name == "order":
            init.ClearField("int64_data")
            init.ClearField("raw_data")
            init.data_location = TensorProto.EXTERNAL
            for key, value in (("location", location), ("offset", "0"), ("length", "24")):
                entry = init.external_data.add()
                entry.key, entry.value = key, value
    onnx.save(model, str(path))
    return path


def _valid_bytes(tmp: Path) -> bytes:
    return channel_model(tmp / "valid-source.onnx").read_bytes()


# name -> (how to write it into a path, what the refusal must say)
BROKEN: dict[str, tuple[Callable[[Path], object], str]] = {
    "empty": (lambda p: p.write_bytes(b""), "empty (0 bytes)"),
    "random bytes": (
        lambda p: p.write_bytes(np.random.default_rng(5).bytes(5000)),
        "not a usable ONNX model",
    ),
    "a JPEG named .onnx": (
        lambda p: p.write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF" + bytes(2000)),
        "not a usable ONNX model",
    ),
    "truncated": (
        lambda p: p.write_bytes(_valid_bytes(p.parent)[: len(_valid_bytes(p.parent)) // 2]),
        "not a usable ONNX model",
    ),
    "valid ONNX without our metadata": (
        lambda p: channel_model(p, metadata=_NO_METADATA),
        "missing metadata 'corroscope.contract', 'corroscope.classes', 'corroscope.input_size'",
    ),
    "classes not JSON": (
        lambda p: channel_model(p, metadata={contract.KEY_CLASSES: '[{"id": 0, "name": '}),
        "'corroscope.classes' is malformed: classes are not valid JSON",
    ),
    "classes JSON of the wrong shape": (
        lambda p: channel_model(p, metadata={contract.KEY_CLASSES: json.dumps({"corrosion": 0})}),
        "'corroscope.classes' is malformed",
    ),
    "class ids with a gap": (
        lambda p: channel_model(
            p,
            metadata={
                contract.KEY_CLASSES: json.dumps(
                    [{"id": i * 2, "name": f"c{i}", "color": [0, 0, 0]} for i in range(3)]
                )
            },
        ),
        "class ids must be 0..N-1",
    ),
    "4 classes, 3 output channels": (
        lambda p: channel_model(p, metadata={contract.KEY_CLASSES: _FOUR_CLASSES}),
        "3 channels but 'corroscope.classes' lists 4 classes",
    ),
    "4 classes, dynamic output channels": (
        lambda p: channel_model(p, metadata={contract.KEY_CLASSES: _FOUR_CLASSES}, fixed_hw=False),
        "3 channels but 'corroscope.classes' lists 4 classes",
    ),
    "float input": (
        lambda p: channel_model(p, input_dtype=TensorProto.FLOAT),
        "is tensor(float); the contract wants tensor(uint8)",
    ),
    "NCHW input": (lambda p: channel_model(p, layout="NCHW"), "the contract wants NHWC"),
    "unknown contract version": (
        lambda p: channel_model(p, metadata={contract.KEY_CONTRACT: "2"}),
        "uses model contract version '2'",
    ),
    "input size not H,W": (
        lambda p: channel_model(p, metadata={contract.KEY_INPUT_SIZE: "256x256"}),
        "'corroscope.input_size' is malformed",
    ),
    "input size differs from the graph": (
        lambda p: channel_model(p, metadata={contract.KEY_INPUT_SIZE: "64,64"}),
        "input height is fixed at 32 but 'corroscope.input_size' says 64",
    ),
    "no probabilities output": (
        lambda p: channel_model(p, output_name="scores"),
        "no output named 'probabilities'",
    ),
    "fails when run (class count probed)": (
        lambda p: _reshape_model(p, ["N", 32, 32, "C"], [-1, 32, 7, 3]),
        "failed to run",
    ),
    "unknown operator domain": (
        lambda p: _custom_op_model(p, p.with_name("libcustom_ops.so")),
        "not a usable ONNX model",
    ),
    "external data outside its folder": (
        lambda p: _external_data_model(p, "../outside.bin"),
        "outside the model's folder ('..'); refused",
    ),
    "external data at an absolute path": (
        lambda p: _external_data_model(p, str(p.parent.parent / "outside.bin")),
        "reads external data from the absolute path",
    ),
}


@pytest.fixture
def broken_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "models ü" / "sent by mail"
    folder.mkdir(parents=True)
    (tmp_path / "models ü" / "outside.bin").write_bytes(np.array([0, 2, 1], np.int64).tobytes())
    return folder


@pytest.mark.parametrize("name", list(BROKEN))
def test_each_broken_model_is_refused_saying_what_is_wrong(
    name: str, broken_dir: Path, model_path: Path
) -> None:
    make, message = BROKEN[name]
    path = broken_dir / f"{name}.onnx"
    make(path)
    with pytest.raises(ModelContractError) as info:
        SegmentationModel.load(path, device="cpu")
    text = str(info.value)
    assert message in text
    assert path.name in text, "the message names the file"
    assert "Traceback" not in text and "\n" not in text.strip(), "one plain line"
    # and the good model is still accepted after it
    assert SegmentationModel.load(model_path, device="cpu").num_classes == 3


def test_the_cli_refuses_each_broken_model_without_a_traceback(
    broken_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`cli.main` in this process (a real process per model would take a minute): a traceback would be
    an exception escaping `main`."""
    photo = write_png(tmp_path / "pipe.png", synthetic_pipe(seed=1, size=(40, 48))[0])
    for name, (make, message) in BROKEN.items():
        path = broken_dir / f"{name}.onnx"
        make(path)
        rc = cli.main(
            ["analyze", str(photo), "--out", str(tmp_path / "out"), "--model", str(path), "--device", "cpu"]
        )
        err = capsys.readouterr().err
        assert rc == cli.EXIT_USAGE, name
        assert message in err, (name, err)
    assert not (tmp_path / "out").exists(), "nothing is written with a refused model"


def test_a_model_that_fails_at_run_time_fails_each_photo_not_the_batch(tmp_path: Path) -> None:
    """Its output shape is declared, so loading cannot find out; every photo fails with the reason and
    the batch, the CSV and the CLI carry on (in a real process: no traceback)."""
    model_file = _reshape_model(tmp_path / "fails.onnx", ["N", 32, 32, 3], [-1, 32, 7, 3])
    model = SegmentationModel.load(model_file, device="cpu")
    with pytest.raises(ModelContractError, match=r"fails\.onnx failed to run"):
        model.predict(np.zeros((1, 32, 32, 3), np.uint8))
    (tmp_path / "in").mkdir()
    photos = [
        write_png(tmp_path / "in" / f"p{i}.png", synthetic_pipe(seed=i, size=(40, 48))[0]) for i in range(3)
    ]
    summary = run_batch(model, photos, tmp_path / "out")
    assert [f.path for f in summary.failures] == photos
    assert all("failed to run" in f.reason for f in summary.failures)
    assert [r["status"] for r in read_csv(summary.csv_path)] == ["failed"] * 3
    done = run_cli(
        "analyze", tmp_path / "in", "--out", tmp_path / "out2", "--model", model_file, "--device", "cpu"
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert done.stderr.count("failed to run") == 3, done.stderr


def test_no_custom_operator_library_is_ever_registered_or_loaded(
    broken_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Spies on the two ways a library gets into the process: ONNX Runtime's registration and ctypes."""
    import onnxruntime as ort

    registered: list[str] = []
    loaded: list[str] = []
    real_cdll = ctypes.CDLL.__init__

    def spy_cdll(self, name, *args, **kwargs):
        loaded.append(str(name))
        return real_cdll(self, name, *args, **kwargs)

    monkeypatch.setattr(
        ort.SessionOptions, "register_custom_ops_library", lambda self, p: registered.append(p)
    )
    monkeypatch.setattr(ctypes.CDLL, "__init__", spy_cdll)
    library = broken_dir / "libcustom_ops.so"
    library.write_bytes(b"\x7fELF not really")
    path = _custom_op_model(broken_dir / "custom.onnx", library)
    with pytest.raises(ModelContractError, match="not a usable ONNX model"):
        SegmentationModel.load(path, device="auto")
    assert registered == []
    assert not any("custom_ops" in name or str(broken_dir) in name for name in loaded), loaded


_LIBRARY_C = r"""
#include <stdio.h>
#include <stdlib.h>
__attribute__((constructor)) static void loaded(void) {
    const char *marker = getenv("CORROSCOPE_TEST_MARKER");
    FILE *f = marker ? fopen(marker, "w") : NULL;
    if (f) { fputs("loaded", f); fclose(f); }
}
void *RegisterCustomOps(void *options, const void *api) { (void)options; (void)api; return NULL; }
"""


@pytest.mark.skipif(shutil.which("cc") is None, reason="needs a C compiler to build a real library")
def test_a_real_library_named_by_a_model_never_runs(
    broken_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A shared library whose load leaves a marker file: loading it by hand leaves the marker (so the
    check works); loading a model that names it, next to it, does not."""
    source = tmp_path / "lib.c"
    source.write_text(_LIBRARY_C)
    library = broken_dir / "libcustom_ops.so"
    subprocess.run(["cc", "-shared", "-fPIC", "-o", str(library), str(source)], check=True, timeout=60)
    marker = tmp_path / "marker.txt"
    monkeypatch.setenv("CORROSCOPE_TEST_MARKER", str(marker))
    path = _custom_op_model(broken_dir / "custom.onnx", library)
    with pytest.raises(ModelContractError, match="not a usable ONNX model"):
        SegmentationModel.load(path, device="auto")
    assert not marker.exists(), "the model's library was loaded"
    # the detector: the same library, loaded on purpose (in a child, so it stays out of this process)
    probe = f"import ctypes; ctypes.CDLL({str(library)!r})"
    subprocess.run([sys.executable, "-c", probe], check=True, timeout=60)
    assert marker.read_text() == "loaded"
