"""The figures of a result as text, shared by the figures panel, the batch table and the PDF (no Qt)."""

from __future__ import annotations

from app.core.analysis import PhotoResult
from app.core.grading import Assessment, Grade, GradeScale

SCALE_TITLES = {scale: scale.table.standard for scale in GradeScale}
NO_VALUE = "–"


def grade_scale(scale: str | GradeScale) -> GradeScale:
    return GradeScale.parse(scale)


def scale_title(scale: str | GradeScale) -> str:
    return grade_scale(scale).table.standard


def grade_of(assessment: Assessment, scale: str | GradeScale) -> Grade | None:
    return assessment.grade_for(grade_scale(scale))


def grade_value_text(assessment: Assessment, scale: str) -> str:
    """The grade alone ("7", "Ri 3"), or "no grade"."""
    grade = grade_of(assessment, scale)
    return grade.label if grade is not None else "no grade"


def grade_text(assessment: Assessment, scale: str) -> str:
    """ "ASTM D610: 7", or "ASTM D610: no grade (no asset in view)"."""
    grade = grade_of(assessment, scale)
    if grade is not None:
        return f"{scale_title(scale)}: {grade.label}"
    why = "; ".join(assessment.reasons) or "no asset in view"
    return f"{scale_title(scale)}: no grade ({why})"


def percent_text(value: float | None, unit: bool = False) -> str:
    if value is None:
        return NO_VALUE
    text = f"{value:.3f}" if 0 < abs(value) < 0.1 else f"{value:.2f}"
    return f"{text} %" if unit else text


def class_percent(result: PhotoResult, name: str) -> float | None:
    return result.stats.percent.get(name)


def confidence_text(value: float | None) -> str:
    return NO_VALUE if value is None else f"{value:.3f}"


def review_text(assessment: Assessment) -> str:
    if not assessment.needs_review:
        return "No"
    return "Yes: " + ("; ".join(assessment.reasons) or "near a grade boundary or low confidence")


def figure_rows(result: PhotoResult, scale: str) -> list[tuple[str, str]]:
    """(label, value) pairs in the order the panel and the report show them."""
    rows = [(f"{name} area", percent_text(pct, unit=True)) for name, pct in result.stats.percent.items()]
    rows += [
        ("Corroded share of the asset", percent_text(result.stats.corroded_share, unit=True)),
        ("Grade", grade_text(result.assessment, scale)),
        ("Needs review", review_text(result.assessment)),
        ("Mean confidence", confidence_text(result.mean_confidence)),
        ("Time taken", f"{result.seconds:.2f} s"),
        ("Provider", result.provider),
    ]
    return rows
