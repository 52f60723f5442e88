"""Rust grades from the corroded share of the asset (docs/design.md section 6), the D610 distribution
type from patch statistics, and the needs-review rule."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Protocol

from app.core.patches import PatchStats
from app.core.sources import EDITED, EDITED_REASON, MODEL, REVIEWED, SOURCES
from app.core.stats import AreaStats


@dataclass(frozen=True)
class GradeTable:
    """Cut-offs in % of the asset: a share <= `upper` gets `value` (first match); above all, `above`.
    `references`: the rusted area of each grade's reference picture, where the standard rates by pictures;
    `pictured_up_to`: the most rust a picture shows (a share beyond it is past every picture)."""

    standard: str
    cutoffs: tuple[tuple[float, int], ...]
    above: int
    label_prefix: str
    references: tuple[tuple[int, str], ...] = ()
    pictured_up_to: float | None = None

    def reference(self, value: int, share: float | None = None) -> str | None:
        """The reference picture's rusted area beside grade `value` ("8 %"); for a `share` past every
        picture, how far past ("over 50 %"): the worst grade covers it, its picture's 40-50 % does not."""
        top = self.pictured_up_to
        if value == self.above and top is not None and share is not None and share > top:
            return f"over {_fmt(top)} %"
        return dict(self.references).get(value)


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

# ISO 4628-3 degree of rusting Ri (0 = no rust), rated by likeness to reference pictures of 0, 0.05, 0.5,
# 1, 8 and 40-50 % rusted: a share goes to the nearest on a log scale, so the cut-offs are the geometric
# means of neighbours (sqrt(0.05 x 0.5) = 0.16, 0.71, 2.8, sqrt(8 x 40) = 18), and Ri 0 is 0 % only.
ISO_4628_3 = GradeTable(
    standard="ISO 4628-3",
    cutoffs=((0.0, 0), (0.16, 1), (0.71, 2), (2.8, 3), (18.0, 4)),
    above=5,
    label_prefix="Ri ",
    references=((0, "0 %"), (1, "0.05 %"), (2, "0.5 %"), (3, "1 %"), (4, "8 %"), (5, "40-50 %")),
    pictured_up_to=50.0,
)


class GradeScale(str, enum.Enum):
    ASTM_D610 = "astm_d610"
    ISO_4628_3 = "iso_4628_3"

    @property
    def table(self) -> GradeTable:
        return ASTM_D610 if self is GradeScale.ASTM_D610 else ISO_4628_3

    @classmethod
    def parse(cls, value: GradeScale | str) -> GradeScale:
        """The scale for `value`: a member, its value, or the short key ("astm", "iso") that settings of
        earlier releases stored."""
        if isinstance(value, GradeScale):
            return value
        try:
            return cls(_LEGACY_SCALE_KEYS.get(value, value))
        except ValueError:
            names = ", ".join(s.value for s in cls)
            raise ValueError(f"grade scale must be one of {names}, got {value!r}") from None


_LEGACY_SCALE_KEYS = {"astm": GradeScale.ASTM_D610.value, "iso": GradeScale.ISO_4628_3.value}


@dataclass(frozen=True)
class Grade:
    scale: GradeScale
    value: int
    label: str  # "7" (ASTM D610) or "Ri 3" (ISO 4628-3)
    range_text: str  # the share range of this grade, e.g. "0.1 % < p <= 0.3 %"
    reference: str | None = None  # the rusted area of the grade's reference picture (ISO 4628-3), "8 %";
    # "over 50 %" for a share past every picture

    @property
    def display(self) -> str:
        """The label with its reference picture's area where the scale has one, "Ri 4 (reference 8 %)"
        (the word keeps it from reading as the share measured); "Ri 5 (over 50 %)" past every picture; "7"."""
        if not self.reference:
            return self.label
        pictured = self.reference in dict(self.scale.table.references).values()
        return f"{self.label} ({'reference ' if pictured else ''}{self.reference})"


def _fmt(v: float) -> str:
    return f"{v:g}"


def share_number(v: float) -> str:
    """A share in % as every text writes it: two significant digits under 1 ("0.71"), else one
    decimal ("43.5", "6.0"), so one range never reads "0.707-43.5" in one place and "0.71-43.5" in
    another."""
    return f"{v:.2g}" if v < 1 else f"{v:.1f}"


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
            return Grade(scale, value, f"{table.label_prefix}{value}", text, table.reference(value))
        lower = upper
    label = f"{table.label_prefix}{table.above}"
    reference = table.reference(table.above, share)
    return Grade(scale, table.above, label, f"p > {_fmt(lower or 0)} %", reference)


@dataclass(frozen=True)
class DistributionTable:
    """Rules for the ASTM D610 distribution type over patch statistics, tried in this order:
    G if more than `general_share` % of the asset is corroded (rust over most of the surface, whatever
    its patches);
    S if the three largest patches hold >= `spot_top3` % of the corrosion and fewer than `many_pinpoints`
    patches are pinpoint-sized (<= `pinpoint_share` % of the asset);
    P if at least `many_pinpoints` pinpoint-sized patches hold >= `pinpoint_hold` % of the corrosion;
    H if there are that many pinpoint-sized patches and the three largest hold >= `hybrid_top3` %;
    G (various sizes spread over the surface) otherwise."""

    standard: str
    pinpoint_share: float
    general_share: float
    spot_top3: float
    many_pinpoints: int
    pinpoint_hold: float
    hybrid_top3: float


