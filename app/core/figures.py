"""The figures of a result as text, shared by the figures panel, the batch table and the PDF (no Qt)."""

from __future__ import annotations

from collections.abc import Sequence

from app.core.analysis import EDITED_LABELS, MODEL_LABELS, REVIEWED_LABELS, PhotoFigures
from app.core.grading import Assessment, Distribution, Grade, GradeScale, d610_label
from app.core.measures import PhotoMeasures
from app.core.physical import format_area
from app.core.share_range import range_text
from app.core.text import provider_name

SCALE_TITLES = {scale: scale.table.standard for scale in GradeScale}
NO_VALUE = "–"


def grade_scale(scale: str | GradeScale) -> GradeScale:
    return GradeScale.parse(scale)


def scale_title(scale: str | GradeScale) -> str:
    return grade_scale(scale).table.standard


def grade_of(assessment: Assessment, scale: str | GradeScale) -> Grade | None:
    return assessment.grade_for(grade_scale(scale))


def _label(grade: Grade, distribution: Distribution | None, reference: bool = True) -> str:
    """ "Ri 4 (reference 8 %)", "Ri 4" without `reference`; a D610 grade with its distribution, "6-G"."""
    if grade.scale is GradeScale.ASTM_D610:
        return d610_label(grade, distribution) or grade.label
    return grade.display if reference else grade.label


def grade_value_text(
    assessment: Assessment,
    scale: str | GradeScale,
    distribution: Distribution | None = None,
    reference: bool = True,
) -> str:
    """The grade alone ("7", "6-G", "Ri 3 (reference 1 %)"), or "no grade". `reference=False` leaves
    out the reference picture's area ("Ri 3"), for a table's column, which cut it to "Ri 5 (...-50 %)"."""
    grade = grade_of(assessment, scale)
    return _label(grade, distribution, reference) if grade is not None else "no grade"


def review_reasons(assessment: Assessment, scale: str | GradeScale | None = None) -> tuple[str, ...]:
    """The reasons to look again at `scale`'s grade (the assessment's own scale when None)."""
    return assessment.reasons if scale is None else assessment.reasons_for(grade_scale(scale))


def needs_review(assessment: Assessment, scale: str | GradeScale | None = None) -> bool:
    return bool(review_reasons(assessment, scale))


def review_word(result: PhotoFigures, scales: Sequence[str | GradeScale]) -> str:
    """A table's Review cell: "reviewed" (a person signed the mask), "needs review" on any of `scales`,
    else "ok"; the batch table and the batch report word it alike."""
    if result.labels_source == REVIEWED_LABELS:
        return "reviewed"
    return "needs review" if any(needs_review(result.assessment, s) for s in scales) else "ok"


def grade_text(
    assessment: Assessment, scale: str | GradeScale, distribution: Distribution | None = None
) -> str:
    """ "ASTM D610: 7", "ISO 4628-3: Ri 4 (reference 8 %)", or "ASTM D610: no grade (no asset in view)"."""
    grade = grade_of(assessment, scale)
    if grade is not None:
        return f"{scale_title(scale)}: {_label(grade, distribution)}"
    why = "; ".join(review_reasons(assessment, scale)) or "no asset in view"
    return f"{scale_title(scale)}: no grade ({why})"


def percent_text(value: float | None, unit: bool = False) -> str:
    if value is None:
        return NO_VALUE
    text = f"{value:.3f}" if 0 < abs(value) < 0.1 else f"{value:.2f}"
    return f"{text} %" if unit else text


def class_percent(result: PhotoFigures, name: str) -> float | None:
    return result.stats.percent.get(name)


def confidence_text(value: float | None) -> str:
    return NO_VALUE if value is None else f"{value:.3f}"


def review_text(assessment: Assessment, scale: str | GradeScale | None = None) -> str:
    """ "No", or "Yes: " and the reasons of `scale` (which name that scale's cut-offs)."""
    reasons = review_reasons(assessment, scale)
    if not reasons:
        return "No"
    return "Yes: " + "; ".join(reasons)


def share_range_text(result: PhotoFigures, scale: str | GradeScale) -> str:
    """ "Ri 3-4 (share 2.1 %, 80 % range 1.2-4.0 %)"; why there is none otherwise."""
    r = result.measures.share_range
    if r is not None:
        return range_text(r, grade_scale(scale))
    if result.stats.corroded_share is None:
        return NO_VALUE
    if result.labels_source != MODEL_LABELS:
        # a range is the model's uncertainty about its own mask; a person's mask (even the model's, signed
        # unchanged) is not what its calibration measured
        return f"{NO_VALUE} ({source_text(result)}: a range is the model's, for its own mask)"
    note = result.measures.range_note
    return NO_VALUE if note is None else f"{NO_VALUE} ({note})"


def source_text(result: PhotoFigures) -> str:
    """ "model mask", "edited mask, not signed" or "reviewed mask" (who and when are in the record)."""
    return {EDITED_LABELS: "edited mask, not signed", REVIEWED_LABELS: "reviewed mask"}.get(
        result.labels_source, "model mask"
    )


def patches_text(m: PhotoMeasures) -> str:
    """ "12 (largest 3.4 % of the asset; 40 specks)", "none" or "–" with no asset in view."""
    p = m.patches
    if p is None:
        return NO_VALUE
    if p.count == 0 and p.speck_count == 0:
        return "none"
    specks = f"; {p.speck_count} speck{'s' if p.speck_count != 1 else ''}" if p.speck_count else ""
    return f"{p.count} (largest {percent_text(p.largest_share, unit=True)} of the asset{specks})"


def distribution_text(m: PhotoMeasures) -> str:
    d = m.distribution
    return NO_VALUE if d is None else f"{d.type} ({d.name}): {d.evidence.split(': ', 1)[-1]}"


PHOTO_SHARE = ", % of the photo"  # the label's end of a class's share of the photo's pixels


def share_of_photo_label(name: str) -> str:
    """ "corrosion, % of the photo": the row of a class's share of all the photo's pixels."""
    return f"{name}{PHOTO_SHARE}"


def figure_rows(result: PhotoFigures, scale: str | GradeScale) -> list[tuple[str, str]]:
    """(label, value) pairs in the order the panel and the report show them; areas only with a scale."""
    m, a = result.measures, result.assessment
    # "% of the photo", not "area": the report also gives each class's area in cm² once a scale is set
    rows = [
        (share_of_photo_label(name), percent_text(pct, unit=True))
        for name, pct in result.stats.percent.items()
    ]
    rows += [
        ("Corroded share of the asset", percent_text(result.stats.corroded_share, unit=True)),
        ("Share range", share_range_text(result, scale)),
        ("Grade", grade_text(a, scale, m.distribution)),
        ("Needs review", review_text(a, scale)),
        ("Corrosion patches", patches_text(m)),
        ("D610 distribution", distribution_text(m)),
    ]
    if m.mm_per_px is not None:
        area = m.corrosion_area_mm2
        rows += [
            ("Scale", f"{m.mm_per_px:g} mm/px"),
            ("Corrosion area", NO_VALUE if area is None else format_area(area)),
        ]
    rows += [
        ("Model's mean confidence", confidence_text(result.mean_confidence)),  # never a mask's
        ("Time taken", f"{result.seconds:.2f} s"),
        ("Provider", provider_name(result.provider)),  # the record holds the full provider name
    ]
    return rows
