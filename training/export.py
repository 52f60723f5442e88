"""Export a trained Keras model to an ONNX file that follows the model contract (docs/design.md section 4).

`python -m training.export --model runs/NAME/best.keras --out models/X.onnx [--metrics eval.json]
[--parity-data DIR]`: uint8 NHWC input `image` (dynamic batch, training size), float32 `probabilities`
and uint8 `labels` outputs, contract metadata, `onnx.checker`, then a parity check of Keras against ONNX
Runtime that fails the export (nothing written) below 99.9 % argmax agreement, and a final load through
`app.core.model.SegmentationModel`.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from app.core import contract
from app.core.errors import CorroscopeError, ExportError
from app.core.files import PASS_OVERWRITE, new_file_mode, refuse_existing
from app.core.palette import DEFAULT_CLASSES, ClassInfo, classes_from_json, classes_to_json

log = logging.getLogger(__name__)

OPSET = 17
MIN_AGREEMENT = 99.9  # percent of pixels whose argmax class agrees between Keras and ONNX Runtime


class ParityError(ExportError):
    """Keras and the exported ONNX file disagree too much; nothing was written."""


@dataclass(frozen=True)
class ExportInfo:
    """What the contract's metadata says about the model."""

    architecture: str
    backbone: str
    trained_on: str
    classes: tuple[ClassInfo, ...] = DEFAULT_CLASSES
    metrics: dict | None = None


@dataclass(frozen=True)
class ParityReport:
    photos: int
    source: str  # the folder of real photos, or "synthetic"
    max_abs_diff: float  # largest |p_keras - p_onnx| over all pixels and classes
    mean_abs_diff: float
    argmax_agreement: float  # percent of pixels
    passed: bool


@dataclass(frozen=True)
class ExportResult:
    path: Path
    sha256: str
    input_size: tuple[int, int]
    parity: ParityReport
    seconds: float


def describe_model(model) -> tuple[str, str]:
    """(architecture, backbone) from the model's name, e.g. 'deeplabv3plus_mobilenetv2' or 'unet'."""
    arch, _, backbone = model.name.partition("_")
    return arch, backbone or "none"


def to_onnx(model, input_size: tuple[int, int], with_labels: bool = True):
    """The ONNX ModelProto: uint8 [N, H, W, 3] `image` -> `probabilities` (+ `labels`)."""
    import tensorflow as tf
    import tf2onnx

    h, w = input_size
    spec = tf.TensorSpec([None, h, w, 3], tf.uint8, name=contract.INPUT_NAME)

    @tf.function(input_signature=[spec])
    def serve(image):
        probs = tf.cast(model(tf.cast(image, tf.float32), training=False), tf.float32)
        out = {contract.PROBABILITIES_OUTPUT: probs}
        if with_labels:
            out[contract.LABELS_OUTPUT] = tf.cast(tf.argmax(probs, axis=-1), tf.uint8)
        return out

    from training.graph_rewrites import transpose_input_first

    proto, _ = tf2onnx.convert.from_function(serve, input_signature=[spec], opset=OPSET)
    transpose_input_first(proto)  # exact; the parity check below runs on the rewritten graph
    return proto


