"""Judge a training recipe by k-fold cross-validation over every photo of a dataset:
`python -m training.cv --data DIR --recipe shipped --folds 5 --encoder-weights PATH --out runs/cv-shipped`.

The folds are fixed by `--fold-seed` and stratified by each photo's asset share (so every fold holds
small-asset photos); every recipe measured with the same folds can be compared photo by photo
(`python -m training.compare`). Each fold trains one run on the other folds (`OUT/foldK/`, resumable), then
scores its held-out photos through the app's own pipeline, as `training.evaluate` does, with the last
checkpoint (never one picked on the held-out photos). `OUT/oof.json` holds one row per photo (the fold, the
product figures, IoU per class, the confusion matrix); `OUT/foldK/oof-probs.npz` keeps the network's
probabilities (x 255, uint8) for calibration and post-processing levers. Arguments after `--` go to every
`training.train` call, after the recipe's.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import sys
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from app.core.errors import CorroscopeError
from app.core.inference import InferenceOptions
from app.core.palette import DEFAULT_CLASSES, class_by_name
from training import data, metrics
from training.product import photo_product
from training.recipe import split_passthrough
from training.wrapped import Wrapped

log = logging.getLogger("training.cv")

OOF = "oof.json"
FOLDS = "folds.json"
PROBS = "oof-probs.npz"
FULL_SIZE_LAST = "last-full.keras"
# The shipped members' settings (training.recipe), without early stopping: the held-out fold is what the
# run validates on, so picking an epoch by it would leak the test photos into the model.
SHIPPED = [
    "--arch",
    "deeplabv3plus",
    "--epochs",
    "60",
    "--batch-size",
    "8",
    "--crop",
    "192",
    "--lr",
    "1e-3",
    "--patience",
    "0",
]
RECIPES: dict[str, list[str]] = {
    "shipped": SHIPPED,
    # the shipped settings on a budget this 2-core CPU can cross-validate twice in a session (34 s an
    # epoch): the cosine schedule is fitted to 20 epochs
    "shipped-e20": [*SHIPPED, "--epochs", "20"],
    "hierarchical-e20": [*SHIPPED, "--epochs", "20", "--model-setting", 'head="hierarchical"'],
    # the shipped settings with the corroded share itself in the loss (|soft share - true share| per crop)
    "share-e20": [*SHIPPED, "--epochs", "20", "--share-weight", "1"],
    # the asset repainted a non-rust hue on half the photos (pipes painted unlike the training set)
    "repaint-e20": [*SHIPPED, "--epochs", "20", "--repaint-asset", "0.5"],
    # a pipe-vs-background head and a corrosion-vs-asset head whose loss counts true pipe pixels only
    "hierarchical": [*SHIPPED, "--model-setting", 'head="hierarchical"'],
    # the same with a per-image Lovász hinge (a surrogate of 1 - IoU) on the pipe head
    "hierarchical-lovasz-e20": [
        *SHIPPED,
        "--epochs",
        "20",
        "--model-setting",
        'head="hierarchical"',
        "--lovasz-weight",
        "1",
    ],
    "encoder-lr-0.1": [*SHIPPED, "--encoder-lr-multiplier", "0.1"],
    # the pretrained encoder moved ten times less than the head, so more of ImageNet's features carry over
    "encoder-lr-0.1-e20": [*SHIPPED, "--epochs", "20", "--encoder-lr-multiplier", "0.1"],
    # ten times the weight decay (AdamW, decoupled), against the fit gap
    "weight-decay-1e-3-e20": [*SHIPPED, "--epochs", "20", "--weight-decay", "1e-3"],
    # a fifth of the photos without colour, so rust is told from yellow paint by texture as well as hue
    "grayscale-0.2-e20": [*SHIPPED, "--epochs", "20", "--grayscale", "0.2"],
    # DeepLab's usual multi-scale training (0.5-2.0; here never below the crop), against scenes shot
    # closer or farther than the training photos
    "scale-0.5-2-e20": [*SHIPPED, "--epochs", "20", "--scale-range", "0.5", "2.0"],
    # another photo's pipe pasted where it stood over a third of the photos (Ghiasi et al.'s copy-paste),
    # so the network meets pipes on backgrounds they were never shot against; without the rust ground that
    # taught it to distrust rust colour (the card's val.txt run of 2026-12-01)
    "copy-paste-0.3-e20": [*SHIPPED, "--epochs", "20", "--copy-paste", "0.3"],
    # the weights' exponential moving average (momentum 0.99: about the last five epochs) kept at the end,
    # a flatter solution than the last step's, against the fit gap
    "ema-0.99-e20": [*SHIPPED, "--epochs", "20", "--ema", "0.99"],
    # whole photos (256) instead of 192-pixel crops: the share is a whole-pipe figure, and DeepLab's image
    # pooling averages over whatever it is shown, a crop in training but the whole photo in use
    "crop-256-e20": [*SHIPPED, "--epochs", "20", "--crop", "256"],
    "dice-per-image": [*SHIPPED, "--dice-per-image"],
    # judged on val.txt only before: soft Dice per photo, so a photo's small asset counts as a large one
    "dice-per-image-e20": [*SHIPPED, "--epochs", "20", "--dice-per-image"],
    # linear probing then fine-tuning (Kumar et al., 2022): the head fits the ImageNet features first, so
    # fine-tuning distorts them less, which carried better to unseen data in their measurements
    "freeze-encoder-5-e20": [*SHIPPED, "--epochs", "20", "--freeze-encoder-epochs", "5"],
}


def asset_shares(pairs: Sequence[data.Pair]) -> dict[str, float]:
    """Each pair's share of asset pixels in its truth mask (the stratification key)."""
    asset = class_by_name(DEFAULT_CLASSES, "asset")
    assert asset is not None
    shares = {}
    for pair in pairs:
        _, truth, _ = data.load_pair(pair)
        shares[pair.id] = float(np.mean(truth == asset.id))
    return shares


