"""The corroded share's calibrated range (`ShareRange`, made by `app.core.range_calibration` from the
model's own calibration), its text, and the uncertainty layer."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.core.grading import GradeScale, grade, share_number

DEFAULT_LABEL = "80 % range"
# points: the widest `spread` there is (a share of 0 or 100 % with the other bound 100 away)
MAX_SPREAD = 200.0


@dataclass(frozen=True)
class ShareRange:
    """The corroded share (% of the asset) with its lower and upper bound; `label` names its coverage
    ("80 % range"); `review_max_width`: the widest range (points) that may pass review without a flag."""

    share: float
    low: float
    high: float
    label: str = DEFAULT_LABEL
    review_max_width: float | None = None

    @property
    def width(self) -> float:
        return self.high - self.low

    def grades(self, scale: GradeScale | str) -> tuple[str, str]:
        """Labels of the grades at the bounds, better grade first ("6", "5" or "Ri 3", "Ri 4")."""
        return grade(self.low, scale).label, grade(self.high, scale).label

    def spans_cutoff(self, scale: GradeScale | str) -> bool:
        return grade(self.low, scale).value != grade(self.high, scale).value

    @property
    def spread(self) -> float:
        """The width before clipping to 0..100 % (twice the larger side): a range cut short by 100 % is
        no surer than its other side says."""
        return 2.0 * max(self.share - self.low, self.high - self.share)

    @property
    def too_wide(self) -> bool:
        """Wider (`spread`) than the calibration lets pass review; a limit or bound that is not a number
        (NaN compares false with everything) counts as too wide, never as narrow enough."""
        return self.review_max_width is not None and not self.spread <= self.review_max_width


def _pct(v: float) -> str:
    return share_number(v)


def range_text(r: ShareRange, scale: GradeScale | str) -> str:
    """ "D610 5-6 (share 4.1 %, 80 % range 2.6-6.0 %)" or "Ri 3-4 (...)"; one grade when both bounds agree."""
    scale = GradeScale(scale)
    best, worst = r.grades(scale)
    if scale is GradeScale.ASTM_D610:
        grades = f"D610 {worst}" if best == worst else f"D610 {worst}-{best}"
    else:
        grades = best if best == worst else f"{best}-{worst.removeprefix('Ri ')}"
    return f"{grades} (share {_pct(r.share)} %, {r.label} {_pct(r.low)}-{_pct(r.high)} %)"


def uncertainty_layer(confidence: np.ndarray) -> np.ndarray:
    """1 - top-class probability, x 255 as uint8 (0: sure, 255: no idea), for the viewer."""
    if confidence.dtype != np.uint8:
        raise ValueError(f"confidence must be uint8 (top probability x 255), got {confidence.dtype}")
    return np.subtract(255, confidence, dtype=np.uint8)


MIN_SIDE_PX = 32  # an eighth of the network's input side: the photo holds too little detail to measure
MAX_SQUEEZE = 4.0  # resize mode makes a photo square; the range was calibrated on photos squeezed less


def outside_calibration(width: int, height: int, tiles: bool) -> str | None:
    """Why a photo of this size lies outside what the range was calibrated on (None when it does not):
    then no range is shown and the photo needs review, whatever its confidence."""
    if min(width, height) < MIN_SIDE_PX:
        return (
            f"no calibrated range: the photo is {width} x {height} px, too small to measure "
            f"(under {MIN_SIDE_PX} px on a side)"
        )
    ratio = max(width, height) / min(width, height)
    if not tiles and ratio > MAX_SQUEEZE:
        return (
            f"no calibrated range: the photo is {ratio:.0f} times as long as it is wide and resize mode "
            "squeezes it square; analyse it in tiles mode (fine detail)"
        )
    return None
