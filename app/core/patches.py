"""Corrosion patches: connected components of the corrosion class (8-connectivity) with their statistics,
and their outlines as an overlay layer.

The asset region is the pipe in view: asset and corrosion pixels together, since corrosion is the pipe's
own surface. Every corrosion pixel lies in it, so the patches hold exactly the pixels of the corroded
share, and a patch's share of the asset has the share's denominator (corrosion + asset): the patches'
shares add up to the corroded share. Background (and asset) pixels separate patches.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from app.core.palette import ClassInfo, class_by_name
from app.core.physical import area_mm2, rounded_area

# A patch smaller than one cell of a 256 x 256 grid over the photo is below what a network that sees the
# photo at 256 x 256 (the shipped model, resize mode) can resolve: a speck, counted apart.
SPECK_GRID = 256 * 256
# Patch-size histogram: decades of % of the asset (the first bin also takes everything below 0.01 %).
HISTOGRAM_EDGES = (0.0, 0.01, 0.1, 1.0, 10.0, 100.0)
LARGEST_LISTED = 10
# Over this share of the photo corroded, OpenCV's statistics pass is cheaper than ours over the corroded
# pixels (both give the same patches; the crossing measured at 12 MP is near 15 %).
DENSE_SHARE = 0.15


def default_min_pixels(height: int, width: int) -> int:
    """The default minimum patch size for a photo: one cell of `SPECK_GRID` (at least 1 pixel)."""
    return max(1, math.ceil(height * width / SPECK_GRID))


@dataclass(frozen=True)
class Patch:
    """One patch: its pixels and bounding box (x, y, width, height) in photo pixels."""

    pixels: int
    bbox: tuple[int, int, int, int]


@dataclass(frozen=True)
class PatchStats:
    """The corrosion patches of one photo. `sizes` are the pixel counts of the patches of at least
    `min_pixels`, largest first; smaller components are specks, counted apart."""

    asset_pixels: int  # the asset region: corrosion + asset pixels
    corrosion_pixels: int
    min_pixels: int
    sizes: tuple[int, ...]
    speck_count: int
    speck_pixels: int
    largest: tuple[Patch, ...]  # up to LARGEST_LISTED, largest first

    @property
    def count(self) -> int:
        return len(self.sizes)

    def share(self, pixels: float) -> float:
        """`pixels` as % of the asset region."""
        return 100.0 * pixels / self.asset_pixels

    @property
    def largest_pixels(self) -> int:
        return self.sizes[0] if self.sizes else 0

    @property
    def largest_share(self) -> float:
        return self.share(self.largest_pixels)

    @property
    def median_pixels(self) -> float | None:
        return float(np.median(self.sizes)) if self.sizes else None

    @property
    def median_share(self) -> float | None:
        m = self.median_pixels
        return None if m is None else self.share(m)

    @property
    def top3_fraction(self) -> float | None:
        """% of all corrosion pixels (specks included) held by the three largest patches."""
        return 100.0 * sum(self.sizes[:3]) / self.corrosion_pixels if self.corrosion_pixels else None

    def histogram(self) -> list[tuple[float, float, int]]:
        """(from %, to %, patches) per bin of `HISTOGRAM_EDGES`, in % of the asset; specks not included."""
        shares = np.array(self.sizes, dtype=np.float64) * (100.0 / self.asset_pixels)
        counts, _ = np.histogram(np.clip(shares, 0.0, 100.0), bins=np.array(HISTOGRAM_EDGES))
        return [
            (lo, hi, int(n)) for lo, hi, n in zip(HISTOGRAM_EDGES, HISTOGRAM_EDGES[1:], counts, strict=False)
        ]

    def to_json(self, mm_per_px: float | None = None) -> dict[str, Any]:
        """The `patches` object of the per-photo JSON; areas in mm² only with a scale."""

        def size(pixels: float | None) -> dict[str, Any] | None:
            if pixels is None:
                return None
            out: dict[str, Any] = {"pixels": pixels, "share": round(self.share(pixels), 6)}
            if mm_per_px is not None:
                out["area_mm2"] = rounded_area(area_mm2(pixels, mm_per_px))
            return out

        return {
            "connectivity": 8,
            "min_patch_pixels": self.min_pixels,
            "asset_pixels": self.asset_pixels,
            "count": self.count,
            "specks": {"count": self.speck_count, "pixels": self.speck_pixels},
            "largest": size(self.largest_pixels) if self.sizes else None,
            "median": size(self.median_pixels),
            "top3_share_of_corrosion": None if self.top3_fraction is None else round(self.top3_fraction, 4),
            "histogram": [{"from_share": lo, "to_share": hi, "count": n} for lo, hi, n in self.histogram()],
            "largest_patches": [{**(size(p.pixels) or {}), "bbox": list(p.bbox)} for p in self.largest],
        }


def _class_ids(classes: Sequence[ClassInfo]) -> tuple[int, int] | None:
    corrosion, asset = class_by_name(classes, "corrosion"), class_by_name(classes, "asset")
    return None if corrosion is None or asset is None else (corrosion.id, asset.id)


def patch_stats(
    labels: np.ndarray,
    classes: Sequence[ClassInfo],
    min_pixels: int | None = None,
    counts: Mapping[str, int] | None = None,
) -> PatchStats | None:
    """The corrosion patches of a label map (uint8 HxW); None with no asset region in view (or no such
    classes). `min_pixels` defaults to `default_min_pixels` of the map's size. `counts` (class name ->
    pixels of these labels, `AreaStats.pixels`) spares counting the classes again."""
    if labels.dtype != np.uint8 or labels.ndim != 2:
        raise ValueError(f"labels must be uint8 HxW, got {labels.dtype} {labels.shape}")
    ids = _class_ids(classes)
    if ids is None:
        return None
    if counts is None:
        n_corrosion = int(np.count_nonzero(labels == ids[0]))
        n_asset = n_corrosion + int(np.count_nonzero(labels == ids[1]))
    else:
        names = {c.id: c.name for c in classes}
        n_corrosion = int(counts[names[ids[0]]])
        n_asset = n_corrosion + int(counts[names[ids[1]]])
    if n_asset == 0:
        return None
    min_pixels = default_min_pixels(*labels.shape) if min_pixels is None else max(1, int(min_pixels))
    if n_corrosion == 0:
        return PatchStats(n_asset, 0, min_pixels, (), 0, 0, ())
    mask = (labels == ids[0]).view(np.uint8)
    dense = n_corrosion > DENSE_SHARE * labels.size
    areas, largest = _components_dense(mask, min_pixels) if dense else _components(mask, min_pixels)
    keep = areas >= min_pixels
    specks = areas[~keep]
    return PatchStats(
        n_asset,
        n_corrosion,
        min_pixels,
        tuple(int(a) for a in areas[keep]),
        int(specks.size),
        int(specks.sum()),
        largest,
    )


def _components(mask: np.ndarray, min_pixels: int) -> tuple[np.ndarray, tuple[Patch, ...]]:
    """Component sizes, largest first, and the `LARGEST_LISTED` largest of at least `min_pixels` with
    their boxes. Labels only, then statistics over the corrosion pixels alone: OpenCV's own statistics
    pass over every pixel took 5x the labelling (60 against 12 ms at 12 MP). The statistics go strip by
    strip: pixel indices of the whole map took 12 bytes a corroded pixel (gigabytes on a big rusty photo).
    Only the box around the corroded pixels is labelled (`_corroded_box`): the same labels."""
    x0, y0, mask = _corroded_box(mask)
    n, cc = cv2.connectedComponents(mask, connectivity=8, ltype=cv2.CV_32S)
    sizes = np.zeros(n, dtype=np.int64)
    for _, lab, _ in _strips(mask, cc):
        sizes += np.bincount(lab, minlength=n)
    sizes = sizes[1:]
    order = np.argsort(-sizes, kind="stable")  # ties in label (scan) order
    top = [int(i) + 1 for i in order[:LARGEST_LISTED] if sizes[i] >= min_pixels]
    boxes = {k: [mask.shape[1], mask.shape[0], -1, -1] for k in top}  # x0, y0, x1, y1
    for r0, lab, flat in _strips(mask, cc) if top else ():
        for k in top:
            at = flat[lab == k]
            if at.size:
                ys, xs = np.divmod(at, mask.shape[1])
                box = boxes[k]
                box[0], box[1] = min(box[0], int(xs.min())), min(box[1], r0 + int(ys.min()))
                box[2], box[3] = max(box[2], int(xs.max())), max(box[3], r0 + int(ys.max()))
    largest = tuple(
        Patch(int(sizes[k - 1]), (x0 + b[0], y0 + b[1], b[2] - b[0] + 1, b[3] - b[1] + 1))
        for k, b in ((k, boxes[k]) for k in top)
    )
    return sizes[order].astype(np.int64), largest


def _corroded_box(mask: np.ndarray) -> tuple[int, int, np.ndarray]:
    """(x0, y0, the mask from there to the last corroded row and column): the box around the corroded
    pixels, widened to an even first row and column. OpenCV labels 2 x 2 blocks in scan order, so from
    an even corner it meets the same blocks in the same order as over the whole mask, and numbers the
    components alike (an odd corner would not: `test_patches` checks both); the rest is background."""
    x, y, w, h = cv2.boundingRect(mask)  # of the non-zero pixels
    if w == 0 or h == 0:  # none: the whole (empty) mask, as OpenCV crashes on an empty array
        return 0, 0, mask
    x0, y0 = x - x % 2, y - y % 2
    return x0, y0, mask[y0 : y + h, x0 : x + w]


def _components_dense(mask: np.ndarray, min_pixels: int) -> tuple[np.ndarray, tuple[Patch, ...]]:
    """`_components` by OpenCV's own statistics pass: the same labels (the same labelling), sizes and
    boxes. Its cost does not grow with the corroded pixels (about 80 ms of one thread at 12 MP), while
    `_components`'s passes over them do (45 ms at 3 % of the photo, 200 ms at 67 %)."""
    _, _, stats, _ = dense_components(mask)
    sizes = stats[1:, cv2.CC_STAT_AREA].astype(np.int64)
    order = np.argsort(-sizes, kind="stable")  # ties in label (scan) order
    top = [int(i) for i in order[:LARGEST_LISTED] if sizes[i] >= min_pixels]
    largest = tuple(Patch(int(sizes[i]), tuple(int(v) for v in stats[i + 1, :4])) for i in top)
    return sizes[order], largest


