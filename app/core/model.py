"""The segmentation model: load an ONNX file, check the contract, run it on CPU or CUDA."""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import io
import json
import logging
import os
import re
import sys
from pathlib import Path
from typing import Any

import numpy as np

from app.core import contract
from app.core.errors import ModelContractError
from app.core.palette import ClassInfo, classes_from_json
from app.core.paths import models_dir

log = logging.getLogger(__name__)

DEVICES = ("auto", "cuda", "cpu")
CUDA_PROVIDER = "CUDAExecutionProvider"
CPU_PROVIDER = "CPUExecutionProvider"
_ORT_ERROR, _ORT_FATAL = 3, 4
INT8_SUFFIX = ".int8.onnx"  # the int8 variant of `<name>.onnx` (training.quantize)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def default_model_path(device: str = "auto") -> Path | None:
    """The bundled model: the first float `models/*.onnx` by name (also inside a frozen build), or None.

    Where its int8 variant `<name>.int8.onnx` is shipped beside it (made by `training.quantize`), that
    one runs on the CPU (`device` "cpu", or "auto" where CUDA cannot start): it is faster there (the
    shipped int8 file 38-44 ms against 70-78 ms at batch 1 on our CPU, docs/performance.md) and is shipped
    only when its validation IoU is within 0.5 points of float. CUDA runs the float file.
    """
    folder = models_dir()
    if not folder.is_dir():
        return None
    found = sorted(p for p in folder.glob("*.onnx") if p.is_file())
    floats = [p for p in found if not p.name.endswith(INT8_SUFFIX)]
    if not floats:
        return found[0] if found else None
    chosen = floats[0]
    int8 = chosen.with_name(chosen.name[: -len(".onnx")] + INT8_SUFFIX)
    if int8.is_file() and (device == "cpu" or (device == "auto" and not cuda_can_start())):
        return int8
    return chosen


def cuda_can_start() -> bool:
    """Whether ONNX Runtime lists CUDA and the NVIDIA driver and its CUDA provider library load."""
    import onnxruntime as ort

    if CUDA_PROVIDER not in ort.get_available_providers():
        return False
    try:
        ctypes.CDLL("nvcuda.dll" if sys.platform == "win32" else "libcuda.so.1")
        name = (
            "onnxruntime_providers_cuda.dll"
            if sys.platform == "win32"
            else "libonnxruntime_providers_cuda.so"
        )
        lib = Path(ort.__file__).parent / "capi" / name
        if lib.exists():
            ctypes.CDLL(str(lib))
    except OSError:
        return False
    return True


class SegmentationModel:
    """One ONNX file that follows the contract, with the one `InferenceSession` made for it."""

    def __init__(
        self,
        path: Path,
        session: Any,
        sha256: str,
        classes: tuple[ClassInfo, ...],
        input_size: tuple[int, int],
        metadata: dict[str, str],
        cuda_note: str | None,
    ) -> None:
        self.path = path
        self.sha256 = sha256
        self.classes = classes
        self.input_size = input_size
        self.metadata = dict(metadata)
        self.metrics = _parse_metrics(metadata.get(contract.KEY_METRICS))
        self.providers: tuple[str, ...] = tuple(session.get_providers())
        self.device = "CUDA" if CUDA_PROVIDER in self.providers else "CPU"
        self.cuda_note = cuda_note
        self._session = session
        inp = session.get_inputs()[0]
        self._input_name = inp.name
        batch_dim = inp.shape[0]
        self.max_batch: int | None = batch_dim if isinstance(batch_dim, int) and batch_dim > 0 else None

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def short_sha(self) -> str:
        return self.sha256[:12]

    @classmethod
    def load(
        cls, path: str | os.PathLike[str], device: str = "auto", threads: int | None = None
    ) -> SegmentationModel:
        """Load and validate `path`; raises `ModelContractError` saying what is wrong.

        `threads` caps ONNX Runtime's intra-op threads (None: its default, one per core), for engines
        that run several photos at once."""
        if device not in DEVICES:
            raise ValueError(f"device must be one of {DEVICES}, got {device!r}")
        path = Path(path)
        if not path.exists():
            raise ModelContractError(f"Model file not found: {path}")
        if not path.is_file():
            raise ModelContractError(f"Model path is not a file: {path}")
        if path.stat().st_size == 0:
            raise ModelContractError(f"Model file is empty (0 bytes): {path}")
        try:
            sha = file_sha256(path)
        except OSError as exc:
            raise ModelContractError(f"Cannot read model file {path}: {exc.strerror or exc}") from exc
        session, cuda_note = _make_session(path, device, threads)
        meta = dict(session.get_modelmeta().custom_metadata_map)
        classes, input_size = _check_contract(path, session, meta)
        model = cls(path, session, sha, classes, input_size, meta, cuda_note)
        log.info("loaded %s (sha256 %s) on %s", path.name, model.short_sha, model.device)
        return model

    def predict(self, batch: np.ndarray) -> np.ndarray:
        """uint8 NHWC RGB -> float32 NHWC probabilities (one channel per class)."""
        if batch.dtype != np.uint8 or batch.ndim != 4 or batch.shape[3] != 3:
            raise ValueError(f"batch must be uint8 NxHxWx3, got {batch.dtype} {batch.shape}")
        step = self.max_batch or len(batch)
        outs = []
        for start in range(0, len(batch), max(step, 1)):
            part = np.ascontiguousarray(batch[start : start + step])
            (probs,) = _run(self._session, self.path.name, self._input_name, part)
            outs.append(probs)
        probs = outs[0] if len(outs) == 1 else np.concatenate(outs, axis=0)
        expected = (*batch.shape[:3], self.num_classes)
        if probs.shape != expected:
            raise ModelContractError(
                f"{self.path.name}: output 'probabilities' has shape {probs.shape}, expected {expected}"
            )
        return probs.astype(np.float32, copy=False)

    def describe(self) -> str:
        """One line for status bars and logs."""
        return f"{self.path.name} (sha256 {self.short_sha}) on {self.device}"


