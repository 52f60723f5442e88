"""Static int8 quantization of an exported model (QDQ, per-channel), calibrated on training photos.

`python -m training.quantize --model models/X.onnx --calibration-data DIR --out models/X.int8.onnx`

ONNX Runtime's `quantize_static`: uint8 activations, int8 weights per output channel, QDQ format, and
`reduce_range` (7-bit weights) on CPUs without VNNI, where 8-bit products can saturate the AVX2 kernels.
The `image` input stays uint8 and `probabilities` stays float32, so the file still follows the contract;
its metadata is copied and `corroscope.quantization` (JSON) says how it was made. A dataset folder with
`train.txt` is calibrated on its training photos only; any other folder on all its photos.
"""

from __future__ import annotations

import argparse
import json
import logging
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from app.core import contract
from app.core.errors import CorroscopeError, ExportError
from app.core.files import PASS_OVERWRITE, atomic_write, refuse_existing
from app.core.inference import network_input
from app.core.photos import find_images, read_image
from training.graph_rewrites import tensor_consumers, transpose_input_first

log = logging.getLogger("training.quantize")

KEY_QUANTIZATION = "corroscope.quantization"
DEFAULT_COUNT = 64
# The CLI's default: the first 8 convolutions (MobileNetV2's stem and blocks 1-3, at high resolution with
# few channels) stay float. All-int8 lost 0.68 points of corrosion IoU on the shipped network; with these
# float (and the input's normalisation float, see `_float_head`), every IoU stayed within 0.5 points at
# almost all-int8 speed (docs/performance.md has the variants).
DEFAULT_FLOAT_FIRST = 8
METHODS = ("minmax", "entropy", "percentile")
# Where the float head and tail end: the ops that carry weights and are worth quantizing.
_WEIGHTED_OPS = ("Conv", "ConvTranspose", "MatMul", "Gemm")


@dataclass(frozen=True)
class QuantizeReport:
    path: Path
    source: Path
    calibration_photos: int
    calibration_source: str
    method: str
    per_channel: bool
    reduce_range: bool
    float_convolutions: list[str]
    argmax_agreement: float  # percent of pixels where int8 and float pick the same class
    check_photos: int
    seconds: float


def cpu_has_vnni() -> bool:
    """True when the CPU has AVX-512 VNNI or AVX-VNNI (Linux: /proc/cpuinfo; elsewhere assume not)."""
    try:
        flags = Path("/proc/cpuinfo").read_text(encoding="ascii", errors="ignore")
    except OSError:
        return False
    return any(f in flags.split() for f in ("avx512_vnni", "avx_vnni", "avx512vnni"))


