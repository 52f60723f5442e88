"""Area statistics of a label map: pixels and percent per class, and the corroded share of the asset."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from app.core.palette import ClassInfo, class_by_name


@dataclass(frozen=True)
class AreaStats:
    """Pixels and % of the photo per class name; `corroded_share` = corrosion / (corrosion + asset) in %,
    `None` when neither is in view (or the model has no such classes)."""

    pixels: dict[str, int]
    percent: dict[str, float]
    total: int
    corroded_share: float | None

    @property
    def has_asset(self) -> bool:
        return self.corroded_share is not None


def corroded_share(corrosion_pixels: int, asset_pixels: int) -> float | None:
    graded = corrosion_pixels + asset_pixels
    return 100.0 * corrosion_pixels / graded if graded else None


def area_stats(labels: np.ndarray, classes: Sequence[ClassInfo]) -> AreaStats:
    """Count class ids in `labels` (uint8 HxW). Ids outside `classes` are counted in `total` only."""
    if labels.dtype != np.uint8 or labels.ndim != 2:
        raise ValueError(f"labels must be uint8 HxW, got {labels.dtype} {labels.shape}")
    total = int(labels.size)
    pixels = {c.name: int(np.count_nonzero(labels == c.id)) for c in classes}  # bincount casts to int64
    return _stats(pixels, total, classes)


def area_stats_from_counts(counts: np.ndarray, classes: Sequence[ClassInfo], total: int) -> AreaStats:
    """The same figures from pixel counts per class id (e.g. kept up to date while editing)."""
    pixels = {c.name: int(counts[c.id]) for c in classes}
    return _stats(pixels, int(total), classes)


def _stats(pixels: dict[str, int], total: int, classes: Sequence[ClassInfo]) -> AreaStats:
    percent = {name: (100.0 * n / total if total else 0.0) for name, n in pixels.items()}
    corrosion, asset = class_by_name(classes, "corrosion"), class_by_name(classes, "asset")
    share = None
    if corrosion is not None and asset is not None:
        share = corroded_share(pixels[corrosion.name], pixels[asset.name])
    return AreaStats(pixels, percent, total, share)
