"""Reading photos robustly: any format, depth, channels and EXIF rotation, with a pixel budget."""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import io
import logging
import os
import re
import stat
import threading
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from app.core.errors import ImageReadError
from app.core.photo_notes import NOTED, first_page_note, more_pages, pillow_notes
from app.core.pixel_formats import apply_orientation, pil_to_rgb8, to_rgb8
from app.core.text import safe_path

log = logging.getLogger(__name__)

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".jfif", ".png", ".bmp", ".tif", ".tiff", ".webp")
# Decoded pixels allowed in one photo (a 50 MP camera photo is well inside); beyond it, refuse.
# OpenCV's own warnings ("[ WARN:0] ... PNG input buffer is incomplete") would reach stderr beside the
# tool's message for the same photo ("corrupt or truncated image"): only its errors are let through.
cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
DEFAULT_MAX_PIXELS = 150_000_000
# Bytes read from one photo file: the largest uncompressed file the pixel budget allows (150 MP, RGB,
# 16 bits a channel: 900 MB) fits; a file padded to gigabytes, or one that grows without end, does not.
DEFAULT_MAX_BYTES = 1 << 30
# Non-blocking: opening a FIFO with no writer returns at once (and is then refused), never waits.
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NONBLOCK", 0)
_OPEN_FLAGS |= getattr(os, "O_NOCTTY", 0)
_CHUNK = 1 << 20
_EXIF_ORIENTATION = 0x0112
# Modes OpenCV decodes wrongly or not at all; Pillow converts these.
_PIL_MODES = {"CMYK", "YCbCr", "LAB", "HSV", "P", "PA", "1"}
_PIL_FORMATS = {"JPEG", "MPO"}  # Pillow reports truncation; OpenCV alone decodes grey rows silently


@dataclass(frozen=True)
class _Header:
    format: str | None
    width: int
    height: int
    mode: str
    orientation: int
    more_pages: bool = False  # a multi-page TIFF or an animation: only the first page is read


def find_images(
    paths: Iterable[str | os.PathLike[str]], recursive: bool = False, skip: Iterable[Path] = ()
) -> list[Path]:
    """Files as given (whatever their extension) and the photos inside folders, sorted, no duplicates;
    `recursive`, `skip`: see `folder_entries`.

    A duplicate is the same path named twice (`a.png` and `./a.png`, a photo and its folder), compared
    as absolute, normalised paths; two names that lead to one file (symbolic or hard links) are two
    photos, each analysed and each with its own outputs: dropping one by its link's target made a
    folder of 3,000 links "1 photo" and left photos named on the command line unmentioned.

    Inside a folder, every entry named like a photo that is not a folder is listed, including a dangling
    symbolic link, a FIFO or a device: reading it then fails with the reason, so none is skipped silently."""
    out: list[Path] = []
    seen: set[str] = set()
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(p for p in folder_entries(path, recursive, skip) if named_like_photo(p))
        else:
            found = [path]
        for p in found:
            key = os.path.normcase(os.path.abspath(p))
            if key not in seen:
                seen.add(key)
                out.append(p)
    return out


def named_like_photo(path: Path) -> bool:
    """Whether a folder scan takes an entry of this name as a photo: a photo's extension, not hidden."""
    return path.suffix.lower() in IMAGE_EXTENSIONS and not path.name.startswith(".")


def folder_entries(folder: Path, recursive: bool = False, skip: Iterable[Path] = ()) -> Iterator[Path]:
    """Every entry of `folder` that is not a folder (files, links, FIFOs, ...); with `recursive`, of its
    subfolders too. Linked subfolders are followed (users link site folders in), each real folder read
    once, so a link loop ends; never a link into one of `skip` (the output folder)."""
    if not recursive:
        yield from (p for p in folder.glob("*") if not p.is_dir())
        return
    seen: set[tuple[int, int]] = set()
    skip_real = [os.path.realpath(s) for s in skip]
    for where, folders, names in os.walk(folder, followlinks=True):
        try:
            st = os.stat(where)
        except OSError:
            folders[:] = []
            continue
        if (st.st_dev, st.st_ino) in seen:  # reached again through a link: read already
            folders[:] = []
            continue
        seen.add((st.st_dev, st.st_ino))
        folders[:] = [f for f in folders if not _into(os.path.join(where, f), skip_real)]
        yield from (Path(where, n) for n in names)


