"""What the hostile-model defences cost a normal model: `SegmentationModel.predict` against a plain
`session.run` (the predict before the hostile-model guards), and each defence alone, round robin in
one process so every variant sees the same machine load. Also, with `--ctrl-c`, how long the real CLI
takes to stop after Ctrl+C during a run that never ends.

    python -m bench.guard_overhead [--model FILE] [--batch 1] [--runs 60] [--ctrl-c]
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from app.core.model import SegmentationModel, default_model_path


def _session(path: Path, env_arena: bool = False, no_folding: bool = False):
    import onnxruntime as ort

    options = ort.SessionOptions()
    if env_arena:
        memory = ort.OrtMemoryInfo("Cpu", ort.OrtAllocatorType.ORT_ARENA_ALLOCATOR, 0, ort.OrtMemType.DEFAULT)
        ort.create_and_register_allocator(
            memory, ort.OrtArenaCfg({"max_mem": 1 << 30, "arena_extend_strategy": 1})
        )
        options.add_session_config_entry("session.use_env_allocators", "1")
    if no_folding:
        options.add_session_config_entry("optimization.disable_specified_optimizers", "ConstantFolding")
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def predict_overhead(path: Path, batch: int, runs: int) -> dict[str, dict[str, float]]:
    x = np.random.default_rng(0).integers(0, 256, (batch, 256, 256, 3), np.uint8)
    feed = {"image": x}
    plain, arena, unfolded = _session(path), _session(path, env_arena=True), _session(path, no_folding=True)
    model = SegmentationModel.load(path, device="cpu")

    def in_thread() -> object:
        box: dict = {}
        worker = threading.Thread(
            target=lambda: box.update(r=plain.run(["probabilities"], feed)), daemon=True
        )
        worker.start()
        worker.join()
        return box["r"]

    variants: dict[str, Callable[[], object]] = {
        "before: plain session.run + astype": lambda: plain.run(["probabilities"], feed)[0].astype(
            np.float32
        ),
        "per-session arena only": lambda: arena.run(["probabilities"], feed),
        "no constant folding only": lambda: unfolded.run(["probabilities"], feed),
        "plain run in a thread": in_thread,
        "now: SegmentationModel.predict": lambda: model.predict(x),
    }
    times: dict[str, list[float]] = {k: [] for k in variants}
    for work in variants.values():
        work()
    for _ in range(runs):
        for name, work in variants.items():
            start = time.perf_counter()
            work()
            times[name].append(time.perf_counter() - start)
    return {k: {"min_ms": 1000 * min(v), "median_ms": 1000 * float(np.median(v))} for k, v in times.items()}


def ctrl_c_seconds(tries: int = 3) -> list[float]:
    """Seconds from SIGINT to the exit of `corroscope selftest` on an endless Loop model."""
    from tests.reliability import hostile_onnx
    from tests.reliability.conftest import cli_command, cli_env

    folder = Path(tempfile.mkdtemp(prefix="corroscope-ctrl-c-"))
    model = hostile_onnx.endless_loop_model(folder / "loop.onnx")
    out = []
    for _ in range(tries):
        proc = subprocess.Popen(
            cli_command("selftest", "--model", model, "--device", "cpu"),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**cli_env(), "PYTHONUNBUFFERED": "1"},
        )
        seen = ""
        while "Provider:" not in seen and proc.stdout is not None:
            seen += proc.stdout.readline()
        time.sleep(1.0)
        proc.send_signal(signal.SIGINT)
        start = time.monotonic()
        proc.communicate(timeout=30)
        out.append(time.monotonic() - start)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--runs", type=int, default=60)
    parser.add_argument("--ctrl-c", action="store_true")
    args = parser.parse_args()
    path = args.model or default_model_path("cpu")
    record: dict = {"model": str(path), "batch": args.batch, "runs": args.runs}
    record["predict"] = predict_overhead(path, args.batch, args.runs)
    if args.ctrl_c:
        record["ctrl_c_seconds"] = ctrl_c_seconds()
    for name, t in record["predict"].items():
        print(f"{name:38s} min {t['min_ms']:8.2f} ms  median {t['median_ms']:8.2f} ms")
    print(json.dumps(record))


if __name__ == "__main__":
    main()
