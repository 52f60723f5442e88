"""Pixel formats to 8-bit RGB: any depth, grey or colour, with or without alpha (composited onto
white), and the EXIF orientation applied; strip by strip, so a 100 MP photo needs no whole-photo copies."""

from __future__ import annotations

import numpy as np
from PIL import Image


def pil_to_rgb8(img: Image.Image) -> np.ndarray:
    if img.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        return to_rgb8(np.asarray(img), bgr=False)
    if img.mode in ("RGBA", "LA", "PA", "La", "RGBa") or (img.mode == "P" and "transparency" in img.info):
        rgba = np.asarray(img.convert("RGBA"))
        return to_rgb8(rgba, bgr=False)
    rgb = img if img.mode == "RGB" else img.convert("RGB")
    return np.ascontiguousarray(np.asarray(rgb))


_WIDE_INTS = (np.int32, np.uint32, np.int64, np.uint64)


def to_uint8(arr: np.ndarray, float_scale: float = 1.0, int_shift: int = 8) -> np.ndarray:
    """uint8 of any pixel type; floats are multiplied by `float_scale`, 32/64-bit integers shifted right by
    `int_shift` (`_float_scale` and `_int_shift` of the whole photo)."""
    if arr.dtype == np.uint8:
        return arr
    if arr.dtype == np.uint16:
        return (arr >> 8).astype(np.uint8)
    if arr.dtype in _WIDE_INTS:  # Pillow's 16-bit grey as "I", or a true 32-bit photo
        return np.minimum(np.clip(arr, 0, None) >> int_shift, 255).astype(np.uint8)
    if arr.dtype.kind == "f":
        return np.clip(np.nan_to_num(arr) * float_scale, 0, 255).round().astype(np.uint8)
    if arr.dtype == np.int8 or arr.dtype == np.int16:
        return np.clip(arr, 0, None).astype(np.uint8)
    raise ValueError(f"unsupported pixel type {arr.dtype}")


def _float_scale(arr: np.ndarray) -> float:
    """Floats in [0, 1] are scaled to 255, others taken as 0-255 (decided once for the whole photo)."""
    if arr.dtype.kind != "f":
        return 1.0
    return 255.0 if float(np.nanmax(arr)) <= 1.0 else 1.0


def _int_shift(arr: np.ndarray) -> int:
    """32/64-bit integers up to 65535 are 16-bit values (Pillow reads 16-bit grey so); above, the photo's
    own highest bit becomes the 8th (clipping at 65535 turned a 32-bit photo white)."""
    if arr.dtype not in _WIDE_INTS or arr.size == 0:
        return 8
    top = int(arr.max())
    return 8 if top <= 65535 else top.bit_length() - 8


# Conversions go strip by strip into the one output array: whole-photo temporaries (a float32 copy per
# channel for alpha, a shifted 16-bit copy) took up to 40 bytes a pixel, gigabytes at 100 MP.
_CONVERT_PIXELS = 1 << 20


def to_rgb8(arr: np.ndarray, bgr: bool) -> np.ndarray:
    """Any depth, grey/grey+alpha/colour/colour+alpha -> uint8 RGB; alpha is composited onto white.
    8-bit colour is swapped in place (OpenCV's BGR): no second copy of the photo."""
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    channels = 1 if arr.ndim == 2 else arr.shape[2]
    if channels not in (1, 2, 3, 4):
        raise ValueError(f"unsupported channel count {channels}")
    if arr.dtype != np.uint8:
        to_uint8(arr[:1, :1])  # an unsupported pixel type is refused before anything is allocated
    rows = max(1, _CONVERT_PIXELS // max(1, arr.shape[1]))
    if channels == 3 and arr.dtype == np.uint8 and arr.flags.c_contiguous and arr.flags.writeable:
        if bgr:
            for r0 in range(0, arr.shape[0], rows):
                strip = arr[r0 : r0 + rows]
                strip[...] = strip[:, :, ::-1].copy()
        return arr
    scale, shift = _float_scale(arr), _int_shift(arr)
    out = np.empty((arr.shape[0], arr.shape[1], 3), dtype=np.uint8)
    for r0 in range(0, arr.shape[0], rows):
        out[r0 : r0 + rows] = _rgb8_strip(to_uint8(arr[r0 : r0 + rows], scale, shift), bgr)
    return out


def _rgb8_strip(arr: np.ndarray, bgr: bool) -> np.ndarray:
    if arr.ndim == 2:
        return arr[:, :, None]  # broadcast to the three channels by the caller's assignment
    channels = arr.shape[2]
    if channels == 2:  # grey + alpha
        return _over_white(arr[:, :, :1], arr[:, :, 1])
    if channels == 4:
        arr = _over_white(arr[:, :, :3], arr[:, :, 3])
    return arr[:, :, ::-1] if bgr else arr


def _over_white(colour: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    a = alpha.astype(np.float32)[:, :, None] / 255.0
    return (colour.astype(np.float32) * a + 255.0 * (1.0 - a)).round().astype(np.uint8)


def apply_orientation(rgb: np.ndarray, orientation: int) -> np.ndarray:
    ops = {
        2: lambda a: a[:, ::-1],
        3: lambda a: a[::-1, ::-1],
        4: lambda a: a[::-1],
        5: lambda a: a.swapaxes(0, 1),
        6: lambda a: a.swapaxes(0, 1)[:, ::-1],
        7: lambda a: a.swapaxes(0, 1)[::-1, ::-1],
        8: lambda a: a.swapaxes(0, 1)[::-1],
    }
    if orientation not in ops:
        return rgb
    return np.ascontiguousarray(ops[orientation](rgb))
