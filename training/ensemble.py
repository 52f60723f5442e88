"""Average several contract models into one ONNX file: its `probabilities` are the mean of theirs.

`python -m training.ensemble --models A.onnx B.onnx --out models/X.onnx --metrics eval/summary.json`
`python -m training.ensemble --extract 1 --models models/X.onnx --out B.onnx` takes a member back out.

The members must share the input size and the classes. Each keeps its own graph (names prefixed `m0/`,
`m1/`, ...) and reads the one `image` input; a `labels` output is the argmax of the mean. The file's
metadata is the first member's, with `corroscope.ensemble` listing the members (file name, SHA-256,
architecture) and `corroscope.metrics` only from `--metrics` (the members' figures are not the
ensemble's). Int8 members (from `training.quantize`) make an int8 ensemble: pass the float ensemble
they were quantized from as `--float-model`, so the file names it as an int8 variant does.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from app.core import contract
from app.core.errors import CorroscopeError
from app.core.files import PASS_OVERWRITE, atomic_write_bytes, refuse_existing
from app.core.model import SegmentationModel
from training.quantize import KEY_QUANTIZATION

log = logging.getLogger("training.ensemble")

KEY_ENSEMBLE = contract.KEY_ENSEMBLE
KEY_MEMBER_OF = "corroscope.member_of"  # on a member taken back out of an ensemble: which one, from where


def merge_models(paths: Sequence[Path], metrics: dict | None = None, float_model: Path | None = None):
    """The ensemble's ModelProto; raises CorroscopeError when the members do not fit together.
    Long because the graph surgery is one sequence of steps on the same protos."""
    import onnx
    from onnx import TensorProto, compose, helper, numpy_helper

    if len(paths) < 2:
        raise CorroscopeError("an ensemble needs at least two models")
    members = [SegmentationModel.load(Path(p), device="cpu") for p in paths]  # the contract check
    first = members[0]
    for m in members[1:]:
        if m.input_size != first.input_size or m.classes != first.classes:
            raise CorroscopeError(
                f"{m.path.name} does not fit {first.path.name}: input {m.input_size} vs {first.input_size}, "
                "or other classes"
            )
    quantized = [KEY_QUANTIZATION in m.metadata for m in members]
    if any(quantized) and not all(quantized):
        raise CorroscopeError("mix of int8 and float members: quantize every member or none")
    if all(quantized) and float_model is None:
        raise CorroscopeError("int8 members: name the float ensemble they come from with --float-model")

    protos = [onnx.load(str(m.path)) for m in members]
    nodes, inits, value_info, means = [], [], [], []
    opsets: dict[str, int] = {}
    for i, proto in enumerate(protos):
        for op in proto.opset_import:
            opsets[op.domain] = max(opsets.get(op.domain, 0), op.version)
        prefix = f"m{i}/"
        graph = compose.add_prefix(proto, prefix).graph
        wanted = _needed_nodes(graph, prefix + contract.PROBABILITIES_OUTPUT)
        kept = [node for index, node in enumerate(graph.node) if index in wanted]
        member_input = prefix + contract.INPUT_NAME
        for node in kept:
            node.input[:] = [contract.INPUT_NAME if n == member_input else n for n in node.input]
        nodes.extend(kept)
        kept_inits, kept_info = _parts_for(graph, kept)
        inits.extend(kept_inits)
        value_info.extend(kept_info)
        means.append(prefix + contract.PROBABILITIES_OUTPUT)

    h, w = first.input_size
    c = len(first.classes)
    inits.append(numpy_helper.from_array(np.float32([1.0 / len(members)]), "ensemble/weight"))
    nodes += [
        helper.make_node("Sum", means, ["ensemble/sum"], name="ensemble/sum"),
        helper.make_node(
            "Mul", ["ensemble/sum", "ensemble/weight"], [contract.PROBABILITIES_OUTPUT], name="ensemble/mean"
        ),
        *_labels_nodes("ensemble"),
    ]
    graph = helper.make_graph(
        nodes,
        "ensemble",
        [helper.make_tensor_value_info(contract.INPUT_NAME, TensorProto.UINT8, ["N", h, w, 3])],
        [
            helper.make_tensor_value_info(contract.PROBABILITIES_OUTPUT, TensorProto.FLOAT, ["N", h, w, c]),
            helper.make_tensor_value_info(contract.LABELS_OUTPUT, TensorProto.UINT8, ["N", h, w]),
        ],
        inits,
        value_info=value_info,
    )
    merged = helper.make_model(graph, opset_imports=[helper.make_opsetid(d, v) for d, v in opsets.items()])
    merged.ir_version = max(p.ir_version for p in protos)
    merged.producer_name = "corroscope.training.ensemble"
    _set_metadata(merged, members, metrics, float_model)
    onnx.checker.check_model(merged, full_check=True)
    return merged


def _labels_nodes(scope: str) -> list:
    """The contract's `labels` output: the argmax of `probabilities` as uint8."""
    from onnx import TensorProto, helper

    return [
        helper.make_node(
            "ArgMax",
            [contract.PROBABILITIES_OUTPUT],
            [f"{scope}/argmax"],
            axis=-1,
            keepdims=0,
            name=f"{scope}/argmax",
        ),
        helper.make_node(
            "Cast",
            [f"{scope}/argmax"],
            [contract.LABELS_OUTPUT],
            to=TensorProto.UINT8,
            name=f"{scope}/labels",
        ),
    ]