# ASTM D610 / SSPC-VIS 2 define S (spot), G (general), P (pinpoint) and H (hybrid) by reference pictures,
# not numbers: these thresholds are ours, not the standard's, set by judgement of what each kind of picture
# shows and checked on synthetic masks (tests/core/test_patches.py).
ASTM_D610_DISTRIBUTION = DistributionTable(
    standard="ASTM D610",
    pinpoint_share=0.05,
    general_share=50.0,
    spot_top3=75.0,
    many_pinpoints=20,
    pinpoint_hold=50.0,
    hybrid_top3=50.0,
)

DISTRIBUTION_NAMES = {"S": "spot", "G": "general", "P": "pinpoint", "H": "hybrid"}


@dataclass(frozen=True)
class Distribution:
    """A D610 distribution type ("S", "G", "P" or "H") and the statistics that decided it."""

    type: str
    evidence: str  # "P: 214 patches, median 0.02 % of the asset"

    @property
    def name(self) -> str:
        return DISTRIBUTION_NAMES[self.type]


def _pct(v: float) -> str:
    return f"{v:.2g}" if v < 1 else f"{v:.3g}"


def _patches(n: int) -> str:
    return f"{n} patch" if n == 1 else f"{n} patches"


def _top3_hold(n: int, top3: float) -> str:
    """ "12 patches, the largest 3 hold 95 %"; with 3 or fewer "all 3 patches hold ..." (the largest 3 of
    three patches are all of them)."""
    if n > 3:
        return f"{_patches(n)}, the largest 3 hold {top3:.0f} %"
    return f"{'all ' if n > 1 else ''}{_patches(n)} hold{'s' if n == 1 else ''} {top3:.0f} %"


def d610_distribution(
    patches: PatchStats | None, table: DistributionTable = ASTM_D610_DISTRIBUTION
) -> Distribution | None:
    """The distribution type of a photo's corrosion; None with no asset in view or no patch (specks only)."""
    if patches is None or patches.count == 0:
        return None
    sizes = patches.sizes
    pinpoint_px = table.pinpoint_share / 100.0 * patches.asset_pixels
    pinpoints = [s for s in sizes if s <= pinpoint_px]
    hold = 100.0 * sum(pinpoints) / patches.corrosion_pixels
    top3, largest, median = patches.top3_fraction or 0.0, patches.largest_share, patches.median_share or 0.0
    many = len(pinpoints) >= table.many_pinpoints
    share = patches.share(patches.corrosion_pixels)
    if share > table.general_share:
        return Distribution(
            "G", f"G: {_pct(share)} % of the asset corroded, the largest patch {_pct(largest)} %"
        )
    if top3 >= table.spot_top3 and not many:
        return Distribution("S", f"S: {_top3_hold(patches.count, top3)} of the corrosion")
    if many and hold >= table.pinpoint_hold:
        return Distribution("P", f"P: {_patches(patches.count)}, median {_pct(median)} % of the asset")
    if many and top3 >= table.hybrid_top3:
        return Distribution(
            "H",
            f"H: the largest 3 patches hold {top3:.0f} % of the corrosion, beside {len(pinpoints)} pinpoints",
        )
    return Distribution(
        "G",
        f"G: {_patches(patches.count)}, median {_pct(median)} % of the asset, "
        f"{'the largest 3' if patches.count > 3 else 'all'} hold {top3:.0f} % of the corrosion",
    )


def d610_label(astm: Grade | None, distribution: Distribution | None) -> str | None:
    """The D610 grade written with its distribution type, "6-G"; the grade alone without a type."""
    if astm is None:
        return None
    return astm.label if distribution is None else f"{astm.label}-{distribution.type}"


@dataclass(frozen=True)
class ReviewPolicy:
    """`margin`: a share within this fraction of a cut-off (relative) needs review;
    `min_confidence`: a mean top-class probability below this needs review. Beyond these, a model mask
    needs review without a calibrated range, with a range across a cut-off, or one wider than the model's
    calibration lets pass (`ShareRange.review_max_width`)."""

    margin: float = 0.1  # 0.2 flagged most shares: the ASTM cut-offs are only 1.5-3x apart
    min_confidence: float = 0.6


@dataclass(frozen=True)
class Assessment:
    """Both grades; `needs_review` and `reasons` are those of `scale`, the one the user reads (a cut-off of
    the other scale is no reason); `reasons_for` gives any scale's."""

    astm: Grade | None
    iso: Grade | None
    needs_review: bool
    reasons: tuple[str, ...]
    scale: GradeScale = GradeScale.ASTM_D610
    by_scale: tuple[tuple[GradeScale, tuple[str, ...]], ...] = ()

    def grade_for(self, scale: GradeScale | str) -> Grade | None:
        return self.astm if GradeScale(scale) is GradeScale.ASTM_D610 else self.iso

    def reasons_for(self, scale: GradeScale | str) -> tuple[str, ...]:
        scale = GradeScale(scale)
        return dict(self.by_scale).get(scale, self.reasons if scale is self.scale else ())

    def needs_review_for(self, scale: GradeScale | str) -> bool:
        return bool(self.reasons_for(scale))


