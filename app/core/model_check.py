"""The model contract checked on a loaded session, the one guarded way to run it, and the check of what
every run returns.

Every name and value quoted from the model (metadata, input and output names, ONNX Runtime's messages
about its nodes) goes through `app.core.text`, so a hostile model cannot write escape sequences or
megabytes into a message.
"""

from __future__ import annotations

import re
import time
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
from app.core.palette import ClassInfo, classes_from_json
from app.core.text import safe_repr, safe_text

MAX_CLASSES = 128  # cv2.resize, which upsamples the probabilities, takes at most 128 channels
# Probabilities must be softmax: finite, in [0, 1], summing to 1 per pixel. The shipped float and int8
# models sum to 1 within 3e-7; logits or a broken softmax are off by far more.
_PROB_SUM_TOLERANCE = 1e-2
_PROB_RANGE_TOLERANCE = 1e-3


def ort_message(exc: BaseException) -> str:
    """ONNX Runtime's message without its codes and the repeated path (escaped and cut: it quotes names
    from inside the model)."""
    lines = str(exc).strip().splitlines()
    line = lines[-1] if lines else type(exc).__name__
    line = re.sub(r"^(\[ONNXRuntimeError\]\s*:\s*)?\d+\s*:\s*[A-Z_]+\s*:\s*", "", line)
    line = re.sub(r"^Load model from .* failed:\s*", "", line)
    return safe_text(line.strip() or type(exc).__name__, 300)


def _dims(shape: list) -> str:
    return "[" + ", ".join(str(d) if isinstance(d, int) else safe_text(d or "?", 40) for d in shape) + "]"


def _metadata(name: str, meta: dict[str, str]) -> tuple[tuple[ClassInfo, ...], tuple[int, int]]:
    missing = [k for k in contract.REQUIRED_KEYS if k not in meta]
    if missing:
        raise ModelContractError(
            f"{name} does not follow the Corroscope model contract: missing metadata "
            + ", ".join(repr(k) for k in missing)
            + " (see docs/design.md section 4; training/export writes them)"
        )
    version = meta[contract.KEY_CONTRACT].strip()
    if version != contract.CONTRACT_VERSION:
        raise ModelContractError(
            f"{name} uses model contract version {safe_repr(version, 40)}; this Corroscope reads version "
            f"{contract.CONTRACT_VERSION!r}"
        )
    try:
        classes = classes_from_json(meta[contract.KEY_CLASSES])
    except ValueError as exc:
        raise ModelContractError(
            f"{name}: metadata {contract.KEY_CLASSES!r} is malformed: {safe_text(exc, 400)}"
        ) from exc
    if len(classes) > MAX_CLASSES:
        raise ModelContractError(
            f"{name}: metadata {contract.KEY_CLASSES!r} lists {len(classes):,} classes; Corroscope handles "
            f"at most {MAX_CLASSES}"
        )
    _check_measured_classes(name, classes)
    try:
        input_size = contract.parse_input_size(meta[contract.KEY_INPUT_SIZE])
    except ValueError as exc:
        raise ModelContractError(
            f"{name}: metadata {contract.KEY_INPUT_SIZE!r} is malformed: {safe_text(exc)}"
        ) from exc
    return classes, input_size


def _check_measured_classes(name: str, classes: tuple[ClassInfo, ...]) -> None:
    """The figures are the corroded share of the asset: a model without classes named exactly "corrosion"
    and "asset" would load and then report "no asset in view" on every photo."""
    names = [c.name for c in classes]
    missing = [n for n in contract.MEASURED_CLASSES if n not in names]
    if not missing:
        return
    listed = ", ".join(safe_repr(n, 40) for n in names[:8]) + (", ..." if len(names) > 8 else "")
    near = [c for c in names if c.casefold() in missing]
    hint = "; names are matched exactly, in lower case: " + ", ".join(
        f"rename {safe_repr(c, 40)} to {c.casefold()!r}" for c in near
    )
    raise ModelContractError(
        f"{name}: metadata {contract.KEY_CLASSES!r} has no class named "
        + " or ".join(repr(n) for n in missing)
        + f" (it lists {listed}); Corroscope measures the corroded share of the asset from those two"
        + (hint if near else "")
    )