def dense_components(mask: np.ndarray) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
    """`cv2.connectedComponentsWithStats(mask, 8)` by the BBDT algorithm: the same 2 x 2 block scan as
    OpenCV's default (Spaghetti), the same labels and statistics, 64-77 ms against 80 of one thread on
    dense 12 MP masks (docs/performance.md); `test_patches` checks them against the default."""
    return cv2.connectedComponentsWithStatsWithAlgorithm(mask, 8, cv2.CV_32S, cv2.CCL_BBDT)


_STRIP_PIXELS = 1 << 20  # a strip's indices: 12 MB at most


def _strips(mask: np.ndarray, cc: np.ndarray) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    """(first row, component labels of the strip's masked pixels, their flat indices in the strip);
    `mask` holds 0 and 1 only (a bool map's uint8 view, as `patch_stats` makes it)."""
    rows = max(1, _STRIP_PIXELS // max(1, mask.shape[1]))
    corroded = mask.view(np.bool_)  # numpy finds a bool map's set pixels 3-10x faster than uint8's
    for r0 in range(0, mask.shape[0], rows):
        flat = np.flatnonzero(corroded[r0 : r0 + rows])
        yield r0, cc[r0 : r0 + rows].ravel()[flat], flat


def patch_outlines(labels: np.ndarray, classes: Sequence[ClassInfo], thickness: int = 1) -> np.ndarray:
    """A uint8 mask (255 on, 0 off) of the patches' outlines: corrosion pixels within `thickness` pixels
    of a non-corrosion pixel (or the photo's edge), so an outline never covers the asset around it."""
    if thickness < 1:
        raise ValueError(f"outline thickness must be >= 1 pixel, got {thickness}")
    ids = _class_ids(classes)
    if ids is None:
        return np.zeros(labels.shape, np.uint8)
    corrosion = (labels == ids[0]).view(np.uint8)
    kernel = np.ones((2 * thickness + 1, 2 * thickness + 1), np.uint8)
    inner = cv2.erode(corrosion, kernel, borderType=cv2.BORDER_CONSTANT, borderValue=0)
    return np.multiply(corrosion - inner, 255, dtype=np.uint8)