def _parse_metrics(text: str | None) -> dict:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        log.warning("metadata %s is not valid JSON; ignored", contract.KEY_METRICS)
        return {}
    return value if isinstance(value, dict) else {"value": value}


def _make_session(path: Path, device: str, threads: int | None = None) -> tuple[Any, str | None]:
    import onnxruntime as ort

    want_cuda = device in ("auto", "cuda")
    available = ort.get_available_providers()
    providers = [CPU_PROVIDER]
    if want_cuda and CUDA_PROVIDER in available:
        providers.insert(0, CUDA_PROVIDER)
        if _driver_library() is not None:
            _preload_cuda_libraries(ort)
    options = ort.SessionOptions()
    # Keep the console clean: a failed CUDA load logs error lines; we report the reason ourselves.
    options.log_severity_level = _ORT_FATAL
    if threads is not None:
        options.intra_op_num_threads = max(1, threads)
        # Idle pool threads spin by default; beside other photos' decode and write they only steal cores.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    ort.set_default_logger_severity(_ORT_FATAL)
    try:
        session = ort.InferenceSession(str(path), sess_options=options, providers=providers)
    except Exception as exc:  # onnxruntime raises its own pybind exception types
        raise ModelContractError(f"{path.name} is not a usable ONNX model: {_first_line(exc)}") from exc
    finally:
        ort.set_default_logger_severity(_ORT_ERROR)
    running = session.get_providers()
    if not want_cuda:
        note: str | None = "CUDA not used: CPU was chosen"
    elif CUDA_PROVIDER in running:
        note = None
    elif CUDA_PROVIDER not in available:
        note = "CUDA not available: this onnxruntime build has no CUDA support"
    else:
        note = cuda_unavailable_reason()
    return session, note


_DRIVER = "nvcuda.dll" if sys.platform == "win32" else "libcuda.so.1"


def _driver_library() -> str | None:
    """The NVIDIA driver's library name if it loads, else None."""
    try:
        ctypes.CDLL(_DRIVER)
    except OSError:
        return None
    return _DRIVER


def _preload_cuda_libraries(ort: Any) -> None:
    """Let ONNX Runtime find CUDA/cuDNN installed as pip packages (nvidia-*); it prints, so hush it."""
    preload = getattr(ort, "preload_dlls", None)
    if preload is None:
        return
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            preload()
    except Exception as exc:  # a failed preload only means CUDA will not start; the session says why
        log.debug("onnxruntime.preload_dlls failed: %s", exc)


def cuda_unavailable_reason() -> str:
    """One line saying why ONNX Runtime's CUDA provider could not start on this machine."""
    if _driver_library() is None:
        return f"CUDA not available: no NVIDIA driver found ({_DRIVER})"
    try:
        import onnxruntime as ort

        capi = Path(ort.__file__).parent / "capi"
        name = (
            "onnxruntime_providers_cuda.dll"
            if sys.platform == "win32"
            else "libonnxruntime_providers_cuda.so"
        )
        lib = capi / name
        if lib.exists():
            ctypes.CDLL(str(lib))
    except OSError as exc:
        missing = str(exc).split(":")[0].strip() if ":" in str(exc) else str(exc)
        return f"CUDA libraries not found: {Path(missing).name}"
    return "CUDA provider failed to start (GPU busy or CUDA/cuDNN version mismatch)"


