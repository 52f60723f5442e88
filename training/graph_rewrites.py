"""Exact ONNX graph rewrites that make an exported network cheaper to run in ONNX Runtime."""

from __future__ import annotations

import logging

log = logging.getLogger("training.graph_rewrites")

_NHWC_TO_NCHW = [0, 3, 1, 2]


def transpose_input_first(proto) -> bool:
    """Moves the NHWC->NCHW Transpose in front of the input's normalisation; True if rewritten.

    tf2onnx exports `image -> Cast -> Mul(scale[C]) -> Add(shift[C]) -> Transpose(0,3,1,2) -> Conv`.
    ONNX Runtime broadcasts a `[C]` constant over a last axis of 3 on a slow path (~1 ms each for
    Mul and Add at 256x256 on our CPU). Transposing the uint8 photo first and normalising in NCHW with
    `[1, C, 1, 1]` constants gives the same numbers (element-wise ops commute with a transpose) on
    the fast path, and moves a quarter of the bytes through the Transpose.
    Long because the rewrite checks the pattern and rewires it in one pass."""
    from onnx import numpy_helper

    graph = proto.graph
    if len(graph.input) != 1:
        return False
    consumers = tensor_consumers(graph)
    inits = {init.name: init for init in graph.initializer}

    def only_consumer(tensor: str, op_type: str):
        nodes = consumers.get(tensor, [])
        return nodes[0] if len(nodes) == 1 and nodes[0].op_type == op_type else None

    cast = only_consumer(graph.input[0].name, "Cast")
    mul = cast and only_consumer(cast.output[0], "Mul")
    add = mul and only_consumer(mul.output[0], "Add")
    transpose = add and only_consumer(add.output[0], "Transpose")
    perm = [list(a.ints) for a in transpose.attribute if a.name == "perm"] if transpose else None
    if perm != [_NHWC_TO_NCHW]:
        return False
    chain = {cast.output[0], mul.output[0], add.output[0], transpose.output[0]}
    if any(output.name in chain for output in graph.output):
        return False
    constants = []
    for node, data_input in ((mul, cast.output[0]), (add, mul.output[0])):
        others = [name for name in node.input if name != data_input]
        if len(others) != 1 or others[0] not in inits or len(consumers[others[0]]) != 1:
            return False
        value = numpy_helper.to_array(inits[others[0]])
        if value.ndim != 1:
            return False
        constants.append((inits[others[0]], value))
    for init, value in constants:
        init.CopyFrom(numpy_helper.from_array(value.reshape(1, -1, 1, 1), init.name))

    photo, old_output, normalised = graph.input[0].name, transpose.output[0], add.output[0]
    nchw = f"{photo}_nchw"
    transpose.input[0] = photo
    transpose.output[0] = nchw
    cast.input[0] = nchw
    for node in consumers.get(old_output, []):
        node.input[:] = [normalised if name == old_output else name for name in node.input]
    # The Transpose now runs first. Nodes are told apart by their (unique) outputs: protobuf may hand out
    # a new wrapper object for the same node, so identity is no test.
    nodes = list(graph.node)
    order = [n for n in nodes if nchw in n.output] + [n for n in nodes if nchw not in n.output]
    del graph.node[:]
    graph.node.extend(order)
    # Shapes recorded for the old NHWC intermediates no longer hold.
    stale = {cast.output[0], mul.output[0], normalised, old_output}
    kept = [v for v in graph.value_info if v.name not in stale]
    del graph.value_info[:]
    graph.value_info.extend(kept)
    log.info("input Transpose moved in front of the normalisation")
    return True


def tensor_consumers(graph) -> dict[str, list]:
    """Tensor name -> the nodes that read it, in graph order."""
    consumers: dict[str, list] = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    return consumers
