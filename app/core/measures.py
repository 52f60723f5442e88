"""The standards' measures of one photo beyond share and grade: patches, D610 distribution type, the
share's range and physical areas (`app.core.record` gives them their fields in the record and the CSV)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from app.core.grading import Distribution, d610_distribution
from app.core.palette import ClassInfo
from app.core.patches import PatchStats, patch_stats
from app.core.physical import area_mm2, check_scale
from app.core.range_calibration import RangeCalibration, photo_range
from app.core.share_range import ShareRange
from app.core.stats import AreaStats, area_stats


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
    stats = stats or area_stats(labels, classes)
    patches = patch_stats(labels, classes, min_patch_pixels, stats.pixels)  # the classes counted once
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
