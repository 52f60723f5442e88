"""Blending the class colours over a photo, per class visibility and opacity."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

import cv2
import numpy as np

from app.core.palette import ClassInfo

DEFAULT_OPACITY = 0.5
_STRIP_ROWS = 128  # 128 rows x 8000 px x 3 B = 3 MB per temporary: they stay in the cache


def blend_overlay(
    rgb: np.ndarray,
    labels: np.ndarray,
    classes: Sequence[ClassInfo],
    visible: Collection[int] | None = None,
    opacity: Mapping[int, float] | None = None,
    *,
    bgr: bool = False,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """out = (1 - a) * photo + a * class colour, per pixel by its class; hidden classes have a = 0.

    `visible` None shows every class; a class missing from `opacity` gets `DEFAULT_OPACITY`. With `bgr`
    the result is in OpenCV's channel order, ready for its encoders: no second full-size copy to swap.
    `out` (uint8 HxWx3, C-contiguous) receives the overlay instead of a new array: `rgb` itself (each
    strip of the photo is copied before it is overwritten) or an array sharing no memory with it. A
    caller that needs the photo no more (the batch) then makes no new full-size array, nor pays its
    page faults.
    """
    if rgb.shape[:2] != labels.shape or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"photo {rgb.shape} and labels {labels.shape} must be HxWx3 and HxW of one size")
    if out is None:
        # The one full-size array made here: the photo's copy is made strip by strip (swapped there).
        out = np.empty_like(rgb)
    elif out.shape != rgb.shape or out.dtype != np.uint8 or not out.flags.c_contiguous:
        raise ValueError(f"out must be uint8 {rgb.shape} and C-contiguous, got {out.dtype} {out.shape}")
    visible = {c.id for c in classes} if visible is None else set(visible)
    luts = _class_tables(classes, visible, opacity or {}, bgr)
    strips = _Strips(luts, min(_STRIP_ROWS, rgb.shape[0]), rgb.shape[1])
    for r0 in range(0, rgb.shape[0], _STRIP_ROWS):  # strips keep the temporaries small (and cached)
        strips.blend(
            rgb[r0 : r0 + _STRIP_ROWS], labels[r0 : r0 + _STRIP_ROWS], out[r0 : r0 + _STRIP_ROWS], bgr
        )
    return out


class _Strips:
    """Blends strip after strip into buffers made once (fresh ones would cost a page fault per 4 KB)."""

    def __init__(self, luts: dict[int, np.ndarray], rows: int, width: int) -> None:
        self.luts = luts
        # A class whose table is the rounded-up mean of photo and colour (opacity 0.5, the default) is
        # blended for every such class at once by integer arithmetic: a table costs 25 ms at 12 MP.
        colours = {k: c for k, lut in luts.items() if (c := _mean_colour(lut)) is not None}
        self.fills = {k: _filled(rows, width, c) for k, c in colours.items()}
        self.masks = {k: np.empty((rows, width), np.bool_) for k in luts}
        self.swapped, self.mix, self.tmp = (np.empty((rows, width, 3), np.uint8) for _ in range(3))

    def blend(self, rgb: np.ndarray, labels: np.ndarray, dst: np.ndarray, bgr: bool) -> None:
        """dst (a view of whole rows of a C-contiguous array) = the overlay of one strip."""
        n = len(labels)
        if bgr:
            src = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2BGR, dst=self.swapped[:n])
        elif np.may_share_memory(rgb, dst):  # in place: the strip is read again after dst is written
            src = self.swapped[:n]
            src[...] = rgb
        else:
            src = np.ascontiguousarray(rgb)
        present: dict[int, tuple[np.ndarray, int]] = {}
        for class_id in self.luts:  # a class with no pixel in the strip costs one comparison
            mask = np.equal(labels, class_id, out=self.masks[class_id][:n]).view(np.uint8)
            if (count := cv2.countNonZero(mask)) > 0:
                present[class_id] = (mask, count)
        means = {k: m for k, m in present.items() if k in self.fills}
        if means:
            self._means(src, means, dst)
        else:
            dst[...] = src
        for class_id, (mask, _) in present.items():
            if class_id not in means:
                cv2.copyTo(cv2.LUT(src, self.luts[class_id], dst=self.tmp[:n]), mask, dst)

    def _means(self, src: np.ndarray, means: dict[int, tuple[np.ndarray, int]], dst: np.ndarray) -> None:
        """dst = (src + mix + 1) // 2, mix being each class's colour under its mask and the photo elsewhere
        (there the mean is the photo itself), in uint8: (a | b) - ((a ^ b) >> 1) is that mean, exactly."""
        n = len(src)
        mix, tmp = self.mix[:n], self.tmp[:n]
        if sum(count for _, count in means.values()) < src.shape[0] * src.shape[1]:
            mix[...] = src  # pixels of no such class: the mean of the photo with itself
        for class_id, (mask, _) in means.items():
            cv2.copyTo(self.fills[class_id][:n], mask, mix)
        np.bitwise_xor(src, mix, out=tmp)
        np.right_shift(tmp, 1, out=tmp)
        np.bitwise_or(src, mix, out=dst)
        np.subtract(dst, tmp, out=dst)


def _filled(rows: int, width: int, colour: np.ndarray) -> np.ndarray:
    """rows x width x 3 of one colour, as `np.full` makes it: one row filled, then copied row by row
    (numpy's broadcast of three values per pixel costs ~3 ms a class at 4000 px x 128 rows; this ~0.1)."""
    out = np.empty((rows, width, 3), np.uint8)
    out[0] = colour
    out[1:] = out[0]
    return out


def _class_tables(
    classes: Sequence[ClassInfo], visible: set[int], opacity: Mapping[int, float], bgr: bool
) -> dict[int, np.ndarray]:
    """Class id -> its 256 x 1 x 3 table (output channel order), for the classes drawn."""
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
    return luts


def _mean_colour(lut: np.ndarray) -> np.ndarray | None:
    """The colour c with lut[v] == (v + c + 1) // 2 for every value v and channel, if there is one."""
    values = np.arange(256, dtype=np.int32)
    colour = np.empty(3, np.uint8)
    for ch in range(3):
        first = 2 * int(lut[0, 0, ch])  # (0 + c + 1) // 2 == lut[0]: c is 2 lut[0] - 1 or 2 lut[0]
        fits = [
            c
            for c in (first - 1, first)
            if 0 <= c <= 255 and np.array_equal((values + c + 1) // 2, lut[:, 0, ch])
        ]
        if not fits:
            return None
        colour[ch] = fits[0]
    return colour
