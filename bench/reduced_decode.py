"""How much the reduced JPEG decode moves the figures: dataset photos enlarged to camera size, analysed
from their full decode (the network input area-shrunk from it, as before) and from the reduced decode.

`python -m bench.reduced_decode --model M --photos DIR --every 6` takes every 6th photo of DIR (the
dataset's `DATASET/original`), enlarges it to 4000x3000 (bicubic) and saves it as a JPEG of quality 92
in a temporary folder, then prints one JSON object: max and mean |change| of the corroded share (in
percentage points) and each photo whose ASTM D610 grade changes. `--view-factor` tries another
`app.core.photo_decode.MIN_VIEW_FACTOR` (1: the 1/8 scale at 12 MP).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

import cv2

SIZE = (4000, 3000)


def compare(model_path: Path, photos: Path, every: int, view_factor: int | None) -> dict:
    from app.core import photo_decode
    from app.core.analysis import analyze_photo, analyze_rgb
    from app.core.model import SegmentationModel
    from app.core.photos import find_images, read_image

    if view_factor is not None:
        photo_decode.MIN_VIEW_FACTOR = view_factor
    model = SegmentationModel.load(model_path, device="cpu")
    deltas: list[float] = []
    changed: list[dict] = []
    load_start = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        for src in find_images([photos])[::every]:
            big = cv2.resize(cv2.imread(str(src)), SIZE, interpolation=cv2.INTER_CUBIC)
            path = Path(tmp) / f"{src.stem}.jpg"
            cv2.imwrite(str(path), big, [cv2.IMWRITE_JPEG_QUALITY, 92])
            old = analyze_rgb(model, read_image(path), path)
            new = analyze_photo(model, path)
            a, b = old.stats.corroded_share, new.stats.corroded_share
            if a is not None and b is not None:
                deltas.append(abs(a - b))
            if old.assessment.astm != new.assessment.astm or (a is None) != (b is None):
                grades = (old.assessment.astm, new.assessment.astm)
                changed.append({"photo": src.name, "share": [a, b], "d610": [g and g.label for g in grades]})
    return {
        "photos": len(deltas),
        "size": list(SIZE),
        "view_factor": photo_decode.MIN_VIEW_FACTOR,
        "max_abs_share_change_pp": max(deltas, default=0.0),
        "mean_abs_share_change_pp": statistics.mean(deltas) if deltas else 0.0,
        "d610_changes": changed,
        "load_start": load_start,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.reduced_decode")
    p.add_argument("--model", type=Path, required=True)
    p.add_argument("--photos", type=Path, required=True)
    p.add_argument("--every", type=int, default=6)
    p.add_argument("--view-factor", type=int)
    a = p.parse_args(argv)
    print(json.dumps(compare(a.model, a.photos, a.every, a.view_factor)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
