"""Select similar: grow corrosion from a clicked rust pixel over connected pipe pixels of a similar colour
(and corrosion probability). Returns an `app.core.editing.Edit`, one undo step."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from app.core.editing import Edit, Point, tighten
from app.core.palette import DEFAULT_CLASSES, ClassInfo
from app.core.smart_select import SmartSelectError, class_ids


def select_similar(
    rgb: np.ndarray,
    labels: np.ndarray,
    point: Point,
    tolerance: float = 12.0,
    classes: Sequence[ClassInfo] = DEFAULT_CLASSES,
    probabilities: np.ndarray | None = None,
    probability_tolerance: float = 0.25,
) -> Edit | None:
    """Make corrosion the pipe pixels connected to the clicked one with a similar colour (CIELAB, within
    `tolerance`; lightness twice that, for the shading on a pipe) and, where `probabilities` are given,
    a corrosion probability at least the clicked one's less `probability_tolerance`."""
    ids = class_ids(classes)
    h, w = labels.shape
    x, y = round(float(point[0])), round(float(point[1]))
    if not (0 <= x < w and 0 <= y < h):
        return None
    if labels[y, x] not in (ids.corrosion, ids.asset):
        raise SmartSelectError("select similar works on the pipe: click on a rust patch of the pipe")
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2Lab)
    y0, y1, x0, x1 = max(0, y - 2), min(h, y + 3), max(0, x - 2), min(w, x + 3)
    lab[y, x] = lab[y0:y1, x0:x1].reshape(-1, 3).mean(axis=0).round()  # a 5x5 mean as the reference colour
    blocked = np.ones((h + 2, w + 2), dtype=np.uint8)
    allowed = (labels == ids.corrosion) | (labels == ids.asset)
    if probabilities is not None:
        corr = cv2.resize(probabilities[:, :, ids.corrosion].astype(np.float32), (w, h), cv2.INTER_LINEAR)
        allowed &= corr >= corr[y, x] - probability_tolerance
    blocked[1:-1, 1:-1][allowed] = 0
    tol = (2.0 * tolerance, tolerance, tolerance)
    flags = 8 | cv2.FLOODFILL_MASK_ONLY | cv2.FLOODFILL_FIXED_RANGE | (2 << 8)
    _, _, _, (rx, ry, rw, rh) = cv2.floodFill(lab, blocked, (x, y), 0, tol, tol, flags)
    box = (ry, rx, ry + rh, rx + rw)
    grown = blocked[ry + 1 : ry + 1 + rh, rx + 1 : rx + 1 + rw] == 2
    before = labels[ry : ry + rh, rx : rx + rw].copy()
    after = before.copy()
    after[grown] = ids.corrosion
    return tighten(Edit(box, before, after, "select similar"))
