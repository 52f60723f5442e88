"""Find every tensor of an ONNX file that names external data, without the `onnx` package.

A minimal reader of the protobuf wire format walks the messages that can hold a tensor: the graph's
initializers and sparse initializers, node attributes (`Constant` values, tensor lists), subgraphs of
`If`/`Loop`/`Scan` (at any depth), model-local functions and their attribute defaults, and training
graphs. Everything else (raw weights included) is skipped without being copied.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path, PureWindowsPath

from app.core.errors import ModelContractError
from app.core.text import safe_path, safe_repr, safe_text

# Field numbers from onnx.proto (ONNX IR version 10).
_MODEL_GRAPH, _MODEL_TRAINING, _MODEL_FUNCTIONS = 7, 20, 25
_GRAPH_NODE, _GRAPH_INIT, _GRAPH_SPARSE_INIT = 1, 5, 15
_NODE_ATTRIBUTE = 5
_ATTR_T, _ATTR_G, _ATTR_TENSORS, _ATTR_GRAPHS, _ATTR_SPARSE, _ATTR_SPARSES = 5, 6, 10, 11, 22, 23
_TENSOR_NAME, _TENSOR_EXTERNAL, _TENSOR_LOCATION = 8, 13, 14
_SPARSE_VALUES, _SPARSE_INDICES = 1, 2
_FUNCTION_NODE, _FUNCTION_ATTRIBUTE = 7, 11
_TRAINING_INIT, _TRAINING_ALGORITHM = 1, 2
_EXTERNAL = 1  # TensorProto.DataLocation.EXTERNAL

_MODEL, _GRAPH, _NODE, _ATTR, _TENSOR, _SPARSE, _FUNCTION, _TRAINING = range(8)
# kind -> {field number: kind of the sub-message}; fields not listed are skipped.
_CHILDREN: dict[int, dict[int, int]] = {
    _MODEL: {_MODEL_GRAPH: _GRAPH, _MODEL_TRAINING: _TRAINING, _MODEL_FUNCTIONS: _FUNCTION},
    _GRAPH: {_GRAPH_NODE: _NODE, _GRAPH_INIT: _TENSOR, _GRAPH_SPARSE_INIT: _SPARSE},
    _NODE: {_NODE_ATTRIBUTE: _ATTR},
    _ATTR: {
        _ATTR_T: _TENSOR,
        _ATTR_G: _GRAPH,
        _ATTR_TENSORS: _TENSOR,
        _ATTR_GRAPHS: _GRAPH,
        _ATTR_SPARSE: _SPARSE,
        _ATTR_SPARSES: _SPARSE,
    },
    _SPARSE: {_SPARSE_VALUES: _TENSOR, _SPARSE_INDICES: _TENSOR},
    _FUNCTION: {_FUNCTION_NODE: _NODE, _FUNCTION_ATTRIBUTE: _ATTR},
    _TRAINING: {_TRAINING_INIT: _GRAPH, _TRAINING_ALGORITHM: _GRAPH},
}
_MAX_MESSAGES = 5_000_000  # far above any real model; bounds the work a crafted file can ask for


class MalformedModel(ValueError):
    """The bytes are not a protobuf message of the ONNX layout."""


@dataclass(frozen=True)
class ExternalRef:
    """One tensor whose data lives in another file: its name and the `external_data` entries."""

    tensor: str
    entries: tuple[tuple[str, str], ...]

    @property
    def location(self) -> str | None:
        return dict(self.entries).get("location")

    def number(self, key: str) -> int | None:
        """`offset` or `length` as an int, None when absent; MalformedModel when not a number."""
        text = dict(self.entries).get(key)
        if text is None:
            return None
        try:
            value = int(text)
        except ValueError:
            raise MalformedModel(
                f"external data {key} of tensor {safe_repr(self.tensor)} is not a number"
            ) from None
        if value < 0:
            raise MalformedModel(f"external data {key} of tensor {safe_repr(self.tensor)} is negative")
        return value


def _varint(buf: memoryview, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(buf):
            raise MalformedModel("truncated varint")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise MalformedModel("varint longer than 10 bytes")


def _fields(buf: memoryview):
    """(field number, wire type, value) of one message; value is an int or a memoryview (wire type 2)."""
    pos, end = 0, len(buf)
    while pos < end:
        key, pos = _varint(buf, pos)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise MalformedModel("field number 0")
        if wire == 0:
            value, pos = _varint(buf, pos)
        elif wire == 2:
            size, pos = _varint(buf, pos)
            if pos + size > end:
                raise MalformedModel("a field runs past the end of its message")
            value, pos = buf[pos : pos + size], pos + size
        elif wire in (1, 5):
            step = 8 if wire == 1 else 4
            if pos + step > end:
                raise MalformedModel("truncated fixed-size field")
            value, pos = 0, pos + step
        else:
            raise MalformedModel(f"unsupported wire type {wire}")
        yield number, wire, value


def _text(value: memoryview) -> str:
    return bytes(value).decode("utf-8", errors="replace")


def _tensor(buf: memoryview) -> ExternalRef | None:
    name, location, entries = "", 0, []
    for number, wire, value in _fields(buf):
        if number == _TENSOR_NAME and wire == 2:
            name = _text(value)
        elif number == _TENSOR_LOCATION and wire == 0:
            location = value
        elif number == _TENSOR_EXTERNAL and wire == 2:
            entry = {n: _text(v) for n, w, v in _fields(value) if w == 2 and n in (1, 2)}
            entries.append((entry.get(1, ""), entry.get(2, "")))
    if location == _EXTERNAL or entries:
        return ExternalRef(name, tuple(entries))
    return None


def external_data_refs(data: bytes | memoryview) -> list[ExternalRef]:
    """Every tensor in the serialized ModelProto `data` that has external data (data_location EXTERNAL
    or `external_data` entries), in file order; raises MalformedModel for bytes that are not a model."""
    found: list[ExternalRef] = []
    stack: list[tuple[int, memoryview]] = [(_MODEL, memoryview(data))]
    seen = 0
    while stack:
        kind, buf = stack.pop()
        seen += 1
        if seen > _MAX_MESSAGES:
            raise MalformedModel("too many nested messages")
        if kind == _TENSOR:
            ref = _tensor(buf)
            if ref is not None:
                found.append(ref)
            continue
        children = _CHILDREN[kind]
        subs = [(children[n], v) for n, w, v in _fields(buf) if w == 2 and n in children]
        stack.extend(reversed(subs))
    return found


_ORT_MEMORY_MARKER = "_ORT_MEM_ADDR_"  # ONNX Runtime reads such a "location" from process memory


def check_external_data(model_path: Path, refs: list[ExternalRef], max_bytes: int) -> None:
    """Refuse external data that is not a regular file inside the model's own folder (symlinks resolved),
    or that adds up to more than `max_bytes`; raises ModelContractError naming the tensor and the path."""
    folder = model_path.parent.resolve()
    name = safe_path(model_path.name)
    total = 0
    for ref in refs:
        where = f"{name}: tensor {safe_repr(ref.tensor)} reads external data"
        location = ref.location
        if not location or "\x00" in location or _ORT_MEMORY_MARKER in location:
            raise ModelContractError(f"{where} from an invalid location {safe_repr(location or '')}; refused")
        if _is_absolute(location):
            raise ModelContractError(
                f"{where} from the absolute path {safe_repr(location)}; external data must be a file in "
                f"the model's own folder, refused"
            )
        if ".." in re.split(r"[\\/]", location):
            raise ModelContractError(
                f"{where} from {safe_repr(location)}, outside the model's folder ('..'); refused"
            )
        target = (model_path.parent / location).resolve()
        if not target.is_relative_to(folder):
            raise ModelContractError(
                f"{where} from {safe_repr(location)}, which leads outside the model's folder (to "
                f"{safe_path(target)}, through a symbolic link); refused"
            )
        try:
            info = target.stat()
        except OSError as exc:
            raise ModelContractError(
                f"{where} from {safe_repr(location)}, which cannot be read: {exc.strerror or exc}"
            ) from exc
        if not stat.S_ISREG(info.st_mode):
            raise ModelContractError(
                f"{where} from {safe_repr(location)}, which is not a regular file; refused"
            )
        try:
            offset, length = ref.number("offset") or 0, ref.number("length")
        except MalformedModel as exc:
            raise ModelContractError(f"{name}: {safe_text(exc)}") from exc
        length = info.st_size - offset if length is None else length
        if offset + length > info.st_size:
            raise ModelContractError(f"{where} past the end of {safe_repr(location)}; refused")
        total += length
    if total > max_bytes:
        raise ModelContractError(
            f"{name}: its external data is {total / 2**20:,.0f} MB, over the memory budget of "
            f"{max_bytes / 2**20:,.0f} MB; refused"
        )


def _is_absolute(location: str) -> bool:
    """Absolute on this system or on Windows (drive letters, UNC, rooted), whichever runs the model."""
    return (
        os.path.isabs(location)
        or PureWindowsPath(location).is_absolute()
        or bool(PureWindowsPath(location).drive)
        or location.startswith(("/", "\\"))
    )