def check_contract(
    name: str, session: Any, meta: dict[str, str], budget: ModelBudget, deadline: float
) -> tuple[tuple[ClassInfo, ...], tuple[int, int]]:
    """Classes and input size of a session that follows the contract; `name` is already safe to show."""
    classes, input_size = _metadata(name, meta)
    inputs = session.get_inputs()
    if len(inputs) != 1:
        raise ModelContractError(f"{name} has {len(inputs)} inputs; the contract wants one, 'image'")
    inp = inputs[0]
    shape = _input_shape(name, inp, input_size)
    _check_batch_memory(name, shape[0], input_size, len(classes), budget)
    pshape = _probabilities_shape(name, session)
    if not isinstance(pshape[3], int):  # run blank images to learn the class count (and the size)
        blank = np.zeros((shape[0] if isinstance(shape[0], int) else 1, *input_size, 3), dtype=np.uint8)
        (out,) = run_probabilities(session, name, inp.name, blank, budget, deadline, at_load=True)
        if out.ndim != 4:
            raise ModelContractError(
                f"{name}: output 'probabilities' has shape {out.shape} for blank images; wants [N, H, W, C]"
            )
        pshape = [int(d) for d in out.shape]
    # The app feeds images at the input size and reads one probability per pixel and class back.
    for got, want, what in ((pshape[1], input_size[0], "height"), (pshape[2], input_size[1], "width")):
        if isinstance(got, int) and got != want:
            raise ModelContractError(
                f"{name}: output 'probabilities' has {what} {got} where the input has {want}; the contract "
                "wants the probabilities of each pixel of the image fed ([N, H, W, C] as the input's "
                "[N, H, W, 3])"
            )
    if pshape[3] != len(classes):
        raise ModelContractError(
            f"{name}: output 'probabilities' has {pshape[3]} channels but {contract.KEY_CLASSES!r} "
            f"lists {len(classes)} classes"
        )
    return classes, input_size


def _input_shape(name: str, inp: Any, input_size: tuple[int, int]) -> list:
    """The input's shape, checked: uint8 [N, H, W, 3], a fixed N at least 1, a fixed H, W the input size."""
    if inp.type != "tensor(uint8)":
        raise ModelContractError(
            f"{name}: input {safe_repr(inp.name)} is {safe_text(inp.type)}; the contract wants tensor(uint8)"
        )
    shape = list(inp.shape)
    if len(shape) != 4 or shape[3] != 3:
        raise ModelContractError(
            f"{name}: input {safe_repr(inp.name)} has shape {_dims(shape)}; the contract wants NHWC "
            f"[N, H, W, 3]"
        )
    if isinstance(shape[0], int) and shape[0] < 1:  # ONNX Runtime could feed it nothing
        raise ModelContractError(
            f"{name}: input batch size is fixed at {shape[0]}; the contract wants a dynamic N or a fixed N "
            "of at least 1"
        )
    for got, want, axis in ((shape[1], input_size[0], "height"), (shape[2], input_size[1], "width")):
        if isinstance(got, int) and got != want:
            raise ModelContractError(
                f"{name}: input {axis} is fixed at {got} but {contract.KEY_INPUT_SIZE!r} says {want}"
            )
    return shape


def _batch_bytes(images: int, input_size: tuple[int, int], classes: int) -> int:
    """What one run of `images` images holds outside the network: the uint8 RGB images fed and their
    float32 probabilities, one per class and pixel."""
    return images * input_size[0] * input_size[1] * (3 + 4 * classes)


def _check_batch_memory(
    name: str, batch: Any, input_size: tuple[int, int], classes: int, budget: ModelBudget
) -> None:
    """Refuse a fixed batch whose one run is over the memory budget: every run feeds all N images, blank
    ones padding a photo's, so it could never run (N = 1000 at 8192 x 8192 asked for 187 GB of padding)."""
    if not isinstance(batch, int):
        return  # dynamic: the app feeds the images it has
    need = _batch_bytes(batch, input_size, classes)
    if need > budget.memory_bytes:
        raise ModelBudgetError(
            f"{name}: its input's batch size is fixed at {batch:,} images of {input_size[0]} x "
            f"{input_size[1]}, and every run feeds all of them: their pixels and probabilities take "
            f"{need / 2**20:,.0f} MB, more than its memory budget of {budget.memory_mb:,} MB; refused. "
            f"Raise the budget with {ENV_PREFIX}MEMORY_MB if the model is known to need it",
            "memory",
        )


