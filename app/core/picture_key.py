"""What makes two photo files the same picture for site adaptation: the same decoded pixels, or nearly the
same small grey thumbnail (the picture re-encoded as JPEG, re-saved, slightly resized). File bytes are
no test: one picture saved with another PNG compression level has other bytes and the same pixels."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass

import cv2
import numpy as np

from app.core.errors import ImageReadError
from app.core.photos import read_image

THUMB = 16  # thumbnail side, pixels: coarse enough that re-encoding and resizing barely move it
# Mean absolute grey difference (0..255) of two thumbnails under which they are one picture. Measured
# (docs/user-guide.md, "Adapt the model to a site"): each of the 194 photos of the pipe-corrosion data set
# re-encoded as JPEG (quality 30 to 95) or resized (x0.5 to x1.25, also as JPEG) stays within 0.7 of
# itself; distinct photos are 25 or more apart; the one pair closer (3.2: ORI_082, ORI_213) is one stock
# picture, with and without a watermark, rightly taken as one. Photos of one site look far more alike
# than web photos: two of the tests' tiny pipe scenes are 6.6 apart, so the cut stays well under that.
NEAR = 4.0
# Width / height ratios further apart than this are other pictures (a crop, another frame).
ASPECT_TOLERANCE = 0.03
_HEX = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class PictureKey:
    """A photo's decoded pixels (SHA-256 of size and RGB bytes), its THUMB x THUMB grey thumbnail and
    its width / height; `pixels` is empty and `thumbnail` too where the file could not be decoded."""

    pixels: str
    thumbnail: bytes
    aspect: float

    def same_picture(self, other: PictureKey) -> bool:
        """The same pixels, or thumbnails within `NEAR` of one another at nearly the same aspect."""
        if not self.pixels or not other.pixels:
            return False
        if self.pixels == other.pixels:
            return True
        if abs(self.aspect - other.aspect) > ASPECT_TOLERANCE * max(self.aspect, other.aspect):
            return False
        return thumb_distance(self, other) < NEAR

    def to_json(self) -> dict[str, object]:
        return {
            "pixels_sha256": self.pixels,
            "thumbnail": self.thumbnail.hex(),
            "aspect": round(self.aspect, 4),
        }

    @classmethod
    def from_json(cls, raw: object) -> PictureKey | None:
        """`to_json`'s dict; None for anything malformed (a model's record is untrusted text)."""
        if not isinstance(raw, dict):
            return None
        pixels, thumb, aspect = raw.get("pixels_sha256"), raw.get("thumbnail"), raw.get("aspect")
        if not isinstance(pixels, str) or not _HEX.fullmatch(pixels) or not isinstance(thumb, str):
            return None
        if isinstance(aspect, bool) or not isinstance(aspect, (int, float)) or not 0 < aspect < 1e6:
            return None
        try:
            data = bytes.fromhex(thumb)
        except ValueError:
            return None
        return cls(pixels, data, float(aspect)) if len(data) == THUMB * THUMB else None


def thumb_distance(a: PictureKey, b: PictureKey) -> float:
    """Mean absolute difference of the two grey thumbnails, 0..255."""
    ta = np.frombuffer(a.thumbnail, np.uint8).astype(np.float32)
    tb = np.frombuffer(b.thumbnail, np.uint8).astype(np.float32)
    return float(np.abs(ta - tb).mean())


def picture_key(path: str | os.PathLike[str]) -> PictureKey:
    """The key of the photo at `path` as analysis decodes it (EXIF-rotated RGB); an undecodable file gets
    an empty key, never the same as another (adaptation's own decode then says why it cannot be read)."""
    try:
        rgb = read_image(path)
    except (ImageReadError, OSError, ValueError):
        return PictureKey("", b"", 0.0)
    height, width = rgb.shape[:2]
    digest = hashlib.sha256(f"{width}x{height}:".encode())
    digest.update(np.ascontiguousarray(rgb).tobytes())
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    thumb = cv2.resize(grey, (THUMB, THUMB), interpolation=cv2.INTER_AREA)
    return PictureKey(digest.hexdigest(), thumb.astype(np.uint8).tobytes(), width / height)


def seen_before(key: PictureKey, earlier: Iterable[PictureKey]) -> bool:
    """Whether `key` is the same picture as any of `earlier`."""
    return any(key.same_picture(e) for e in earlier)
