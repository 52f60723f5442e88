"""A photo's physical areas and patches as text, for the scale panel and the PDF (no Qt); the grade,
distribution and range texts are `app.core.figures`'."""

from __future__ import annotations

from dataclasses import replace

from app.core.analysis import PhotoFigures
from app.core.measures import PhotoMeasures
from app.core.physical import OBLIQUE_NOTE, area_mm2, check_scale, class_areas_mm2, format_area

NO_VALUE = "–"


def with_scale(m: PhotoMeasures, figures: PhotoFigures, mm_per_px: float | None) -> PhotoMeasures:
    """`m` at another scale (None: no physical areas); the patches and the range stay as they are."""
    scale = None if mm_per_px is None else check_scale(mm_per_px)
    return replace(m, mm_per_px=scale, class_areas_mm2=class_areas_mm2(figures.stats.pixels, scale))


def _pct(v: float) -> str:
    return f"{v:.3g}" if v < 10 else f"{v:.1f}"


def largest_patch_text(m: PhotoMeasures) -> str:
    """ "3.4 % of the asset (5,120 px), 12.5 cm²" (the area only with a scale)."""
    p = m.patches
    if p is None or p.count == 0:
        return NO_VALUE
    text = f"{_pct(p.largest_share)} % of the asset ({p.largest_pixels:,} px)"
    if m.mm_per_px is not None:
        text += f", {format_area(area_mm2(p.largest_pixels, m.mm_per_px))}"
    return text


def area_rows(m: PhotoMeasures) -> list[tuple[str, str]]:
    """(label, value): the scale, each class's area and the largest patch's; only the largest patch
    without a scale (nothing claims physical units)."""
    rows = [("Largest patch", largest_patch_text(m))]
    if m.mm_per_px is None or m.class_areas_mm2 is None:
        return rows
    rows.insert(0, ("Scale", f"{m.mm_per_px:.4g} mm/px"))
    rows += [(f"{name} area", format_area(mm2)) for name, mm2 in m.class_areas_mm2.items()]
    return rows


def area_note(m: PhotoMeasures) -> str:
    """The oblique-photo note where areas are given, else ""."""
    return OBLIQUE_NOTE if m.mm_per_px is not None else ""
