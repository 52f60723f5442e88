"""Exact graph rewrites: the rewritten network gives the same numbers, and other graphs are left alone."""

from __future__ import annotations

import numpy as np
import onnx
import pytest

from app.core import contract
from app.core.synthetic import synthetic_pipe
from tests.training.test_quantize import conv_model
from training.graph_rewrites import transpose_input_first

ort = pytest.importorskip("onnxruntime")


def run(proto, photos: np.ndarray) -> list[np.ndarray]:
    session = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {contract.INPUT_NAME: photos})


def test_transpose_moves_before_the_normalisation_with_identical_results(tmp_path):
    proto = onnx.load(str(conv_model(tmp_path / "m.onnx")))
    photos = np.stack([synthetic_pipe(i, 16)[0] for i in range(3)])
    before = run(proto, photos)
    assert transpose_input_first(proto)
    onnx.checker.check_model(proto, full_check=True)
    first = proto.graph.node[0]
    assert first.op_type == "Transpose" and list(first.input) == [contract.INPUT_NAME]
    shapes = {i.name: list(i.dims) for i in proto.graph.initializer}
    assert shapes["scale"] == shapes["shift"] == [1, 3, 1, 1]
    after = run(proto, photos)
    for old, new in zip(before, after, strict=True):
        np.testing.assert_array_equal(old, new)
    assert not transpose_input_first(proto), "already rewritten: nothing left to move"


def test_a_graph_without_the_pattern_is_left_alone(tmp_path):
    proto = onnx.load(str(conv_model(tmp_path / "m.onnx")))
    shared = next(n for n in proto.graph.node if n.op_type == "Add" and "shift" in n.input)
    shared.input[1] = "scale"  # one constant now feeds two nodes: reshaping it would change the other
    del proto.graph.initializer[[i.name for i in proto.graph.initializer].index("shift")]
    original = proto.SerializeToString()
    assert not transpose_input_first(proto)
    assert proto.SerializeToString() == original