def _probabilities_shape(name: str, session: Any) -> list:
    """The declared shape of the float32 'probabilities' output, four dimensions."""
    outputs = {o.name: o for o in session.get_outputs()}
    probs = outputs.get(contract.PROBABILITIES_OUTPUT)
    if probs is None:
        listed = safe_text(", ".join(outputs) or "none")
        raise ModelContractError(f"{name} has no output named 'probabilities' (outputs: {listed})")
    if probs.type != "tensor(float)":
        raise ModelContractError(
            f"{name}: output 'probabilities' is {safe_text(probs.type)}; the contract wants float32"
        )
    pshape = list(probs.shape)
    if len(pshape) != 4:
        raise ModelContractError(
            f"{name}: output 'probabilities' has shape {_dims(pshape)}; wants [N, H, W, C]"
        )
    return pshape


def run_probabilities(
    session: Any,
    name: str,
    input_name: str,
    batch: np.ndarray,
    budget: ModelBudget,
    deadline: float | None = None,
    at_load: bool = False,
) -> list:
    """`session.run` for the probabilities, stoppable, within `budget.run_seconds` and `deadline`;
    ONNX Runtime's own errors become a `ModelContractError` (`ModelBudgetError` for a budget)."""
    import onnxruntime as ort

    seconds, which, full = budget.run_seconds, "run", budget.run_seconds
    if deadline is not None:
        which_deadline = "load" if at_load else "photo"
        full_deadline = budget.load_seconds if at_load else budget.photo_seconds
        left = deadline - time.monotonic()
        if left <= 0:
            raise budget_error(name, which_deadline, full_deadline)
        if left < seconds:
            seconds, which, full = left, which_deadline, full_deadline
    options = ort.RunOptions()
    try:
        return call_within(
            lambda: session.run([contract.PROBABILITIES_OUTPUT], {input_name: batch}, options),
            Stopper(lambda: setattr(options, "terminate", True)),
            seconds,
            lambda: budget_error(name, which, full),
        )
    except ModelBudgetError:
        raise
    except Exception as exc:  # onnxruntime raises its own pybind exception types
        if is_memory_error(str(exc)):
            raise memory_error(name, budget.memory_mb) from exc
        raise ModelContractError(
            f"{name} failed to run on a {batch.shape} batch: {ort_message(exc)}"
        ) from exc


def check_probabilities(probs: np.ndarray, name: str) -> None:
    """Refuse output that is not a softmax: NaN or infinity, values outside [0, 1], pixels whose classes
    do not sum to 1 (logits, say). About 0.05 ms per 256x256 image (a matrix-vector product for the
    per-pixel sums, four min/max passes): 0.3 % of the shipped int8 model's run."""
    flat = probs.reshape(-1, probs.shape[-1])
    sums = flat @ np.ones(flat.shape[1], dtype=flat.dtype)  # BLAS; NaN and infinity propagate
    low_sum, high_sum = float(sums.min()), float(sums.max())  # NaN if any pixel is NaN
    if not (np.isfinite(low_sum) and np.isfinite(high_sum)):
        bad = int(np.count_nonzero(~np.isfinite(sums)))
        raise ModelContractError(
            f"{name} gave probabilities that are not numbers (NaN or infinity) for {bad:,} of "
            f"{sums.size:,} pixels; the model is broken, its results cannot be used"
        )
    low, high = float(flat.min()), float(flat.max())
    worst = max(abs(low_sum - 1.0), abs(high_sum - 1.0))
    if low < -_PROB_RANGE_TOLERANCE or high > 1.0 + _PROB_RANGE_TOLERANCE or worst > _PROB_SUM_TOLERANCE:
        span = f"{low_sum:.4g}" if f"{low_sum:.4g}" == f"{high_sum:.4g}" else f"{low_sum:.4g}-{high_sum:.4g}"
        raise ModelContractError(
            f"{name} gave 'probabilities' that are not probabilities (values from {low:.4g} to {high:.4g}, "
            f"the classes of a pixel summing to {span} instead of 1: logits without a softmax?); its "
            f"results cannot be used"
        )
