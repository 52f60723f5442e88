"""Small photos with their label maps, kept per batch row for the batch report (numpy + OpenCV, no Qt).

Stored encoded (JPEG photo, PNG labels: a few kB each) so a 1,000-photo batch holds a few MB."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from app.core.overlay_style import OverlayStyle
from app.core.palette import ClassInfo

log = logging.getLogger(__name__)
THUMBNAIL_SIDE = 320  # px, the long side: sharp at the report's ~45 mm thumbnails (150 dpi)


@dataclass(frozen=True, eq=False)
class Thumbnail:
    """A photo shrunk to at most `THUMBNAIL_SIDE` and its class ids at the same size, encoded."""

    jpeg: bytes
    labels_png: bytes

    def rgb(self) -> np.ndarray:
        bgr = cv2.imdecode(np.frombuffer(self.jpeg, np.uint8), cv2.IMREAD_COLOR)
        return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)

    def labels(self) -> np.ndarray:
        return cv2.imdecode(np.frombuffer(self.labels_png, np.uint8), cv2.IMREAD_UNCHANGED)

    def overlay(self, classes: Sequence[ClassInfo], style: OverlayStyle) -> np.ndarray:
        """The thumbnail with its overlay in `style` (as the overlay on screen)."""
        return style.blend(self.rgb(), self.labels(), classes)


def make_thumbnail(rgb: np.ndarray, labels: np.ndarray, side: int = THUMBNAIL_SIDE) -> Thumbnail:
    """Shrink a photo (area averaging) and its label map (nearest: class ids are not blended)."""
    if rgb.shape[:2] != labels.shape[:2]:
        raise ValueError(f"photo {rgb.shape[:2]} and labels {labels.shape[:2]} differ in size")
    h, w = labels.shape[:2]
    scale = min(1.0, side / max(h, w))
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    small = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA) if scale < 1 else rgb
    small_labels = cv2.resize(labels, size, interpolation=cv2.INTER_NEAREST) if scale < 1 else labels
    ok1, jpeg = cv2.imencode(".jpg", cv2.cvtColor(small, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 85])
    ok2, png = cv2.imencode(".png", np.ascontiguousarray(small_labels, dtype=np.uint8))
    if not (ok1 and ok2):
        raise ValueError("could not encode the thumbnail")
    return Thumbnail(jpeg.tobytes(), png.tobytes())


def relabelled(thumbnail: Thumbnail, labels: np.ndarray) -> Thumbnail:
    """The same small photo with another full-size label map of it (an edit): only the labels are
    shrunk, nearest as in `make_thumbnail`, so the full-size photo is not needed again."""
    small = thumbnail.labels()
    h, w = small.shape[:2]
    if (h, w) == labels.shape[:2]:
        small_labels = labels
    else:
        small_labels = cv2.resize(labels, (w, h), interpolation=cv2.INTER_NEAREST)
    ok, png = cv2.imencode(".png", np.ascontiguousarray(small_labels, dtype=np.uint8))
    if not ok:
        raise ValueError("could not encode the thumbnail")
    return Thumbnail(thumbnail.jpeg, png.tobytes())


def thumbnail_or_none(rgb: np.ndarray, labels: np.ndarray) -> Thumbnail | None:
    """A thumbnail, or None (logged) when it cannot be made: a report without it beats a failed row."""
    try:
        return make_thumbnail(rgb, labels)
    except (MemoryError, ValueError, cv2.error):
        log.warning("no thumbnail for a photo of %s", rgb.shape, exc_info=True)
        return None
