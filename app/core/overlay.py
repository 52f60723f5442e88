"""Blending the class colours over a photo, per class visibility and opacity."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

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
) -> np.ndarray:
    """out = (1 - a) * photo + a * class colour, per pixel by its class; hidden classes have a = 0.

    `visible` None shows every class; a class missing from `opacity` gets `DEFAULT_OPACITY`.
    """
    if rgb.shape[:2] != labels.shape or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"photo {rgb.shape} and labels {labels.shape} must be HxWx3 and HxW of one size")
    visible = {c.id for c in classes} if visible is None else set(visible)
    opacity = opacity or {}
    alpha_lut = np.zeros(256, dtype=np.float32)
    color_lut = np.zeros((256, 3), dtype=np.float32)
    for c in classes:
        if c.id in visible:
            alpha_lut[c.id] = float(np.clip(opacity.get(c.id, DEFAULT_OPACITY), 0.0, 1.0))
        color_lut[c.id] = c.color
    out = np.empty_like(rgb)
    for r0 in range(0, rgb.shape[0], _STRIP_ROWS):  # strips keep the float temporaries small
        lab = labels[r0 : r0 + _STRIP_ROWS]
        a = alpha_lut[lab][:, :, None]
        photo = rgb[r0 : r0 + _STRIP_ROWS].astype(np.float32)
        blended = photo * (1.0 - a) + color_lut[lab] * a
        out[r0 : r0 + _STRIP_ROWS] = np.clip(blended + 0.5, 0, 255).astype(np.uint8)
    return out
