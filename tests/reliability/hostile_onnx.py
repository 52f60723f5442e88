"""Hostile ONNX models, built with onnx.helper: each follows the contract on paper and attacks the app
once it is loaded or run (external data outside its folder, memory and time bombs, wrong outputs,
escape sequences in names)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from app.core import contract
from tests.helpers.tiny_models import CHANNEL_OF_CLASS, IR_VERSION, OPSET, default_metadata

ORDER = np.array(CHANNEL_OF_CLASS, dtype=np.int64)  # the channel model's Gather indices: 24 bytes
_IMAGE = helper.make_tensor_value_info(contract.INPUT_NAME, TensorProto.UINT8, ["N", 32, 32, 3])


def probabilities(channels: int | str = 3) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(
        contract.PROBABILITIES_OUTPUT, TensorProto.FLOAT, ["N", 32, 32, channels]
    )


def save(
    graph: onnx.GraphProto,
    path: Path,
    metadata: Mapping[str, str | None] | None = None,
    functions: Sequence[onnx.FunctionProto] = (),
) -> Path:
    """Write `graph` as a model with the contract's metadata (`metadata` overrides; None removes)."""
    opsets = [helper.make_opsetid("", OPSET)] + [helper.make_opsetid(f.domain, 1) for f in functions]
    model = helper.make_model(graph, opset_imports=opsets, functions=list(functions))
    model.ir_version = IR_VERSION
    meta: dict[str, str | None] = {**default_metadata(), **(metadata or {})}
    for key, value in meta.items():
        if value is not None:
            entry = model.metadata_props.add()
            entry.key, entry.value = key, value
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path


def _scaled() -> list[onnx.NodeProto]:
    """image -> float, times 20/255 ("scaled"), as in the channel model."""
    return [
        helper.make_node("Cast", [contract.INPUT_NAME], ["as_float"], to=TensorProto.FLOAT),
        helper.make_node("Mul", ["as_float", "scale"], ["scaled"]),
    ]


def _scale() -> onnx.TensorProto:
    return numpy_helper.from_array(np.array(20.0 / 255.0, dtype=np.float32), "scale")


def external(tensor: onnx.TensorProto, location: str) -> onnx.TensorProto:
    """`tensor` with its data moved to `location` (offset 0, its raw length)."""
    raw = numpy_helper.to_array(tensor).tobytes()
    tensor.ClearField("int64_data")
    tensor.ClearField("raw_data")
    tensor.data_location = TensorProto.EXTERNAL
    for key, value in (("location", location), ("offset", "0"), ("length", str(len(raw)))):
        entry = tensor.external_data.add()
        entry.key, entry.value = key, value
    return tensor


def external_order_model(path: Path, location: str, where: str) -> Path:
    """The channel model whose Gather indices [0, 2, 1] are read from `location`, the tensor being held
    `where`: initializer, sparse_initializer, constant_node, if_branch, loop_body or function."""
    order = external(numpy_helper.from_array(ORDER, "order"), location)
    tail = [
        helper.make_node("Gather", ["scaled", "order"], ["logits"], axis=3),
        helper.make_node("Softmax", ["logits"], [contract.PROBABILITIES_OUTPUT], axis=-1),
    ]
    inits, nodes, functions = [_scale()], _scaled(), []
    if where == "initializer":
        inits.append(order)
    elif where == "sparse_initializer":
        values = external(numpy_helper.from_array(ORDER[1:], "order"), location)
        indices = numpy_helper.from_array(np.array([1, 2], dtype=np.int64), "order_indices")
        sparse = helper.make_sparse_tensor(values, indices, [3])
        graph = helper.make_graph(
            [*nodes, *tail], "sparse", [_IMAGE], [probabilities()], inits, sparse_initializer=[sparse]
        )
        return save(graph, path)
    elif where == "constant_node":
        nodes.append(helper.make_node("Constant", [], ["order"], value=order))
    elif where in ("if_branch", "loop_body"):
        nodes += _control_flow_order(order, where)
    elif where == "function":
        body = helper.make_node("Constant", [], ["out"], value=order)
        fn = helper.make_function(
            "hostile.fn", "MakeOrder", [], ["out"], [body], [helper.make_opsetid("", OPSET)]
        )
        functions.append(fn)
        nodes.append(helper.make_node("MakeOrder", [], ["order"], domain="hostile.fn"))
    else:
        raise ValueError(where)
    graph = helper.make_graph([*nodes, *tail], where, [_IMAGE], [probabilities()], inits)
    return save(graph, path, functions=functions)


