"""One photo from file to figures split into stages, and a batch of photos; each case runs in its own
process so its peak resident memory is its own.

`python -m bench.pipeline photo --model M --photo P --mode resize --repeats 3` and
`python -m bench.pipeline batch --model M --photos DIR --out DIR` print one JSON object.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import resource
import statistics
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from bench.child import run_json_child

# decode: until the network's input can be made (the reduced JPEG decode; the full one goes on beside
# it); full_decode: what is left to wait for of the full decode once the figures are done.
STAGES = (
    "decode",
    "resize",
    "inference",
    "upsampling",
    "statistics",
    "measures",
    "full_decode",
    "overlay",
    "write",
)
IN_MEMORY = STAGES[:-1]  # file -> mask, statistics and overlay (the 400 ms goal)


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far. Linux: VmHWM, which starts afresh at exec (the
    `ru_maxrss` of a child starts at its parent's peak); elsewhere `ru_maxrss` (macOS bytes)."""
    try:
        for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1 << 20) if sys.platform == "darwin" else peak / 1024


def rss_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / (1 << 20)


class _Clock:
    """Wall and CPU (all threads of this process) seconds per stage."""

    def __init__(self) -> None:
        self.wall: dict[str, float] = {}
        self.cpu: dict[str, float] = {}

    @contextlib.contextmanager
    def stage(self, name: str) -> Iterator[None]:
        w, c = time.perf_counter(), time.process_time()
        yield
        self.wall[name] = self.wall.get(name, 0.0) + time.perf_counter() - w
        self.cpu[name] = self.cpu.get(name, 0.0) + time.process_time() - c


class _TimedModel:
    """Times `predict` of a `SegmentationModel` (the ONNX Runtime call) and forwards everything else."""

    def __init__(self, model, clock: _Clock) -> None:
        self._model = model
        self._clock = clock

    def predict(self, batch: np.ndarray, deadline: float | None = None) -> np.ndarray:
        with self._clock.stage("inference"):
            return self._model.predict(batch, deadline)

    def __getattr__(self, name: str):
        return getattr(self._model, name)


def photo_once(model, path: Path, options, out_dir: Path) -> _Clock:
    """Stage times of one photo along the batch's path: read, segment, stats, overlay, write."""
    from app.core import exporters
    from app.core.analysis import PhotoResult, utc_timestamp
    from app.core.export import result_to_dict, write_mask_png, write_result_json
    from app.core.files import write_png
    from app.core.grading import assess
    from app.core.inference import InferenceMode, segment_view, shrink_area
    from app.core.measures import measure_photo
    from app.core.overlay import blend_overlay
    from app.core.photo_decode import start_decode
    from app.core.range_calibration import at_size
    from app.core.stats import area_stats

    clock = _Clock()
    with clock.stage("decode"):
        photo = start_decode(path, input_size=model.input_size)
        view = photo.network_view()
    # The resize the network's input needs, timed on its own; `segment` repeats it inside.
    h, w = model.input_size
    with clock.stage("resize"):
        shrink_area(view, w, h)
        if options.mode is InferenceMode.TILES:  # and the fine grid's
            shrink_area(view, round(w * options.tile_scale), round(h * options.tile_scale))
    with clock.stage("segment"):
        seg = segment_view(_TimedModel(model, clock), view, photo.shape, options)
    for table in (clock.wall, clock.cpu):  # upsampling (and tile blending): segment's time minus the rest
        table["upsampling"] = max(0.0, table.pop("segment") - table.get("inference", 0.0) - table["resize"])
    with clock.stage("statistics"):
        stats = area_stats(seg.labels, model.classes)
    with clock.stage("measures"):  # patches, D610 distribution, the share's range
        measures = measure_photo(
            seg.labels,
            model.classes,
            at_size(seg.probabilities, model.input_size),
            None,
            stats,
            calibration=model.range_calibration,
            range_note=model.range_note,
        )
        assessment = assess(stats, seg.mean_confidence, share_range=measures.share_range)
    with clock.stage("full_decode"):
        rgb = photo.full()
        photo.close()
    with clock.stage("overlay"):
        overlay = blend_overlay(rgb, seg.labels, model.classes)
    with clock.stage("write"):
        outs = exporters.targets(out_dir, path.stem, ("mask", "overlay", "json"))
        result = PhotoResult(
            path,
            rgb.shape[1],
            rgb.shape[0],
            stats,
            assessment,
            measures,
            seg.mean_confidence,
            sum(clock.wall.values()),
            utc_timestamp(),
            model.sha256,
            model.path.name,
            model.device,
            options.mode,
            model.classes,
            labels=seg.labels,
            confidence=seg.confidence,
        )
        write_mask_png(outs["mask"], seg.labels, model.classes, overwrite=True)
        write_png(outs["overlay"], overlay, overwrite=True)
        names = {k: p.name for k, p in outs.items()}
        write_result_json(outs["json"], result_to_dict(result, names), overwrite=True)
    return clock


