"""The standards' measures of one photo beyond share and grade: patches, D610 distribution type, the
share's range and physical areas, as the fields the per-photo JSON and `results.csv` carry."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from app.core.grading import Distribution, Grade, d610_distribution, d610_label
from app.core.palette import ClassInfo
from app.core.patches import PatchStats, patch_stats
from app.core.physical import OBLIQUE_NOTE, area_mm2, check_scale
from app.core.range_calibration import RangeCalibration, photo_range
from app.core.share_range import ShareRange
from app.core.stats import AreaStats, area_stats

# The flat fields, in the order `results.csv` gives them after today's columns (None -> empty cell).
CSV_FIELDS = (
    "corroded_share_low",
    "corroded_share_high",
    "d610_distribution",
    "patch_count",
    "largest_patch_share",
    "mm_per_px",
    "corrosion_area_mm2",
)


@dataclass(frozen=True)
class PhotoMeasures:
    """What `measure_photo` found; each part None where it does not apply (no asset in view, no
    probabilities or range calibration, no scale). `range_note` says why a photo with a pipe in view
    has no range (the model carries no calibration, or the labels are not the model's)."""

    patches: PatchStats | None
    distribution: Distribution | None
    share_range: ShareRange | None
    mm_per_px: float | None
    class_areas_mm2: dict[str, float] | None
    range_note: str | None = None

    @property
    def corrosion_area_mm2(self) -> float | None:
        if self.patches is None or self.mm_per_px is None:
            return None
        return area_mm2(self.patches.corrosion_pixels, self.mm_per_px)

    @property
    def range_bounds(self) -> tuple[float, float] | None:
        """(low, high) for `grading.assess(..., share_range=)`."""
        r = self.share_range
        return None if r is None else (r.low, r.high)


def measure_photo(
    labels: np.ndarray,
    classes: Sequence[ClassInfo],
    probabilities: np.ndarray | None = None,
    mm_per_px: float | None = None,
    stats: AreaStats | None = None,
    min_patch_pixels: int | None = None,
    calibration: RangeCalibration | None = None,
    range_note: str | None = None,
) -> PhotoMeasures:
    """Patches, distribution type, the calibrated range (with `Segmentation.probabilities` and the model's
    `calibration`; else `range_note` says why there is none) and areas (with a scale) of one label map.
    Pass `stats` when already computed for these labels."""
    scale = None if mm_per_px is None else check_scale(mm_per_px)
    patches = patch_stats(labels, classes, min_patch_pixels)
    stats = stats or area_stats(labels, classes)
    areas = None if scale is None else {name: area_mm2(n, scale) for name, n in stats.pixels.items()}
    r = photo_range(stats.corroded_share, probabilities, classes, calibration)
    return PhotoMeasures(
        patches=patches,
        distribution=d610_distribution(patches),
        share_range=r,
        mm_per_px=scale,
        class_areas_mm2=areas,
        range_note=None if r is not None or stats.corroded_share is None else range_note,
    )


def _round(v: float | None, digits: int) -> float | None:
    return None if v is None else round(float(v), digits)


def record_fields(m: PhotoMeasures, astm: Grade | None = None) -> dict[str, Any]:
    """The new per-photo JSON fields (the `CSV_FIELDS` flat, plus `patches`, evidence, areas, notes)."""
    r, p, d = m.share_range, m.patches, m.distribution
    areas = None if m.class_areas_mm2 is None else {k: round(v, 3) for k, v in m.class_areas_mm2.items()}
    return {
        "corroded_share_low": None if r is None else round(r.low, 6),
        "corroded_share_high": None if r is None else round(r.high, 6),
        "range_label": None if r is None else r.label,
        "range_note": m.range_note,
        "d610_distribution": None if d is None else d.type,
        "d610_distribution_evidence": None if d is None else d.evidence,
        "astm_d610_with_distribution": d610_label(astm, d),
        "patch_count": None if p is None else p.count,
        "largest_patch_share": None if p is None else round(p.largest_share, 6),
        "mm_per_px": m.mm_per_px,
        "corrosion_area_mm2": _round(m.corrosion_area_mm2, 3),
        "class_areas_mm2": areas,
        "area_note": None if m.mm_per_px is None else OBLIQUE_NOTE,
        "patches": None if p is None else p.to_json(m.mm_per_px),
    }


def csv_cells(fields: Mapping[str, Any]) -> list[str]:
    """The `CSV_FIELDS` of `record_fields` (or a JSON record holding them) as CSV cells; None is empty."""

    def cell(name: str) -> str:
        v = fields.get(name)
        if v is None:
            return ""
        if name == "mm_per_px":
            return f"{v:.6g}"
        return f"{v:.4f}" if isinstance(v, float) else str(v)

    return [cell(name) for name in CSV_FIELDS]
