"""numpy <-> QImage conversions (safe to call from worker threads: QImage, never QPixmap).

The pixels of a large image are converted by OpenCV or numpy into the QImage's own buffer: they let go
of Python's lock while they work, where a Qt conversion through PySide holds it throughout (about 28 ms
for 12 MP), and every Python slot of the UI thread waits that long.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
from PySide6.QtGui import QImage


def image_over(pixels: np.ndarray, fmt: QImage.Format) -> QImage:
    """A 32-bit QImage over a C-contiguous uint8 HxWx4 array's memory, which it keeps alive (as
    `labels_view` does): OpenCV's own output needs no second pass (a fresh 48 MB QImage buffer filled
    by OpenCV's threads cost 60 ms of page faults, three times Qt's own conversion)."""
    if pixels.dtype != np.uint8 or pixels.ndim != 3 or pixels.shape[2] != 4 or not pixels.flags.c_contiguous:
        raise ValueError(f"expected C-contiguous uint8 HxWx4 pixels, got {pixels.dtype} {pixels.shape}")
    h, w = pixels.shape[:2]
    image = QImage(pixels.data, w, h, 4 * w, fmt)
    image._pixels = pixels  # the buffer must outlive the image
    return image


def rgb_to_qimage(rgb: np.ndarray) -> QImage:
    """uint8 HxWx3 RGB -> QImage RGB32 (a copy; the format QPixmap uses, so showing it is cheap)."""
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"expected uint8 HxWx3 RGB, got {rgb.dtype} {rgb.shape}")
    # RGB32 is 0xffRRGGBB per pixel, in memory (little-endian) B, G, R, 255: OpenCV's BGRA
    bgra = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2BGRA)
    return image_over(bgra, QImage.Format.Format_RGB32)


def _premultiplied(argb: int) -> int:
    """Qt's qPremultiply of one 0xAARRGGBB colour (its rounding, so results match Qt's conversion)."""
    a = argb >> 24
    t = (argb & 0xFF00FF) * a
    t = ((t + ((t >> 8) & 0xFF00FF) + 0x800080) >> 8) & 0xFF00FF
    x = ((argb >> 8) & 0xFF) * a
    x = (x + ((x >> 8) & 0xFF) + 0x80) & 0xFF00
    return (a << 24) | t | x


def colour_by_table(values: np.ndarray, table: Sequence[int]) -> QImage:
    """uint8 HxW through a colour table (QRgb, as `QImage.setColorTable` takes) -> an ARGB32
    premultiplied QImage of its own: what Qt's conversion of the Indexed8 image gives, made by numpy."""
    if values.dtype != np.uint8 or values.ndim != 2:
        raise ValueError(f"expected uint8 HxW values, got {values.dtype} {values.shape}")
    lut = np.zeros(256, np.uint32)  # values past the table show as Qt shows them: transparent
    lut[: len(table)] = [_premultiplied(int(c) & 0xFFFFFFFF) for c in table[:256]]
    lut4 = lut.view(np.uint8).reshape(256, 1, 4)  # each colour's bytes as they lie in the image
    return image_over(cv2.LUT(cv2.merge([values] * 4), lut4), QImage.Format.Format_ARGB32_Premultiplied)


def labels_view(labels: np.ndarray) -> QImage:
    """uint8 HxW class ids -> an Indexed8 QImage over the same memory (no copy): an edit of the array
    shows in the image. The image keeps the array alive."""
    if labels.dtype != np.uint8 or labels.ndim != 2 or not labels.flags.c_contiguous:
        raise ValueError(f"expected C-contiguous uint8 HxW labels, got {labels.dtype} {labels.shape}")
    h, w = labels.shape
    image = QImage(labels.data, w, h, w, QImage.Format.Format_Indexed8)
    image.setColorTable([0] * 256)
    image._array = labels  # the buffer must outlive the image
    return image


def qimage_to_rgb(image: QImage) -> np.ndarray:
    """Any QImage -> uint8 HxWx3 RGB (a copy)."""
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    h, w = image.height(), image.width()
    buf = np.frombuffer(image.constBits(), dtype=np.uint8, count=image.sizeInBytes())
    return buf.reshape(h, image.bytesPerLine())[:, : 3 * w].reshape(h, w, 3).copy()
