"""The figures `training.compare` reports, each computed from per-photo rows of `training.cv`, and their
bootstrap intervals (photos resampled with replacement) and paired differences."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from app.core.errors import CorroscopeError

# photos whose truth holds at least this share of asset pixels: where asset IoU is a stable figure
LARGE_ASSET = 0.10
CONFIDENCE = 0.95


@dataclass(frozen=True)
class PhotoFigures:
    """Per-photo arrays (NaN where a figure is undefined for the photo), photos in `ids` order."""

    ids: tuple[str, ...]
    corrosion_iou: np.ndarray
    asset_iou: np.ndarray
    pipe_iou: np.ndarray
    share_error: np.ndarray
    d610_equal: np.ndarray
    d610_within_one: np.ndarray
    confusion: np.ndarray  # P x C x C, rows true classes
    asset_truth_share: np.ndarray
    corrosion: int  # class indices in `confusion`
    asset: int
    background: int

    @classmethod
    def from_rows(cls, rows: Sequence[dict], classes: Sequence[str]) -> PhotoFigures:
        """From `oof.json` rows; several rows of one photo (its training-photo rows, one per fold that
        trained on it) are averaged, their confusions summed."""
        try:
            index = {name: classes.index(name) for name in ("corrosion", "asset", "background")}
        except ValueError as exc:
            raise CorroscopeError(
                f"the runs' classes {list(classes)} lack one of corrosion/asset/background"
            ) from exc
        by_id: dict[str, list[dict]] = {}
        for row in rows:
            by_id.setdefault(row["id"], []).append(row)
        ids = tuple(sorted(by_id))
        scalars = {k: np.array([_mean(by_id[i], k) for i in ids]) for k in _SCALARS}
        cms = np.array([np.sum([r["confusion"] for r in by_id[i]], axis=0) for i in ids], dtype=np.float64)
        if cms.ndim != 3 or cms.shape[1:] != (len(classes), len(classes)):
            raise CorroscopeError(f"confusion matrices of shape {cms.shape[1:]} for {len(classes)} classes")
        asset_share = cms[:, index["asset"], :].sum(1) / np.maximum(cms.sum((1, 2)), 1)
        return cls(ids, **scalars, confusion=cms, asset_truth_share=asset_share, **index)


def _d610(row: dict, within: int) -> float | None:
    true, pred = row.get("d610_true"), row.get("d610_pred")
    if true is None:
        return None
    return float(pred is not None and abs(pred - true) <= within)


_SCALARS: dict[str, Callable[[dict], float | None]] = {
    "corrosion_iou": lambda r: r.get("corrosion_iou"),
    "asset_iou": lambda r: r.get("asset_iou"),
    "pipe_iou": lambda r: r.get("pipe_iou"),
    "share_error": lambda r: r.get("share_error"),
    "d610_equal": lambda r: _d610(r, 0),
    "d610_within_one": lambda r: _d610(r, 1),
}


def _mean(rows: list[dict], key: str) -> float:
    values = [v for v in (_SCALARS[key](r) for r in rows) if v is not None]
    return float(np.mean(values)) if values else np.nan


@dataclass(frozen=True)
class Draws:
    """Bootstrap resamples of photo indices: `idx` D x P, and `counts` D x P (times each photo drawn)."""

    idx: np.ndarray
    counts: np.ndarray

    @classmethod
    def identity(cls, n: int) -> Draws:
        return cls(np.arange(n)[None], np.ones((1, n)))


def resample(n: int, draws: int, seed: int) -> Draws:
    idx = np.random.default_rng(seed).integers(0, n, (draws, n))
    flat = (np.arange(draws)[:, None] * n + idx).ravel()
    return Draws(idx, np.bincount(flat, minlength=draws * n).reshape(draws, n).astype(np.float64))


def _weighted_mean(values: np.ndarray, d: Draws, scale: float = 100.0) -> np.ndarray:
    defined = ~np.isnan(values)
    num, den = d.counts @ np.where(defined, values, 0.0), d.counts @ defined
    with np.errstate(invalid="ignore", divide="ignore"):
        return scale * num / den


def _pooled_iou(pf: PhotoFigures, c: int, d: Draws) -> np.ndarray:
    n, k = pf.confusion.shape[:2]
    cm = (d.counts @ pf.confusion.reshape(n, k * k)).reshape(-1, k, k)
    tp = cm[:, c, c]
    with np.errstate(invalid="ignore", divide="ignore"):
        return 100.0 * tp / (cm[:, c, :].sum(1) + cm[:, :, c].sum(1) - tp)


def _quantile(values: np.ndarray, d: Draws, q: float) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a resample with no defined photo gives NaN
        return np.nanpercentile(values[d.idx], q, axis=1)


@dataclass(frozen=True)
class Figure:
    key: str
    label: str
    better: str  # "higher" or "lower"
    compute: Callable[[PhotoFigures, Draws], np.ndarray]
    defined: Callable[[PhotoFigures], np.ndarray]  # which photos the figure stands on


def _large_asset(pf: PhotoFigures) -> np.ndarray:
    return np.where(pf.asset_truth_share >= LARGE_ASSET, pf.asset_iou, np.nan)


def _every(pf: PhotoFigures) -> np.ndarray:
    return np.ones(len(pf.ids), bool)


FIGURES: tuple[Figure, ...] = (
    Figure(
        "corrosion_iou",
        "corrosion IoU, per photo (%)",
        "higher",
        lambda f, d: _weighted_mean(f.corrosion_iou, d),
        lambda f: ~np.isnan(f.corrosion_iou),
    ),
    Figure(
        "asset_iou",
        "asset IoU, per photo (%)",
        "higher",
        lambda f, d: _weighted_mean(f.asset_iou, d),
        lambda f: ~np.isnan(f.asset_iou),
    ),
    Figure(
        "pipe_iou",
        "pipe vs background IoU, per photo (%)",
        "higher",
        lambda f, d: _weighted_mean(f.pipe_iou, d),
        lambda f: ~np.isnan(f.pipe_iou),
    ),
    Figure(
        "asset_iou_large",
        f"asset IoU, photos >= {LARGE_ASSET:.0%} asset (%)",
        "higher",
        lambda f, d: _weighted_mean(_large_asset(f), d),
        lambda f: ~np.isnan(_large_asset(f)),
    ),
    Figure(
        "pooled_corrosion_iou",
        "corrosion IoU, pooled (%)",
        "higher",
        lambda f, d: _pooled_iou(f, f.corrosion, d),
        _every,
    ),
    Figure(
        "pooled_asset_iou", "asset IoU, pooled (%)", "higher", lambda f, d: _pooled_iou(f, f.asset, d), _every
    ),
    Figure(
        "pooled_background_iou",
        "background IoU, pooled (%)",
        "higher",
        lambda f, d: _pooled_iou(f, f.background, d),
        _every,
    ),
    Figure(
        "share_error_mean",
        "corroded-share error, mean (points)",
        "lower",
        lambda f, d: _weighted_mean(f.share_error, d, 1.0),
        lambda f: ~np.isnan(f.share_error),
    ),
    Figure(
        "share_error_median",
        "corroded-share error, median (points)",
        "lower",
        lambda f, d: _quantile(f.share_error, d, 50),
        lambda f: ~np.isnan(f.share_error),
    ),
    Figure(
        "share_error_p90",
        "corroded-share error, p90 (points)",
        "lower",
        lambda f, d: _quantile(f.share_error, d, 90),
        lambda f: ~np.isnan(f.share_error),
    ),
    Figure(
        "share_error_worst",
        "corroded-share error, worst (points)",
        "lower",
        lambda f, d: _quantile(f.share_error, d, 100),
        lambda f: ~np.isnan(f.share_error),
    ),
    Figure(
        "d610_equal",
        "D610 grade equal (% of photos)",
        "higher",
        lambda f, d: _weighted_mean(f.d610_equal, d),
        lambda f: ~np.isnan(f.d610_equal),
    ),
    Figure(
        "d610_within_one",
        "D610 grade within one (% of photos)",
        "higher",
        lambda f, d: _weighted_mean(f.d610_within_one, d),
        lambda f: ~np.isnan(f.d610_within_one),
    ),
)


@dataclass(frozen=True)
class Estimate:
    """A figure on the photos as they are, and the bootstrap interval around it."""

    value: float | None
    low: float | None
    high: float | None
    n: int  # photos the figure stands on

    @property
    def excludes_zero(self) -> bool:
        return self.low is not None and self.high is not None and (self.low > 0 or self.high < 0)

    def to_json(self) -> dict:
        return {
            "value": self.value,
            "low": self.low,
            "high": self.high,
            "n": self.n,
            "excludes_zero": self.excludes_zero,
        }


def _finite(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


def _estimate(point: np.ndarray, draws: np.ndarray, n: int) -> Estimate:
    kept = draws[np.isfinite(draws)]
    if not kept.size:
        return Estimate(_finite(point[0]), None, None, n)
    tail = 100 * (1 - CONFIDENCE) / 2
    low, high = np.percentile(kept, [tail, 100 - tail])
    return Estimate(_finite(point[0]), float(low), float(high), n)


@dataclass(frozen=True)
class Computed:
    """A figure of one run on the photos as they are (`point`, length 1) and on each resample."""

    point: np.ndarray
    draws: np.ndarray
    defined: np.ndarray  # the photos it stands on

    def estimate(self) -> Estimate:
        return _estimate(self.point, self.draws, int(self.defined.sum()))


def compute(fig: Figure, pf: PhotoFigures, draws: Draws) -> Computed:
    return Computed(fig.compute(pf, Draws.identity(len(pf.ids))), fig.compute(pf, draws), fig.defined(pf))


def paired_difference(a: Computed, b: Computed) -> Estimate:
    """B - A on the photos as they are and on each resample (computed on the same draws for both)."""
    return _estimate(b.point - a.point, b.draws - a.draws, int((a.defined & b.defined).sum()))