def calibration_paths(
    folder: Path, count: int = DEFAULT_COUNT, ids: Sequence[str] | None = None
) -> tuple[list[Path], list[Path], str]:
    """(calibration photos, held-out photos for the check, a description of the source).

    A dataset folder (`training.data` layout) with `train.txt`/`val.txt` gives its training photos for
    calibration and its validation photos for the check; any other folder gives its photos for both.
    """
    held_out: list[Path] = []
    try:
        from training import data

        pairs = {p.id: p.image for p in data.find_pairs(folder)}
        if ids is not None:
            photos, source = [pairs[i] for i in ids if i in pairs], f"{folder} (listed ids)"
        elif (folder / "train.txt").is_file():
            split = data.read_split_lists(folder, list(pairs))
            photos = [pairs[i] for i in split.train]
            held_out = [pairs[i] for i in split.val]
            source = f"{folder} (train.txt)"
        else:
            photos, source = list(pairs.values()), str(folder)
    except CorroscopeError:
        photos, source = find_images([folder], recursive=True), str(folder)
    if not photos:
        raise ExportError(f"no photos found in {folder} for calibration")
    return _evenly(photos, count), _evenly(held_out or photos, max(1, count // 4)), source


def _evenly(items: list[Path], count: int) -> list[Path]:
    if len(items) <= count:
        return list(items)
    step = len(items) / count
    return [items[int(i * step)] for i in range(count)]


def load_batch(paths: Sequence[Path], input_size: tuple[int, int]) -> np.ndarray:
    """uint8 [N, H, W, 3] photos at the model's input, read and resized exactly as the app's resize mode."""
    h, w = input_size
    out = np.empty((len(paths), h, w, 3), dtype=np.uint8)
    for i, path in enumerate(paths):
        out[i] = network_input(read_image(path), input_size)
    return out


class _Reader:
    """ONNX Runtime's CalibrationDataReader protocol over photos already in memory."""

    def __init__(self, input_name: str, photos: np.ndarray) -> None:
        self._feeds = iter([{input_name: photos[i : i + 1]} for i in range(len(photos))])

    def get_next(self) -> dict[str, np.ndarray] | None:
        return next(self._feeds, None)


def quantize_model(
    model: Path,
    calibration_data: Path,
    out: Path,
    count: int = DEFAULT_COUNT,
    method: str = "minmax",
    reduce_range: bool | None = None,
    per_channel: bool = True,
    overwrite: bool = False,
    ids: Sequence[str] | None = None,
    float_first: int = 0,
    float_last: int = 0,
    metrics: dict | None = None,
) -> QuantizeReport:
    """Quantize `model` into `out` (written only when everything worked); `reduce_range` None: no VNNI.

    `float_first`/`float_last`: that many convolutions nearest the input / the output stay float.
    `metrics`: this int8 file's own evaluation for `corroscope.metrics`; without it the float model's figures
    would be copied, so they are dropped and `corroscope.quantization` points to the float file instead.
    Long because every step shares the temporary folder and the float model."""
    import onnx
    import onnxruntime as ort
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    from app.core.model import SegmentationModel

    start = time.perf_counter()
    model, out = Path(model), Path(out)
    refuse_existing(out, overwrite=overwrite, how=PASS_OVERWRITE)
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    float_model = SegmentationModel.load(model, device="cpu")  # contract check of the source
    reduce_range = (not cpu_has_vnni()) if reduce_range is None else reduce_range
    calib_paths, check_paths, source = calibration_paths(Path(calibration_data), count, ids)
    calib = load_batch(calib_paths, float_model.input_size)
    calib_method = {
        "minmax": CalibrationMethod.MinMax,
        "entropy": CalibrationMethod.Entropy,
        "percentile": CalibrationMethod.Percentile,
    }[method]

    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="corroscope-quant-") as tmp_dir:
        tmp = Path(tmp_dir)
        prepped = tmp / "prepped.onnx"
        # ONNX shape inference suffices (exports have static H, W); symbolic inference would need sympy.
        quant_pre_process(str(model), str(prepped), skip_symbolic_shape=True)
        graph, rewritten = _prepare_graph(prepped)
        tail = _float_tail(graph) + _float_head(graph) + _broadcast_muls(graph)
        kept = _end_convolutions(graph, float_first, float_last)
        quantized = tmp / "int8.onnx"
        quantize_static(
            str(prepped),
            str(quantized),
            _Reader(contract.INPUT_NAME, calib),
            quant_format=QuantFormat.QDQ,
            per_channel=per_channel,
            reduce_range=reduce_range,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            calibrate_method=calib_method,
            nodes_to_exclude=tail + kept,
            extra_options={"ActivationSymmetric": False, "WeightSymmetric": True},
        )
        proto = onnx.load(str(quantized))
        source_proto = onnx.load(str(model), load_external_data=False)
        info = {
            "method": "static QDQ (onnxruntime.quantization.quantize_static)",
            "activations": "uint8",
            "weights": "int8 per channel" if per_channel else "int8 per tensor",
            "reduce_range": reduce_range,
            "float_tail": len(tail),
            "input_transpose_first": rewritten,
            "float_convolutions": kept,
            "calibration": {"method": method, "photos": len(calib_paths), "source": source},
            "float_model_sha256": float_model.sha256,
            "onnxruntime": ort.__version__,
            "machine": platform.machine(),
        }
        _copy_metadata(source_proto, proto, info, metrics)
        proto.producer_name = "corroscope.training.quantize"
        final = tmp / "final.onnx"
        onnx.save(proto, str(final))
        int8_model = SegmentationModel.load(final, device="cpu")  # the app's own contract check
        check = load_batch(check_paths, float_model.input_size)
        agreement = argmax_agreement(float_model, int8_model, check)
        del int8_model
        with atomic_write(out, overwrite=overwrite) as fh, final.open("rb") as src:
            shutil.copyfileobj(src, fh)  # tmp may be on another file system: copy into out's folder
    log.info(
        "int8 model %s (float sha256 %s): argmax agreement with float %.3f %% on %d photos",
        out,
        float_model.short_sha,
        agreement,
        len(check_paths),
    )
    return QuantizeReport(
        path=out,
        source=model,
        calibration_photos=len(calib_paths),
        calibration_source=source,
        method=method,
        per_channel=per_channel,
        reduce_range=reduce_range,
        float_convolutions=kept,
        argmax_agreement=agreement,
        check_photos=len(check_paths),
        seconds=time.perf_counter() - start,
    )


def _prepare_graph(path: Path):
    """Rewrites the model at `path` in place: the input's Transpose goes before its normalisation (exact,
    `training.graph_rewrites`), and every unnamed node gets a name (the quantizer excludes nodes by name).
    Returns the graph and whether the input was rewritten."""
    import onnx

    proto = onnx.load(str(path))
    rewritten = transpose_input_first(proto)
    for i, node in enumerate(proto.graph.node):
        if not node.name:
            node.name = f"{node.op_type}_{i}"
    onnx.save(proto, str(path))
    return proto.graph, rewritten


def _float_head(graph) -> list[str]:
    """Names of the nodes between the input and the first convolutions (cast, transpose, normalisation):
    left in float. Quantized, ONNX Runtime runs the normalisation as QLinearMul/QLinearAdd on a slow
    broadcast path (~3 ms at 256x256), and the photo is exact in float anyway."""
    consumers = tensor_consumers(graph)
    head: list[str] = []
    weights = {init.name for init in graph.initializer}  # older files list initializers as inputs too
    frontier = [inp.name for inp in graph.input if inp.name not in weights]
    while frontier:
        for node in consumers.get(frontier.pop(), []):
            if node.op_type in _WEIGHTED_OPS or node.name in head:
                continue
            head.append(node.name)
            frontier.extend(node.output)
    return head


def _broadcast_muls(graph) -> list[str]:
    """Names of `Mul` nodes that broadcast a tensor by multiplying it with a `ConstantOfShape` (tf2onnx's
    export of the ASPP image-pooling branch): float, because QLinearMul's broadcast is slow and the
    product is exact."""
    producer = {out: node for node in graph.node for out in node.output}
    return [
        node.name
        for node in graph.node
        if node.op_type == "Mul"
        and any(getattr(producer.get(name), "op_type", None) == "ConstantOfShape" for name in node.input)
    ]


def _float_tail(graph) -> list[str]:
    """Names of the nodes after the last convolution on the way to any output (the final resize, softmax,
    and the argmax behind `labels`): left in float, so probabilities keep full precision instead of 1/255
    steps and ties. Every output counts: one quantizable consumer (ArgMax) of the softmax is enough for
    the quantizer to put a QDQ pair on the probabilities."""
    producer = {out: node for node in graph.node for out in node.output}
    tail: list[str] = []
    frontier = [out.name for out in graph.output]
    while frontier:
        node = producer.get(frontier.pop())
        if node is None or node.op_type in _WEIGHTED_OPS or node.name in tail:
            continue
        tail.append(node.name)
        frontier.extend(i for i in node.input if i in producer)
    return tail


def _end_convolutions(graph, first: int, last: int) -> list[str]:
    """Names of the first `first` and the last `last` convolutions in the graph's (topological) order."""
    convs = [n.name for n in graph.node if n.op_type in ("Conv", "ConvTranspose")]
    head = convs[: max(first, 0)]
    return head + [c for c in convs[len(convs) - max(last, 0) :] if c not in head]


def _copy_metadata(source, target, info: dict, metrics: dict | None = None) -> None:
    """The float model's `metadata_props` but its figures (`metrics` instead, when given), plus
    `corroscope.quantization`: a model's figures describe that file, never another."""
    meta = {
        p.key: p.value for p in source.metadata_props if p.key not in (KEY_QUANTIZATION, contract.KEY_METRICS)
    }
    if metrics is not None:
        meta[contract.KEY_METRICS] = json.dumps(metrics, sort_keys=True)
    meta[KEY_QUANTIZATION] = json.dumps(info, sort_keys=True)
    del target.metadata_props[:]
    for key, value in meta.items():
        entry = target.metadata_props.add()
        entry.key, entry.value = key, value


def argmax_agreement(a, b, photos: np.ndarray, batch: int = 4) -> float:
    """Percent of pixels where two `SegmentationModel`s pick the same class on the same photos."""
    same = total = 0
    for i in range(0, len(photos), batch):
        part = photos[i : i + batch]
        la, lb = a.predict(part).argmax(-1), b.predict(part).argmax(-1)
        same += int(np.count_nonzero(la == lb))
        total += la.size
    return 100.0 * same / total if total else 0.0


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m training.quantize", description=__doc__.splitlines()[0])
    p.add_argument("--model", required=True, type=Path, help="float ONNX model that follows the contract")
    p.add_argument("--calibration-data", required=True, type=Path, help="dataset folder or folder of photos")
    p.add_argument("--out", required=True, type=Path, help="int8 ONNX file to write")
    p.add_argument("--count", type=int, default=DEFAULT_COUNT, help="calibration photos")
    p.add_argument("--method", choices=METHODS, default="minmax", help="calibration method (default minmax)")
    rr = p.add_mutually_exclusive_group()
    rr.add_argument(
        "--reduce-range",
        dest="reduce_range",
        action="store_true",
        default=None,
        help="7-bit weights (default: on when the CPU has no VNNI)",
    )
    rr.add_argument("--no-reduce-range", dest="reduce_range", action="store_false")
    p.add_argument("--per-tensor", action="store_true", help="one scale per weight tensor")
    p.add_argument(
        "--float-first",
        type=int,
        default=DEFAULT_FLOAT_FIRST,
        help=f"convolutions at the input kept float (default {DEFAULT_FLOAT_FIRST})",
    )
    p.add_argument("--float-last", type=int, default=0, help="convolutions at the output kept float")
    p.add_argument("--metrics", type=Path, help="this int8 file's evaluation JSON, for corroscope.metrics")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
    p.add_argument("--report", type=Path, help="write the figures to this JSON file")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        metrics = json.loads(args.metrics.read_text(encoding="utf-8")) if args.metrics else None
        report = quantize_model(
            args.model,
            args.calibration_data,
            args.out,
            args.count,
            args.method,
            args.reduce_range,
            not args.per_tensor,
            args.overwrite,
            float_first=args.float_first,
            float_last=args.float_last,
            metrics=metrics,
        )
    except (CorroscopeError, ValueError, OSError) as exc:
        print(f"quantize failed: {exc}", file=sys.stderr)
        return 1
    summary = {k: str(v) if isinstance(v, Path) else v for k, v in asdict(report).items()}
    print(json.dumps(summary, indent=2))
    if args.report:
        args.report.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
