"""Rust grades from the corroded share of the asset (DESIGN section 6) and the needs-review rule."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from app.core.stats import AreaStats


@dataclass(frozen=True)
class GradeTable:
    """Cut-offs in % of the asset: a share <= `upper` gets `value` (first match); above all, `above`."""

    standard: str
    cutoffs: tuple[tuple[float, int], ...]
    above: int
    label_prefix: str


# ASTM D610 rust grade (10 = best).
ASTM_D610 = GradeTable(
    standard="ASTM D610",
    cutoffs=(
        (0.01, 10),
        (0.03, 9),
        (0.1, 8),
        (0.3, 7),
        (1.0, 6),
        (3.0, 5),
        (10.0, 4),
        (16.0, 3),
        (33.0, 2),
        (50.0, 1),
    ),
    above=0,
    label_prefix="",
)

# ISO 4628-3 degree of rusting Ri (0 = no rust).
ISO_4628_3 = GradeTable(
    standard="ISO 4628-3",
    cutoffs=((0.0, 0), (0.05, 1), (0.5, 2), (1.0, 3), (8.0, 4)),
    above=5,
    label_prefix="Ri ",
)


class GradeScale(str, enum.Enum):
    ASTM_D610 = "astm_d610"
    ISO_4628_3 = "iso_4628_3"

    @property
    def table(self) -> GradeTable:
        return ASTM_D610 if self is GradeScale.ASTM_D610 else ISO_4628_3


@dataclass(frozen=True)
class Grade:
    scale: GradeScale
    value: int
    label: str  # "7" (ASTM D610) or "Ri 3" (ISO 4628-3)
    range_text: str  # the share range of this grade, e.g. "0.1 % < p <= 0.3 %"


def _fmt(v: float) -> str:
    return f"{v:g}"


def grade(share: float, scale: GradeScale | str) -> Grade:
    """Grade a corroded share (% of the asset, 0..100) on `scale`."""
    scale = GradeScale(scale)
    if not 0.0 <= share <= 100.0:
        raise ValueError(f"corroded share must be 0..100 %, got {share}")
    table = scale.table
    lower: float | None = None
    for upper, value in table.cutoffs:
        if share <= upper:
            if lower is None:
                text = f"p <= {_fmt(upper)} %" if upper > 0 else "p = 0 %"
            else:
                text = f"{_fmt(lower)} % < p <= {_fmt(upper)} %"
            return Grade(scale, value, f"{table.label_prefix}{value}", text)
        lower = upper
    return Grade(scale, table.above, f"{table.label_prefix}{table.above}", f"p > {_fmt(lower or 0)} %")


@dataclass(frozen=True)
class ReviewPolicy:
    """`margin`: a share within this fraction of a cut-off (relative) needs review;
    `min_confidence`: a mean top-class probability below this needs review."""

    margin: float = 0.1  # 0.2 flagged most shares: the ASTM cut-offs are only 1.5-3x apart
    min_confidence: float = 0.6


@dataclass(frozen=True)
class Assessment:
    astm: Grade | None
    iso: Grade | None
    needs_review: bool
    reasons: tuple[str, ...]

    def grade_for(self, scale: GradeScale | str) -> Grade | None:
        return self.astm if GradeScale(scale) is GradeScale.ASTM_D610 else self.iso


NO_ASSET = "no asset in view"


def near_cutoffs(share: float, margin: float) -> list[tuple[GradeTable, float]]:
    """The cut-offs (of both tables) that `share` lies within `margin` (relative) of."""
    hits = []
    for table in (ASTM_D610, ISO_4628_3):
        for upper, _value in table.cutoffs:
            if upper > 0 and abs(share - upper) <= margin * upper:
                hits.append((table, upper))
    return hits


def assess(stats: AreaStats, mean_confidence: float | None, policy: ReviewPolicy | None = None) -> Assessment:
    """Both grades, and whether a person should look (near a cut-off, low confidence, no asset)."""
    policy = policy or ReviewPolicy()
    if stats.corroded_share is None:
        return Assessment(None, None, True, (NO_ASSET,))
    share = stats.corroded_share
    reasons = [
        f"corroded share {share:.3g} % is within {policy.margin:.0%} of the {table.standard} cut-off "
        f"{_fmt(upper)} %"
        for table, upper in near_cutoffs(share, policy.margin)
    ]
    if mean_confidence is not None and mean_confidence < policy.min_confidence:
        reasons.append(
            f"model is unsure: mean confidence {mean_confidence:.2f} < {policy.min_confidence:.2f}"
        )
    return Assessment(
        grade(share, GradeScale.ASTM_D610), grade(share, GradeScale.ISO_4628_3), bool(reasons), tuple(reasons)
    )