def _parts_for(graph, nodes) -> tuple[list, list]:
    """(initializers, value_info) of `graph` that `nodes` read or make."""
    used = {name for node in nodes for name in node.input}
    made = {name for node in nodes for name in node.output}
    inits = [init for init in graph.initializer if init.name in used]
    return inits, [v for v in graph.value_info if v.name in made]


def _needed_nodes(graph, output: str) -> set[int]:
    """Indices of the nodes `output` depends on (a member's `labels` branch is left out). By position:
    node names may be empty or repeated."""
    producer = {out: index for index, node in enumerate(graph.node) for out in node.output}
    needed: set[int] = set()
    frontier = [output]
    while frontier:
        index = producer.get(frontier.pop())
        if index is None or index in needed:
            continue
        needed.add(index)
        frontier.extend(graph.node[index].input)
    return needed


def _set_metadata(merged, members: list[SegmentationModel], metrics: dict | None, float_model: Path | None):
    dropped = (contract.KEY_METRICS, KEY_QUANTIZATION, KEY_MEMBER_OF)
    meta = {k: v for k, v in members[0].metadata.items() if k not in dropped}
    meta[contract.KEY_CREATED] = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    architectures = {m.metadata.get(contract.KEY_ARCHITECTURE) for m in members}
    if len(architectures) > 1:
        meta[contract.KEY_ARCHITECTURE] = "ensemble"
    meta[KEY_ENSEMBLE] = json.dumps(
        [
            {
                "file": m.path.name,
                "sha256": m.sha256,
                "architecture": m.metadata.get(contract.KEY_ARCHITECTURE),
                "backbone": m.metadata.get(contract.KEY_BACKBONE),
            }
            for m in members
        ]
    )
    if metrics is not None:
        meta[contract.KEY_METRICS] = json.dumps(metrics, sort_keys=True)
    if float_model is not None:
        made = [json.loads(m.metadata[KEY_QUANTIZATION]) for m in members]
        meta[KEY_QUANTIZATION] = json.dumps(
            {
                "method": "int8 members merged by training.ensemble",
                "float_model_sha256": SegmentationModel.load(float_model, device="cpu").sha256,
                "members": made,
            },
            sort_keys=True,
        )
    del merged.metadata_props[:]
    for key, value in meta.items():
        entry = merged.metadata_props.add()
        entry.key, entry.value = key, value


