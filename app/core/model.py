"""The segmentation model: load an ONNX file, check the contract, run it on CPU or CUDA."""

from __future__ import annotations

import contextlib
import ctypes
import functools
import hashlib
import io
import logging
import os
import stat
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from app.core import contract
from app.core.budget import (
    ENV_PREFIX,
    ModelBudget,
    Stopper,
    budget_error,
    call_within,
    is_memory_error,
    memory_error,
)
from app.core.errors import ModelBudgetError, ModelContractError
from app.core.expected_share import read_split
from app.core.meta_json import strict_json
from app.core.model_accuracy import ModelAccuracy, accuracy_line, check_accuracy
from app.core.model_check import check_contract, check_probabilities, ort_message, run_probabilities
from app.core.onnx_scan import MalformedModel, check_external_data, external_data_refs
from app.core.palette import ClassInfo
from app.core.paths import models_dir
from app.core.range_calibration import RangeCalibration, read_calibration
from app.core.text import safe_path, safe_text

log = logging.getLogger(__name__)

DEVICES = ("auto", "cuda", "cpu")
CUDA_PROVIDER = "CUDAExecutionProvider"
CPU_PROVIDER = "CPUExecutionProvider"
_ORT_ERROR, _ORT_FATAL = 3, 4
INT8_SUFFIX = ".int8.onnx"  # the int8 variant of `<name>.onnx` (training.quantize)
_MAX_MODEL_BYTES = 2**31 - 1  # protobuf's limit for one message
_ARENA_LOCK = threading.Lock()  # the env allocator is registered per session creation


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

    return CUDA_PROVIDER in ort.get_available_providers() and cuda_probe() is None


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
        budget: ModelBudget | None = None,
    ) -> None:
        self.path = path
        self.budget = budget or ModelBudget()
        self._name = safe_path(path.name)
        self._stalled: str | None = None  # why every later run is refused (a time budget ran out)
        self.sha256 = sha256
        self.classes = classes
        self.input_size = input_size
        self.metadata = dict(metadata)
        # The evaluation figures are optional: unreadable ones are set aside, and `metrics_note` says why.
        self.metrics, self.metrics_note = _parse_metrics(metadata.get(contract.KEY_METRICS))
        # The share's calibrated range and the measured error, written by training.model_figures; without a
        # calibration `range_note` says why the photos get no range. Implausible ones count as none, and
        # `accuracy_note` says why the figures were set aside.
        self.range_calibration: RangeCalibration | None
        self.range_calibration, self.range_note = read_calibration(metadata)
        self.accuracy: ModelAccuracy | None
        self.accuracy, self.accuracy_note = check_accuracy(metadata)
        # How the corrosion/asset split is painted (app.core.expected_share); its figures were measured so.
        self.split = read_split(metadata)
        self.providers: tuple[str, ...] = tuple(session.get_providers())
        self.device = "CUDA" if CUDA_PROVIDER in self.providers else "CPU"
        # The execution provider that runs the network (what records and reports name), e.g.
        # "CPUExecutionProvider"; `device` is the short word for people.
        self.provider = self.providers[0] if self.providers else CPU_PROVIDER
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
        cls,
        path: str | os.PathLike[str],
        device: str = "auto",
        budget: ModelBudget | None = None,
        threads: int | None = None,
    ) -> SegmentationModel:
        """Load and validate `path` within `budget` (default: `ModelBudget.from_env()`); raises
        `ModelContractError` saying what is wrong (`ModelBudgetError` for a budget that ran out).
        `threads` caps ONNX Runtime's intra-op threads (None: its default, one per core), for engines
        that run several photos at once."""
        if device not in DEVICES:
            raise ValueError(f"device must be one of {DEVICES}, got {device!r}")
        budget = budget or ModelBudget.from_env()
        deadline = time.monotonic() + budget.load_seconds
        path = Path(path)
        data = _read_model_file(path, budget)
        sha = hashlib.sha256(data).hexdigest()
        try:
            refs = external_data_refs(data)
        except MalformedModel as exc:
            raise ModelContractError(
                f"{safe_path(path.name)} is not a usable ONNX model: not an ONNX (protobuf) file ({exc})"
            ) from exc
        if refs:  # ONNX Runtime must read them relative to the file; checked first, whatever its version
            check_external_data(path, refs, budget.memory_bytes)
        # Without external data the session is made from the bytes just hashed and scanned: the file
        # cannot be swapped between the check and the load.
        source: bytes | str = str(path) if refs else data
        session, cuda_note = _make_session(path, source, device, budget, deadline, threads)
        del data, source
        meta = dict(session.get_modelmeta().custom_metadata_map)
        classes, input_size = check_contract(safe_path(path.name), session, meta, budget, deadline)
        try:
            read_split(meta)
        except ValueError as exc:  # its figures were measured with a split this version cannot draw
            raise ModelContractError(f"{safe_path(path.name)}: {exc}") from None
        model = cls(path, session, sha, classes, input_size, meta, cuda_note, budget)
        log.info("loaded %s (sha256 %s) on %s", model._name, model.short_sha, model.device)
        stated_range = model.range_note if contract.KEY_SHARE_RANGE in meta else None
        for note in (model.metrics_note, model.accuracy_note, stated_range):
            if note:
                log.warning("%s: %s", model._name, note)
        return model

    def predict(self, batch: np.ndarray, deadline: float | None = None) -> np.ndarray:
        """uint8 NHWC RGB -> float32 NHWC probabilities (one channel per class).

        Each run has `budget.run_seconds`, and none goes past `deadline` (a `time.monotonic()` value, the
        photo's budget); a run past either, or over the memory budget, raises `ModelBudgetError`."""
        if batch.dtype != np.uint8 or batch.ndim != 4 or batch.shape[3] != 3:
            raise ValueError(f"batch must be uint8 NxHxWx3, got {batch.dtype} {batch.shape}")
        if self._stalled:
            raise ModelBudgetError(self._stalled, "run")
        step = self.max_batch or len(batch)
        outs = []
        for start in range(0, len(batch), max(step, 1)):
            part = np.ascontiguousarray(batch[start : start + step])
            real = len(part)
            if self.max_batch and real < self.max_batch:  # a fixed batch runs whole: zeros, rows dropped
                part = _padded(part, self.max_batch)
            try:
                (probs,) = run_probabilities(
                    self._session, self._name, self._input_name, part, self.budget, deadline
                )
            except ModelBudgetError as exc:
                if exc.budget == "run":  # not "photo": a slow model on a huge photo may do the next one
                    self._stalled = f"{exc} (on an earlier run; every later run is refused: load it again)"
                raise
            outs.append(probs[:real])
        probs = outs[0] if len(outs) == 1 else np.concatenate(outs, axis=0)
        expected = (*batch.shape[:3], self.num_classes)
        if probs.shape != expected:
            raise ModelContractError(
                f"{self._name}: output 'probabilities' has shape {probs.shape}, expected {expected}"
            )
        check_probabilities(probs, self._name)
        return probs.astype(np.float32, copy=False)

    @property
    def accuracy_line(self) -> str:
        """The model's typical error in one line, or "accuracy unknown"."""
        return accuracy_line(self.accuracy, set_aside=self.accuracy_note is not None)

    @property
    def identity(self) -> str:
        """The file's name and the start of its SHA-256: which model, wherever it runs."""
        return f"{self._name} (sha256 {self.short_sha})"

    def describe(self) -> str:
        """One line for status bars and logs."""
        return f"{self.identity} on {self.device}"


