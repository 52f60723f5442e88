"""numpy <-> QImage conversions (safe to call from worker threads: QImage, never QPixmap)."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage


def rgb_to_qimage(rgb: np.ndarray) -> QImage:
    """uint8 HxWx3 RGB -> QImage RGB32 (a copy; the format QPixmap uses, so showing it is cheap)."""
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"expected uint8 HxWx3 RGB, got {rgb.dtype} {rgb.shape}")
    rgb = np.ascontiguousarray(rgb)
    h, w = rgb.shape[:2]
    image = QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888)
    return image.convertToFormat(QImage.Format.Format_RGB32)  # converts into a new buffer


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
