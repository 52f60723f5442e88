"""CPU of one thread per stage of a batch photo (12 MP JPEGs): upsampling (with the network), statistics,
measures, overlay blend, overlay JPEG encode and mask PNG, median of `--repeats` per photo.

`python bench/photo_stage_cpu.py --model M P.jpg ...` prints one JSON object (per photo and the median
over photos, with the load average). It imports only `app`, so `PYTHONPATH=OLD_TREE python
bench/photo_stage_cpu.py ...` times an older tree with the same script (before/after in one sitting).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import cv2


def _cpu_ms(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.thread_time()
        fn()
        times.append(1e3 * (time.thread_time() - t0))
    return round(statistics.median(times), 1)


def stages(model, path: Path, repeats: int) -> dict[str, float]:
    from app.core.export import encode_mask_png
    from app.core.files import encode_jpeg
    from app.core.inference import segment
    from app.core.measures import measure_photo
    from app.core.overlay_style import EVERY_CLASS
    from app.core.photos import read_image
    from app.core.stats import area_stats

    rgb = read_image(path)
    labels = segment(model, rgb).labels
    overlay = EVERY_CLASS.blend(rgb, labels, model.classes, bgr=True)
    ways = {
        "segment (network + upsampling)": lambda: segment(model, rgb),
        "statistics": lambda: area_stats(labels, model.classes),
        "measures (with statistics)": lambda: measure_photo(labels, model.classes),
        "overlay blend": lambda: EVERY_CLASS.blend(rgb, labels, model.classes, bgr=True),
        "overlay JPEG encode": lambda: encode_jpeg(overlay, 90, bgr=True),
        "mask PNG": lambda: encode_mask_png(labels, model.classes),
    }
    return {name: _cpu_ms(fn, repeats) for name, fn in ways.items()}


def main(argv: list[str] | None = None) -> int:
    from app.core.model import SegmentationModel

    p = argparse.ArgumentParser(prog="python bench/photo_stage_cpu.py")
    p.add_argument("--model", type=Path, required=True)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("photos", type=Path, nargs="+")
    a = p.parse_args(argv)
    cv2.setNumThreads(1)  # one thread, so thread CPU time is the whole cost
    model = SegmentationModel.load(a.model, "cpu", threads=1)
    load = os.getloadavg()
    rows = {str(path): stages(model, path, a.repeats) for path in a.photos}
    names = next(iter(rows.values()))
    median = {n: round(statistics.median(r[n] for r in rows.values()), 1) for n in names}
    print(json.dumps({"load_start": load, "load_end": os.getloadavg(), "photos": rows, "median": median}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