def _padded(part: np.ndarray, size: int) -> np.ndarray:
    """`part` with blank images after it, `size` in all, in one array (a concatenation held the padding
    twice); `model_check` refused at load a fixed batch whose one run is over the memory budget."""
    out = np.zeros((size, *part.shape[1:]), np.uint8)
    out[: len(part)] = part
    return out


def _read_model_file(path: Path, budget: ModelBudget) -> bytes:
    """The model file's bytes: a regular file, not empty, within the memory budget (its weights must fit
    in memory to run, so a bigger file is refused before it is read); errors say which and why."""
    shown = safe_path(path)
    try:
        info = path.stat()
    except (FileNotFoundError, NotADirectoryError):
        raise ModelContractError(f"Model file not found: {shown}") from None
    except OSError as exc:  # a name too long, a loop of links: exists() raised them as a traceback
        raise ModelContractError(f"Cannot read model file {shown}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(info.st_mode):
        raise ModelContractError(f"Model path is not a file: {shown}")
    size = info.st_size
    if size == 0:
        raise ModelContractError(f"Model file is empty (0 bytes): {shown}")
    if size > _MAX_MODEL_BYTES:
        raise ModelContractError(
            f"Model file {shown} is {size / 2**30:.1f} GB, larger than an ONNX file can be (2 GB; bigger "
            f"models keep their weights in external data files)"
        )
    if size > budget.memory_bytes:
        raise ModelBudgetError(
            f"Model file {shown} is {size / 2**20:,.0f} MB, more than its memory budget of "
            f"{budget.memory_mb:,} MB; refused before reading it. Raise the budget with "
            f"{ENV_PREFIX}MEMORY_MB if the model is known to need it",
            "memory",
        )
    try:
        with open(path, "rb") as fh:
            return fh.read(_MAX_MODEL_BYTES + 1)
    except OSError as exc:
        raise ModelContractError(f"Cannot read model file {shown}: {exc.strerror or exc}") from exc


def _parse_metrics(text: str | None) -> tuple[dict, str | None]:
    """The evaluation figures (`corroscope.metrics`) and None; ({}, why) where they are unreadable (not
    JSON, nested too deeply, a NaN): they are optional, so the model still loads."""
    if not text:
        return {}, None
    try:
        value = strict_json(text)
    except ValueError as exc:
        return {}, f"the model's evaluation figures ({contract.KEY_METRICS}) are set aside: {safe_text(exc)}"
    return (value if isinstance(value, dict) else {"value": value}), None


def _make_session(
    path: Path,
    source: bytes | str,
    device: str,
    budget: ModelBudget,
    deadline: float,
    threads: int | None = None,
) -> tuple[Any, str | None]:
    import onnxruntime as ort

    want_cuda = device in ("auto", "cuda")
    available = ort.get_available_providers()
    providers: list = [CPU_PROVIDER]
    if want_cuda and CUDA_PROVIDER in available:
        providers.insert(0, (CUDA_PROVIDER, {"gpu_mem_limit": str(budget.memory_bytes)}))
        if _driver_loads():
            _preload_cuda_libraries(ort)
    options = _session_options(ort)
    if threads is not None:
        options.intra_op_num_threads = max(1, threads)
        # Idle pool threads spin by default; beside other photos' decode and write they only steal cores.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    name = safe_path(path.name)
    stopper = Stopper(lambda: options.set_load_cancellation_flag(True))
    ort.set_default_logger_severity(_ORT_FATAL)
    try:
        with _ARENA_LOCK:
            # This session's CPU arena, capped at the budget: an allocation past it fails, not the machine.
            memory = ort.OrtMemoryInfo(
                "Cpu", ort.OrtAllocatorType.ORT_ARENA_ALLOCATOR, 0, ort.OrtMemType.DEFAULT
            )
            arena = ort.OrtArenaCfg({"max_mem": budget.memory_bytes, "arena_extend_strategy": 1})
            ort.create_and_register_allocator(memory, arena)
            session = call_within(
                lambda: ort.InferenceSession(source, sess_options=options, providers=providers),
                stopper,
                deadline - time.monotonic(),
                lambda: budget_error(name, "load", budget.load_seconds),
            )
    except ModelBudgetError:
        raise
    except Exception as exc:  # onnxruntime raises its own pybind exception types
        if is_memory_error(str(exc)):
            raise memory_error(name, budget.memory_mb) from exc
        raise ModelContractError(f"{name} is not a usable ONNX model: {ort_message(exc)}") from exc
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


def _session_options(ort: Any) -> Any:
    options = ort.SessionOptions()
    # Keep the console clean: a failed CUDA load logs error lines; we report the reason ourselves.
    options.log_severity_level = _ORT_FATAL
    # Allocations come from the arena registered for this session, whose limit is the memory budget.
    options.add_session_config_entry("session.use_env_allocators", "1")
    # Nothing of an untrusted graph is computed while loading (constant folding would, outside any
    # arena, e.g. 1.5 GB for a 745-byte ConstantOfShape); at run time the same nodes are under the budget.
    # The shipped models lose no speed by it (docs/reliability.md).
    options.add_session_config_entry("optimization.disable_specified_optimizers", "ConstantFolding")
    return options


_DRIVER = "nvcuda.dll" if sys.platform == "win32" else "libcuda.so.1"
_CUDA_LIB = (
    "onnxruntime_providers_cuda.dll" if sys.platform == "win32" else "libonnxruntime_providers_cuda.so"
)


@functools.cache
def _driver_loads() -> bool:
    try:
        ctypes.CDLL(_DRIVER)
    except OSError:
        return False
    return True


@functools.cache
def cuda_probe() -> str | None:
    """Why CUDA cannot start here (no driver, or ONNX Runtime's CUDA provider library does not load), or
    None when both load. Probed once a process: loading the libraries is slow and their answer is fixed."""
    if not _driver_loads():
        return f"CUDA not available: no NVIDIA driver found ({_DRIVER})"
    try:
        import onnxruntime as ort

        lib = Path(ort.__file__).parent / "capi" / _CUDA_LIB
        if lib.exists():
            ctypes.CDLL(str(lib))
    except OSError as exc:
        missing = str(exc).split(":")[0].strip() if ":" in str(exc) else str(exc)
        return f"CUDA libraries not found: {Path(missing).name}"
    return None


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
    return cuda_probe() or "CUDA provider failed to start (GPU busy or CUDA/cuDNN version mismatch)"
