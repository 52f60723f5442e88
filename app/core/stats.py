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
    counts = _id_counts(labels, [c.id for c in classes])
    pixels = {c.name: n for c, n in zip(classes, counts, strict=True)}
    return _stats(pixels, total, classes)


_STRIP_PIXELS = 1 << 20


def _id_counts(labels: np.ndarray, ids: Sequence[int]) -> list[int]:
    """Pixels of each id, strip by strip into one small reused comparison (a full-size one per class,
    a fresh 12 MB at 12 MP, costs twice the time; `np.bincount` casts to int64 and costs 8x)."""
    rows = max(1, _STRIP_PIXELS // max(1, labels.shape[1]))
    same = np.empty((min(rows, labels.shape[0]), labels.shape[1]), np.bool_)
    counts = [0] * len(ids)
    for r0 in range(0, labels.shape[0], rows):
        strip = labels[r0 : r0 + rows]
        for i, class_id in enumerate(ids):
            counts[i] += int(np.count_nonzero(np.equal(strip, class_id, out=same[: len(strip)])))
    return counts


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