def _into(folder: str, skip_real: list[str]) -> bool:
    """Whether `folder` is a link to one of `skip_real` or a folder inside one."""
    if not skip_real or not os.path.islink(folder):
        return False
    real = os.path.realpath(folder)
    return any(real == s or real.startswith(s.rstrip(os.sep) + os.sep) for s in skip_real)


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "is a folder, not a photo"
    if stat.S_ISFIFO(mode):
        return "is a named pipe (FIFO), not a photo file"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "is a device, not a photo file"
    if stat.S_ISSOCK(mode):
        return "is a socket, not a photo file"
    return "is not a regular file"


def read_file_bytes(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """The bytes of a regular file of at most `max_bytes` (see `_read_bytes`); `ImageReadError` why not."""
    return _read_bytes(path, max_bytes)


def _read_bytes(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """The bytes of a regular file, at most `max_bytes`: anything else is refused before it is read
    (opened non-blocking, so a FIFO swapped in for a photo cannot hang the batch; checked on the opened
    file, so a swap between the check and the read changes nothing)."""
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except OSError as exc:
        raise ImageReadError(f"{path}: {_open_error(path, exc)}") from exc
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ImageReadError(f"{path}: {_kind(info.st_mode)}")
        if info.st_size > max_bytes:
            raise ImageReadError(f"{path}: {_too_big(info.st_size, max_bytes)}")
        chunks, total = [], 0
        while total <= max_bytes:  # the size may change while we read: the budget is on what is read
            chunk = os.read(fd, min(_CHUNK, max_bytes + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
    except OSError as exc:
        raise ImageReadError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    finally:
        os.close(fd)
    if total > max_bytes:
        raise ImageReadError(f"{path}: {_too_big(total, max_bytes)}")
    if not total:
        raise ImageReadError(f"{path}: file is empty (0 bytes)")
    return b"".join(chunks)


def _too_big(size: int, max_bytes: int) -> str:
    limit, got = max_bytes / 2**20, size / 2**20
    return f"file is over the limit of {limit:.0f} MiB for one photo ({got:.0f} MiB or more)"


def _open_error(path: Path, exc: OSError) -> str:
    if os.path.islink(path) and not os.path.exists(path):
        try:
            where = os.readlink(path)
        except OSError:
            where = "?"
        if exc.errno == errno.ELOOP:
            return "symbolic link loop"
        return f"dangling symbolic link (to {where}, which does not exist)"
    if isinstance(exc, FileNotFoundError):
        return "file not found"
    if isinstance(exc, IsADirectoryError) or path.is_dir():
        return "is a folder, not a photo"
    return f"cannot open ({exc.strerror or exc})"


def _open_pil(data: bytes, path: Path) -> Image.Image | None:
    with pillow_notes(path):
        try:
            return Image.open(io.BytesIO(data))
        except Image.DecompressionBombError as exc:  # over Pillow's own limit, far over ours
            found = re.search(r"\((\d+) pixels\)", str(exc))
            size = f" ({int(found.group(1)) / 1e6:.0f} MP)" if found else ""
            raise ImageReadError(
                f"{path}: image is too large{size}, over the limit of {DEFAULT_MAX_PIXELS / 1e6:.0f} MP"
            ) from exc
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
            return None


def _turned_on_load(img: Image.Image) -> bool:
    """Whether Pillow applied the orientation itself while decoding (the TIFF reader of Pillow 13 does, and
    removes the tag then); OpenCV's TIFF reader turns it even when told not to, so TIFFs go through Pillow."""
    tags = getattr(img, "tag_v2", None)
    return img.format == "TIFF" and tags is not None and _EXIF_ORIENTATION not in tags


def _header(img: Image.Image) -> _Header:
    """Format, size as stored (before the orientation), mode and the orientation to apply."""
    if img.format == "TIFF" and _EXIF_ORIENTATION in getattr(img, "tag_v2", {}):
        # Pillow may report a turned TIFF's size as shown already; the stored size is the header's
        stored = img.tag_v2.get(256), img.tag_v2.get(257)
        if all(isinstance(v, int) and v > 0 for v in stored):
            turn = img.tag_v2[_EXIF_ORIENTATION]
            turn = turn if isinstance(turn, int) and turn in range(1, 9) else 1
            return _Header(img.format, stored[0], stored[1], img.mode, turn)
    orientation = 1
    # Pillow's PNG getexif() decodes the whole image to look for an eXIf chunk after the pixels; only
    # one before them (the usual place) is read here, so probing never decodes.
    if img.format != "PNG" or "exif" in img.info:
        with contextlib.suppress(Exception), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a broken EXIF block must not make the photo unreadable
            orientation = int(img.getexif().get(_EXIF_ORIENTATION, 1))
    if orientation not in range(1, 9):
        orientation = 1
    return _Header(img.format, img.width, img.height, img.mode, orientation)


def probe_image(path: str | os.PathLike[str]) -> tuple[int, int]:
    """(width, height) as displayed (after EXIF rotation), from the header only."""
    path = Path(path)
    img = _open_pil(_read_bytes(path), path)
    if img is None:
        raise ImageReadError(f"{path}: not an image format Corroscope reads ({', '.join(IMAGE_EXTENSIONS)})")
    head = _header(img)
    return (head.height, head.width) if head.orientation >= 5 else (head.width, head.height)


def read_image(
    path: str | os.PathLike[str], max_pixels: int = DEFAULT_MAX_PIXELS, max_bytes: int = DEFAULT_MAX_BYTES
) -> np.ndarray:
    """Decode a photo to uint8 HxWx3 RGB, EXIF-rotated; `ImageReadError` names the file and the reason.
    Only a regular file of at most `max_bytes` is read."""
    return _read(Path(path), max_pixels, max_bytes)


def open_checked(path: Path, max_pixels: int, max_bytes: int) -> tuple[bytes, Image.Image, _Header]:
    """(bytes, Pillow image, header) of a photo whose header Pillow reads and whose pixel count is within
    `max_pixels`; `ImageReadError` naming the file otherwise. Nothing is decoded yet."""
    data = _read_bytes(path, max_bytes)
    img = _open_pil(data, path)
    if img is None:
        # No header means no size to check before decoding: OpenCV would decode a PNG bomb whose
        # header Pillow refuses (e.g. a bad checksum before the pixels) in full. Refuse it instead.
        raise ImageReadError(
            f"{path}: not an image Corroscope can read (corrupt, or not JPEG/PNG/BMP/TIFF/WebP)"
        )
    head = _header(img)
    _check_pixels(path, head.width, head.height, max_pixels)
    if more_pages(img):
        head = dataclasses.replace(head, more_pages=True)
        if f"pages:{path}" not in NOTED:  # said once per photo in the log; the window shows it too
            NOTED.add(f"pages:{path}")
            log.warning("%s", first_page_note(safe_path(path)))
    return data, img, head


def _read(path: Path, max_pixels: int, max_bytes: int) -> np.ndarray:
    data, img, head = open_checked(path, max_pixels, max_bytes)
    return decode_checked(data, img, head, path)


_PNG_END = b"IEND\xaeB`\x82"  # the last chunk of every whole PNG, with its CRC


def _cut_short_png(head: _Header, data: bytes) -> bool:
    """A PNG without its end chunk (a copy cut short): Pillow refuses it in words, where libpng, under
    OpenCV, would print its own error line on the console between the progress lines first."""
    return head.format == "PNG" and _PNG_END not in data[-4096:]


def decode_checked(data: bytes, img: Image.Image, head: _Header, path: Path) -> np.ndarray:
    """The photo `open_checked` gave, decoded from its bytes (never read again): uint8 HxWx3 RGB,
    EXIF-rotated; `ImageReadError` naming `path` and the reason."""
    try:
        fast = _decode_jpeg_checked(data, img, head, path) if head.format == "JPEG" else None
        if fast is not None:
            rgb = fast
        elif head.format in _PIL_FORMATS or head.mode in _PIL_MODES or head.format == "TIFF":
            rgb = _decode_pil(img, path, 1)
            if _turned_on_load(img):
                return rgb
        else:
            arr = None if _cut_short_png(head, data) else _decode_cv(data)
            rgb = to_rgb8(arr, bgr=True) if arr is not None else _decode_pil(img, path, 1)
    except MemoryError as exc:
        raise ImageReadError(
            f"{path}: not enough memory to decode a {head.width}x{head.height} image"
        ) from exc
    except (ValueError, cv2.error) as exc:  # e.g. an unusual channel count or pixel type
        raise ImageReadError(f"{path}: cannot decode this {head.format} image ({exc})") from exc
    return apply_orientation(rgb, head.orientation)


def _check_pixels(path: Path, width: int, height: int, max_pixels: int) -> None:
    if width * height > max_pixels:
        raise ImageReadError(
            f"{path}: image is {width}x{height} ({width * height / 1e6:.0f} MP), over the limit of "
            f"{max_pixels / 1e6:.0f} MP"
        )


def _decode_cv(data: bytes) -> np.ndarray | None:
    buf = np.frombuffer(data, dtype=np.uint8)
    try:
        arr = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED | cv2.IMREAD_IGNORE_ORIENTATION)
    except cv2.error:
        return None
    return arr if arr is not None and arr.size else None


_PIL_DECODE_ERRORS = (OSError, SyntaxError, ValueError, Image.DecompressionBombError)


def _corrupt(path: Path, exc: BaseException) -> ImageReadError:
    # the decoder's own words, without its parentheses inside ours ("truncated (6 bytes not processed)")
    detail = re.sub(r"\s*\(([^()]*)\)\s*$", r": \1", str(exc) or type(exc).__name__)
    return ImageReadError(f"{path}: corrupt or truncated image ({detail})")


def _decode_pil(img: Image.Image, path: Path, factor: int) -> np.ndarray:
    try:
        if factor > 1:
            img.draft("RGB", (-(-img.width // factor), -(-img.height // factor)))
        img.load()
        return pil_to_rgb8(img)
    except _PIL_DECODE_ERRORS as exc:
        raise _corrupt(path, exc) from exc


def _decode_jpeg_checked(data: bytes, img: Image.Image, head: _Header, path: Path) -> np.ndarray | None:
    """An RGB or grey JPEG decoded by OpenCV straight into RGB while Pillow checks its body; None: use Pillow.

    OpenCV decodes a corrupt or cut-short body silently (grey blocks), so Pillow decodes `img` at 1/8 scale
    in a second thread: that still reads every coefficient and refuses what a full decode refuses.
    Both use libjpeg-turbo, so the pixels equal Pillow's; it takes about half the time of Pillow's decode
    plus its copy out to numpy (docs/performance.md)."""
    rgb_flag = getattr(cv2, "IMREAD_COLOR_RGB", None)  # OpenCV >= 4.11
    if rgb_flag is None or head.mode not in ("RGB", "L"):
        return None
    problems: list[BaseException] = []
    checker = threading.Thread(target=_check_jpeg_body, args=(img, problems), name="jpeg-check")
    checker.start()
    try:
        arr = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), rgb_flag | cv2.IMREAD_IGNORE_ORIENTATION)
    except cv2.error:
        arr = None
    finally:
        checker.join()
    if problems:
        if isinstance(problems[0], _PIL_DECODE_ERRORS):
            raise _corrupt(path, problems[0]) from problems[0]
        raise problems[0]
    if arr is None or arr.shape != (head.height, head.width, 3):
        fresh = _open_pil(data, path)  # `img` now holds the 1/8 decode
        if fresh is None:
            raise ImageReadError(f"{path}: cannot decode this JPEG image")
        return _decode_pil(fresh, path, 1)
    return arr


def _check_jpeg_body(img: Image.Image, problems: list[BaseException]) -> None:
    try:
        img.draft(None, (-(-img.width // 8), -(-img.height // 8)))
        img.load()
    except BaseException as exc:  # handed to the decoding thread, which raises it
        problems.append(exc)


def header_pixels(path: str | os.PathLike[str]) -> int | None:
    """Width x height from the photo's header alone (Pillow reads only what it needs of the file), for
    planning memory before decoding; None when the file is not a regular file or its header cannot be
    read (reading it then fails with the reason)."""
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except OSError:
        return None
    try:
        regular = stat.S_ISREG(os.fstat(fd).st_mode)
    except OSError:
        regular = False
    if not regular:
        os.close(fd)
        return None
    with os.fdopen(fd, "rb") as fh:
        try:
            with pillow_notes(Path(path)), Image.open(fh) as img:
                return int(img.width) * int(img.height)
        except Exception:  # any unreadable header: the photo fails later, with its reason
            return None
