"""A photo decoded twice at once: a reduced view for the network first, the full photo behind it.

The network sees a photo at its input size (256 px), so a 12 MP JPEG need not be decoded in full before
the network can run: libjpeg decodes it at 1/2, 1/4 or 1/8 scale straight from the DCT coefficients
(`network_scale`) in a fraction of the time, while the full decode (for the overlay, the viewer and
the full-size labels' size) runs on a second thread (OpenCV releases the GIL). The reduced decode reads
every coefficient, so it is also the check that refuses a corrupt or cut-short body (as the 1/8 check of
`photos.read_image` does).

`start_decode` is THE way a photo file is read for analysis (the CLI, every batch engine, the window), so
every path gives the same figures. Photos under twice the network's size per side, and anything but a
colour or grey JPEG, get scale 1: their network view is the full decode itself, bit for bit as before.
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

import cv2
import numpy as np

from app.core.errors import ImageReadError
from app.core.photos import (
    _PIL_DECODE_ERRORS,
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_PIXELS,
    _corrupt,
    _decode_pil,
    _open_pil,
    decode_checked,
    open_checked,
    pillow_notes,
)
from app.core.pixel_formats import apply_orientation, pil_to_rgb8

SCALES = (8, 4, 2)  # libjpeg's DCT scalings used (1/8, 1/4, 1/2)
# The reduced view is at least this many times the network's input per side: the area shrink to the
# input size then averages blocks of 2+ of its pixels (and fine mode's 1.75x grid still shrinks).
MIN_VIEW_FACTOR = 2


def network_scale(width: int, height: int, input_size: tuple[int, int] | None) -> int:
    """The DCT scale denominator for a photo of `width` x `height` (as stored): the largest of
    `SCALES` that leaves the photo at least `MIN_VIEW_FACTOR` x the network's (H, W) per side; else 1.
    The input size is taken both ways round, so EXIF rotation cannot change the scale."""
    if input_size is None:
        return 1
    need = MIN_VIEW_FACTOR * max(input_size)
    for k in SCALES:
        if width // k >= need and height // k >= need:
            return k
    return 1


class PhotoDecode:
    """One photo being decoded: `size` at once (from the header), `network_view()` (the reduced decode,
    or the full photo at scale 1), then `full()`. Use as a context manager (or `close()`), so the full
    decode's thread is always joined."""

    def __init__(
        self,
        path: Path,
        max_pixels: int,
        max_bytes: int,
        input_size: tuple[int, int] | None,
        full_too: bool = True,
        sha256: bool = False,
    ) -> None:
        self.path = path
        self._max_pixels, self._max_bytes = max_pixels, max_bytes
        self._full: np.ndarray | None = None
        self._view: np.ndarray | None = None
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None
        self._threaded = False
        data, img, head = open_checked(path, max_pixels, max_bytes)
        # of the very bytes decoded (a second read could meet a file replaced meanwhile); "" unasked
        self.sha256 = hashlib.sha256(data).hexdigest() if sha256 else ""
        self._head = head
        self.more_pages = head.more_pages  # only the first page is decoded
        turned = head.orientation >= 5
        self.size = (head.height, head.width) if turned else (head.width, head.height)  # (w, h) shown
        reducible = head.format == "JPEG" and head.mode in ("RGB", "L")
        self.scale = network_scale(head.width, head.height, input_size) if reducible else 1
        # full() decodes these very bytes: a file replaced after this read never mixes into the result
        self._data, self._img = data, img
        if self.scale == 1:
            return  # read_image's decode, on demand: the view is the full photo
        if not full_too:
            return  # full() decodes on demand, as read_image does
        self._threaded = True
        self._thread = threading.Thread(target=self._decode_full, name="photo-full-decode", daemon=True)
        self._thread.start()

    @property
    def shape(self) -> tuple[int, int]:
        """(height, width) as shown, after EXIF rotation."""
        return self.size[1], self.size[0]

    def network_view(self) -> np.ndarray:
        """uint8 RGB, EXIF-rotated: the photo at 1/`scale` (the full photo at scale 1)."""
        if self.scale == 1:
            return self.full()
        if self._view is None:
            self._view = self._decode_view()
        return self._view

    def full(self) -> np.ndarray:
        """The whole photo, uint8 HxWx3 RGB, EXIF-rotated (as `photos.read_image` gives it)."""
        if self._threaded and self.scale > 1:
            # The body check comes first: a corrupt photo is refused, never shown, even when OpenCV's
            # full decode (which decodes a corrupt body silently) has already finished.
            self.network_view()
        if self._full is not None:
            return self._full
        if not self._threaded:  # read_image's decode, of the bytes read at the start
            img = self._img if self.scale == 1 else _open_pil(self._data, self.path)
            if img is None:
                raise ImageReadError(f"{self.path}: cannot decode this image")
            self._full = decode_checked(self._data, img, self._head, self.path)
            self._data = b""  # decoded: the bytes are not held any longer
            return self._full
        self.close()
        if self._error is not None:
            raise self._error
        assert self._full is not None
        return self._full

    def close(self) -> None:
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def __enter__(self) -> PhotoDecode:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _decode_view(self) -> np.ndarray:
        img, head, k = self._img, self._head, self.scale
        try:
            with pillow_notes(self.path):
                img.draft("RGB", (head.width // k, head.height // k))
                img.load()
                rgb = pil_to_rgb8(img)
        except _PIL_DECODE_ERRORS as exc:
            self.close()
            raise _corrupt(self.path, exc) from exc
        except MemoryError as exc:
            self.close()
            raise ImageReadError(f"{self.path}: not enough memory to decode it") from exc
        want = (-(-head.height // k), -(-head.width // k))
        if rgb.shape[:2] != want:  # not scaled as asked (a safeguard, never seen): the full photo
            self.scale = 1
            return self.full()
        return apply_orientation(rgb, head.orientation)

    def _decode_full(self) -> None:
        head = self._head
        try:
            arr = _decode_cv_rgb(self._data)
            if arr is None or arr.shape != (head.height, head.width, 3):
                fresh = _open_pil(self._data, self.path)
                if fresh is None:
                    raise ImageReadError(f"{self.path}: cannot decode this JPEG image")
                arr = _decode_pil(fresh, self.path, 1)
            self._full = apply_orientation(arr, head.orientation)
        except MemoryError:
            w, h = head.width, head.height
            self._error = ImageReadError(f"{self.path}: not enough memory to decode a {w}x{h} image")
        except BaseException as exc:  # raised by full(), in the caller's thread
            self._error = exc
        finally:
            self._data = b""  # the file's bytes are not needed any more


def _decode_cv_rgb(data: bytes) -> np.ndarray | None:
    rgb_flag = getattr(cv2, "IMREAD_COLOR_RGB", None)  # OpenCV >= 4.11
    flags = cv2.IMREAD_COLOR if rgb_flag is None else rgb_flag
    try:
        arr = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), flags | cv2.IMREAD_IGNORE_ORIENTATION)
    except cv2.error:
        return None
    if arr is not None and rgb_flag is None:
        cv2.cvtColor(arr, cv2.COLOR_BGR2RGB, dst=arr)
    return arr


def start_decode(
    path: str | os.PathLike[str],
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_bytes: int = DEFAULT_MAX_BYTES,
    input_size: tuple[int, int] | None = None,
    *,
    full_too: bool = True,
    sha256: bool = False,
) -> PhotoDecode:
    """Start decoding a photo for a network of `input_size` (H, W), the full photo on a second thread
    unless not `full_too` (then `full()` decodes it when asked); with `sha256`, the file's SHA-256 as read
    (`.sha256`). `ImageReadError` names the file and the reason (here for an unreadable header, later
    from `network_view()` / `full()` for its body)."""
    return PhotoDecode(Path(path), max_pixels, max_bytes, input_size, full_too, sha256)


__all__ = ["MIN_VIEW_FACTOR", "SCALES", "PhotoDecode", "network_scale", "start_decode"]
