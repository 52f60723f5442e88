"""Fit the corroded share's calibrated range and the review policy's width limit from a cross-validation
(`training.cv`), and measure both on folds the fit never saw.

The range is normalized split-conformal: a ridge model of log(1 + |error|) on the photo's difficulty
features gives each photo a scale; a conformal quantile of |error| / scale makes the range share +-
quantile x scale. Inside the calibration photos every scale is cross-fitted (the model of the other
folds), so the quantile is that of photos the scale model did not see. The quantile is the
training-conditional one: with `confidence` 0.9, the range holds the truth on at least the target share
of unseen photos with 90 % probability over the calibration photos drawn, not merely on average (the
average promise, with the ridge picked by the narrowest ranges on the same scores, held 79 % of 194
held-out photos). Held-out figures: calibrate on all folds but one, measure on that one, rotate.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from app.core.errors import CorroscopeError
from app.core.grading import GradeScale, ReviewPolicy, assess
from app.core.palette import DEFAULT_CLASSES
from app.core.range_calibration import (
    FEATURE_NAMES,
    RangeCalibration,
    difficulty_features,
    feature_vector,
)
from app.core.share_range import ShareRange
from app.core.stats import AreaStats

log = logging.getLogger("training.range_fit")

# Ridge strengths tried on standardized features (~155 photos, 7 features); the one whose cross-fitted
# ranges are narrowest at the target coverage is kept, inside the calibration photos. The largest is a
# constant width: where difficulty predicts nothing, the range falls back to plain split-conformal.
RIDGES = (1.0, 5.0, 25.0, 125.0, 1e9)
CONFIDENCE = 0.9  # the probability, over the calibration photos, that the range's coverage reaches its target
OFF_LIMIT = 10.0  # points: an unflagged photo must not be off by more than this
SMALL_ASSET = 0.10  # a "small asset" photo: the truth's asset covers under this fraction of the frame


@dataclass(frozen=True)
class CvPhoto:
    """One out-of-fold photo: its fold, predicted and true share, features, confidence, truth's asset
    fraction of the frame (for the small-asset figures)."""

    id: str
    fold: int
    share_pred: float
    share_true: float
    x: np.ndarray
    mean_confidence: float | None
    asset_fraction: float

    @property
    def error(self) -> float:
        return abs(self.share_true - self.share_pred)


def _rows(cv: Path) -> list[dict]:
    oof = cv / "oof.json"
    if oof.is_file():
        return json.loads(oof.read_text(encoding="utf-8"))["photos"]
    rows = []  # a CV still running (or one fold): each fold's own rows
    paths = sorted(cv.glob("fold*/oof-rows.json"))
    for path in paths:
        rows += json.loads(path.read_text(encoding="utf-8"))
    if not rows:
        raise CorroscopeError(f"{cv} holds no oof.json nor fold*/oof-rows.json: not a finished training.cv")
    log.warning("%s has no oof.json (not finished?): using the %d folds scored so far", cv, len(paths))
    return rows


def _asset_fraction(row: dict) -> float:
    cm = np.array(row["confusion"], dtype=np.float64)  # truth x prediction
    asset = next(c.id for c in DEFAULT_CLASSES if c.name == "asset")
    return float(cm[asset].sum() / max(cm.sum(), 1.0))


def stored_probs(cv: Path) -> dict[str, np.ndarray]:
    """Photo id -> its out-of-fold probabilities (uint8 H x W x C) from a CV run's `foldK/oof-probs.npz`."""
    probs: dict[str, np.ndarray] = {}
    for path in sorted(cv.glob("fold*/oof-probs.npz")):
        with np.load(path, allow_pickle=False) as z:
            probs.update(zip((str(i) for i in z["ids"]), z["probs"], strict=True))
    return probs


def load_cv(cv: Path) -> tuple[list[dict], list[CvPhoto]]:
    """(every out-of-fold row, the photos a range can be made for: an asset predicted and in the truth)."""
    rows = _rows(cv)
    probs = stored_probs(cv)
    photos = []
    for row in rows:
        if row["share_pred"] is None or row["share_true"] is None or row["id"] not in probs:
            continue
        features = difficulty_features(probs[row["id"]], DEFAULT_CLASSES)
        if features is None:
            continue
        photos.append(
            CvPhoto(
                row["id"],
                int(row["fold"]),
                float(row["share_pred"]),
                float(row["share_true"]),
                feature_vector(features, float(row["share_pred"])),
                row.get("mean_confidence"),
                _asset_fraction(row),
            )
        )
    if len(photos) < 5:
        raise CorroscopeError(f"{cv}: only {len(photos)} photos with probabilities and an asset; too few")
    return rows, photos


