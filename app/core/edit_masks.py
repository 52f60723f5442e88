"""The pixels an editing tool touches, as (box, bool mask) in photo coordinates: a brush segment, a
polygon or lasso, a flood-filled region. Each mask covers only its box, so a tool costs its footprint.

Coordinates are photo pixels as (x, y) floats; pixel (row i, column j) has its centre at (j, i).
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

Point = tuple[float, float]
Box = tuple[int, int, int, int]  # y0, x0, y1, x1 (end exclusive)
_POLY_SHIFT = 4  # cv2.fillPoly fixed point: vertices at 1/16 pixel
_COMPARE_BYTES = 1 << 20


def maps_equal(a: np.ndarray, b: np.ndarray) -> bool:
    """`np.array_equal` of two label maps, a megabyte at a time: the whole-map boolean temporary took
    0.6 s at 50 MP (fresh pages) on the UI thread, at an inspector's first edit; this takes ~10 ms."""
    if a.shape != b.shape:
        return False
    if a.ndim < 2:
        return bool(np.array_equal(a, b))
    rows = max(1, _COMPARE_BYTES // max(1, a[0].nbytes))
    return all(np.array_equal(a[r : r + rows], b[r : r + rows]) for r in range(0, a.shape[0], rows))


def _clip_box(y0: float, x0: float, y1: float, x1: float, shape: tuple[int, ...]) -> Box | None:
    h, w = shape[:2]
    box = (
        max(0, int(np.floor(y0))),
        max(0, int(np.floor(x0))),
        min(h, int(np.ceil(y1))),
        min(w, int(np.ceil(x1))),
    )
    return box if box[0] < box[2] and box[1] < box[3] else None


def segment_disc_mask(
    p0: Point, p1: Point, radius: float, shape: tuple[int, ...]
) -> tuple[Box, np.ndarray] | None:
    """(box, bool mask) of the pixels within `radius` of the segment p0-p1 (a disc when p0 == p1)."""
    (xa, ya), (xb, yb) = p0, p1
    r = max(float(radius), 0.5)
    box = _clip_box(min(ya, yb) - r, min(xa, xb) - r, max(ya, yb) + r + 1, max(xa, xb) + r + 1, shape)
    if box is None:
        return None
    ys = np.arange(box[0], box[2], dtype=np.float32)[:, None] - np.float32(ya)
    xs = np.arange(box[1], box[3], dtype=np.float32)[None, :] - np.float32(xa)
    dx, dy = np.float32(xb - xa), np.float32(yb - ya)
    length2 = dx * dx + dy * dy
    if length2 > 0:
        t = np.clip((xs * dx + ys * dy) / length2, 0.0, 1.0)
        ex, ey = xs - t * dx, ys - t * dy
    else:
        ex, ey = xs, ys
    mask = ex * ex + ey * ey <= np.float32(r * r)
    return box, mask


def polygon_mask(points: Sequence[Point], shape: tuple[int, ...]) -> tuple[Box, np.ndarray] | None:
    """(box, bool mask) of the pixels whose centres lie inside the polygon (or lasso) through `points`."""
    if len(points) < 3:
        return None
    pts = np.asarray(points, dtype=np.float64)
    box = _clip_box(pts[:, 1].min(), pts[:, 0].min(), pts[:, 1].max() + 1, pts[:, 0].max() + 1, shape)
    if box is None:
        return None
    local = np.round((pts - [box[1], box[0]]) * (1 << _POLY_SHIFT)).astype(np.int32)
    canvas = np.zeros((box[2] - box[0], box[3] - box[1]), dtype=np.uint8)
    cv2.fillPoly(canvas, [local], 1, lineType=cv2.LINE_8, shift=_POLY_SHIFT)
    return box, canvas.view(bool)


def region_mask(labels: np.ndarray, point: Point) -> tuple[Box, np.ndarray] | None:
    """(box, bool mask) of the 4-connected region of the clicked pixel's class."""
    h, w = labels.shape
    x, y = round(float(point[0])), round(float(point[1]))
    if not (0 <= x < w and 0 <= y < h):
        return None
    grow = np.zeros((h + 2, w + 2), dtype=np.uint8)
    flags = 4 | cv2.FLOODFILL_MASK_ONLY | (1 << 8)
    _, _, _, (rx, ry, rw, rh) = cv2.floodFill(labels, grow, (x, y), 0, 0, 0, flags)
    box = (ry, rx, ry + rh, rx + rw)
    return box, grow[ry + 1 : ry + 1 + rh, rx + 1 : rx + 1 + rw].view(bool)
