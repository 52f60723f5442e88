"""Write a model's measured figures into a copy of its file: `python -m training.model_figures --model IN.onnx
--cv runs/cv-x --out OUT.onnx`.

From a cross-validation of the model's recipe (`training.cv`): the share's calibrated range
(`corroscope.share_range`, fitted on every out-of-fold photo, with its coverage and width measured on
held-out folds and the review width limit), the typical error (`corroscope.accuracy`: share error
median / mean / 90th percentile, D610 agreement) and the corrosion/asset split they were measured with
(`corroscope.split`: `expected-share` for a CV scored with that lever of `training.levers`). The app
reads them through its model loader. The input file is never changed: OUT must differ from IN, and an
existing OUT is replaced only with --overwrite.
A JSON report with the held-out figures and every photo's held-out range goes beside OUT (`--report`).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

from app.core.contract import KEY_ACCURACY, KEY_SHARE_RANGE
from app.core.errors import CorroscopeError
from app.core.expected_share import ARGMAX, EXPECTED_SHARE
from app.core.expected_share import METADATA_KEY as SPLIT_KEY
from app.core.model import SegmentationModel
from app.core.model_accuracy import ModelAccuracy
from training.range_fit import CONFIDENCE, calibrate_cv

log = logging.getLogger("training.model_figures")


def accuracy_from_rows(rows: list[dict], measured_on: str) -> ModelAccuracy:
    """The typical error over the out-of-fold photos whose truth has an asset (a photo the model sees no
    asset in counts as 0 % predicted, as `training.product` scores it)."""
    scored = [r for r in rows if r.get("share_true") is not None]
    if not scored:
        raise CorroscopeError("no out-of-fold photo has an asset in its truth mask: no error to state")
    errors = np.array([abs((r["share_pred"] or 0.0) - r["share_true"]) for r in scored])
    graded = [r for r in scored if r.get("d610_true") is not None]
    same = float(np.mean([r.get("d610_pred") == r["d610_true"] for r in graded])) if graded else None
    return ModelAccuracy(
        median_error=float(np.median(errors)),
        mean_error=float(np.mean(errors)),
        p90_error=float(np.percentile(errors, 90)),
        d610_same=same,
        photos=len(scored),
        measured_on=measured_on,
    )


QUANTIZATION = "corroscope.quantization"


def paired_quantization(int8: Path, float_model: Path) -> str:
    """The int8 file's quantization record naming `float_model` as its float file, the file it was
    quantized from kept as `quantized_from_sha256` (the weights are the same; only metadata differs)."""
    made = json.loads(SegmentationModel.load(int8, "cpu").metadata.get(QUANTIZATION) or "{}")
    if not made:
        raise CorroscopeError(f"{int8}: not an int8 file of ours (no {QUANTIZATION} record)")
    made.setdefault("quantized_from_sha256", made.get("float_model_sha256"))
    made["float_model_sha256"] = SegmentationModel.load(float_model, "cpu").sha256
    return json.dumps(made, separators=(",", ":"))


def cv_split(cv: Path) -> str:
    """How the cross-validation drew the corrosion/asset split: `expected-share` when it was scored with
    that lever (`training.levers --lever expected-share`), else `argmax`."""
    levers = json.loads((cv / "oof.json").read_text(encoding="utf-8")).get("levers", [])
    return EXPECTED_SHARE if EXPECTED_SHARE in levers else ARGMAX


def write_metadata(src: Path, dst: Path, entries: dict[str, str], overwrite: bool = False) -> Path:
    """A copy of `src` with these metadata entries set (others kept), written atomically to `dst`."""
    import onnx

    if dst.absolute() == src.absolute() or (dst.exists() and dst.resolve() == src.resolve()):
        raise CorroscopeError(f"{dst}: the output must not be the input model (it is never changed in place)")
    if dst.exists() and not overwrite:
        raise CorroscopeError(f"{dst} already exists (pass --overwrite to replace it)")
    proto = onnx.load(str(src))
    kept = [(p.key, p.value) for p in proto.metadata_props if p.key not in entries]
    del proto.metadata_props[:]
    for key, value in [*kept, *entries.items()]:
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    dst.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dst.name}.", suffix=".tmp", dir=dst.parent)
    os.close(fd)
    try:
        onnx.save(proto, tmp)
        SegmentationModel.load(tmp, "cpu")  # the app must still load it
        os.replace(tmp, dst)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return dst


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    p = argparse.ArgumentParser(prog="python -m training.model_figures", description=__doc__.splitlines()[0])
    p.add_argument("--model", required=True, type=Path, help="the contract .onnx file to copy")
    p.add_argument("--cv", required=True, type=Path, help="a training.cv output folder of the model's recipe")
    p.add_argument("--out", required=True, type=Path, help="the .onnx copy with the figures")
    p.add_argument("--coverage", type=float, default=0.8, help="the range's target coverage")
    p.add_argument(
        "--confidence",
        type=float,
        default=CONFIDENCE,
        help="the probability that the range's coverage on unseen photos reaches --coverage",
    )
    p.add_argument("--report", type=Path, help="JSON report (default: OUT with .figures.json)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing OUT")
    p.add_argument(
        "--float-model",
        type=Path,
        default=None,
        help="for an int8 file: the float file it pairs with, when that file too got new figures (its "
        "SHA-256 changed; the one the int8 file was quantized from stays in the record)",
    )
    p.add_argument(
        "--measured-on",
        default=None,
        help="how the figures were measured, said with them (default: the folds and the CV folder's name)",
    )
    a = p.parse_args(argv)
    try:
        if not 0.5 <= a.coverage < 1.0:
            raise CorroscopeError(f"--coverage must be in [0.5, 1), got {a.coverage}")
        if not 0.5 <= a.confidence < 1.0:
            raise CorroscopeError(f"--confidence must be in [0.5, 1), got {a.confidence}")
        cal, per_photo, rows = calibrate_cv(a.cv, a.coverage, a.confidence)
        how = a.measured_on or f"{cal.held_out['folds']}-fold cross-validation, {a.cv.name}"
        accuracy = accuracy_from_rows(rows, how)
        entries = {
            KEY_SHARE_RANGE: json.dumps(cal.to_json(), separators=(",", ":")),
            KEY_ACCURACY: json.dumps(accuracy.to_json(), separators=(",", ":")),
            SPLIT_KEY: cv_split(a.cv),  # the app draws the split as the figures were measured
        }
        if a.float_model is not None:
            entries[QUANTIZATION] = paired_quantization(a.model, a.float_model)
        out = write_metadata(a.model, a.out, entries, a.overwrite)
    except (CorroscopeError, OSError) as exc:
        log.error("%s", exc)
        return 1
    report = a.report or out.with_name(out.name.removesuffix(".onnx") + ".figures.json")
    body = {"calibration": cal.to_json(), "accuracy": accuracy.to_json(), "held_out_photos": per_photo}
    report.write_text(json.dumps(body, indent=1) + "\n", encoding="utf-8")
    h = cal.held_out
    log.info(
        "%s: %s; held out (%d folds, at least %.0f %% with %.0f %% confidence targeted): coverage %.0f %%, "
        "mean width %.1f points; small assets (%d photos): "
        "coverage %s, mean width %s; unflagged %d of %d (%.0f %%), %d off by more than 10 points",
        out,
        accuracy.line(),
        h["folds"],
        100 * cal.coverage,
        100 * a.confidence,
        100 * h["coverage"],
        h["mean_width"],
        h["small_asset"]["photos"],
        h["small_asset"]["coverage"],
        h["small_asset"]["mean_width"],
        h["unflagged"],
        h["photos"],
        100 * h["unflagged_share"],
        h["unflagged_off_by_more_than_10"],
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
