"""Segmentation scores in numpy: confusion matrices and per-class IoU, Dice, F1, precision, recall.

Two protocols:
- **per-photo** (the origin's): scores computed on each photo, then averaged over photos;
- **pooled**: one confusion matrix summed over every pixel of every photo, scores computed once.

`origin_scores` also reproduces the origin notebook's own scoring code, for comparing with its figures.

Convention for undefined scores: a score whose denominator is zero on a photo is undefined (NaN)
and left out of that class's per-photo average. So a class absent from both the truth and the
prediction of a photo does not count for that photo's IoU/Dice/F1 (neither 0 nor 1); precision is
left out on photos where the class is not predicted, recall on photos where it is not in the truth.
The count of photos that entered each average is reported beside it (`n_photos`).
For pixel-wise segmentation F1 and Dice are the same number; both are reported as the issue asks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

SCORE_NAMES = ("iou", "dice", "f1", "precision", "recall")


def confusion_matrix(truth: np.ndarray, pred: np.ndarray, num_classes: int) -> np.ndarray:
    """Counts C x C: rows are true classes, columns predicted classes. Ids >= C are ignored."""
    if truth.shape != pred.shape:
        raise ValueError(f"truth {truth.shape} and prediction {pred.shape} differ in shape")
    t = truth.astype(np.int64).ravel()
    p = pred.astype(np.int64).ravel()
    keep = (t < num_classes) & (p < num_classes) & (t >= 0) & (p >= 0)
    flat = t[keep] * num_classes + p[keep]
    return np.bincount(flat, minlength=num_classes * num_classes).reshape(num_classes, num_classes)


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    out = np.full(num.shape, np.nan, dtype=np.float64)
    np.divide(num, den, out=out, where=den > 0)
    return out


def class_scores(cm: np.ndarray) -> dict[str, np.ndarray]:
    """Per-class arrays (length C) of IoU, Dice, F1, precision, recall; NaN where undefined."""
    cm = cm.astype(np.float64)
    tp = np.diag(cm)
    fp = cm.sum(axis=0) - tp
    fn = cm.sum(axis=1) - tp
    dice = _ratio(2 * tp, 2 * tp + fp + fn)
    return {
        "iou": _ratio(tp, tp + fp + fn),
        "dice": dice,
        "f1": dice.copy(),
        "precision": _ratio(tp, tp + fp),
        "recall": _ratio(tp, tp + fn),
    }


def pixel_accuracy(cm: np.ndarray) -> float:
    total = cm.sum()
    return float(np.trace(cm) / total) if total else float("nan")


@dataclass(frozen=True)
class Report:
    """Scores under one protocol: per class name -> {score: value}, plus overall figures."""

    protocol: str
    per_class: dict[str, dict[str, float]]
    n_photos: dict[str, dict[str, int]]
    pixel_accuracy: float
    mean_iou: float

    def to_json(self) -> dict:
        return {
            "protocol": self.protocol,
            "per_class": self.per_class,
            "n_photos": self.n_photos,
            "pixel_accuracy": self.pixel_accuracy,
            "mean_iou": self.mean_iou,
        }


def _nan_to_none_mean(values: np.ndarray) -> float:
    finite = values[~np.isnan(values)]
    return float(finite.mean()) if finite.size else float("nan")


def pooled_report(cms: np.ndarray, class_names: Sequence[str]) -> Report:
    """Scores of the confusion matrix summed over all photos (`cms`: P x C x C or C x C)."""
    cm = cms.sum(axis=0) if cms.ndim == 3 else cms
    scores = class_scores(cm)
    n = cms.shape[0] if cms.ndim == 3 else 1
    per_class = {name: {s: float(scores[s][i]) for s in SCORE_NAMES} for i, name in enumerate(class_names)}
    counts = {name: {s: n for s in SCORE_NAMES} for name in class_names}
    return Report("pooled", per_class, counts, pixel_accuracy(cm), _nan_to_none_mean(scores["iou"]))


def per_photo_scores(cms: np.ndarray) -> dict[str, np.ndarray]:
    """Per-photo, per-class scores: score -> P x C array (NaN where undefined)."""
    rows = [class_scores(cm) for cm in cms]
    return {s: np.array([r[s] for r in rows]).reshape(len(cms), cms.shape[1]) for s in SCORE_NAMES}


def per_photo_report(cms: np.ndarray, class_names: Sequence[str]) -> Report:
    """The origin's protocol: each score averaged over the photos where it is defined."""
    scores = per_photo_scores(cms)
    per_class: dict[str, dict[str, float]] = {}
    counts: dict[str, dict[str, int]] = {}
    for i, name in enumerate(class_names):
        per_class[name] = {s: _nan_to_none_mean(scores[s][:, i]) for s in SCORE_NAMES}
        counts[name] = {s: int((~np.isnan(scores[s][:, i])).sum()) for s in SCORE_NAMES}
    accuracy = float(np.mean([pixel_accuracy(cm) for cm in cms])) if len(cms) else float("nan")
    mean_iou = _nan_to_none_mean(np.array([per_class[n]["iou"] for n in class_names]))
    return Report("per_photo", per_class, counts, accuracy, mean_iou)


def photo_confusions(truths: np.ndarray, preds: np.ndarray, num_classes: int) -> np.ndarray:
    """P x C x C confusion matrices, one per photo."""
    return np.stack([confusion_matrix(t, p, num_classes) for t, p in zip(truths, preds, strict=True)])


ORIGIN_SMOOTHING = 1e-7


@dataclass(frozen=True)
class OriginScores:
    """The origin notebook's scoring: per photo, one class against the rest, ``(x + 1e-7) / (y + 1e-7)``.

    Unlike our per-photo protocol, a class absent from both truth and prediction scores 1.0 and every
    photo counts. `pipe_iou` scores the pipe (corrosion + asset) against background the same way.
    """

    iou: dict[str, float]
    dice: dict[str, float]
    pipe_iou: float

    def to_json(self) -> dict:
        return {"iou": self.iou, "dice": self.dice, "pipe_iou": self.pipe_iou, "smoothing": ORIGIN_SMOOTHING}


def _smoothed(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    return (num + ORIGIN_SMOOTHING) / (den + ORIGIN_SMOOTHING)


def origin_scores(cms: np.ndarray, class_names: Sequence[str], background: int) -> OriginScores:
    """Scores as the origin computed them from P x C x C per-photo confusion matrices."""
    cms = cms.astype(np.float64)
    tp = np.diagonal(cms, axis1=1, axis2=2)
    fp = cms.sum(axis=1) - tp
    fn = cms.sum(axis=2) - tp
    iou = _smoothed(tp, tp + fp + fn).mean(axis=0)
    dice = _smoothed(2 * tp, 2 * tp + fp + fn).mean(axis=0)
    pipe = np.array([i for i in range(cms.shape[1]) if i != background])
    pipe_tp = cms[:, pipe][:, :, pipe].sum(axis=(1, 2))
    pipe_union = cms.sum(axis=(1, 2)) - cms[:, background, background]
    return OriginScores(
        iou={name: float(iou[i]) for i, name in enumerate(class_names)},
        dice={name: float(dice[i]) for i, name in enumerate(class_names)},
        pipe_iou=float(_smoothed(pipe_tp, pipe_union).mean()),
    )
