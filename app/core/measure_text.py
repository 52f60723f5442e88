"""The standards' measures of one photo as text (distribution type, range, patches, areas), shared by the
measures panel and the PDF (no Qt)."""

from __future__ import annotations

from dataclasses import replace

from app.core.analysis import PhotoFigures
from app.core.grading import GradeScale, d610_label
from app.core.measures import PhotoMeasures, measure_photo
from app.core.physical import OBLIQUE_NOTE, area_mm2, check_scale, class_areas_mm2, format_area
from app.core.share_range import range_text

NO_VALUE = "–"
SCALES = {"astm": GradeScale.ASTM_D610, "iso": GradeScale.ISO_4628_3}
NO_RANGE = f"{NO_VALUE} (no model probabilities for this mask)"


def with_scale(m: PhotoMeasures, figures: PhotoFigures, mm_per_px: float | None) -> PhotoMeasures:
    """`m` at another scale (None: no physical areas); the patches and the range stay."""
    scale = None if mm_per_px is None else check_scale(mm_per_px)
    return replace(m, mm_per_px=scale, class_areas_mm2=class_areas_mm2(figures.stats.pixels, scale))


def _pct(v: float) -> str:
    return f"{v:.3g}" if v < 10 else f"{v:.1f}"


def grade_with_distribution(m: PhotoMeasures, figures: PhotoFigures) -> str:
    """ "ASTM D610 6-G", or the grade alone where no type applies."""
    label = d610_label(figures.assessment.astm, m.distribution)
    return NO_VALUE if label is None else f"ASTM D610 {label}"


def distribution_text(m: PhotoMeasures) -> str:
    """ "G (general)", or why there is none."""
    d = m.distribution
    if d is not None:
        return f"{d.type} ({d.name})"
    if m.patches is None:
        return f"{NO_VALUE} (no asset in view)"
    return f"{NO_VALUE} (no corrosion patch)"


def evidence_text(m: PhotoMeasures) -> str:
    """ "G: 12 patches, median 0.3 % of the asset, ..." (what decided the type)."""
    return "" if m.distribution is None else m.distribution.evidence


def range_line(m: PhotoMeasures, figures: PhotoFigures, scale: str) -> str:
    """ "D610 5-6 (share 4.1 %, range 2.6-6.0 %)"; "–" with no pipe in view or no probabilities."""
    if m.share_range is not None:
        return range_text(m.share_range, SCALES.get(scale, GradeScale.ASTM_D610))
    return NO_VALUE if figures.stats.corroded_share is None else NO_RANGE


def patches_text(m: PhotoMeasures) -> str:
    """ "12 (40 specks below 46 px counted apart)", "none" or "–" with no asset in view."""
    p = m.patches
    if p is None:
        return NO_VALUE
    if p.count == 0 and p.speck_count == 0:
        return "none"
    specks = f" ({p.speck_count} specks below {p.min_pixels} px counted apart)" if p.speck_count else ""
    return f"{p.count}{specks}"


def largest_patch_text(m: PhotoMeasures) -> str:
    """ "3.4 % of the asset, 12.5 cm²" (the area only with a scale)."""
    p = m.patches
    if p is None or p.count == 0:
        return NO_VALUE
    text = f"{_pct(p.largest_share)} % of the asset ({p.largest_pixels} px)"
    if m.mm_per_px is not None:
        text += f", {format_area(area_mm2(p.largest_pixels, m.mm_per_px))}"
    return text


def area_rows(m: PhotoMeasures) -> list[tuple[str, str]]:
    """(label, value) of the physical areas; empty without a scale (nothing claims physical units)."""
    if m.mm_per_px is None or m.class_areas_mm2 is None:
        return []
    rows = [("Scale", f"{m.mm_per_px:.4g} mm/px")]
    rows += [(f"{name} area", format_area(mm2)) for name, mm2 in m.class_areas_mm2.items()]
    return rows


def measure_rows(m: PhotoMeasures, figures: PhotoFigures, scale: str) -> list[tuple[str, str]]:
    """(label, value) in the order the panel and the PDF show them."""
    rows = [
        ("Grade and distribution", grade_with_distribution(m, figures)),
        ("D610 distribution", distribution_text(m)),
        ("Evidence", evidence_text(m) or NO_VALUE),
        ("Share range", range_line(m, figures, scale)),
        ("Corrosion patches", patches_text(m)),
        ("Largest patch", largest_patch_text(m)),
    ]
    return rows + area_rows(m)


def area_note(m: PhotoMeasures) -> str:
    """The oblique-photo note where areas are given, else ""."""
    return OBLIQUE_NOTE if m.mm_per_px is not None else ""


def measures_for(figures: PhotoFigures, labels, mm_per_px: float | None) -> PhotoMeasures:
    """The measures of a result at `mm_per_px`: its own where the analysis gave them (they hold the
    range from the model's probabilities), else measured from its label map `labels` (slow on 12 MP:
    call it from a worker)."""
    own = getattr(figures, "measures", None)
    if isinstance(own, PhotoMeasures):
        return with_scale(own, figures, mm_per_px)
    return measure_photo(labels, figures.classes, None, mm_per_px, figures.stats)