def extract_member(path: Path, index: int):
    """Member `index` of an ensemble file as a contract model of its own (the inverse of merge_models).

    Its graph is the member's as merged; its metadata is the ensemble's, less the ensemble's figures and
    member list, with the member's own file name and SHA-256 (from that list) under `corroscope.member_of`
    and, from an int8 ensemble, the member's own quantization record."""
    import onnx
    from onnx import helper

    ensemble = SegmentationModel.load(Path(path), device="cpu")
    listed = json.loads(ensemble.metadata.get(KEY_ENSEMBLE, "[]"))
    if not 0 <= index < len(listed):
        raise CorroscopeError(f"{ensemble.path.name} has {len(listed)} members; there is no member {index}")
    proto = onnx.load(str(ensemble.path))
    prefix = f"m{index}/"
    graph = proto.graph
    wanted = _needed_nodes(graph, prefix + contract.PROBABILITIES_OUTPUT)
    nodes = [node for i, node in enumerate(graph.node) if i in wanted]
    for node in nodes:
        node.output[:] = [
            contract.PROBABILITIES_OUTPUT if n == prefix + contract.PROBABILITIES_OUTPUT else n
            for n in node.output
        ]
    inits, value_info = _parts_for(graph, nodes)
    nodes += _labels_nodes("member")
    member = helper.make_graph(
        nodes, f"member{index}", list(graph.input), list(graph.output), inits, value_info=value_info
    )
    out = helper.make_model(member, opset_imports=list(proto.opset_import))
    out.ir_version = proto.ir_version
    out.producer_name = "corroscope.training.ensemble"
    meta = {k: v for k, v in ensemble.metadata.items() if k not in (KEY_ENSEMBLE, contract.KEY_METRICS)}
    meta[KEY_MEMBER_OF] = json.dumps({"ensemble_sha256": ensemble.sha256, "index": index, **listed[index]})
    if KEY_QUANTIZATION in meta:  # an int8 ensemble: the member gets its own quantization record back
        made = json.loads(meta[KEY_QUANTIZATION]).get("members", [])
        if index < len(made):
            meta[KEY_QUANTIZATION] = json.dumps(made[index], sort_keys=True)
    for key, value in meta.items():
        entry = out.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(out, full_check=True)
    return out


def _write_checked(proto, out: Path, overwrite: bool) -> SegmentationModel:
    """Write `proto` atomically once the app's contract check passes on a temporary copy."""
    out = Path(out)
    refuse_existing(out, overwrite=overwrite, how=PASS_OVERWRITE)
    data = proto.SerializeToString()
    with tempfile.TemporaryDirectory(prefix="corroscope-ensemble-") as tmp:
        check = Path(tmp) / out.name
        check.write_bytes(data)
        SegmentationModel.load(check, device="cpu")  # the app's own contract check, before `out` is touched
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(out, data, overwrite=overwrite)
    return SegmentationModel.load(out, device="cpu")


def write_ensemble(
    paths: Sequence[Path],
    out: Path,
    metrics: dict | None = None,
    float_model: Path | None = None,
    overwrite: bool = False,
) -> SegmentationModel:
    """Merge and write atomically; the written file is loaded back through the app's contract check."""
    refuse_existing(out, overwrite=overwrite, how=PASS_OVERWRITE)  # before the (slow) merge
    return _write_checked(merge_models(paths, metrics, float_model), out, overwrite)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    p = argparse.ArgumentParser(prog="python -m training.ensemble", description=__doc__.splitlines()[0])
    p.add_argument(
        "--models",
        required=True,
        nargs="+",
        type=Path,
        help="two or more contract .onnx files (with --extract: the one ensemble file)",
    )
    p.add_argument("--out", required=True, type=Path, help="ONNX file to write")
    p.add_argument("--metrics", type=Path, help="the ensemble's own evaluation JSON, for corroscope.metrics")
    p.add_argument("--float-model", type=Path, help="for int8 members: the float ensemble they approximate")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
    p.add_argument("--extract", type=int, metavar="INDEX", help="write member INDEX (from 0) of the ensemble")
    a = p.parse_args(argv)
    if a.extract is not None:
        if len(a.models) != 1:
            p.error("--extract takes exactly one --models file, the ensemble")
        try:
            model = _write_checked(extract_member(a.models[0], a.extract), a.out, a.overwrite)
        except (CorroscopeError, OSError, ValueError) as exc:
            log.error("%s", exc)
            return 2
        log.info("member %d of %s written to %s (sha256 %s)", a.extract, a.models[0], a.out, model.short_sha)
        return 0
    try:
        metrics = json.loads(a.metrics.read_text(encoding="utf-8")) if a.metrics else None
        model = write_ensemble(a.models, a.out, metrics, a.float_model, a.overwrite)
    except (CorroscopeError, OSError, ValueError) as exc:
        log.error("%s", exc)
        return 2
    log.info("ensemble of %d models written to %s (sha256 %s)", len(a.models), a.out, model.short_sha)
    return 0


if __name__ == "__main__":
    sys.exit(main())