def _control_flow_order(order: onnx.TensorProto, where: str) -> list[onnx.NodeProto]:
    """An If (cond true) or a one-step Loop whose subgraph holds the external tensor; output "order"."""
    int64 = TensorProto.INT64
    if where == "if_branch":
        out = helper.make_tensor_value_info("branch_order", int64, [3])

        def branch(name: str, value: onnx.TensorProto) -> onnx.GraphProto:
            return helper.make_graph(
                [helper.make_node("Constant", [], ["branch_order"], value=value)], name, [], [out]
            )

        return [
            helper.make_node("Constant", [], ["cond"], value=numpy_helper.from_array(np.array(True))),
            helper.make_node(
                "If",
                ["cond"],
                ["order"],
                then_branch=branch("then", order),
                else_branch=branch("else", numpy_helper.from_array(ORDER)),
            ),
        ]
    order.name = "body_order"
    body = helper.make_graph(
        [
            helper.make_node("Identity", ["cond_in"], ["cond_out"]),
            helper.make_node("Add", ["v_in", "body_order"], ["v_out"]),
        ],
        "body",
        [
            helper.make_tensor_value_info("i", int64, []),
            helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
            helper.make_tensor_value_info("v_in", int64, [3]),
        ],
        [
            helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
            helper.make_tensor_value_info("v_out", int64, [3]),
        ],
        initializer=[order],
    )
    return [
        helper.make_node("Constant", [], ["trip"], value=numpy_helper.from_array(np.array(1, np.int64))),
        helper.make_node("Constant", [], ["v0"], value=numpy_helper.from_array(np.zeros(3, np.int64))),
        helper.make_node("Loop", ["trip", "", "v0"], ["order"], body=body),
    ]


def constant_of_shape_model(path: Path, floats: int, from_input: bool = False, copies: int = 1) -> Path:
    """About 750 bytes that ask for `floats` x 4 bytes per run (`copies` such tensors alive at once);
    with `from_input` the shape depends on the photo, so nothing can be computed at load."""
    inits = [numpy_helper.from_array(np.array([floats], np.int64), "shape")]
    nodes = [helper.make_node("Cast", [contract.INPUT_NAME], ["f"], to=TensorProto.FLOAT)]
    shape = "shape"
    if from_input:  # shape + 0 * min(image): the same number, known only at run time
        inits.append(numpy_helper.from_array(np.array([0], np.int64), "zero"))
        nodes += [
            helper.make_node("ReduceMin", [contract.INPUT_NAME], ["low"], keepdims=0),
            helper.make_node("Cast", ["low"], ["low64"], to=TensorProto.INT64),
            helper.make_node("Mul", ["low64", "zero"], ["nothing"]),
            helper.make_node("Add", ["shape", "nothing"], ["run_shape"]),
        ]
        shape = "run_shape"
    total = None
    for k in range(copies):
        fill = numpy_helper.from_array(np.array([float(k)], np.float32))
        nodes.append(helper.make_node("ConstantOfShape", [shape], [f"big{k}"], value=fill))
        if total is None:
            total = f"big{k}"
        else:
            nodes.append(helper.make_node("Add", [total, f"big{k}"], [f"sum{k}"]))
            total = f"sum{k}"
    nodes += [
        helper.make_node("ReduceSum", [total], ["s"], keepdims=0),
        helper.make_node("Add", ["f", "s"], ["g"]),
        helper.make_node("Softmax", ["g"], [contract.PROBABILITIES_OUTPUT], axis=-1),
    ]
    graph = helper.make_graph(nodes, "constant_of_shape", [_IMAGE], [probabilities()], inits)
    return save(graph, path)


def endless_loop_model(path: Path, steps: int = 10**12, dynamic_channels: bool = False) -> Path:
    """A Loop of `steps` additions before the softmax; with `dynamic_channels` the output shape does not
    say the class count, so loading runs it once to find out."""
    body = helper.make_graph(
        [
            helper.make_node("Add", ["x_in", "one"], ["x_out"]),
            helper.make_node("Identity", ["cond_in"], ["cond_out"]),
        ],
        "body",
        [
            helper.make_tensor_value_info("i", TensorProto.INT64, []),
            helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
            helper.make_tensor_value_info("x_in", TensorProto.FLOAT, []),
        ],
        [
            helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
            helper.make_tensor_value_info("x_out", TensorProto.FLOAT, []),
        ],
        initializer=[numpy_helper.from_array(np.array(1.0, np.float32), "one")],
    )
    inits = [
        numpy_helper.from_array(np.array(steps, np.int64), "trip"),
        numpy_helper.from_array(np.array(True), "cond"),
        numpy_helper.from_array(np.array(0.0, np.float32), "x0"),
    ]
    nodes = [
        helper.make_node("Cast", [contract.INPUT_NAME], ["f"], to=TensorProto.FLOAT),
        helper.make_node("Loop", ["trip", "cond", "x0"], ["x"], body=body),
        helper.make_node("Mul", ["x", "zero"], ["nothing"]),
        helper.make_node("Add", ["f", "nothing"], ["g"]),
        helper.make_node("Softmax", ["g"], [contract.PROBABILITIES_OUTPUT], axis=-1),
    ]
    inits.append(numpy_helper.from_array(np.array(0.0, np.float32), "zero"))
    out = probabilities("C" if dynamic_channels else 3)
    return save(helper.make_graph(nodes, "endless_loop", [_IMAGE], [out], inits), path)