def _first_line(exc: BaseException) -> str:
    """ONNX Runtime's message without its codes and the repeated path."""
    lines = str(exc).strip().splitlines()
    line = lines[-1] if lines else type(exc).__name__
    line = re.sub(r"^(\[ONNXRuntimeError\]\s*:\s*)?\d+\s*:\s*[A-Z_]+\s*:\s*", "", line)
    line = re.sub(r"^Load model from .* failed:\s*", "", line)
    return line.strip() or type(exc).__name__


def _dims(shape: list) -> str:
    return "[" + ", ".join(str(d) if isinstance(d, int) else (d or "?") for d in shape) + "]"


def _check_contract(path: Path, session: Any, meta: dict[str, str]) -> tuple[tuple[ClassInfo, ...], tuple]:
    name = path.name
    missing = [k for k in contract.REQUIRED_KEYS if k not in meta]
    if missing:
        raise ModelContractError(
            f"{name} does not follow the Corroscope model contract: missing metadata "
            + ", ".join(repr(k) for k in missing)
            + " (see DESIGN.md section 4; training/export writes them)"
        )
    version = meta[contract.KEY_CONTRACT].strip()
    if version != contract.CONTRACT_VERSION:
        raise ModelContractError(
            f"{name} uses model contract version {version!r}; this Corroscope reads version "
            f"{contract.CONTRACT_VERSION!r}"
        )
    try:
        classes = classes_from_json(meta[contract.KEY_CLASSES])
    except ValueError as exc:
        raise ModelContractError(f"{name}: metadata {contract.KEY_CLASSES!r} is malformed: {exc}") from exc
    try:
        input_size = contract.parse_input_size(meta[contract.KEY_INPUT_SIZE])
    except ValueError as exc:
        raise ModelContractError(f"{name}: metadata {contract.KEY_INPUT_SIZE!r} is malformed: {exc}") from exc

    inputs = session.get_inputs()
    if len(inputs) != 1:
        raise ModelContractError(f"{name} has {len(inputs)} inputs; the contract wants one, 'image'")
    inp = inputs[0]
    if inp.type != "tensor(uint8)":
        raise ModelContractError(
            f"{name}: input {inp.name!r} is {inp.type}; the contract wants tensor(uint8)"
        )
    shape = list(inp.shape)
    if len(shape) != 4 or shape[3] != 3:
        raise ModelContractError(
            f"{name}: input {inp.name!r} has shape {_dims(shape)}; the contract wants NHWC [N, H, W, 3]"
        )
    for got, want, axis in ((shape[1], input_size[0], "height"), (shape[2], input_size[1], "width")):
        if isinstance(got, int) and got != want:
            raise ModelContractError(
                f"{name}: input {axis} is fixed at {got} but {contract.KEY_INPUT_SIZE!r} says {want}"
            )

    outputs = {o.name: o for o in session.get_outputs()}
    probs = outputs.get(contract.PROBABILITIES_OUTPUT)
    if probs is None:
        raise ModelContractError(
            f"{name} has no output named 'probabilities' (outputs: {', '.join(outputs) or 'none'})"
        )
    if probs.type != "tensor(float)":
        raise ModelContractError(
            f"{name}: output 'probabilities' is {probs.type}; the contract wants float32"
        )
    pshape = list(probs.shape)
    if len(pshape) != 4:
        raise ModelContractError(
            f"{name}: output 'probabilities' has shape {_dims(pshape)}; wants [N, H, W, C]"
        )
    channels = pshape[3]
    if not isinstance(channels, int):
        channels = _probe_channels(session, name, inp.name, input_size)
    if channels != len(classes):
        raise ModelContractError(
            f"{name}: output 'probabilities' has {channels} channels but {contract.KEY_CLASSES!r} "
            f"lists {len(classes)} classes"
        )
    return classes, input_size


def _probe_channels(session: Any, name: str, input_name: str, input_size: tuple[int, int]) -> int:
    """Run one blank image to learn the class count when the output shape does not say it."""
    blank = np.zeros((1, *input_size, 3), dtype=np.uint8)
    (probs,) = _run(session, name, input_name, blank)
    return int(probs.shape[-1])


def _run(session: Any, name: str, input_name: str, batch: np.ndarray) -> list:
    """`session.run` for the probabilities; ONNX Runtime's own errors become a `ModelContractError`."""
    try:
        return session.run([contract.PROBABILITIES_OUTPUT], {input_name: batch})
    except Exception as exc:  # onnxruntime raises its own pybind exception types
        raise ModelContractError(
            f"{name} failed to run on a {batch.shape} batch: {_first_line(exc)}"
        ) from exc
