"""The overlay JPEG and mask PNG writes of one 12 MP photo, as before and as now, alternating in one run.

`python -m bench.write_stages --photo P.jpg` (P: `bench.photos.make_jpeg(..., SIZES["12MP"])`) prints one
JSON object: median and best CPU ms of this thread per way, the bytes' sizes, and the load average. Each
"before" is the earlier code written out here; the run first checks that both ways give the same overlay
bytes and the same decoded mask.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from app.core.export import encode_mask_png
from app.core.files import encode_jpeg
from app.core.overlay import blend_overlay
from app.core.palette import DEFAULT_CLASSES


def _labels(shape: tuple[int, int]) -> np.ndarray:
    """Three classes in irregular patches (deterministic), like a real label map's share of each."""
    h, w = shape
    small = (np.arange(h // 50 * (w // 50)).reshape(h // 50, w // 50) * 7919 % 3).astype(np.uint8)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_NEAREST)


def _mask_before(labels: np.ndarray) -> bytes:
    img = Image.frombytes("P", (labels.shape[1], labels.shape[0]), np.ascontiguousarray(labels).tobytes())
    palette = np.zeros((256, 3), dtype=np.uint8)
    for c in DEFAULT_CLASSES:
        palette[c.id] = c.color
    img.putpalette(palette.ravel().tolist())
    buf = io.BytesIO()
    img.save(buf, format="PNG", compress_level=3)
    return buf.getvalue()


def _same_mask(a: bytes, b: bytes) -> bool:
    """The same ids and the same colours once decoded (the bytes differ with the bit depth)."""
    with Image.open(io.BytesIO(a)) as x, Image.open(io.BytesIO(b)) as y:
        return np.array_equal(np.asarray(x), np.asarray(y)) and np.array_equal(
            np.asarray(x.convert("RGB")), np.asarray(y.convert("RGB"))
        )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.write_stages")
    p.add_argument("--photo", type=Path, required=True)
    p.add_argument("--repeats", type=int, default=8)
    a = p.parse_args(argv)
    cv2.setNumThreads(1)  # one thread, so thread CPU time is the whole cost
    rgb = cv2.cvtColor(cv2.imread(str(a.photo)), cv2.COLOR_BGR2RGB)
    labels = _labels(rgb.shape[:2])
    ways = {
        "overlay_jpeg_before": lambda: encode_jpeg(blend_overlay(rgb, labels, DEFAULT_CLASSES), 90),
        "overlay_jpeg_now": lambda: encode_jpeg(
            blend_overlay(rgb, labels, DEFAULT_CLASSES, bgr=True), 90, bgr=True
        ),
        "mask_png_before": lambda: _mask_before(labels),
        "mask_png_now": lambda: encode_mask_png(labels, DEFAULT_CLASSES),
    }
    out = {k: f() for k, f in ways.items()}
    if out["overlay_jpeg_before"] != out["overlay_jpeg_now"]:
        raise SystemExit("the two ways gave different overlay bytes")
    if not _same_mask(out["mask_png_before"], out["mask_png_now"]):  # packed bits: other bytes
        raise SystemExit("the two ways gave different masks")
    times: dict[str, list[float]] = {k: [] for k in ways}
    load_start = os.getloadavg()
    for i in range(a.repeats):
        for name in ways if i % 2 == 0 else reversed(ways):
            t0 = time.thread_time()
            ways[name]()
            times[name].append(1e3 * (time.thread_time() - t0))
    row = {
        "photo": str(a.photo),
        "size": [int(rgb.shape[1]), int(rgb.shape[0])],
        "load_start": load_start,
        "load_end": os.getloadavg(),
        "cpu_ms_median": {k: round(statistics.median(v), 1) for k, v in times.items()},
        "cpu_ms_best": {k: round(min(v), 1) for k, v in times.items()},
        "bytes": {k: len(v) for k, v in out.items()},
    }
    print(json.dumps(row))
    return 0


if __name__ == "__main__":
    sys.exit(main())
