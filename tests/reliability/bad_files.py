"""Every kind of photo file an inspector's folder can hold, good and bad, generated on the spot.

Each `InputCase` writes one file (or folder) and says what Corroscope must do with it: decode it to a
known picture (`expected`, compared within `tolerance` for lossy formats), or refuse it with an
`ImageReadError` whose message contains `reason`. Nothing binary is committed: the files are made by
Pillow, OpenCV, or by hand (the bombs and the corruptions) in the test's temporary folder.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

# A folder name with spaces and non-ASCII letters: every path in the suite goes through it.
FOLDER_NAME = "Inspection 2026 ünïcødé фото"


def picture(h: int = 40, w: int = 56) -> np.ndarray:
    """A smooth, asymmetric colour picture (flips and rotations show; JPEG keeps it close)."""
    yy, xx = np.mgrid[0:h, 0:w]
    r = xx * 255 // max(w - 1, 1)
    g = yy * 255 // max(h - 1, 1)
    b = (xx + 2 * yy) * 255 // max(w + 2 * h - 3, 1)
    return np.stack([r, g, b], axis=2).astype(np.uint8)


def _chunk(kind: bytes, data: bytes, crc: int | None = None) -> bytes:
    crc = zlib.crc32(kind + data) if crc is None else crc
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc & 0xFFFFFFFF)


def png_bomb(side: int, broken_text_crc: bool = False) -> bytes:
    """A valid 1-bit PNG of side x side pixels, a few hundred kB on disk. With `broken_text_crc`, a
    comment chunk before the pixels has a wrong checksum: Pillow will not open the header, while
    libpng (OpenCV) only warns and decodes every pixel."""
    row = bytes(1 + -(-side // 8))
    rows = zlib.compress(row * side, 1)
    ihdr = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    text = _chunk(b"tEXt", b"Comment\x00hello", crc=0) if broken_text_crc else b""
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + text + _chunk(b"IDAT", rows) + _chunk(b"IEND", b"")


def jpeg_header_bomb(width: int = 60000, height: int = 60000) -> bytes:
    """A 300-byte JPEG whose header claims width x height (3.6 gigapixels by default)."""
    buf = bytearray(_encode(".jpg", picture(16, 16)))
    sof = buf.index(b"\xff\xc0")
    buf[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(buf)


def _encode(ext: str, rgb: np.ndarray, params: tuple[int, ...] = ()) -> bytes:
    img = rgb if rgb.ndim == 2 else cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
    ok, buf = cv2.imencode(ext, img, list(params))
    assert ok, ext
    return buf.tobytes()


def _pil_bytes(img: Image.Image, fmt: str, **kwargs: object) -> bytes:
    import io

    out = io.BytesIO()
    img.save(out, format=fmt, **kwargs)
    return out.getvalue()


def _corrupt_middle(data: bytes, seed: int, count: int = 200) -> bytes:
    rng = np.random.default_rng(seed)
    buf = bytearray(data)
    mid = len(buf) // 2
    buf[mid : mid + count] = rng.integers(0, 256, count, dtype=np.uint8).tobytes()
    return bytes(buf)


def _over_white(rgb: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    a = alpha.astype(np.float32)[:, :, None] / 255.0
    return (rgb.astype(np.float32) * a + 255.0 * (1.0 - a)).round().astype(np.uint8)


@dataclass(frozen=True)
class InputCase:
    """One file: `make(path)` writes it; `expected` is the RGB it decodes to (None when it must be
    refused, with `reason` in the message)."""

    name: str
    make: Callable[[Path], None]
    expected: Callable[[], np.ndarray] | None = None
    tolerance: float = 0.0  # mean absolute difference allowed (lossy formats)
    reason: str = ""
    explicit_only: bool = False  # not picked up by a folder scan (a folder, a .txt): name it explicitly

    @property
    def valid(self) -> bool:
        return self.expected is not None


def _write(data: bytes | Callable[[], bytes]) -> Callable[[Path], None]:
    """Writes `data`, or what `data()` returns (made only when needed: the bombs take a moment)."""
    return lambda p: p.write_bytes(data() if callable(data) else data) and None


def _rgb_file(ext: str, params: tuple[int, ...] = ()) -> Callable[[Path], None]:
    return lambda p: p.write_bytes(_encode(ext, picture(), params)) and None


def _exif_rotated(path: Path) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways; displayed rotated 90 degrees clockwise
    Image.fromarray(picture()).save(path, format="JPEG", quality=95, exif=exif)


def _palette() -> Image.Image:
    return Image.fromarray(picture()).quantize(colors=32)


def _alpha() -> np.ndarray:
    return (picture()[:, :, 0] // 2 + 100).astype(np.uint8)


def _cmyk() -> Image.Image:
    return Image.fromarray(picture()).convert("CMYK")


VALID_CASES: tuple[InputCase, ...] = (
    InputCase("plain.png", _rgb_file(".png"), picture),
    InputCase("plain.jpg", _rgb_file(".jpg", (cv2.IMWRITE_JPEG_QUALITY, 95)), picture, tolerance=3),
    InputCase(
        "one_pixel.png",
        lambda p: p.write_bytes(_encode(".png", picture()[:1, :1])) and None,
        lambda: picture()[:1, :1],
    ),
    InputCase(
        "grey16.png",
        lambda p: p.write_bytes(_encode(".png", picture()[:, :, 0].astype(np.uint16) * 257)) and None,
        lambda: np.repeat(picture()[:, :, :1], 3, axis=2),
    ),
    InputCase(
        "colour16.tif",
        lambda p: p.write_bytes(_encode(".tif", picture().astype(np.uint16) * 257)) and None,
        picture,
    ),
    InputCase(
        "grey.jpg",
        lambda p: p.write_bytes(_encode(".jpg", picture()[:, :, 1], (cv2.IMWRITE_JPEG_QUALITY, 95))) and None,
        lambda: np.repeat(picture()[:, :, 1:2], 3, axis=2),
        tolerance=3,
    ),
    InputCase(
        "palette.png",
        lambda p: _palette().save(p, format="PNG"),
        lambda: np.asarray(_palette().convert("RGB")),
    ),
    InputCase(
        "alpha.png",
        lambda p: Image.fromarray(np.dstack([picture(), _alpha()])).save(p, format="PNG"),
        lambda: _over_white(picture(), _alpha()),
        tolerance=0.01,  # rounding of the compositing may differ by one level on a few pixels
    ),
    InputCase(
        "grey_alpha.png",
        lambda p: Image.fromarray(np.dstack([picture()[:, :, 0], _alpha()])).save(p, format="PNG"),
        lambda: np.repeat(_over_white(picture()[:, :, :1].repeat(3, axis=2), _alpha())[:, :, :1], 3, axis=2),
        tolerance=0.01,
    ),
    InputCase(
        "cmyk.jpg",
        lambda p: _cmyk().save(p, format="JPEG", quality=95),
        lambda: np.asarray(_cmyk().convert("RGB")),
        tolerance=4,
    ),
    InputCase(
        "cmyk.tiff", lambda p: _cmyk().save(p, format="TIFF"), lambda: np.asarray(_cmyk().convert("RGB"))
    ),
    InputCase(
        "exif_rotated.jpg",
        _exif_rotated,
        lambda: np.ascontiguousarray(np.rot90(picture(), k=-1)),
        tolerance=3,
    ),
    InputCase(
        "lossless.webp",
        lambda p: Image.fromarray(picture()).save(p, format="WEBP", lossless=True),
        picture,
    ),
    InputCase(
        "lossy.webp", lambda p: Image.fromarray(picture()).save(p, format="WEBP", quality=95), picture, 4
    ),
    InputCase("plain.bmp", _rgb_file(".bmp"), picture),
    InputCase("UPPER CASE.JPG", _rgb_file(".jpg", (cv2.IMWRITE_JPEG_QUALITY, 95)), picture, tolerance=3),
    InputCase("Mixed.TiF", _rgb_file(".tif"), picture),
    InputCase("Ünïcødé фото 写真.PNG", _rgb_file(".png"), picture),
    InputCase("   spaces   everywhere   .png", _rgb_file(".png"), picture),
    InputCase(
        "strip 6000x60.png",
        lambda p: p.write_bytes(_encode(".png", picture(60, 6000))) and None,
        lambda: picture(60, 6000),
    ),
    InputCase("png content named.jpg", _rgb_file(".png"), picture),  # wrong extension, valid content
)

_JPEG = _encode(".jpg", picture(120, 160), (cv2.IMWRITE_JPEG_QUALITY, 95))
_PNG = _encode(".png", picture(120, 160))

INVALID_CASES: tuple[InputCase, ...] = (
    InputCase("empty.jpg", _write(b""), reason="file is empty (0 bytes)"),
    InputCase("truncated.jpg", _write(_JPEG[: len(_JPEG) // 2]), reason="truncated"),
    InputCase("truncated.png", _write(_PNG[: len(_PNG) // 2]), reason="truncated"),
    InputCase("random bytes.jpg", _write(np.random.default_rng(7).bytes(4096)), reason="not an image"),
    InputCase("random bytes.png", _write(np.random.default_rng(8).bytes(4096)), reason="not an image"),
    InputCase(
        "text named.png", _write(b"Inspection notes: pipe 4, north side\n" * 20), reason="not an image"
    ),
    InputCase("corrupt body.jpg", _write(_corrupt_middle(_JPEG, seed=3)), reason="corrupt"),
    InputCase("corrupt body.png", _write(_corrupt_middle(_PNG, seed=3)), reason="corrupt"),
    InputCase("bomb 400 MP.png", _write(lambda: png_bomb(20000)), reason="too large"),
    InputCase("bomb 169 MP.png", _write(lambda: png_bomb(13000)), reason="over the limit of 150 MP"),
    InputCase(
        "bomb bad checksum.png", _write(lambda: png_bomb(13000, broken_text_crc=True)), reason="not an image"
    ),
    InputCase("bomb header 3.6 GP.jpg", _write(jpeg_header_bomb()), reason="too large"),
    InputCase("folder named.jpg", lambda p: p.mkdir(), reason="is a folder", explicit_only=True),
    InputCase("notes.txt", _write(b"not a photo"), reason="not an image", explicit_only=True),
)

ALL_CASES = VALID_CASES + INVALID_CASES


def make_all(folder: Path, cases: tuple[InputCase, ...] = ALL_CASES) -> dict[str, Path]:
    """Write every case into `folder` (created); returns name -> path."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for case in cases:
        path = folder / case.name
        case.make(path)
        paths[case.name] = path
    return paths
