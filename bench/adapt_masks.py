"""The measurements behind adaptation's colour-convention check (`app.core.adapt_masks`): each reviewed
mask against the base model's prediction, as `adapt_model` computes it.

`python -m bench.adapt_masks [--model M] [--origin] [FOLDER...] [--json FILE]`: each FOLDER's photos
with their masks in the same folder (named as `analyze --reviewed-masks` reads them); `--origin` the
origin's ORI_*/GT_* pairs (`../shared/data/pipe-corrosion/DATASET`), also with their masks' asset, then
corrosion, swapped with background by hand. Per set: photos, those judged, the largest `swap` score,
its 99th percentile, how many look swapped (over `SWAP_LIMIT`), and the pipe IoU's minimum, 5th
percentile and median. About 0.5 s a photo on a 2-core CPU with the int8 model.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from app.core.adapt import reviewed_pairs
from app.core.adapt_masks import MaskAgreement, agreement, confusion
from app.core.batch_inputs import photos_in
from app.core.inference import network_input
from app.core.model import SegmentationModel
from app.core.photo_decode import start_decode
from app.core.reviewed import read_reviewed_mask

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_MODEL = ROOT / "models" / "corrosion-deeplabv3plus-mobilenetv2.int8.onnx"
ORIGIN = ROOT.parent / "shared" / "data" / "pipe-corrosion" / "DATASET"


def counts(model: SegmentationModel, photo: Path, mask: Path) -> np.ndarray:
    """The mask x model confusion, as adaptation sees the photo (resize mode's network input)."""
    with start_decode(photo, input_size=model.input_size, full_too=False) as decode:
        view, size = decode.network_view(), decode.size
    labels = read_reviewed_mask(mask, size, model.classes).labels
    probs = model.predict(network_input(view, model.input_size)[None])[0]
    return confusion(labels, probs.argmax(axis=-1), model.num_classes)


def swapped(table: np.ndarray, a: int, b: int) -> np.ndarray:
    """The confusion of masks painted with classes a and b exchanged."""
    order = list(range(len(table)))
    order[a], order[b] = order[b], order[a]
    return table[order]


def summary(model: SegmentationModel, tables: list[np.ndarray]) -> dict:
    found: list[MaskAgreement] = [agreement(t, model.classes) for t in tables]
    judged = np.array([a.swap for a in found if a.swapped_with is not None] or [0.0])
    iou = np.array([a.pipe_iou for a in found if a.pipe_iou is not None] or [0.0])
    return {
        "photos": len(found),
        "judged": int(sum(a.swapped_with is not None for a in found)),
        "swap_max": round(float(judged.max()), 3),
        "swap_p99": round(float(np.percentile(judged, 99)), 3),
        "looks_swapped": int(sum(a.looks_swapped for a in found)),
        "pipe_iou_min": round(float(iou.min()), 3),
        "pipe_iou_p5": round(float(np.percentile(iou, 5)), 3),
        "pipe_iou_median": round(float(np.median(iou)), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folders", nargs="*", type=Path)
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--origin", action="store_true", help="the origin's ORI_*/GT_* pairs too")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    model = SegmentationModel.load(args.model, device="cpu")
    asset, corrosion, background = (
        next(c.id for c in model.classes if c.name == n) for n in ("asset", "corrosion", "background")
    )
    sets: dict[str, list[np.ndarray]] = {}
    for folder in args.folders:
        sets[str(folder)] = [counts(model, p, m) for p, m in reviewed_pairs(photos_in([folder]), folder)]
    if args.origin:
        pairs = [
            (p, ORIGIN / "ground_truth" / f"GT_{p.stem[4:]}.png")
            for p in sorted(ORIGIN.glob("original/ORI_*"))
        ]
        tables = [counts(model, p, m) for p, m in pairs if m.is_file()]
        sets["origin"] = tables
        sets["origin, asset swapped with background"] = [swapped(t, asset, background) for t in tables]
        sets["origin, corrosion swapped with background"] = [
            swapped(t, corrosion, background) for t in tables
        ]
    results = {name: summary(model, tables) for name, tables in sets.items()}
    for name, row in results.items():
        print(name, json.dumps(row))
    if args.json:
        args.json.write_text(json.dumps({"model": args.model.name, "sets": results}, indent=1) + "\n")


if __name__ == "__main__":
    main()
