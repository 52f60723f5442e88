"""Smart select's way back to full resolution, one window of the photo at a time.

The working copy's pipe region goes up nearest-neighbour (OpenCV's `INTER_NEAREST` grid); on its border
band (working pixels whose 3x3 neighbourhood holds both sides) each photo pixel takes the side whose local
mean colour is nearer to its own, or the bilinear answer where one side is not seen nearby. Every photo
pixel's answer depends on its own coordinates only, so a window computes exactly what the whole photo
would there, and the work follows the window (the changed region), not the photo.
"""

from __future__ import annotations

import cv2
import numpy as np

Window = tuple[int, int, int, int]  # (y0, x0, y1, x1) of the photo, end exclusive

_REMAP_COLS = 4096


def nearest_index(full: int, small: int) -> np.ndarray:
    """The working pixel each photo row (or column) reads, as `cv2.resize(..., INTER_NEAREST)` picks it."""
    step = 1.0 / (full / small)  # OpenCV: ifx = 1 / inv_scale, sx = floor(x * ifx)
    return np.minimum(np.floor(np.arange(full) * step).astype(np.intp), small - 1)


def sample(planes: np.ndarray, ys: np.ndarray, xs: np.ndarray, full: tuple[int, int]) -> np.ndarray:
    """Bilinear samples of `planes` (h x w [x C], any resolution) at full-resolution pixels (ys, xs)."""
    sy, sx = planes.shape[0] / full[0], planes.shape[1] / full[1]
    n = len(xs)
    cols = _REMAP_COLS if n > _REMAP_COLS else max(n, 1)
    pad = -n % cols  # remap wants maps under 32767 a side: lay the points out in rows of `cols`
    map_x = np.pad((xs.astype(np.float32) + 0.5) * sx - 0.5, (0, pad)).reshape(-1, cols)
    map_y = np.pad((ys.astype(np.float32) + 0.5) * sy - 0.5, (0, pad)).reshape(-1, cols)
    src = planes.astype(np.float32)
    out = cv2.remap(src, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return out.reshape(-1, 1 if src.ndim == 2 else src.shape[2])[:n]


def reach(region: np.ndarray, full: tuple[int, int]) -> Window | None:
    """The photo window whose pixels can come out pipe: those reading a working pixel of the region or
    of its border band (None: an empty region)."""
    grown = cv2.dilate(region.astype(np.uint8), np.ones((3, 3), np.uint8))
    rows, cols = np.flatnonzero(grown.any(axis=1)), np.flatnonzero(grown.any(axis=0))
    if rows.size == 0:
        return None
    iy, ix = nearest_index(full[0], region.shape[0]), nearest_index(full[1], region.shape[1])
    ys = np.flatnonzero((iy >= rows[0]) & (iy <= rows[-1]))
    xs = np.flatnonzero((ix >= cols[0]) & (ix <= cols[-1]))
    return int(ys[0]), int(xs[0]), int(ys[-1]) + 1, int(xs[-1]) + 1


def _side_means(region: np.ndarray, small: np.ndarray, edge_window: int) -> list[np.ndarray]:
    """Per working pixel, the mean colour and pixel count of each side (pipe, not) in its neighbourhood."""
    k = (edge_window, edge_window)
    colour = small.astype(np.float32)
    means = []
    for side in (region, ~region):
        weight = side.astype(np.float32)
        count = cv2.boxFilter(weight, -1, k, normalize=False)
        total = cv2.boxFilter(colour * weight[:, :, None], -1, k, normalize=False)
        means.append(np.dstack([total / np.maximum(count, 1e-6)[:, :, None], count]))
    return means


def upsample(
    region: np.ndarray, small: np.ndarray, rgb: np.ndarray, window: Window, edge_window: int = 7
) -> np.ndarray:
    """The working-size `region` (bool) over the photo `window`: nearest-neighbour, and on the border band
    the side whose local mean colour (working copy `small`) is nearer to the photo pixel's."""
    full = rgb.shape[:2]
    y0, x0, y1, x1 = window
    iy = nearest_index(full[0], region.shape[0])[y0:y1]
    ix = nearest_index(full[1], region.shape[1])[x0:x1]
    r8 = region.astype(np.uint8)
    kernel = np.ones((3, 3), np.uint8)
    band = cv2.compare(cv2.dilate(r8, kernel), cv2.erode(r8, kernel), cv2.CMP_NE)
    both = r8 | (band & 2)  # bit 0: pipe, bit 1: border band; one gather brings both up
    up = both[iy][:, ix]
    out = (up & 1).view(bool)
    found = cv2.findNonZero(up & 2)  # (x, y) points, None when none
    if found is None:
        return out
    found = found.reshape(-1, 2)
    by, bx = found[:, 1], found[:, 0]
    ys, xs = by + y0, bx + x0
    fg_mean, bg_mean = _side_means(region, small, edge_window)
    pix = rgb[ys, xs].astype(np.float32)
    fg, bg = sample(fg_mean, ys, xs, full), sample(bg_mean, ys, xs, full)
    d_fg = ((pix - fg[:, :3]) ** 2).sum(axis=1)
    d_bg = ((pix - bg[:, :3]) ** 2).sum(axis=1)
    both = (fg[:, 3] > 0.5) & (bg[:, 3] > 0.5)  # both sides seen nearby; else the bilinear answer
    soft = sample(region.astype(np.float32), ys, xs, full)[:, 0] >= 0.5
    out[by, bx] = np.where(both, d_fg < d_bg, soft)
    return out


def bounds(mask: np.ndarray) -> Window | None:
    """(y0, x0, y1, x1) of the nonzero pixels of a uint8 mask, None when there are none."""
    x, y, w, h = cv2.boundingRect(mask)
    return None if w == 0 else (y, x, y + h, x + w)


def union(a: Window | None, b: Window | None) -> Window | None:
    if a is None or b is None:
        return a or b
    return min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])


def intersect(a: Window | None, b: Window) -> Window | None:
    """The overlap of two windows, None when they do not overlap (or `a` is None)."""
    if a is None:
        return None
    y0, x0, y1, x1 = max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])
    return (y0, x0, y1, x1) if y0 < y1 and x0 < x1 else None


def bounds_outside(labels: np.ndarray, lut: np.ndarray, window: Window) -> Window | None:
    """Bounds of the pixels of `labels` that `lut` (256 uint8) maps to nonzero, outside `window`: four
    strips of the map, each read once."""
    h, w = labels.shape
    y0, x0, y1, x1 = window
    found = None
    for sy, sx in (
        (slice(0, y0), slice(0, w)),
        (slice(y1, h), slice(0, w)),
        (slice(y0, y1), slice(0, x0)),
        (slice(y0, y1), slice(x1, w)),
    ):
        part = labels[sy, sx]
        got = bounds(cv2.LUT(part, lut)) if part.size else None
        if got is not None:
            got = (got[0] + sy.start, got[1] + sx.start, got[2] + sy.start, got[3] + sx.start)
        found = union(found, got)
    return found
