"""Blending the class colours over a photo, per class visibility and opacity."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

import cv2
import numpy as np

from app.core.palette import ClassInfo

DEFAULT_OPACITY = 0.5
_STRIP_ROWS = 512


def blend_overlay(
    rgb: np.ndarray,
    labels: np.ndarray,
    classes: Sequence[ClassInfo],
    visible: Collection[int] | None = None,
    opacity: Mapping[int, float] | None = None,
    *,
    bgr: bool = False,
) -> np.ndarray:
    """out = (1 - a) * photo + a * class colour, per pixel by its class; hidden classes have a = 0.

    `visible` None shows every class; a class missing from `opacity` gets `DEFAULT_OPACITY`. With `bgr`
    the result is in OpenCV's channel order, ready for its encoders: no second full-size copy to swap.
    """
    if rgb.shape[:2] != labels.shape or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"photo {rgb.shape} and labels {labels.shape} must be HxWx3 and HxW of one size")
    visible = {c.id for c in classes} if visible is None else set(visible)
    opacity = opacity or {}
    # out = photo * (1 - a) + colour * a depends only on (class, channel, value): one 256-entry table
    # per class, applied with cv2.LUT, is exact and several times faster than float arithmetic.
    values = np.arange(256, dtype=np.float32)[:, None]
    luts: dict[int, np.ndarray] = {}
    for c in classes:
        a = np.float32(np.clip(opacity.get(c.id, DEFAULT_OPACITY), 0.0, 1.0))
        if c.id in visible and a > 0:
            table = values * (np.float32(1.0) - a) + np.array(c.color, np.float32) * a
            lut = np.clip(table + 0.5, 0, 255).astype(np.uint8)
            luts[c.id] = (lut[:, ::-1] if bgr else lut).copy().reshape(256, 1, 3)
    # The one full-size array made here: the photo's copy is made strip by strip (swapped to BGR there).
    out = np.empty_like(rgb)
    for r0 in range(0, rgb.shape[0], _STRIP_ROWS):  # strips keep the temporaries small
        lab = labels[r0 : r0 + _STRIP_ROWS]
        src = np.ascontiguousarray(rgb[r0 : r0 + _STRIP_ROWS])
        dst = out[r0 : r0 + _STRIP_ROWS]  # a view of whole rows: cv2.copyTo writes into it
        if bgr:
            src = cv2.cvtColor(src, cv2.COLOR_RGB2BGR)
        dst[...] = src
        for class_id, lut in luts.items():
            mask = (lab == class_id).view(np.uint8)
            if mask.any():
                cv2.copyTo(cv2.LUT(src, lut), mask, dst)
    return out
