"""Time and memory budgets for an untrusted model, and ONNX Runtime calls that can be stopped.

Each `session.run` (and the session's creation) runs in a daemon thread while the caller waits in
short steps, so a budget that runs out or a Ctrl+C (KeyboardInterrupt in the waiting thread) sets
ONNX Runtime's terminate flag (`RunOptions.terminate`, `SessionOptions.set_load_cancellation_flag`),
which it checks before every node, inside `Loop` and `Scan` bodies too. Memory: each session gets its
own arena with `max_mem` (`session.use_env_allocators`), so one allocation over the budget fails
instead of taking the machine's memory. The defaults and their environment variables are in
docs/reliability.md.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any, TypeVar

from app.core.errors import ModelBudgetError

log = logging.getLogger(__name__)

T = TypeVar("T")
_POLL_S = 0.05  # how often the waiting thread wakes to run signal handlers and check the clock
_STOP_GRACE_S = 0.5  # how long a stopped call may take to notice its terminate flag before we go on

ENV_PREFIX = "CORROSCOPE_"


@dataclass(frozen=True)
class ModelBudget:
    """Limits for one model: loading (with its probe run), each network run, each photo, memory.

    Each can be set by the environment variable `CORROSCOPE_<FIELD NAME IN CAPITALS>`
    (e.g. `CORROSCOPE_RUN_SECONDS=120`).
    """

    load_seconds: float = 120.0
    run_seconds: float = 60.0
    photo_seconds: float = 600.0
    memory_mb: int = 1024

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not (value > 0 and math.isfinite(value)):
                raise ValueError(f"budget {f.name} must be a positive number, got {value}")

    @property
    def memory_bytes(self) -> int:
        return int(self.memory_mb) << 20

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ModelBudget:
        """The defaults, overridden by `CORROSCOPE_LOAD_SECONDS` etc.; a bad value is logged and ignored."""
        values = {
            f.name: env_number(
                ENV_PREFIX + f.name.upper(), f.default, environ, integer=f.type in (int, "int")
            )
            for f in fields(cls)
        }
        return cls(**values)


def env_number(
    key: str, default: Any, environ: Mapping[str, str] | None = None, *, integer: bool = False
) -> Any:
    """A positive finite number from the environment variable `key`, else `default` (a bad value is
    logged and ignored)."""
    text = (os.environ if environ is None else environ).get(key)
    if text is None:
        return default
    try:
        value = int(text) if integer else float(text)
        if not (value > 0 and math.isfinite(value)):
            raise ValueError
    except ValueError:
        log.warning("%s=%r is not a positive finite number; the default %s is used", key, text, default)
        return default
    return value


class Stopper:
    """The terminate switch of one ONNX Runtime call, flipped from the waiting thread."""

    def __init__(self, flip: Callable[[], None]) -> None:
        self._flip = flip

    def stop(self) -> None:
        try:
            self._flip()
        except Exception as exc:  # a failed flip must not hide the reason we are stopping
            log.debug("could not stop an ONNX Runtime call: %s", exc)


_RUNNING: set[Stopper] = set()  # the stoppers of the calls under way in this process
_RUNNING_LOCK = threading.Lock()


def stop_all_calls() -> int:
    """Flip the terminate switch of every ONNX Runtime call under way in this process (from any thread):
    a Ctrl+C that reached the main thread stops runs that other threads wait for. Returns how many."""
    with _RUNNING_LOCK:
        running = list(_RUNNING)
    for stopper in running:
        stopper.stop()
    return len(running)


def call_within(
    work: Callable[[], T], stopper: Stopper, seconds: float, on_timeout: Callable[[], BaseException]
) -> T:
    """Run `work` in a daemon thread; past `seconds`, or on KeyboardInterrupt (or any exception raised
    in this thread by a signal handler), stop it and raise. Its own exception is raised here."""
    box: dict[str, Any] = {}
    done = threading.Event()

    def target() -> None:
        try:
            box["value"] = work()
        except BaseException as exc:  # handed to the caller
            box["error"] = exc
        finally:
            done.set()

    worker = threading.Thread(target=target, name="corroscope-onnxruntime", daemon=True)
    deadline = time.monotonic() + seconds
    with _RUNNING_LOCK:
        _RUNNING.add(stopper)
    worker.start()
    timed_out = False
    try:
        while not done.wait(min(_POLL_S, max(deadline - time.monotonic(), 0.0))):
            if time.monotonic() >= deadline:
                timed_out = True
                break
    except BaseException:
        stopper.stop()
        done.wait(_STOP_GRACE_S)
        raise
    finally:
        with _RUNNING_LOCK:
            _RUNNING.discard(stopper)
    if timed_out:
        stopper.stop()
        done.wait(_STOP_GRACE_S)
        raise on_timeout()
    if "error" in box:
        raise box["error"]
    return box["value"]


_BUDGET_WORDS = {"load": "to load", "run": "for one run", "photo": "for one photo"}


def budget_error(name: str, budget: str, seconds: float) -> ModelBudgetError:
    """The message for time budget `budget` ("load", "run" or "photo") of `seconds` that ran out."""
    return ModelBudgetError(
        f"{name} took longer than its time budget of {seconds:g} s {_BUDGET_WORDS[budget]}; the model may "
        f"loop for ever. Raise the budget with {ENV_PREFIX}{budget.upper()}_SECONDS if it is only slow",
        budget,
    )


def is_memory_error(message: str) -> bool:
    """ONNX Runtime's words for an allocation refused by an arena's limit (or failing outright)."""
    text = message.lower()
    return (
        "available memory of" in text
        or "bfc_arena" in text
        or "failed to allocate memory" in text
        or "out of memory" in text
        or "bad_alloc" in text
    )


def memory_error(name: str, budget_mb: int) -> ModelBudgetError:
    return ModelBudgetError(
        f"{name} needed more than its memory budget of {budget_mb:,} MB for one run; refused. "
        f"Raise the budget with {ENV_PREFIX}MEMORY_MB if the model is known to need it",
        "memory",
    )