def output_model(path: Path, kind: str) -> Path:
    """The channel model with its output spoilt: "nan", "one nan pixel", "-inf", "logits" (no softmax),
    "sums to 2"."""
    nodes = [*_scaled(), helper.make_node("Gather", ["scaled", "order"], ["logits"], axis=3)]
    inits = [_scale(), numpy_helper.from_array(ORDER, "order")]
    out = contract.PROBABILITIES_OUTPUT
    if kind == "logits":
        nodes.append(helper.make_node("Identity", ["logits"], [out]))
    else:
        factor = {
            "nan": np.full((1, 1, 1), np.nan, np.float32),
            "sums to 2": np.full((1, 1, 1), 2.0, np.float32),
            "one nan pixel": _one_nan_pixel(),
        }
        nodes.append(helper.make_node("Softmax", ["logits"], ["soft"], axis=-1))
        if kind == "-inf":  # the asset channel at minus infinity everywhere
            inits.append(numpy_helper.from_array(np.array([0.0, -np.inf, 0.0], np.float32), "shift"))
            nodes.append(helper.make_node("Add", ["soft", "shift"], [out]))
        else:
            inits.append(numpy_helper.from_array(factor[kind], "factor"))
            nodes.append(helper.make_node("Mul", ["soft", "factor"], [out]))
    graph = helper.make_graph(nodes, "spoilt_" + kind.replace(" ", "_"), [_IMAGE], [probabilities()], inits)
    return save(graph, path)


def _one_nan_pixel() -> np.ndarray:
    factor = np.ones((32, 32, 1), np.float32)
    factor[17, 5, 0] = np.nan
    return factor


def classes_model(path: Path, names: Sequence[str], colors: Sequence[Sequence[int]] | None = None) -> Path:
    """The channel model with one output channel per name (channel k repeats colour k % 3); `colors`:
    the classes' drawing colours (default: one of its own each)."""
    order = np.array([CHANNEL_OF_CLASS[k % 3] for k in range(len(names))], np.int64)
    nodes = [
        *_scaled(),
        helper.make_node("Gather", ["scaled", "order"], ["logits"], axis=3),
        helper.make_node("Softmax", ["logits"], [contract.PROBABILITIES_OUTPUT], axis=-1),
    ]
    inits = [_scale(), numpy_helper.from_array(order, "order")]
    colors = colors or [[k % 256, (k * 7) % 256, 3] for k in range(len(names))]
    pairs = enumerate(zip(names, colors, strict=True))
    classes = [{"id": k, "name": n, "color": list(c)} for k, (n, c) in pairs]
    graph = helper.make_graph(nodes, "many_classes", [_IMAGE], [probabilities(len(names))], inits)
    return save(graph, path, {contract.KEY_CLASSES: json.dumps(classes)})


def named_model(
    path: Path,
    node_name: str = "",
    output_name: str = contract.PROBABILITIES_OUTPUT,
    fails: bool = False,
    metadata: Mapping[str, str | None] | None = None,
) -> Path:
    """The channel model with a chosen node name and output name; `fails`: its Reshape fails at run
    time (so ONNX Runtime's message quotes the node name)."""
    nodes = [*_scaled(), helper.make_node("Gather", ["scaled", "order"], ["logits"], axis=3)]
    inits = [_scale(), numpy_helper.from_array(ORDER, "order")]
    if fails:
        inits.append(numpy_helper.from_array(np.array([-1, 32, 7, 3], np.int64), "bad_shape"))
        nodes.append(helper.make_node("Reshape", ["logits", "bad_shape"], ["shaped"], name=node_name))
    else:
        nodes.append(helper.make_node("Identity", ["logits"], ["shaped"], name=node_name))
    nodes.append(helper.make_node("Softmax", ["shaped"], [output_name], axis=-1))
    out = helper.make_tensor_value_info(output_name, TensorProto.FLOAT, ["N", 32, 32, 3])
    return save(helper.make_graph(nodes, "named", [_IMAGE], [out], inits), path, metadata)


def long_chain_model(path: Path, nodes: int = 100_000) -> Path:
    """`nodes` additions of zero in a row: valid and harmless, but ONNX Runtime takes seconds to load it."""
    chain = [helper.make_node("Cast", [contract.INPUT_NAME], ["v0"], to=TensorProto.FLOAT)]
    chain += [helper.make_node("Add", [f"v{k}", "zero"], [f"v{k + 1}"]) for k in range(nodes)]
    chain.append(helper.make_node("Softmax", [f"v{nodes}"], [contract.PROBABILITIES_OUTPUT], axis=-1))
    zero = numpy_helper.from_array(np.array(0.0, np.float32), "zero")
    return save(helper.make_graph(chain, "long_chain", [_IMAGE], [probabilities()], [zero]), path)
