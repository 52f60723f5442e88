"""Fine (tiles) mode against resize mode on validation photos enlarged to camera size: IoU and time.

Each validation photo of the dataset (`val.txt`) is enlarged to 4000x3000 (bilinear; its mask
nearest-neighbour) and segmented in both modes with the same model; per photo the IoU of each class and
the error of the corroded share of the asset (percentage points) are taken against the enlarged mask,
then averaged per class over the photos where the class is in the mask or the prediction. Time is
`segment`'s (shrink, network, upsampling) for the photo in memory, both modes one after the other, as
wall time and as the process's CPU time (all threads; steadier on a shared machine).

    python -m bench.fine_mode --photos 23 --out bench/results-fine-mode.json
"""

from __future__ import annotations

import argparse
import json
import logging
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from app.core.inference import InferenceMode, InferenceOptions, segment
from app.core.model import SegmentationModel
from app.core.stats import corroded_share

log = logging.getLogger(__name__)

DEFAULT_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "pipe-corrosion"
DEFAULT_MODEL = (
    Path(__file__).resolve().parents[1] / "models" / "corrosion-deeplabv3plus-mobilenetv2.int8.onnx"
)
CLASS_NAMES = ("corrosion", "asset", "background")


def class_iou(pred: np.ndarray, truth: np.ndarray, classes: int) -> list[float | None]:
    """IoU of each class id; None where the class is in neither map."""
    confusion = np.bincount(truth.ravel().astype(np.int64) * classes + pred.ravel(), minlength=classes**2)
    confusion = confusion[: classes**2].reshape(classes, classes)
    out: list[float | None] = []
    for c in range(classes):
        union = confusion[c].sum() + confusion[:, c].sum() - confusion[c, c]
        out.append(float(confusion[c, c] / union) if union else None)
    return out


def share_of(labels: np.ndarray) -> float | None:
    counts = np.bincount(labels.ravel(), minlength=3)
    return corroded_share(int(counts[0]), int(counts[1]))


def _validation_pairs(data: Path, count: int | None) -> list:
    from training.data import find_pairs  # PIL only; the bench may use the training package's loader

    ids = [line.strip() for line in (data / "val.txt").read_text().splitlines() if line.strip()]
    by_id = {p.id: p for p in find_pairs(data)}
    return [by_id[i] for i in ids[:count]]


def measure_photo(model: SegmentationModel, pair, size: tuple[int, int], modes: dict) -> dict:
    """One validation photo enlarged to `size` (H, W) through every mode: IoU per class, share, seconds."""
    from training.data import load_pair

    image, labels, _ = load_pair(pair, classes=model.classes)
    h, w = size
    big = cv2.resize(image, (w, h), interpolation=cv2.INTER_LINEAR)
    truth = cv2.resize(labels, (w, h), interpolation=cv2.INTER_NEAREST)
    row: dict = {"id": pair.id, "truth_share": share_of(truth)}
    for name, options in modes.items():
        start, cpu = time.perf_counter(), time.process_time()
        seg = segment(model, big, options)
        seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu
        share = share_of(seg.labels)
        error = None if share is None or row["truth_share"] is None else abs(share - row["truth_share"])
        row[name] = {
            "seconds": seconds,
            "cpu_seconds": cpu_seconds,
            "iou": class_iou(seg.labels, truth, model.num_classes),
            "share": share,
            "share_error": error,
        }
    return row


def summarise(rows: list[dict], modes: list[str]) -> dict:
    """Mean IoU per class (over photos where it is defined), mean share error, median seconds."""
    out = {}
    for name in modes:
        ious = [[r[name]["iou"][c] for r in rows if r[name]["iou"][c] is not None] for c in range(3)]
        errors = [r[name]["share_error"] for r in rows if r[name]["share_error"] is not None]
        out[name] = {
            "mean_iou": {CLASS_NAMES[c]: statistics.fmean(v) if v else None for c, v in enumerate(ious)},
            "photos_per_class": {CLASS_NAMES[c]: len(v) for c, v in enumerate(ious)},
            "mean_share_error_pp": statistics.fmean(errors) if errors else None,
            "median_seconds": statistics.median(r[name]["seconds"] for r in rows),
            "median_cpu_seconds": statistics.median(r[name]["cpu_seconds"] for r in rows),
        }
    return out


def table(summary: dict) -> str:
    lines = [
        "| mode | corrosion IoU % | asset IoU % | background IoU % | share error, pp | median s | CPU s |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, s in summary.items():
        ious = " | ".join(f"{100 * s['mean_iou'][c]:.2f}" for c in CLASS_NAMES)
        lines.append(
            f"| {name} | {ious} | {s['mean_share_error_pp']:.2f} | "
            f"{s['median_seconds']:.3f} | {s['median_cpu_seconds']:.3f} |"
        )
    return "\n".join(lines)


def _git_head() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=Path(__file__).parent,
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return out.stdout.strip() or None


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.fine_mode", description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, default=DEFAULT_DATA, help="dataset folder with val.txt")
    p.add_argument("--model", type=Path, default=DEFAULT_MODEL, help="ONNX model (default: the shipped int8)")
    p.add_argument("--photos", type=int, default=None, help="the first N of val.txt (default: all)")
    p.add_argument("--size", default="4000x3000", help="WxH the photos are enlarged to")
    p.add_argument("--tile-scale", type=float, default=InferenceOptions().tile_scale)
    p.add_argument("--tile-overlap", type=float, default=InferenceOptions().tile_overlap)
    p.add_argument("--device", default="cpu", choices=("cpu", "cuda", "auto"))
    p.add_argument("--out", type=Path, help="write the rows and the summary as JSON here")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    w, h = (int(v) for v in args.size.lower().split("x"))
    model = SegmentationModel.load(args.model, device=args.device)
    modes = {
        "resize": InferenceOptions(mode=InferenceMode.RESIZE),
        "tiles": InferenceOptions(
            mode=InferenceMode.TILES, tile_scale=args.tile_scale, tile_overlap=args.tile_overlap
        ),
    }
    pairs = _validation_pairs(args.data, args.photos)
    for options in modes.values():  # the first run of a session pays for its set-up
        segment(model, np.zeros((h, w, 3), np.uint8), options)
    start = time.perf_counter()
    rows = []
    for i, pair in enumerate(pairs, 1):
        rows.append(measure_photo(model, pair, (h, w), modes))
        r = rows[-1]
        log.info(
            "%d/%d %s: resize %.2f s, tiles %.2f s",
            i,
            len(pairs),
            pair.id,
            r["resize"]["seconds"],
            r["tiles"]["seconds"],
        )
    summary = summarise(rows, list(modes))
    print(
        f"{len(rows)} validation photos at {w}x{h}, {model.describe()}, {time.perf_counter() - start:.0f} s"
    )
    print(table(summary))
    if args.out:
        record = {
            "command": "python -m bench.fine_mode " + " ".join(argv if argv is not None else sys.argv[1:]),
            "model": str(args.model),
            "git": _git_head(),
            "model_sha256": model.sha256,
            "size": [w, h],
            "options": {
                k: {"mode": o.mode.value, "tile_scale": o.tile_scale, "tile_overlap": o.tile_overlap}
                for k, o in modes.items()
            },
            "machine": platform.platform(),
            "summary": summary,
            "rows": rows,
        }
        args.out.write_text(json.dumps(record, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