def add_metadata(proto, info: ExportInfo, input_size: tuple[int, int]) -> None:
    meta = {
        contract.KEY_CONTRACT: contract.CONTRACT_VERSION,
        contract.KEY_CLASSES: classes_to_json(info.classes),
        contract.KEY_INPUT_SIZE: contract.format_input_size(*input_size),
        contract.KEY_ARCHITECTURE: info.architecture,
        contract.KEY_BACKBONE: info.backbone,
        contract.KEY_TRAINED_ON: info.trained_on,
        contract.KEY_CREATED: datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    if info.metrics is not None:
        meta[contract.KEY_METRICS] = json.dumps(info.metrics, sort_keys=True)
    del proto.metadata_props[:]
    for key, value in meta.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    proto.producer_name = "corroscope.training.export"


def parity_photos(input_size: tuple[int, int], data: Path | None, count: int) -> tuple[np.ndarray, str]:
    """uint8 [N, H, W, 3] photos at the input size as the app feeds them: real ones from `data`, else
    synthetic."""
    h, w = input_size
    if data is not None:
        from app.core.inference import network_input
        from app.core.photos import find_images, read_image

        paths = find_images([data], recursive=True)[:count]
        if not paths:
            raise ExportError(f"no photos found in {data} for the parity check")
        photos = [network_input(read_image(p), input_size) for p in paths]
        return np.stack(photos), str(data)
    from app.core.synthetic import synthetic_pipe

    return np.stack([synthetic_pipe(seed, (h, w))[0] for seed in range(count)]), "synthetic"


def check_parity(model, onnx_path: Path, photos: np.ndarray, source: str, batch: int = 4) -> ParityReport:
    """Keras against ONNX Runtime (CPU) on the same uint8 photos; batches of `batch` and of 1."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    keras_parts, onnx_parts = [], []
    for i in range(0, len(photos), batch):
        part = photos[i : i + batch]
        keras_parts.append(np.asarray(model(part.astype(np.float32), training=False)))
        onnx_parts.append(session.run([contract.PROBABILITIES_OUTPUT], {contract.INPUT_NAME: part})[0])
    keras_probs, onnx_probs = np.concatenate(keras_parts), np.concatenate(onnx_parts)
    single = session.run([contract.PROBABILITIES_OUTPUT], {contract.INPUT_NAME: photos[:1]})[0]
    if onnx_probs.shape != keras_probs.shape or single.shape != keras_probs[:1].shape:
        raise ParityError(f"ONNX output shape {onnx_probs.shape} differs from Keras {keras_probs.shape}")
    diff = np.abs(onnx_probs - keras_probs)
    diff = np.maximum(diff, np.abs(np.concatenate([single, onnx_probs[1:]]) - keras_probs))
    agreement = 100.0 * float((onnx_probs.argmax(-1) == keras_probs.argmax(-1)).mean())
    return ParityReport(
        photos=len(photos),
        source=source,
        max_abs_diff=float(diff.max()),
        mean_abs_diff=float(diff.mean()),
        argmax_agreement=agreement,
        passed=agreement >= MIN_AGREEMENT,
    )


def export_model(
    model,
    out: Path,
    info: ExportInfo,
    input_size: tuple[int, int] | None = None,
    parity_data: Path | None = None,
    parity_count: int = 8,
    overwrite: bool = False,
    with_labels: bool = True,
) -> ExportResult:
    """Convert, check, compare and validate; the file appears at `out` only when everything passed."""
    import onnx

    from app.core.model import SegmentationModel
    from training.models import rebuild

    start = time.perf_counter()
    out = Path(out)
    refuse_existing(out, overwrite=overwrite, how=PASS_OVERWRITE)
    input_size = input_size or _static_size(model)
    num_classes = int(model.output_shape[-1])
    if num_classes != len(info.classes):
        raise ExportError(f"model has {num_classes} output classes but {len(info.classes)} classes are named")
    # A float32 copy at the export size: models are often trained on smaller crops, and ONNX Runtime's
    # CPU kernels want float32 where training used mixed precision.
    model = rebuild(model, (*input_size, 3), float32=True)
    proto = to_onnx(model, input_size, with_labels)
    add_metadata(proto, info, input_size)
    onnx.checker.check_model(proto, full_check=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{out.stem}-", suffix=".onnx", dir=out.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        tmp.write_bytes(proto.SerializeToString())
        photos, source = parity_photos(input_size, parity_data, parity_count)
        parity = check_parity(model, tmp, photos, source)
        log.info(
            "parity on %d %s photos: max |dp| %.2e, argmax agreement %.3f %%",
            parity.photos,
            parity.source,
            parity.max_abs_diff,
            parity.argmax_agreement,
        )
        if not parity.passed:
            raise ParityError(
                f"Keras and ONNX Runtime agree on only {parity.argmax_agreement:.3f} % of pixels "
                f"(need {MIN_AGREEMENT} %; max probability difference {parity.max_abs_diff:.2e}); "
                "nothing was written"
            )
        loaded = SegmentationModel.load(tmp, device="cpu")  # the app's own contract check
        if loaded.input_size != input_size or loaded.num_classes != num_classes:
            raise ExportError(f"app.core reads {loaded.input_size}/{loaded.num_classes} classes back")
        os.chmod(tmp, new_file_mode())  # mkstemp makes 0600; give the mode a plain open() would
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    from app.core.files import sha256_file

    return ExportResult(out, sha256_file(out), input_size, parity, time.perf_counter() - start)


def _static_size(model) -> tuple[int, int]:
    h, w = model.input_shape[1:3]
    if h is None or w is None:
        raise ExportError("the model takes any size; give the training size with --input-size H,W")
    return int(h), int(w)


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m training.export", description=__doc__.splitlines()[0])
    p.add_argument("--model", required=True, type=Path, help="trained .keras file")
    p.add_argument("--out", required=True, type=Path, help="ONNX file to write")
    p.add_argument("--metrics", type=Path, help="evaluation JSON to embed as corroscope.metrics")
    p.add_argument("--parity-data", type=Path, help="folder of real photos for the parity check")
    p.add_argument("--parity-count", type=int, default=8, help="photos in the parity check (default 8)")
    p.add_argument(
        "--input-size",
        help="H,W of the exported input: the training photo size, not the crop (default: the model input)",
    )
    p.add_argument("--trained-on", default="unknown", help="what the model was trained on (free text)")
    p.add_argument("--architecture", help="override the architecture read from the model's name")
    p.add_argument("--backbone", help="override the backbone read from the model's name")
    p.add_argument("--classes", type=Path, help="JSON classes file (default: the 3 Corroscope classes)")
    p.add_argument("--no-labels", action="store_true", help="omit the optional uint8 'labels' output")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
    p.add_argument("--report", type=Path, help="write the export and parity figures to this JSON file")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        from training.models import load_model

        if not args.model.is_file():
            raise ExportError(f"model file {args.model} not found")
        model = load_model(args.model)
        arch, backbone = describe_model(model)
        metrics = json.loads(args.metrics.read_text(encoding="utf-8")) if args.metrics else None
        classes = (
            classes_from_json(args.classes.read_text(encoding="utf-8")) if args.classes else DEFAULT_CLASSES
        )
        info = ExportInfo(
            args.architecture or arch, args.backbone or backbone, args.trained_on, classes, metrics
        )
        size = contract.parse_input_size(args.input_size) if args.input_size else None
        result = export_model(
            model,
            args.out,
            info,
            size,
            args.parity_data,
            args.parity_count,
            args.overwrite,
            not args.no_labels,
        )
    except (CorroscopeError, ValueError, OSError) as exc:
        print(f"export failed: {exc}", file=sys.stderr)
        return 1
    summary = {**asdict(result), "path": str(result.path)}
    print(json.dumps(summary, indent=2))
    if args.report:
        args.report.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