@dataclass(frozen=True)
class _Scaler:
    mean: np.ndarray
    std: np.ndarray
    weights: np.ndarray
    bias: float

    def log_scale(self, x: np.ndarray) -> np.ndarray:
        return self.bias + ((x - self.mean) / self.std) @ self.weights


def _fit_scaler(photos: Sequence[CvPhoto], ridge: float) -> _Scaler:
    x = np.stack([p.x for p in photos])
    y = np.log1p(np.array([p.error for p in photos]))
    mean, std = x.mean(axis=0), x.std(axis=0)
    std = np.where(std > 1e-9, std, 1.0)
    z = (x - mean) / std
    w = np.linalg.solve(z.T @ z + ridge * np.eye(z.shape[1]), z.T @ (y - y.mean()))
    return _Scaler(mean, std, w, float(y.mean()))


def conformal_quantile(scores: np.ndarray, coverage: float, confidence: float | None = None) -> float:
    """Split-conformal's finite-sample quantile: the ceil((n + 1) coverage)-th smallest score, whose
    coverage of an unseen photo is at least `coverage` on average. With `confidence`, the k-th smallest
    for the least k whose coverage reaches `coverage` with that probability (the k-th of n scores covers
    a Beta(k, n + 1 - k) share, below `coverage` with probability P(Binomial(n, coverage) >= k))."""
    n = len(scores)
    k = (
        math.ceil((n + 1) * coverage)
        if confidence is None
        else _training_conditional_rank(n, coverage, confidence)
    )
    if k > n:
        log.warning("%d calibration scores are too few for coverage %.2f: the largest is used", n, coverage)
    return float(np.sort(scores)[min(k, n) - 1])


def _training_conditional_rank(n: int, coverage: float, confidence: float) -> int:
    tail = 1.0  # P(Binomial(n, coverage) >= k), starting at k = 0
    for k in range(n + 1):
        if tail <= 1.0 - confidence:
            return max(k, 1)
        log_pmf = math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)
        tail -= math.exp(log_pmf + k * math.log(coverage) + (n - k) * math.log1p(-coverage))
    return n + 1


def _cross_scales(photos: Sequence[CvPhoto], ridge: float) -> np.ndarray:
    """Each photo's scale from the model fitted on the other folds (in-sample with a single fold)."""
    folds = sorted({p.fold for p in photos})
    out = np.empty(len(photos))
    for f in folds:
        rest = [p for p in photos if p.fold != f] or list(photos)
        scaler = _fit_scaler(rest, ridge)
        idx = [i for i, p in enumerate(photos) if p.fold == f]
        out[idx] = np.exp(scaler.log_scale(np.stack([photos[i].x for i in idx])))
    return out


def fit_range(
    photos: Sequence[CvPhoto], coverage: float, confidence: float | None = CONFIDENCE
) -> RangeCalibration:
    """The range fitted on these photos (the ridge strength whose cross-fitted ranges are narrowest), with
    the review width limit chosen on their cross-fitted ranges."""
    errors = np.array([p.error for p in photos])
    best: tuple[float, float, np.ndarray, float] | None = None
    for ridge in RIDGES:
        sc = _cross_scales(photos, ridge)
        qr = conformal_quantile(errors / sc, coverage, confidence)
        width = float(np.mean([_range(p, qr * v, None).width for p, v in zip(photos, sc, strict=True)]))
        if best is None or width < best[0]:
            best = (width, qr, sc, ridge)
    assert best is not None
    _, q, scales, ridge = best
    s = _fit_scaler(photos, ridge)
    cal = RangeCalibration(
        coverage=coverage,
        confidence=confidence,
        features=FEATURE_NAMES,
        mean=tuple(float(v) for v in s.mean),
        std=tuple(float(v) for v in s.std),
        weights=tuple(float(v) for v in s.weights),
        bias=s.bias,
        quantile=q,
    )
    ranges = [_range(p, q * sc, None) for p, sc in zip(photos, scales, strict=True)]
    return replace(cal, review_max_width=choose_review_width(photos, ranges))