def make_folds(keys: dict[str, float], k: int, seed: int) -> list[list[str]]:
    """k folds, stratified: ids sorted by key, each run of k consecutive ids dealt to the k folds in a
    seeded random order. Sizes differ by at most one."""
    if k < 2:
        raise CorroscopeError(f"cross-validation needs at least 2 folds, got {k}")
    if len(keys) < k:
        raise CorroscopeError(f"{len(keys)} photos cannot fill {k} folds")
    rng = np.random.default_rng(seed)
    ordered = sorted(keys, key=lambda i: (keys[i], i))
    folds: list[list[str]] = [[] for _ in range(k)]
    for start in range(0, len(ordered), k):
        block = ordered[start : start + k]
        for fold, pid in zip(rng.permutation(k)[: len(block)], block, strict=True):
            folds[int(fold)].append(pid)
    return [sorted(f) for f in folds]


def fold_split(folds: list[list[str]], k: int) -> data.Split:
    train = sorted(i for j, f in enumerate(folds) if j != k for i in f)
    return data.Split(tuple(train), tuple(folds[k]), f"cross-validation fold {k} of {len(folds)}")


def scoring_model(run: Path) -> Path:
    """The run's last checkpoint at its `--input-size` (`last.keras` holds the model at the training crop
    size), in float32 as exported, saved once beside it: the size the app runs the exported model at."""
    from training.callbacks import LAST, save_atomic
    from training.models import load_model, rebuild
    from training.train import CONFIG

    target = run / FULL_SIZE_LAST
    if target.is_file() and target.stat().st_mtime >= (run / LAST).stat().st_mtime:
        return target
    size = int(json.loads((run / CONFIG).read_text(encoding="utf-8"))["input_size"])
    save_atomic(rebuild(load_model(run / LAST), (size, size, 3), float32=True), target)
    return target


class LastOutput(Wrapped):
    """A model the pipeline runs, keeping its one photo's probabilities (network size, resize mode):
    what `segment(...).probabilities` is, without a second pass of the network."""

    def __init__(self, model: Any) -> None:
        super().__init__(model)
        self.last: np.ndarray | None = None
        self.calls = 0

    def predict(self, batch: np.ndarray, *args) -> np.ndarray:
        out = self._inner.predict(batch, *args)
        self.last, self.calls = out[0], self.calls + len(out)
        return out


def score_fold(
    model_path: Path,
    pairs: Sequence[data.Pair],
    fold: int,
    keep_probs: bool = True,
    adapt: Callable[[Any], Any] | None = None,
) -> tuple[list[dict], np.ndarray | None]:
    """Rows through the app's pipeline, and the probabilities (N x H x W x C, uint8 x 255) if kept.
    `adapt` wraps the loaded model (e.g. a post-processing lever of `training.levers`)."""
    from training.evaluate import load_predictor, predict_photo

    predictor = load_predictor(model_path)
    if adapt is not None:
        predictor = dataclasses.replace(predictor, model=adapt(predictor.model))
    recorder = LastOutput(predictor.model)
    predictor = dataclasses.replace(predictor, model=recorder)
    classes = DEFAULT_CLASSES
    rows, probs = [], []
    for i, pair in enumerate(pairs):
        _, truth, _ = data.load_pair(pair)
        recorder.calls = 0
        result = predict_photo(predictor, i, pair.image, InferenceOptions(corrosion_probability=True))
        if keep_probs:
            if recorder.calls != 1 or recorder.last is None:
                raise CorroscopeError(f"{pair.image}: not one network pass (resize mode) to keep")
            probs.append(np.clip(np.rint(recorder.last * 255), 0, 255).astype(np.uint8))
        cm = metrics.confusion_matrix(truth, result.labels, len(classes))
        scores = metrics.per_photo_scores(cm[None])
        rng = result.measures.share_range
        row = {"id": pair.id, "fold": fold, **photo_product(result.labels, truth, classes).to_json()}
        row |= {"mean_confidence": result.mean_confidence, "confusion": cm.tolist()}
        row |= {"range_low": rng.low if rng else None, "range_high": rng.high if rng else None}
        for j, c in enumerate(classes):
            value = scores["iou"][0, j]
            row[f"{c.name}_iou"] = None if not np.isfinite(value) else float(value)
        rows.append(row)
    return rows, (np.stack(probs) if keep_probs else None)


