"""Evaluate a model on a dataset split: `python -m training.evaluate --model runs/NAME/best.keras
--data DIR --split val --out runs/NAME/eval` (or `--model file.onnx`, run through `app.core.model`).

Writes `metrics.json` (everything), `summary.json` (the two protocols' tables only, small enough to
embed in an ONNX file with `training.export --metrics`), `metrics.md`, `metrics.xlsx`,
`confusion.png`, `curves.png` (when the model sits in a run folder with `log.csv`), `worst.png` and
`best.png` (photo / truth / prediction).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from app.core.analysis import PhotoResult, analyze_rgb
from app.core.errors import CorroscopeError
from app.core.files import sha256_file
from app.core.inference import InferenceMode, InferenceOptions
from app.core.model_accuracy import accuracy_line
from app.core.palette import DEFAULT_CLASSES
from app.core.pipeline import BatchOptions, PlannedPhoto, process_photo
from training import data, metrics
from training.product import photo_product, product_summary

log = logging.getLogger("training.evaluate")

DEFAULT_INPUT_SIZE = (256, 256)  # for a Keras model whose input takes any size
CONVENTION = (
    "Per-photo protocol: each score is computed on each photo and averaged over the photos where it is "
    "defined; a score whose denominator is zero (e.g. IoU of a class absent from both the truth and "
    "the prediction of a photo) is left out of that class's average (n_photos says how many photos "
    "count). Pooled protocol: one confusion matrix summed over all pixels of all photos."
)


@dataclass(frozen=True)
class Predictor:
    """A model the app's own pipeline runs: a contract `SegmentationModel`, or a Keras model behind the
    same small interface (`predict`, `input_size`, `classes`, `sha256`, `device`)."""

    path: Path
    kind: str  # "keras" or "onnx"
    model: Any


class KerasSegmenter:
    """A `.keras` model shaped like `SegmentationModel` for `app.core.inference.segment`."""

    device = "Keras (CPU)"
    provider = "Keras"
    # A training checkpoint carries none of a contract file's figures: no range, no stated accuracy.
    range_calibration = None
    range_note = "no share range: a training checkpoint carries no range calibration"
    accuracy = None
    accuracy_line = accuracy_line(None)

    def __init__(self, path: Path, input_size: tuple[int, int]) -> None:
        from training.models import load_model

        self._model = load_model(path)
        h, w = self._model.input_shape[1:3]
        self.path = path
        self.input_size = (int(h), int(w)) if h and w else input_size
        self.classes = DEFAULT_CLASSES
        self.num_classes = len(DEFAULT_CLASSES)
        self.sha256 = sha256_file(path)

    def predict(self, batch: np.ndarray) -> np.ndarray:
        return np.asarray(self._model.predict(batch.astype(np.float32), batch_size=8, verbose=0))


def load_predictor(path: Path, input_size: tuple[int, int] = DEFAULT_INPUT_SIZE) -> Predictor:
    """A contract `.onnx` file (the app's loader) or a `.keras` file (`training.models.load_model`);
    `input_size` is used only by a Keras model whose input takes any size."""
    if path.suffix.lower() == ".onnx":
        from app.core.model import SegmentationModel

        model = SegmentationModel.load(path)
        log.info("ONNX model %s", model.describe())
        return Predictor(path, "onnx", model)
    if path.suffix.lower() != ".keras":
        raise CorroscopeError(f"{path}: expected a .keras or .onnx model file")
    if not path.is_file():
        raise CorroscopeError(f"{path}: model file not found")
    return Predictor(path, "keras", KerasSegmenter(path, input_size))


def predict_labels(
    predictor: Predictor, rgb: np.ndarray, options: InferenceOptions | None = None
) -> np.ndarray:
    """Class ids of a photo already in memory, through the app's `segment` (e.g. synthetic scenes)."""
    return analyze_rgb(predictor.model, rgb, "in-memory", options).labels


def predict_photo(predictor: Predictor, index: int, photo: Path, options: InferenceOptions) -> PhotoResult:
    """The photo through the app's own one-photo stage (reader, `segment`, statistics), nothing written."""
    item = PlannedPhoto(index, photo, photo.stem, ())
    outcome = process_photo(item, BatchOptions(inference=options, exports=()), predictor.model, True)
    if outcome.failure is not None or outcome.result is None:
        reason = outcome.failure.reason if outcome.failure else "no result"
        raise CorroscopeError(f"{photo}: {reason}")
    return outcome.result


def choose_ids(
    split: str, data_dir: Path, model_path: Path, split_file: Path | None, ids: list[str]
) -> list[str]:
    """Ids of the split: from --split-file, else the run folder's split.json, else the data's lists."""
    if split == "all":
        return ids
    if split_file is not None:
        if split_file.suffix == ".json":
            chosen = getattr(data.read_split_manifest(split_file), split)
        else:
            chosen = [line.strip() for line in split_file.read_text().splitlines() if line.strip()]
        return list(chosen)
    manifest = model_path.parent / data.SPLIT_MANIFEST
    if manifest.is_file():
        log.info("split from %s", manifest)
        return list(getattr(data.read_split_manifest(manifest), split))
    return list(getattr(data.read_split_lists(data_dir, ids), split))


def split_name(split: str, split_file: Path | None) -> str:
    """What the reports call the photos scored: a list file's name (`train.txt`: "train"), else the split."""
    if split_file is not None and split_file.suffix != ".json":
        return split_file.stem
    return split


def evaluate(
    predictor: Predictor, pairs: list[data.Pair], options: InferenceOptions | None = None
) -> tuple[list[str], list[np.ndarray], list[np.ndarray], list[np.ndarray], list[int], float]:
    """Predict every pair as `corroscope analyze` does; (ids, photos, truths, predictions, off-palette
    counts, seconds)."""
    options = options or InferenceOptions()
    ids, photos, truths, preds, offs = [], [], [], [], []
    started = time.perf_counter()
    for i, pair in enumerate(pairs, 1):
        photo, truth, off = data.load_pair(pair)
        result = predict_photo(predictor, i - 1, pair.image, options)
        preds.append(result.labels)
        ids.append(pair.id)
        photos.append(photo)
        truths.append(truth)
        offs.append(off)
        if i % 10 == 0 or i == len(pairs):
            log.info("predicted %d/%d", i, len(pairs))
    return ids, photos, truths, preds, offs, time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    p = argparse.ArgumentParser(prog="python -m training.evaluate", description=__doc__.splitlines()[0])
    p.add_argument("--model", required=True, type=Path, help="best.keras of a run, or a contract .onnx file")
    p.add_argument("--data", required=True, type=Path, help="dataset folder")
    p.add_argument("--split", default="val", choices=("val", "train", "all"))
    p.add_argument("--split-file", type=Path, default=None, help="split.json or a list of ids (one a line)")
    p.add_argument("--out", required=True, type=Path, help="folder for the tables and figures")
    p.add_argument("--examples", type=int, default=4, help="photos in each of worst.png and best.png")
    p.add_argument("--mode", choices=[m.value for m in InferenceMode], default=InferenceOptions().mode.value)
    p.add_argument("--tile-scale", type=float, default=InferenceOptions().tile_scale, help="tiles mode")
    a = p.parse_args(argv)
    try:
        return _run(a)
    except CorroscopeError as exc:
        log.error("%s", exc)
        return 2


def _run(a: argparse.Namespace) -> int:

    classes = DEFAULT_CLASSES
    names = [c.name for c in classes]
    pairs = data.find_pairs(a.data)
    ids = choose_ids(a.split, a.data, a.model, a.split_file, [q.id for q in pairs])
    chosen = data.select(pairs, ids)
    predictor = load_predictor(a.model)
    options = InferenceOptions(mode=a.mode, tile_scale=a.tile_scale)
    photo_ids, photos, truths, preds, offs, seconds = evaluate(predictor, chosen, options)
    products = [photo_product(q, t, classes) for t, q in zip(truths, preds, strict=True)]
    cms = np.stack([metrics.confusion_matrix(t, q, len(names)) for t, q in zip(truths, preds, strict=True)])
    per_photo = metrics.per_photo_report(cms, names)
    pooled = metrics.pooled_report(cms, names)
    origin = metrics.origin_scores(cms, names, background=names.index("background"))
    photo_scores = metrics.per_photo_scores(cms)
    rows = _photo_rows(photo_ids, cms, offs, products, photo_scores, names)
    result = {
        "model": str(a.model),
        "model_kind": predictor.kind,
        "sha256": sha256_file(a.model),
        "data": str(a.data),
        "split": split_name(a.split, a.split_file),
        "n_photos": len(photo_ids),
        "mode": options.mode.value,
        "product": product_summary(products),
        "classes": [c.to_json() for c in classes],
        "convention": CONVENTION,
        "per_photo": _clean(per_photo.to_json()),
        "pooled": _clean(pooled.to_json()),
        "origin_scoring": origin.to_json(),
        "confusion": {"rows_truth_columns_prediction": names, "counts": cms.sum(axis=0).tolist()},
        "photos": rows,
        "seconds_per_photo": seconds / max(len(photo_ids), 1),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    _write_reports(a, result, photo_ids, photos, truths, preds, cms, photo_scores, classes)
    pc = per_photo.per_class
    log.info(
        "%s, %d photos, per photo: corrosion IoU %.2f %%, asset %.2f %%, mIoU %.2f %%; pooled mIoU %.2f %%",
        result["split"],
        len(photo_ids),
        100 * pc["corrosion"]["iou"],
        100 * pc["asset"]["iou"],
        100 * per_photo.mean_iou,
        100 * pooled.mean_iou,
    )
    log.info(
        "origin's scoring code: corrosion IoU %.2f %%, asset %.2f %%, pipe vs background %.2f %%",
        100 * origin.iou["corrosion"],
        100 * origin.iou["asset"],
        100 * origin.pipe_iou,
    )
    prod, err = result["product"], result["product"]["corroded_share_error"]
    log.info(
        "product: corroded-share error mean %s / median %s / p90 %s / worst %s points; pipe IoU %s; "
        "D610 same %s, within one %s",
        *(_pct(err[k], 1) for k in ("mean", "median", "p90", "worst")),
        _pct(prod["pipe_iou_mean"], 100),
        _pct(prod["d610_same_share"], 100),
        _pct(prod["d610_within_one_share"], 100),
    )
    log.info("results in %s", a.out)
    return 0


def _write_reports(a, result, photo_ids, photos, truths, preds, cms, photo_scores, classes) -> None:
    """metrics.json, summary.json, metrics.md/.xlsx, the confusion heat map, curves, worst/best grids."""
    from training import plots, tables

    names = [c.name for c in classes]
    out: Path = a.out
    out.mkdir(parents=True, exist_ok=True)
    (out / "metrics.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    summary = {k: result[k] for k in ("split", "n_photos", "mode", "product", "per_photo", "pooled")}
    summary["data"] = Path(result["data"]).name
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    (out / "metrics.md").write_text(tables.markdown(result), encoding="utf-8")
    tables.xlsx(result, out / "metrics.xlsx")
    plots.confusion_heatmap(cms.sum(axis=0), names, out / "confusion.png")
    log_csv = a.model.parent / "log.csv"
    if log_csv.is_file() and plots.training_curves(log_csv, out / "curves.png"):
        log.info("training curves from %s", log_csv)
    corr = photo_scores["iou"][:, 0]
    ranked = [i for i in np.argsort(corr, kind="stable") if not np.isnan(corr[i])]
    k = max(1, a.examples)

    def grid(order: list, title: str, name: str) -> None:
        items = [(photo_ids[i], photos[i], truths[i], preds[i], float(corr[i])) for i in order]
        plots.example_grid(items, classes, title, out / name)

    grid(ranked[:k], f"Worst {k} by corrosion IoU", "worst.png")
    grid(ranked[::-1][:k], f"Best {k} by corrosion IoU", "best.png")


def _photo_rows(ids, cms, offs, products, photo_scores, names) -> list[dict]:
    """One row per photo: pixel accuracy, off-palette pixels, the product figures, IoU and Dice per class."""
    rows = []
    for i, pid in enumerate(ids):
        row: dict = {"id": pid, "pixel_accuracy": metrics.pixel_accuracy(cms[i]), "off_palette": offs[i]}
        row.update(products[i].to_json())
        for j, name in enumerate(names):
            for s in ("iou", "dice"):
                row[f"{name}_{s}"] = _num(photo_scores[s][i, j])
        rows.append(row)
    return rows


def _pct(value: float | None, scale: float) -> str:
    return "n/a" if value is None else f"{scale * value:.2f}"


def _num(value: float) -> float | None:
    return None if value is None or not np.isfinite(value) else float(value)


def _clean(obj):
    """NaN -> None, so the JSON is valid."""
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, float):
        return _num(obj)
    return obj


if __name__ == "__main__":
    sys.exit(main())
