"""Small edits of a serialized ONNX model without the `onnx` package (not a runtime dependency).

What site adaptation (`app.core.adapt`) needs and no more: list the graph's nodes, read and replace
initializers by name, add graph outputs (an intermediate tensor ONNX Runtime then returns) and set
metadata entries. Fields are read as views (weights are not copied) and written back as they were;
only the messages edited are encoded again. Field numbers are those of onnx.proto (the same reader as
`app.core.onnx_scan`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from app.core.onnx_scan import MalformedModel, _varint

_MODEL_GRAPH, _MODEL_METADATA = 7, 14
_GRAPH_NODE, _GRAPH_INIT, _GRAPH_OUTPUT = 1, 5, 12
_NODE_INPUT, _NODE_OUTPUT, _NODE_NAME, _NODE_OP, _NODE_ATTR = 1, 2, 3, 4, 5
_ATTR_NAME, _ATTR_I = 1, 3
_T_DIMS, _T_TYPE, _T_FLOAT, _T_INT32, _T_INT64, _T_NAME, _T_RAW = 1, 2, 4, 5, 7, 8, 9
# TensorProto.DataType -> numpy dtype, for the types a classifier's weights can have.
_DTYPES = {1: np.float32, 2: np.uint8, 3: np.int8, 6: np.int32, 7: np.int64, 10: np.float16}
_CODES = {np.dtype(v): k for k, v in _DTYPES.items()}


@dataclass(frozen=True)
class Node:
    op_type: str
    name: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    ints: Mapping[str, int]  # the node's integer attributes (e.g. Softmax's axis)


@dataclass(frozen=True)
class _Field:
    number: int
    wire: int
    raw: memoryview  # the whole field, key included (a view: weights are not copied)
    value: memoryview | int  # the payload of a length-delimited field, else the varint (fixed: 0)


def _split(buf: bytes | memoryview) -> list[_Field]:
    """Every field of one message, in order."""
    view, pos, out = memoryview(buf), 0, []
    while pos < len(view):
        start = pos
        key, pos = _varint(view, pos)
        number, wire = key >> 3, key & 7
        value: memoryview | int = 0
        if wire == 0:
            value, pos = _varint(view, pos)
        elif wire == 2:
            size, pos = _varint(view, pos)
            if pos + size > len(view):
                raise MalformedModel("a field runs past the end of its message")
            value, pos = view[pos : pos + size], pos + size
        elif wire in (1, 5):
            pos += 8 if wire == 1 else 4
        else:
            raise MalformedModel(f"unsupported wire type {wire}")
        if number == 0 or pos > len(view):
            raise MalformedModel("malformed field")
        out.append(_Field(number, wire, view[start:pos], value))
    return out


def _key(number: int, wire: int) -> bytes:
    return _encode_varint(number << 3 | wire)


def _encode_varint(value: int) -> bytes:
    value &= (1 << 64) - 1  # negative int64 as two's complement, as protobuf writes it
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _bytes_field(number: int, payload: bytes) -> bytes:
    return _key(number, 2) + _encode_varint(len(payload)) + payload


def _text(value: memoryview | int) -> str:
    return bytes(value).decode("utf-8", errors="replace") if isinstance(value, memoryview) else ""


def _packed_varints(fields: Sequence[_Field], number: int) -> list[int]:
    """A repeated integer field, packed or not."""
    values: list[int] = []
    for f in fields:
        if f.number != number:
            continue
        if f.wire == 0:
            values.append(int(f.value))
        elif isinstance(f.value, memoryview):
            view, pos = memoryview(f.value), 0
            while pos < len(view):
                v, pos = _varint(view, pos)
                values.append(v)
    return values


def _signed(v: int) -> int:
    return v - (1 << 64) if v >= 1 << 63 else v


class ModelBytes:
    """A serialized ModelProto, parsed once at the top two levels (model and graph)."""

    def __init__(self, data: bytes) -> None:
        self._model = _split(data)
        graphs = [f for f in self._model if f.number == _MODEL_GRAPH and isinstance(f.value, memoryview)]
        if len(graphs) != 1:
            raise MalformedModel("the model has no graph")
        self._graph = _split(graphs[0].value)
        self._inits = {_tensor_name(f.value): f for f in self._graph if f.number == _GRAPH_INIT}

    def nodes(self) -> list[Node]:
        nodes = [f.value for f in self._graph if f.number == _GRAPH_NODE]
        return [_node(v) for v in nodes if isinstance(v, memoryview)]

    def initializer_names(self) -> set[str]:
        return set(self._inits)

    def initializer(self, name: str) -> np.ndarray:
        """The initializer's values; KeyError when the graph has none of that name."""
        f = self._inits[name]
        if not isinstance(f.value, memoryview):
            raise MalformedModel(f"initializer {name!r} is not a message")
        return _tensor_array(f.value)

    def edited(
        self,
        initializers: Mapping[str, np.ndarray] | None = None,
        outputs: Sequence[str] = (),
        metadata: Mapping[str, str | None] | None = None,
    ) -> bytes:
        """The model's bytes with initializers replaced (same name; dtype from the array), extra graph
        outputs (name only: ONNX Runtime infers their type) and metadata entries set (None: removed)."""
        initializers = dict(initializers or {})
        graph = bytearray()
        for f in self._graph:
            name = _tensor_name(f.value) if f.number == _GRAPH_INIT else None
            if name is not None and name in initializers:
                graph += _bytes_field(_GRAPH_INIT, _encode_tensor(name, initializers.pop(name)))
            else:
                graph += f.raw
        if initializers:
            raise KeyError(f"no initializer named {sorted(initializers)[0]!r}")
        for name in outputs:
            graph += _bytes_field(_GRAPH_OUTPUT, _bytes_field(1, name.encode("utf-8")))
        metadata = dict(metadata or {})
        out = bytearray()
        for f in self._model:
            if f.number == _MODEL_GRAPH:
                out += _bytes_field(_MODEL_GRAPH, bytes(graph))
            elif f.number == _MODEL_METADATA and _entry_key(f.value) in metadata:
                continue  # set again below
            else:
                out += f.raw
        for key, value in metadata.items():
            if value is None:
                continue
            entry = _bytes_field(1, key.encode("utf-8")) + _bytes_field(2, value.encode("utf-8"))
            out += _bytes_field(_MODEL_METADATA, entry)
        return bytes(out)


