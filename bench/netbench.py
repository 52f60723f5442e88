"""The network alone: Keras (`predict`, `tf.function`) against ONNX Runtime (float, int8), and the
machine's dense float32 limit measured with one large Conv in ONNX Runtime."""

from __future__ import annotations

import json
import logging
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from bench.models import NetworkSet

log = logging.getLogger("bench.netbench")

ENGINES = ("keras_predict", "keras_tf_function", "ort_float", "ort_int8")
ENGINE_ORDER = (*ENGINES, "ort_float_cuda")


@dataclass(frozen=True)
class Timing:
    median_s: float
    min_s: float
    runs: int


@dataclass(frozen=True)
class NetRow:
    engine: str
    provider: str
    size: int
    batch: int
    median_ms: float  # per batch
    min_ms: float
    runs: int
    ms_per_image: float
    gflops: float  # achieved GFLOP/s (network FLOPs / median time)

    def to_dict(self) -> dict:
        return asdict(self)


def measure(fn: Callable[[], object], warmup: int, runs: int, budget_s: float) -> Timing:
    """Median and minimum wall time of `fn` over `runs` calls (fewer if `budget_s` runs out, >= 3)."""
    for _ in range(warmup):
        fn()
    times: list[float] = []
    start = time.perf_counter()
    while len(times) < runs and (len(times) < 3 or time.perf_counter() - start < budget_s):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return Timing(statistics.median(times), min(times), len(times))


def ort_session(path: Path, provider: str = "CPUExecutionProvider", threads: int = 0):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    if threads:
        options.intra_op_num_threads = threads
    return ort.InferenceSession(str(path), sess_options=options, providers=[provider])


def conv_limit(smoke: bool, warmup: int = 2, runs: int = 10, budget_s: float = 10.0) -> dict:
    """GFLOP/s of one large 3x3 Conv (NCHW float32) in ONNX Runtime: the machine's practical limit."""
    import tempfile

    import onnx
    from onnx import TensorProto, helper, numpy_helper

    c, hw = (32, 32) if smoke else (256, 64)
    rng = np.random.default_rng(0)
    weight = numpy_helper.from_array(rng.standard_normal((c, c, 3, 3)).astype(np.float32) * 0.05, "w")
    node = helper.make_node("Conv", ["x", "w"], ["y"], pads=[1, 1, 1, 1], kernel_shape=[3, 3])
    graph = helper.make_graph(
        [node],
        "conv",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, c, hw, hw])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, c, hw, hw])],
        [weight],
    )
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    proto.ir_version = 9
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "conv.onnx"
        onnx.save(proto, str(path))
        session = ort_session(path)
    x = rng.standard_normal((1, c, hw, hw)).astype(np.float32)
    t = measure(lambda: session.run(None, {"x": x}), warmup, runs, budget_s)
    gflop = 2.0 * hw * hw * c * c * 9 / 1e9
    return {
        "op": f"Conv 3x3, {c}->{c} channels, {hw}x{hw}, batch 1, float32",
        "gflop": gflop,
        "median_ms": 1e3 * t.median_s,
        "gflops_median": gflop / t.median_s,
        "gflops_best": gflop / t.min_s,
        "runs": t.runs,
    }


def _keras_callables(model, x: np.ndarray, batch: int) -> dict[str, Callable[[], object]]:
    import tensorflow as tf

    fn = tf.function(lambda t: model(t, training=False), reduce_retracing=True)
    tx = tf.constant(x)
    return {
        "keras_predict": lambda: model.predict(x, batch_size=batch, verbose=0),
        "keras_tf_function": lambda: fn(tx).numpy(),
    }


