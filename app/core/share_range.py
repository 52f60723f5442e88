"""A range for the corroded share from the model's corrosion probability, and an uncertainty layer.

Of the pixels the model calls asset or corrosion (the pipe in view), the lower share counts those whose
corrosion probability reaches a high threshold, the upper share those reaching a low one. The thresholds
are calibrated on the validation split (`training/calibrate_range.py`, figures in models/MODEL_CARD.md);
the range always holds the share itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from app.core.grading import GradeScale, grade, share_number
from app.core.palette import ClassInfo, class_by_name
from app.core.stats import corroded_share

LEVELS = 256  # probabilities arrive quantised to uint8 (x 255)
_EXACT = 1 << 24  # float32 counts every integer up to here exactly


@dataclass(frozen=True)
class RangeThresholds:
    """Corrosion probability thresholds (0..1): `low` gives the upper share, `high` the lower share."""

    low: float
    high: float

    def __post_init__(self) -> None:
        if not 0.0 <= self.low <= self.high <= 1.0:
            raise ValueError(f"range thresholds need 0 <= low <= high <= 1, got {self.low}, {self.high}")

    @property
    def levels(self) -> tuple[int, int]:
        """The thresholds as uint8 levels: a pixel counts when its probability x 255 is at least this."""
        return round(self.low * 255), round(self.high * 255)


# Chosen by `python -m training.calibrate_range` on the 22 validation photos for the shipped int8 model:
# the narrowest mean range with >= 80 % of true shares inside (18 of 22; mean width 31 points).
CALIBRATED = RangeThresholds(low=30 / 255, high=205 / 255)


@dataclass(frozen=True)
class ShareRange:
    """The corroded share (% of the asset) with its lower and upper bound."""

    share: float
    low: float
    high: float
    thresholds: RangeThresholds

    @property
    def width(self) -> float:
        return self.high - self.low

    def grades(self, scale: GradeScale | str) -> tuple[str, str]:
        """Labels of the grades at the bounds, better grade first ("6", "5" or "Ri 3", "Ri 4")."""
        return grade(self.low, scale).label, grade(self.high, scale).label

    def spans_cutoff(self, scale: GradeScale | str) -> bool:
        return grade(self.low, scale).value != grade(self.high, scale).value


def corrosion_histogram(
    labels: np.ndarray, corrosion_probability: np.ndarray, classes: Sequence[ClassInfo]
) -> tuple[np.ndarray, int, float | None]:
    """(counts of each probability level over the pipe's pixels, those pixels, the share by argmax)."""
    if corrosion_probability.shape != labels.shape or corrosion_probability.dtype != np.uint8:
        raise ValueError(
            f"corrosion probability must be uint8 of the labels' shape {labels.shape}, "
            f"got {corrosion_probability.dtype} {corrosion_probability.shape}"
        )
    corrosion, asset = class_by_name(classes, "corrosion"), class_by_name(classes, "asset")
    if corrosion is None or asset is None:
        return np.zeros(LEVELS, np.int64), 0, None
    n_corrosion = int(np.count_nonzero(labels == corrosion.id))
    lut = np.zeros(256, np.uint8)
    lut[[corrosion.id, asset.id]] = 255
    pipe = cv2.LUT(labels, lut)
    # A masked calcHist, 3x faster than indexing then bincount; its float32 counts are exact below 2^24,
    # so a photo goes through in bands of fewer pixels than that.
    rows = max(1, _EXACT // labels.shape[1])
    counts = np.zeros(LEVELS, np.int64)
    for y in range(0, labels.shape[0], rows):
        band = cv2.calcHist(
            [corrosion_probability[y : y + rows]], [0], pipe[y : y + rows], [LEVELS], [0, LEVELS]
        )
        counts += band.ravel().astype(np.int64)
    graded = int(counts.sum())
    return counts, graded, corroded_share(n_corrosion, graded - n_corrosion)


def range_from_histogram(
    counts: np.ndarray, graded: int, share: float | None, thresholds: RangeThresholds = CALIBRATED
) -> ShareRange | None:
    """The range from `corrosion_histogram`'s output; None with no pipe in view."""
    if share is None or graded == 0:
        return None
    lo_level, hi_level = thresholds.levels
    above = np.cumsum(counts[::-1])[::-1]  # above[k]: pixels with level >= k
    low = 100.0 * float(above[hi_level]) / graded
    high = 100.0 * float(above[lo_level]) / graded
    return ShareRange(share, min(low, share), max(high, share), thresholds)


def share_range(
    labels: np.ndarray,
    corrosion_probability: np.ndarray | None,
    classes: Sequence[ClassInfo],
    thresholds: RangeThresholds = CALIBRATED,
) -> ShareRange | None:
    """The corroded share's range for one photo; None without a probability plane or a pipe in view."""
    if corrosion_probability is None:
        return None
    return range_from_histogram(*corrosion_histogram(labels, corrosion_probability, classes), thresholds)


def _pct(v: float) -> str:
    return share_number(v)


def range_text(r: ShareRange, scale: GradeScale | str) -> str:
    """ "D610 5-6 (share 4.1 %, range 2.6-6.0 %)" or "Ri 3-4 (...)"; one grade when both bounds agree."""
    scale = GradeScale(scale)
    best, worst = r.grades(scale)
    if scale is GradeScale.ASTM_D610:
        grades = f"D610 {worst}" if best == worst else f"D610 {worst}-{best}"
    else:
        grades = best if best == worst else f"{best}-{worst.removeprefix('Ri ')}"
    return f"{grades} (share {_pct(r.share)} %, range {_pct(r.low)}-{_pct(r.high)} %)"


def uncertainty_layer(confidence: np.ndarray) -> np.ndarray:
    """1 - top-class probability, x 255 as uint8 (0: sure, 255: no idea), for the viewer."""
    if confidence.dtype != np.uint8:
        raise ValueError(f"confidence must be uint8 (top probability x 255), got {confidence.dtype}")
    return np.subtract(255, confidence, dtype=np.uint8)
