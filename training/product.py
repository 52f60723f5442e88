"""The figures an inspector reads, scored against the truth: corroded-share error, pipe-vs-background
IoU, and how often the ASTM D610 grade is the truth's (or within one grade)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from app.core.grading import GradeScale, grade
from app.core.palette import ClassInfo, class_by_name
from app.core.stats import area_stats


@dataclass(frozen=True)
class PhotoProduct:
    """One photo: predicted and true corroded share (% of the asset), their D610 grades, pipe IoU."""

    share_pred: float | None
    share_true: float | None
    d610_pred: int | None
    d610_true: int | None
    pipe_iou: float | None

    @property
    def share_error(self) -> float | None:
        """Absolute error in points; a photo the model sees no asset in counts as 0 % predicted."""
        if self.share_true is None:
            return None
        return abs((self.share_pred or 0.0) - self.share_true)

    def to_json(self) -> dict:
        return {**asdict(self), "share_error": self.share_error}


def photo_product(pred: np.ndarray, truth: np.ndarray, classes: Sequence[ClassInfo]) -> PhotoProduct:
    pipe_ids = [c.id for c in (class_by_name(classes, "corrosion"), class_by_name(classes, "asset")) if c]
    pipe_pred, pipe_true = np.isin(pred, pipe_ids), np.isin(truth, pipe_ids)
    union = int(np.count_nonzero(pipe_pred | pipe_true))
    iou = int(np.count_nonzero(pipe_pred & pipe_true)) / union if union else None
    share_pred = area_stats(pred, classes).corroded_share
    share_true = area_stats(truth, classes).corroded_share

    def d610(share: float | None) -> int | None:
        return None if share is None else grade(share, GradeScale.ASTM_D610).value

    return PhotoProduct(share_pred, share_true, d610(share_pred), d610(share_true), iou)


def product_summary(photos: Sequence[PhotoProduct]) -> dict:
    """Mean / median / 90th percentile / worst share error, mean pipe IoU, D610 agreement (photos whose
    truth has asset in view)."""
    errors = np.array([p.share_error for p in photos if p.share_error is not None], dtype=float)
    ious = np.array([p.pipe_iou for p in photos if p.pipe_iou is not None], dtype=float)
    graded = [p for p in photos if p.d610_true is not None]
    same = [p.d610_pred == p.d610_true for p in graded]
    near = [p.d610_pred is not None and abs(p.d610_pred - p.d610_true) <= 1 for p in graded]

    def stat(values: np.ndarray, fn) -> float | None:
        return float(fn(values)) if values.size else None

    return {
        "corroded_share_error": {
            "mean": stat(errors, np.mean),
            "median": stat(errors, np.median),
            "p90": stat(errors, lambda v: np.percentile(v, 90)),
            "worst": stat(errors, np.max),
            "n_photos": int(errors.size),
        },
        "pipe_iou_mean": stat(ious, np.mean),
        "d610_same_share": float(np.mean(same)) if same else None,
        "d610_within_one_share": float(np.mean(near)) if near else None,
        "n_graded_photos": len(graded),
    }
