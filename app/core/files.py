"""Writing files safely: never over a file without being asked; atomically (the old file or the new)."""

from __future__ import annotations

import contextlib
import contextvars
import functools
import hashlib
import os
import stat
import struct
import tempfile
import threading
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import cv2
import numpy as np

from app.core.errors import ExportError, OutputExistsError

# zlib level 1 with the "up" filter: on photos (the overlay) 3x faster than level 3 with adaptive
# filters and no larger; masks are flat and small either way (docs/performance.md).
_PNG_PARAMS = [cv2.IMWRITE_PNG_COMPRESSION, 1]
if hasattr(cv2, "IMWRITE_PNG_FILTER"):  # OpenCV >= 4.10
    _PNG_PARAMS += [cv2.IMWRITE_PNG_FILTER, cv2.IMWRITE_PNG_FILTER_UP]


_UMASK_LOCK = threading.Lock()
# The tag of the batch run writing now (see `temp_tag`); empty outside a batch.
_TEMP_TAG: contextvars.ContextVar[str] = contextvars.ContextVar("corroscope_temp_tag", default="")
TEMP_SUFFIX = ".part"
# Inside `staged()`: each target written so far -> (its temp file, whether it may replace a file).
_STAGED: contextvars.ContextVar[dict[Path, tuple[str, bool]] | None] = contextvars.ContextVar(
    "corroscope_staged", default=None
)


@contextlib.contextmanager
def temp_tag(tag: str) -> Iterator[None]:
    """Temp files made inside are named `.<name>.<tag>.<random>.part`: a batch tags them with its run's
    unguessable token, so a later run removes only the temp files that run made (`app.core.outlock`)."""
    reset = _TEMP_TAG.set(tag)
    try:
        yield
    finally:
        _TEMP_TAG.reset(reset)


@contextlib.contextmanager
def staged() -> Iterator[None]:
    """Atomic writes inside wait as temp files and land together when the block ends without an error,
    so a set of files (a photo's outputs) is replaced whole or not at all: a full disk part-way leaves
    every earlier file as it was. On an error the temp files go."""
    pending: dict[Path, tuple[str, bool]] = {}
    reset = _STAGED.set(pending)
    try:
        yield
        _STAGED.reset(reset)
        reset = None
        for path, (_tmp, overwrite) in pending.items():
            if not overwrite and os.path.lexists(path):  # appeared meanwhile: still not ours to replace
                raise OutputExistsError(f"{path} already exists ({_HOW.get()})")
        for path, (tmp, _overwrite) in list(pending.items()):
            try:
                os.replace(tmp, path)
            except OSError as exc:
                raise ExportError(f"Cannot write {path}: {exc.strerror or exc}") from exc
            del pending[path]
    finally:
        if reset is not None:
            _STAGED.reset(reset)
        for tmp, _overwrite in pending.values():
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def staged_file(path: str | os.PathLike[str]) -> Path:
    """Where what was written to `path` inside `staged()` waits until it lands (else `path` itself)."""
    pending = _STAGED.get()
    entry = None if pending is None else pending.get(Path(path))
    return Path(entry[0]) if entry is not None else Path(path)


def probe_writable(folder: Path, name: str = "probe") -> None:
    """`OSError` when a file cannot be made in `folder`, found by making and removing a temp file there:
    permissions, read-only file systems and root's rights all show, as they will for the real write."""
    fd, probe = tempfile.mkstemp(prefix=f".{name}.", suffix=TEMP_SUFFIX, dir=folder)
    os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(probe)


@functools.cache
def new_file_mode() -> int:
    """0o666 less the process umask (read once; Python has no way to read it without setting it)."""
    with _UMASK_LOCK:
        mask = os.umask(0o022)
        os.umask(mask)
    return 0o666 & ~mask


ASK_TO_OVERWRITE = "ask to overwrite to replace it"
PASS_OVERWRITE = "pass --overwrite to replace it"
# How a file found in the way may be replaced, in the words of the program writing it (`overwrite_hint`).
_HOW: contextvars.ContextVar[str] = contextvars.ContextVar(
    "corroscope_overwrite_how", default=ASK_TO_OVERWRITE
)


@contextlib.contextmanager
def overwrite_hint(how: str) -> Iterator[None]:
    """Inside, a file in the way is refused saying `how` to replace it: a command names its option
    ("pass --overwrite to replace it"), a window that asked says to ask again."""
    reset = _HOW.set(how)
    try:
        yield
    finally:
        _HOW.reset(reset)