def _range(p: CvPhoto, half: float, max_width: float | None, label: str = "range") -> ShareRange:
    return ShareRange(
        p.share_pred, max(0.0, p.share_pred - half), min(100.0, p.share_pred + half), label, max_width
    )


def unflagged(p: CvPhoto, r: ShareRange, scale: GradeScale = GradeScale.ASTM_D610) -> bool:
    """Whether the app's own `assess` (default policy) lets this model mask pass without review."""
    stats = AreaStats({}, {}, 0, p.share_pred)
    return not assess(stats, p.mean_confidence, ReviewPolicy(), scale, share_range=r).needs_review


def choose_review_width(
    photos: Sequence[CvPhoto], ranges: Sequence[ShareRange], limit: float = OFF_LIMIT
) -> float:
    """The widest range width W such that no photo passing review with ranges up to W is off by more than
    `limit` points (0: no range is narrow enough to trust alone)."""
    passing = sorted(
        ((r.spread, p.error) for p, r in zip(photos, ranges, strict=True) if unflagged(p, r)),
    )
    best = 0.0
    for width, error in passing:
        if error > limit:
            break
        best = width
    return round(float(best), 4)


def _figures(photos: Sequence[CvPhoto], ranges: Sequence[ShareRange], limit: float = OFF_LIMIT) -> dict:
    inside = [r.low - 1e-9 <= p.share_true <= r.high + 1e-9 for p, r in zip(photos, ranges, strict=True)]
    free = [(p, r) for p, r in zip(photos, ranges, strict=True) if unflagged(p, r)]
    return {
        "photos": len(photos),
        "coverage": round(float(np.mean(inside)), 4) if photos else None,
        "mean_width": round(float(np.mean([r.width for r in ranges])), 3) if photos else None,
        "median_width": round(float(np.median([r.width for r in ranges])), 3) if photos else None,
        "unflagged": len(free),
        "unflagged_share": round(len(free) / len(photos), 4) if photos else None,
        "unflagged_off_by_more_than_10": sum(p.error > limit for p, _ in free),
    }


def held_out(
    photos: Sequence[CvPhoto], coverage: float, confidence: float | None = CONFIDENCE
) -> tuple[dict, list[dict]]:
    """Calibrate on every fold but one, measure on that one, rotate: figures overall, for small-asset
    photos, and per photo (its fold's range)."""
    folds = sorted({p.fold for p in photos})
    if len(folds) < 2:
        raise CorroscopeError("held-out figures need at least two folds")
    tested: list[CvPhoto] = []
    ranges: list[ShareRange] = []
    per_fold = {}
    for f in folds:
        cal = fit_range([p for p in photos if p.fold != f], coverage, confidence)
        test = [p for p in photos if p.fold == f]
        r = [_range(p, cal.quantile * cal.scale_of(p.x), cal.review_max_width) for p in test]
        per_fold[str(f)] = {**_figures(test, r), "review_max_width": cal.review_max_width}
        tested += test
        ranges += r
    small = [i for i, p in enumerate(tested) if p.asset_fraction < SMALL_ASSET]
    figures = {
        "folds": len(folds),
        **_figures(tested, ranges),
        "small_asset": {
            "definition": f"truth's asset under {SMALL_ASSET:.0%} of the frame",
            **_figures([tested[i] for i in small], [ranges[i] for i in small]),
        },
        "per_fold": per_fold,
    }
    rows = [
        {
            "id": p.id,
            "fold": p.fold,
            "share": round(p.share_pred, 3),
            "true": round(p.share_true, 3),
            "low": round(r.low, 3),
            "high": round(r.high, 3),
            "unflagged": unflagged(p, r),
        }
        for p, r in zip(tested, ranges, strict=True)
    ]
    return figures, rows


def calibrate_cv(
    cv: Path, coverage: float = 0.8, confidence: float | None = CONFIDENCE
) -> tuple[RangeCalibration, list[dict], list[dict]]:
    """The calibration fitted on every photo of the CV, its held-out figures inside, the per-photo held-out
    rows, and the CV's rows (for the accuracy figures)."""
    rows, photos = load_cv(cv)
    figures, per_photo = held_out(photos, coverage, confidence)
    cal = fit_range(photos, coverage, confidence)
    return replace(cal, held_out=figures), per_photo, rows