def engine_rows(
    engine: str, source: Path, size: int, batches: Sequence[int], gflop: float, smoke: bool
) -> list[dict]:
    """One engine at one size, in this process: `source` is the .keras file (Keras) or the ONNX file."""
    warmup, runs, budget = (1, 3, 2.0) if smoke else (2, 15, 12.0)
    rng = np.random.default_rng(1)
    if engine.startswith("keras"):
        from bench.models import at_size
        from training.models import load_model

        model = load_model(source)
        model = model if model.input_shape[1] == size else at_size(model, size)
    else:
        provider = "CUDAExecutionProvider" if engine.endswith("_cuda") else "CPUExecutionProvider"
        session = ort_session(source, provider)
    rows = []
    for batch in batches:
        photos = rng.integers(0, 256, (batch, size, size, 3), dtype=np.uint8)
        if engine.startswith("keras"):
            fn = _keras_callables(model, photos.astype(np.float32), batch)[engine]
        else:
            fn = lambda x=photos: session.run(["probabilities"], {"image": x})  # noqa: E731
        t = measure(fn, warmup, runs, budget)
        rows.append(
            NetRow(
                engine=engine,
                provider="CUDA" if engine.endswith("_cuda") else "CPU",
                size=size,
                batch=batch,
                median_ms=1e3 * t.median_s,
                min_ms=1e3 * t.min_s,
                runs=t.runs,
                ms_per_image=1e3 * t.median_s / batch,
                gflops=gflop * batch / t.median_s,
            ).to_dict()
        )
    return rows


def run(nets: NetworkSet, smoke: bool, batches: tuple[int, ...] = (1, 4), cuda: bool = False) -> list[NetRow]:
    """Every engine at every size and batch. Keras and ONNX Runtime each run in a fresh process of their
    own: TensorFlow's and ONNX Runtime's thread pools in one process slow each other down several-fold."""
    families = [
        ["keras_predict", "keras_tf_function"],
        ["ort_float", "ort_int8", *(["ort_float_cuda"] if cuda else [])],
    ]
    sources = {
        "keras_predict": nets.keras_files,
        "keras_tf_function": nets.keras_files,
        "ort_float": nets.onnx_float,
        "ort_int8": nets.onnx_int8,
        "ort_float_cuda": nets.onnx_float,
    }
    rows: list[NetRow] = []
    for engines in families:
        spec = {
            "engines": engines,
            "sources": {e: {str(k): str(v) for k, v in sources[e].items()} for e in engines},
            "gflop": {str(k): v for k, v in nets.gflop.items()},
            "batches": list(batches),
            "smoke": smoke,
        }
        proc = subprocess.run(
            [sys.executable, "-m", "bench.netbench", json.dumps(spec)],
            capture_output=True,
            text=True,
            timeout=3600,
            check=False,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"bench.netbench {engines} failed:\n{proc.stderr[-2000:]}")
        for row in json.loads(proc.stdout.strip().splitlines()[-1]):
            rows.append(NetRow(**row))
            log.info("%s %d b%d: %.1f ms", row["engine"], row["size"], row["batch"], row["median_ms"])
    order = {e: i for i, e in enumerate(ENGINE_ORDER)}
    return sorted(rows, key=lambda r: (r.size, r.batch, order.get(r.engine, 99)))


def ratios(rows: list[NetRow]) -> list[dict]:
    """Per size and batch: best Keras path / ONNX Runtime float and int8 (higher = ORT faster)."""
    out = []
    keys = sorted({(r.size, r.batch) for r in rows})
    for size, batch in keys:
        by = {r.engine: r.median_ms for r in rows if (r.size, r.batch) == (size, batch)}
        keras_best = min(by.get("keras_predict", np.inf), by.get("keras_tf_function", np.inf))
        entry = {"size": size, "batch": batch, "best_keras_ms": keras_best}
        for engine in ("ort_float", "ort_int8"):
            if engine in by:
                entry[f"best_keras_over_{engine}"] = keras_best / by[engine]
        if "ort_float" in by and "ort_int8" in by:
            entry["float_over_int8"] = by["ort_float"] / by["ort_int8"]
        out.append(entry)
    return out


def main(argv: list[str] | None = None) -> int:
    """Child process: `python -m bench.netbench SPEC_JSON` prints the rows of its engines as JSON."""
    spec = json.loads((argv if argv is not None else sys.argv[1:])[0])
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    rows = []
    for engine in spec["engines"]:
        for size, source in spec["sources"][engine].items():
            rows += engine_rows(
                engine, Path(source), int(size), spec["batches"], spec["gflop"][size], spec["smoke"]
            )
    print(json.dumps(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