def photo_case(
    model_path: Path, photo: Path, mode: str, repeats: int, out_dir: Path, tile_scale: float | None
) -> dict:
    from app.core.inference import InferenceOptions
    from app.core.model import SegmentationModel
    from app.core.photos import probe_image

    model = SegmentationModel.load(model_path, device="cpu")
    model.predict(np.zeros((1, *model.input_size, 3), np.uint8))  # first-run allocations
    base_rss = rss_mb()
    options = InferenceOptions(mode=mode, **({} if tile_scale is None else {"tile_scale": tile_scale}))
    runs = [photo_once(model, photo, options, out_dir) for _ in range(repeats)]
    med = {s: statistics.median(r.wall.get(s, 0.0) for r in runs) for s in STAGES}
    cpu = {s: statistics.median(r.cpu.get(s, 0.0) for r in runs) for s in STAGES}
    total = sum(med.values())
    in_memory = sum(med[s] for s in IN_MEMORY)
    w, h = probe_image(photo)
    return {
        "photo": photo.name,
        "megapixels": round(w * h / 1e6, 1),
        "mode": mode,
        "tile_scale": options.tile_scale,
        "repeats": repeats,
        "stages_ms": {s: 1e3 * v for s, v in med.items()},
        "stages_cpu_ms": {s: 1e3 * v for s, v in cpu.items()},
        "in_memory_ms": 1e3 * in_memory,
        "total_ms": 1e3 * total,
        "outside_ort_share": 1.0 - med["inference"] / total if total else 0.0,
        "rss_after_load_mb": base_rss,
        "peak_rss_mb": peak_rss_mb(),
    }


def batch_case(model_path: Path, photos: Path, out_dir: Path, mode: str) -> dict:
    from app.core.inference import InferenceOptions
    from app.core.model import SegmentationModel
    from app.core.photos import find_images
    from app.core.pipeline import BatchOptions, run_batch

    model = SegmentationModel.load(model_path, device="cpu")
    paths = find_images([photos])
    rss: list[float] = []
    t0 = time.perf_counter()
    summary = run_batch(
        model,
        paths,
        out_dir,
        BatchOptions(inference=InferenceOptions(mode=mode), overwrite=True),
        progress=lambda _event: rss.append(rss_mb()),
    )
    seconds = time.perf_counter() - t0
    tenth = max(1, len(rss) // 10)
    return {
        "photos": len(paths),
        "done": len(summary.done),
        "failed": len(summary.failures),
        "mode": mode,
        "seconds": seconds,
        "photos_per_s": len(summary.done) / seconds if seconds else 0.0,
        "peak_rss_mb": peak_rss_mb(),
        "rss_first_tenth_mb": statistics.mean(rss[:tenth]) if rss else None,
        "rss_last_tenth_mb": statistics.mean(rss[-tenth:]) if rss else None,
        "rss_max_sampled_mb": max(rss) if rss else None,
    }


def run_child(args: list[str], timeout: float) -> dict:
    """Run this module in a fresh interpreter (at the lowest CPU priority the caller has) and parse it."""
    return run_json_child("bench.pipeline", args, timeout)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.pipeline")
    sub = p.add_subparsers(dest="what", required=True)
    ph = sub.add_parser("photo")
    ph.add_argument("--model", type=Path, required=True)
    ph.add_argument("--photo", type=Path, required=True)
    ph.add_argument("--mode", default="resize")
    ph.add_argument("--tile-scale", type=float, default=None, help="tiles mode; default: the app's")
    ph.add_argument("--repeats", type=int, default=3)
    ph.add_argument("--out", type=Path, required=True)
    ba = sub.add_parser("batch")
    ba.add_argument("--model", type=Path, required=True)
    ba.add_argument("--photos", type=Path, required=True)
    ba.add_argument("--out", type=Path, required=True)
    ba.add_argument("--mode", default="resize")
    args = p.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.what == "photo":
        result = photo_case(args.model, args.photo, args.mode, args.repeats, args.out, args.tile_scale)
    else:
        result = batch_case(args.model, args.photos, args.out, args.mode)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