NO_ASSET = "no asset in view"
NO_RANGE = "no calibrated share range, so the model's figure cannot be checked"


class _Range(Protocol):
    """What `assess` reads of a share range (`share_range.ShareRange`)."""

    low: float
    high: float

    @property
    def width(self) -> float: ...

    @property
    def spread(self) -> float: ...

    @property
    def too_wide(self) -> bool: ...

    @property
    def label(self) -> str: ...


def near_cutoffs(
    share: float, margin: float, tables: tuple[GradeTable, ...] = (ASTM_D610, ISO_4628_3)
) -> list[tuple[GradeTable, float]]:
    """The cut-offs (of `tables`) that `share` lies within `margin` (relative) of."""
    hits = []
    for table in tables:
        for upper, _value in table.cutoffs:
            if upper > 0 and abs(share - upper) <= margin * upper:
                hits.append((table, upper))
    return hits


def spanned_cutoffs(low: float, high: float, table: GradeTable) -> list[float]:
    """The cut-offs of `table` that a share range [low, high] crosses (its bounds grade differently)."""
    return [upper for upper, _ in table.cutoffs if low <= upper < high]


def _scale_reasons(
    share: float, scale: GradeScale, policy: ReviewPolicy, share_range: _Range | None
) -> list[str]:
    table = scale.table
    reasons = [
        f"corroded share {share_number(share)} % is within {policy.margin * 100:.0f} % of the "
        f"{table.standard} cut-off {_fmt(upper)} %"
        for _, upper in near_cutoffs(share, policy.margin, (table,))
    ]
    if share_range is not None:
        low, high = share_range.low, share_range.high
        crossed = spanned_cutoffs(low, high, table)
        if crossed:
            cuts = ", ".join(f"{_fmt(u)} %" for u in crossed)
            word = "cut-off" if len(crossed) == 1 else "cut-offs"
            span = f"{share_range.label} {share_number(low)}-{share_number(high)} %"
            reasons.append(f"the share's {span} spans the {table.standard} {word} {cuts}")
    return reasons


def _model_reasons(
    mean_confidence: float | None, policy: ReviewPolicy, share_range: _Range | None, range_note: str | None
) -> list[str]:
    """The reasons of a model mask that hold on every scale: no range, a range too wide, low confidence."""
    reasons = []
    if share_range is None:
        reasons.append(range_note or NO_RANGE)
    elif share_range.too_wide:
        # the half-width before clipping: a range cut short at 100 % shows fewer points than it is unsure by
        half = share_range.spread / 2
        reasons.append(
            f"the share is uncertain by ±{half:.3g} points ({share_range.label}), more than the model's "
            "calibration lets pass without review"
        )
    if mean_confidence is not None and mean_confidence < policy.min_confidence:
        reasons.append(
            f"model is unsure: mean confidence {mean_confidence:.2f} < {policy.min_confidence:.2f}"
        )
    return reasons


def assess(
    stats: AreaStats,
    mean_confidence: float | None,
    policy: ReviewPolicy | None = None,
    scale: GradeScale | str = GradeScale.ASTM_D610,
    share_range: _Range | None = None,
    *,
    source: str = MODEL,
    range_note: str | None = None,
) -> Assessment:
    """Both grades, and whether a person should look at `scale`'s grade.

    A `source` "model" mask passes only with a calibrated `share_range` (a `ShareRange`) inside one grade
    band, not wider than its calibration allows, a share not near a cut-off and confidence the policy
    accepts; without a range the reason is `range_note` (why there is none) or `NO_RANGE`. An "edited"
    mask always needs review (`EDITED_REASON`) until signed; a "reviewed" (signed) one never does."""
    policy, scale = policy or ReviewPolicy(), GradeScale(scale)
    if source not in SOURCES:
        raise ValueError(f"source must be one of {', '.join(SOURCES)}, got {source!r}")
    if stats.corroded_share is None:
        no_asset = () if source == REVIEWED else (NO_ASSET,)
        by_scale = tuple((s, no_asset) for s in GradeScale)
        return Assessment(None, None, bool(no_asset), no_asset, scale, by_scale)
    share = stats.corroded_share
    if source == MODEL:
        common = _model_reasons(mean_confidence, policy, share_range, range_note)
        by_scale = tuple(
            (s, tuple(_scale_reasons(share, s, policy, share_range) + common)) for s in GradeScale
        )
    else:
        by_scale = tuple((s, (EDITED_REASON,) if source == EDITED else ()) for s in GradeScale)
    reasons = dict(by_scale)[scale]
    return Assessment(
        grade(share, GradeScale.ASTM_D610),
        grade(share, GradeScale.ISO_4628_3),
        bool(reasons),
        reasons,
        scale,
        by_scale,
    )
