"""Where a batch photo's CPU goes: `process_photo` (mask, overlay JPEG and JSON written, as `analyze`
writes them) on each photo, CPU per stage, the decode and network threads' own CPU included.

`python bench/batch_stage_cpu.py --model M P.jpg ...` prints one JSON object: ms of CPU a photo per
stage (mean over photos x `--rounds`, after a warm-up round), the main thread's rest, and the process's
CPU (all threads). One OpenCV thread and one ONNX Runtime thread, as the pipelined engine gives each
photo on 2 cores. It imports only `app`, so `PYTHONPATH=OLD_TREE python bench/batch_stage_cpu.py ...`
times an older tree with the same script (before/after in one sitting, alternating).
"""

from __future__ import annotations

import argparse
import collections
import functools
import importlib
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import cv2

# (module, attribute, stage): each call's CPU in the calling thread. An attribute an older tree lacks
# is left out of its table.
_STAGES = (
    ("app.core.photo_decode", "PhotoDecode._decode_view", "reduced decode (network's view)"),
    ("app.core.analysis", "segment_view", "labels at full size (main thread of segment_view)"),
    ("app.core.analysis", "area_stats", "statistics"),
    ("app.core.analysis", "measure_photo", "measures (patches, range)"),
    ("app.core.export", "encode_mask_png", "mask PNG encode"),
    ("app.core.exporters", "ExportInput.overlay_bgr", "overlay blend"),
    ("app.core.exporters", "encode_jpeg", "overlay JPEG encode"),
)
_MAIN = "main thread, all of _analyse_and_write"
_THREADS = {
    "photo-full-decode": "full decode (its own thread)",
    "corroscope-onnxruntime": "network (ORT thread)",
}


def _timed(fn: Callable, label: str, totals: dict[str, float]) -> Callable:
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        t0 = time.thread_time()
        try:
            return fn(*args, **kwargs)
        finally:
            totals[label] += time.thread_time() - t0

    return wrapper


def _instrument(totals: dict[str, float]) -> None:
    for module_name, attr, label in (*_STAGES, ("app.core.batch_photo", "_analyse_and_write", _MAIN)):
        owner = importlib.import_module(module_name)
        *path, name = attr.split(".")
        for part in path:
            owner = getattr(owner, part)
        if hasattr(owner, name):
            setattr(owner, name, _timed(getattr(owner, name), label, totals))
    run = threading.Thread.run

    def counted_run(self: threading.Thread) -> None:
        t0 = time.thread_time()
        try:
            run(self)
        finally:
            totals[_THREADS.get(self.name, f"thread {self.name}")] += time.thread_time() - t0

    threading.Thread.run = counted_run  # type: ignore[method-assign]


def measure(model_path: Path, photos: list[Path], rounds: int) -> dict[str, float]:
    from app.analyze_args import CLI_EXPORTS
    from app.core import batch_photo, exporters
    from app.core.batch_types import BatchOptions, PlannedPhoto
    from app.core.model import SegmentationModel

    totals: dict[str, float] = collections.defaultdict(float)
    _instrument(totals)
    model = SegmentationModel.load(model_path, "cpu", threads=1)
    options = BatchOptions(exports=CLI_EXPORTS, overwrite=True, model_path=model.path, device="cpu")
    process = 0.0
    with tempfile.TemporaryDirectory(prefix="batch-stage-") as tmp:
        out = Path(tmp)
        for r in range(rounds + 1):  # round 0 warms up
            if r == 1:
                totals.clear()
                process = 0.0
            for path in photos:
                shutil.rmtree(out, ignore_errors=True)
                out.mkdir()
                targets = tuple(exporters.targets(out, path.stem, options.exports).items())
                t0 = time.process_time()
                outcome = batch_photo.process_photo(PlannedPhoto(0, path, path.stem, targets), options, model)
                process += time.process_time() - t0
                if outcome.failure is not None:
                    raise SystemExit(f"{path}: {outcome.failure.reason}")
    n = rounds * len(photos)
    row = {label: round(1e3 * s / n, 1) for label, s in totals.items()}
    in_main = sum(row.get(label, 0.0) for _, _, label in _STAGES)
    row["main thread, the rest (record, hashes, writes)"] = round(row.get(_MAIN, 0.0) - in_main, 1)
    row["process, all threads"] = round(1e3 * process / n, 1)
    return row


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python bench/batch_stage_cpu.py")
    p.add_argument("--model", type=Path, required=True)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("photos", type=Path, nargs="+")
    a = p.parse_args(argv)
    cv2.setNumThreads(1)
    load = os.getloadavg()
    row = measure(a.model, a.photos, a.rounds)
    print(json.dumps({"load_start": load, "load_end": os.getloadavg(), "photos": len(a.photos), "ms": row}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
