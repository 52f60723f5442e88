"""A batch of photos through `run_batch` with one engine and one overlay format, in its own process.

`python -m bench.engines --model M --photos DIR --out DIR --engine pipelined --overlay jpeg` prints one
JSON object: the steady per-photo time (progress events 2..N, so start-up and the first photo cancel),
the whole run, CPU per photo (this process), and resident memory sampled over the run.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import time
from pathlib import Path

from bench.child import run_json_child
from bench.pipeline import peak_rss_mb, rss_mb


def engine_case(
    model_path: Path,
    photos: Path,
    out: Path,
    engine: str,
    overlay: str,
    workers: int | None,
    threads: str,
    in_flight: int | None,
) -> dict:
    from app.analyze_args import CLI_EXPORTS
    from app.core.engines import make_engine
    from app.core.model import SegmentationModel
    from app.core.photos import find_images
    from app.core.pipeline import DEFAULT_EXPORTS, BatchOptions, run_batch

    kwargs: dict = {}
    if engine == "dask":
        kwargs = {"workers": workers}
    elif engine == "pipelined" and in_flight:
        kwargs = {"photos": in_flight}
    eng = make_engine(engine, **kwargs)
    ort_threads = {"engine": eng.model_threads, "ort": None}.get(threads)
    if threads not in ("engine", "ort"):
        ort_threads = int(threads)
    model = SegmentationModel.load(model_path, device="cpu", threads=ort_threads)
    paths = find_images([photos])
    exports = CLI_EXPORTS if overlay == "jpeg" else DEFAULT_EXPORTS
    options = BatchOptions(exports=exports, overwrite=True, model_path=model.path, device="cpu")
    stamps: list[float] = []
    rss: list[float] = []

    def on_progress(_outcome) -> None:
        stamps.append(time.perf_counter())
        rss.append(rss_mb())

    shutil.rmtree(out, ignore_errors=True)
    t0, c0 = time.perf_counter(), time.process_time()
    summary = run_batch(model, paths, out, options, progress=on_progress, engine=eng)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    steady = (stamps[-1] - stamps[0]) / (len(stamps) - 1) if len(stamps) > 1 else seconds
    tenth = max(1, len(rss) // 10)
    shutil.rmtree(out, ignore_errors=True)
    return {
        "engine": engine,
        "describe": eng.describe(),
        "workers": workers,
        "ort_threads": ort_threads,
        "overlay": overlay,
        "photos": len(paths),
        "done": len(summary.done),
        "failed": len(summary.failures),
        "ms_per_photo": 1e3 * steady,
        "photos_per_s": 1.0 / steady if steady else 0.0,
        "run_s": seconds,
        "cpu_ms_per_photo_this_process": 1e3 * cpu / max(1, len(paths)),
        "peak_rss_mb": peak_rss_mb(),
        "rss_first_tenth_mb": statistics.mean(rss[:tenth]) if rss else None,
        "rss_last_tenth_mb": statistics.mean(rss[-tenth:]) if rss else None,
        # RSS swings with the photos in flight at each sample; a leak shows as higher highs later on
        "rss_max_first_half_mb": max(rss[: len(rss) // 2 or 1]) if rss else None,
        "rss_max_second_half_mb": max(rss[len(rss) // 2 :]) if rss else None,
    }


def run_child(args: list[str], timeout: float) -> dict:
    return run_json_child("bench.engines", args, timeout)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.engines")
    p.add_argument("--model", type=Path, required=True)
    p.add_argument("--photos", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--engine", choices=("serial", "pipelined", "dask"), default="pipelined")
    p.add_argument("--overlay", choices=("jpeg", "png"), default="jpeg")
    p.add_argument("--workers", type=int, help="dask: local worker processes")
    p.add_argument("--in-flight", type=int, help="pipelined: photos at once (default: the engine's)")
    p.add_argument("--threads", default="engine", help="ORT intra-op threads: engine, ort (its default), N")
    a = p.parse_args(argv)
    row = engine_case(a.model, a.photos, a.out, a.engine, a.overlay, a.workers, a.threads, a.in_flight)
    print(json.dumps(row))
    return 0


if __name__ == "__main__":
    sys.exit(main())