def run_cv(
    data_dir: Path,
    out: Path,
    recipe_args: Sequence[str],
    folds: int,
    fold_seed: int,
    only: Sequence[int] = (),
) -> dict:
    """Train and score every fold (or `only` these); returns what `oof.json` holds."""
    from training import train
    from training.callbacks import RunState

    pairs = data.find_pairs(data_dir)
    out.mkdir(parents=True, exist_ok=True)
    folds_path = out / FOLDS
    if folds_path.is_file():
        assignment = json.loads(folds_path.read_text(encoding="utf-8"))["folds"]
    else:
        assignment = make_folds(asset_shares(pairs), folds, fold_seed)
        record = {"folds": assignment, "fold_seed": fold_seed, "stratified_by": "asset pixel share"}
        folds_path.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    rows: list[dict] = []
    fit: list[dict] = []
    for k in range(len(assignment)):
        if only and k not in only:
            continue
        run = out / f"fold{k}"
        scored = run / "oof-rows.json"
        if not scored.is_file():
            split = fold_split(assignment, k)
            if not (run / data.SPLIT_MANIFEST).is_file():
                data.write_split(split, run)
            state = RunState.load(run)
            if state is None or not state.finished:
                rc = train.main([*recipe_args, "--data", str(data_dir), "--out", str(run)])
                if rc != 0:
                    raise CorroscopeError(f"fold {k}: training failed (exit status {rc}); see its log")
            held_out = data.select(pairs, split.val)
            model = scoring_model(run)
            fold_rows, probs = score_fold(model, held_out, k)
            np.savez_compressed(run / PROBS, ids=np.array(split.val), probs=probs)
            # the same model on the photos it trained on: the gap between the two is what CV measures
            fit_rows, _ = score_fold(model, data.select(pairs, split.train), k, keep_probs=False)
            (run / "fit-rows.json").write_text(json.dumps(fit_rows) + "\n", encoding="utf-8")
            scored.write_text(json.dumps(fold_rows) + "\n", encoding="utf-8")
        rows += json.loads(scored.read_text(encoding="utf-8"))
        fit += json.loads((run / "fit-rows.json").read_text(encoding="utf-8"))
    result = oof_record(recipe_args, data_dir, len(assignment), fold_seed, rows, fit)
    if not only:
        (out / OOF).write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    return result


def oof_record(
    recipe: Sequence[str], data_dir: Path, folds: int, fold_seed: int, rows: list[dict], fit: list[dict]
) -> dict:
    """What `oof.json` holds (also written by `training.levers`)."""
    return {
        "recipe": list(recipe),
        "data": data_dir.name,
        "folds": folds,
        "fold_seed": fold_seed,
        "n_photos": len(rows),
        "classes": [c.name for c in DEFAULT_CLASSES],
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "photos": sorted(rows, key=lambda r: r["id"]),
        "fit_photos": fit,
    }


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    argv, extra = split_passthrough(sys.argv[1:] if argv is None else argv)
    p = argparse.ArgumentParser(prog="python -m training.cv", description=__doc__.splitlines()[0])
    p.add_argument("--data", required=True, type=Path, help="dataset folder (every pair is used)")
    p.add_argument("--recipe", default="shipped", choices=sorted(RECIPES), help="named training settings")
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--fold-seed", type=int, default=0, help="fixes the folds; keep it to compare recipes")
    p.add_argument("--only", type=int, nargs="*", default=[], help="run these folds only (no oof.json)")
    p.add_argument("--encoder-weights", default="none", help="ImageNet MobileNetV2 checkpoint, or none")
    p.add_argument("--out", required=True, type=Path)
    a = p.parse_args(argv)
    recipe = [*RECIPES[a.recipe], "--encoder-weights", a.encoder_weights, *extra]
    try:
        result = run_cv(a.data, a.out, recipe, a.folds, a.fold_seed, a.only)
    except (CorroscopeError, OSError, ValueError) as exc:
        log.error("%s", exc)
        return 2
    log.info("%d photos scored out of fold; compare with: python -m training.compare", result["n_photos"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