def refuse_existing(*paths: str | os.PathLike[str], overwrite: bool = False, how: str | None = None) -> None:
    """Raise `OutputExistsError` for the first path that exists, unless `overwrite`; `how` says how to
    replace it (a command-line tool says which flag)."""
    if overwrite:
        return
    for path in paths:
        if os.path.lexists(path):
            raise OutputExistsError(f"{Path(path)} already exists ({how or _HOW.get()})")


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike[str], overwrite: bool = False) -> Iterator[BinaryIO]:
    """Write through a temp file in the target's folder, fsync, then `os.replace`: readers see the old
    file or the new one, never half; on any error the temp file is removed and the target is untouched."""
    path = Path(path)
    refuse_existing(path, overwrite=overwrite)
    tmp: str | None = None
    try:
        tag = _TEMP_TAG.get()
        prefix = f".{path.name}.{tag}." if tag else f".{path.name}."
        fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=TEMP_SUFFIX, dir=path.parent)
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, new_file_mode())  # mkstemp makes 0600; give the mode a plain open() would
        pending = _STAGED.get()
        if pending is not None:  # lands with the rest of the set when `staged()` ends
            earlier = pending.pop(path, None)
            if earlier is not None:
                os.unlink(earlier[0])
            pending[path], tmp = (tmp, overwrite), None
            return
        if not overwrite and os.path.lexists(path):  # appeared while we wrote: still not ours to replace
            raise OutputExistsError(f"{path} already exists ({_HOW.get()})")
        os.replace(tmp, path)
        tmp = None
    except OSError as exc:
        raise ExportError(f"Cannot write {path}: {exc.strerror or exc}") from exc
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes, overwrite: bool = False) -> Path:
    """`data` to `path` through `atomic_write`."""
    with atomic_write(path, overwrite=overwrite) as fh:
        fh.write(data)
    return Path(path)


def encode_png(image: np.ndarray, *, bgr: bool = False) -> bytes:
    """uint8 HxW (grey) or HxWx3 (RGB; BGR with `bgr`, encoded without a swapped copy) -> PNG bytes."""
    if image.dtype != np.uint8 or image.ndim not in (2, 3):
        raise ValueError(f"PNG export needs uint8 HxW or HxWx3, got {image.dtype} {image.shape}")
    if not bgr and image.ndim == 3:
        image = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    ok, buf = cv2.imencode(".png", image, _PNG_PARAMS)
    if not ok:
        raise ExportError("PNG encoding failed")
    return buf.tobytes()


def write_png(path: str | os.PathLike[str], image: np.ndarray, overwrite: bool = False) -> Path:
    refuse_existing(path, overwrite=overwrite)  # before the (slow) encode too
    return atomic_write_bytes(path, encode_png(image), overwrite=overwrite)


JPEG_MAX_SIDE = 65_500  # libjpeg's limit on either side


def encode_jpeg(image: np.ndarray, quality: int = 90, *, bgr: bool = False) -> bytes:
    """uint8 HxWx3 RGB (BGR with `bgr`, encoded without a swapped copy) -> JPEG bytes at `quality`."""
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"JPEG export needs uint8 HxWx3, got {image.dtype} {image.shape}")
    if max(image.shape[:2]) > JPEG_MAX_SIDE:
        raise ExportError(
            f"a JPEG holds at most {JPEG_MAX_SIDE:,} pixels a side and this image is {image.shape[1]:,} x "
            f"{image.shape[0]:,}: write the overlay as PNG (--overlay-png on the command line)"
        )
    params = [cv2.IMWRITE_JPEG_QUALITY, int(quality)]
    ok, buf = cv2.imencode(".jpg", image if bgr else cv2.cvtColor(image, cv2.COLOR_RGB2BGR), params)
    if not ok:
        raise ExportError("JPEG encoding failed")
    return buf.tobytes()


def write_jpeg(
    path: str | os.PathLike[str], image: np.ndarray, quality: int = 90, overwrite: bool = False
) -> Path:
    refuse_existing(path, overwrite=overwrite)  # before the encode too
    return atomic_write_bytes(path, encode_jpeg(image, quality), overwrite=overwrite)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


# In the first bytes of every mask and overlay a batch writes (a PNG text chunk, a JPEG comment): an
# output whose record was deleted is still known for ours, and never taken for a photo.
OUTPUT_MARK = b"Corroscope output"
_MARK_PROBE = 256  # bytes read to find it: it sits right after the PNG header chunk or the JPEG start


def mark_png(data: bytes) -> bytes:
    """PNG bytes with a `Software: Corroscope output` text chunk after the header chunk (IHDR)."""
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        raise ValueError("not a PNG")
    body = b"Software\x00" + OUTPUT_MARK
    chunk = struct.pack(">I", len(body)) + b"tEXt" + body + struct.pack(">I", zlib.crc32(b"tEXt" + body))
    return data[:33] + chunk + data[33:]  # signature (8) + IHDR (4 + 4 + 13 + 4)


def mark_jpeg(data: bytes) -> bytes:
    """JPEG bytes with a comment segment (COM) right after the start of image."""
    if data[:2] != b"\xff\xd8":
        raise ValueError("not a JPEG")
    return data[:2] + b"\xff\xfe" + struct.pack(">H", len(OUTPUT_MARK) + 2) + OUTPUT_MARK + data[2:]


def read_head(path: str | os.PathLike[str], size: int, follow_links: bool = True) -> bytes:
    """The first `size` bytes of the regular file at `path`; b"" for anything else or an error. Opened
    without blocking, so a FIFO or a device named like a file is never waited on."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    if not follow_links:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        return b""
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return b""
        return os.read(fd, size)
    except OSError:
        return b""
    finally:
        os.close(fd)


def has_output_mark(path: str | os.PathLike[str]) -> bool:
    """Whether the regular file at `path` starts like a mask or overlay Corroscope wrote (`mark_png`,
    `mark_jpeg`); opened without following a link or waiting on a FIFO."""
    return OUTPUT_MARK in read_head(path, _MARK_PROBE, follow_links=False)