def _node(buf: memoryview) -> Node:
    fields = _split(buf)
    ints: dict[str, int] = {}
    for f in fields:
        if f.number == _NODE_ATTR and isinstance(f.value, memoryview):
            attr = _split(f.value)
            name = next((_text(a.value) for a in attr if a.number == _ATTR_NAME), "")
            value = next((a.value for a in attr if a.number == _ATTR_I and a.wire == 0), None)
            if isinstance(value, int):
                ints[name] = _signed(value)
    return Node(
        op_type=next((_text(f.value) for f in fields if f.number == _NODE_OP), ""),
        name=next((_text(f.value) for f in fields if f.number == _NODE_NAME), ""),
        inputs=tuple(_text(f.value) for f in fields if f.number == _NODE_INPUT),
        outputs=tuple(_text(f.value) for f in fields if f.number == _NODE_OUTPUT),
        ints=ints,
    )


def _entry_key(value: memoryview | int) -> str | None:
    if not isinstance(value, memoryview):
        return None
    return next((_text(f.value) for f in _split(value) if f.number == 1), "")


def _tensor_name(value: memoryview | int) -> str:
    if not isinstance(value, memoryview):
        return ""
    return next((_text(f.value) for f in _split(value) if f.number == _T_NAME), "")


def _tensor_array(buf: memoryview) -> np.ndarray:
    fields = _split(buf)
    dims = tuple(_signed(d) for d in _packed_varints(fields, _T_DIMS))
    code = next((int(f.value) for f in fields if f.number == _T_TYPE and f.wire == 0), 0)
    if code not in _DTYPES:
        raise MalformedModel(f"tensor data type {code} is not one adaptation edits")
    dtype = np.dtype(_DTYPES[code]).newbyteorder("<")
    raw = next((f.value for f in fields if f.number == _T_RAW and isinstance(f.value, memoryview)), None)
    if raw is not None:
        flat = np.frombuffer(raw, dtype=dtype)
    elif code == 1:
        parts = [f.value for f in fields if f.number == _T_FLOAT]
        floats = b"".join(bytes(v) for v in parts if isinstance(v, memoryview))
        flat = np.frombuffer(floats, dtype="<f4")
    else:
        number = _T_INT64 if code == 7 else _T_INT32
        flat = np.array([_signed(v) for v in _packed_varints(fields, number)]).astype(dtype)
    count = int(np.prod(dims)) if dims else 1
    if flat.size != count:
        raise MalformedModel(f"tensor holds {flat.size} values for shape {dims}")
    return flat.astype(dtype.newbyteorder("="), copy=True).reshape(dims)


def _encode_tensor(name: str, array: np.ndarray) -> bytes:
    array = np.asarray(array)
    code = _CODES.get(array.dtype)
    if code is None:
        raise ValueError(f"cannot write a tensor of dtype {array.dtype}")
    out = bytearray()
    for d in array.shape:
        out += _key(_T_DIMS, 0) + _encode_varint(int(d))
    out += _key(_T_TYPE, 0) + _encode_varint(code)
    out += _bytes_field(_T_NAME, name.encode("utf-8"))
    out += _bytes_field(_T_RAW, np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<")).tobytes())
    return bytes(out)
