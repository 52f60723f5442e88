"""A photo file as a project knows it (SHA-256, size, EXIF time), and finding moved photos by hash."""

from __future__ import annotations

import datetime as _dt
import logging
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any

from PIL import Image, UnidentifiedImageError

from app.core.errors import ImageReadError
from app.core.files import sha256_file
from app.core.photo_notes import pillow_notes
from app.core.photos import IMAGE_EXTENSIONS
from app.core.project.records import PhotoEntry, PhotoFile, StoredPhoto
from app.core.project.schema import now_utc
from app.core.text import display_path, path_from_display

log = logging.getLogger(__name__)

_EXIF_IFD = 0x8769
_DATETIME_ORIGINAL, _DATETIME_DIGITIZED, _DATETIME = 36867, 36868, 306


def describe_photo(path: str | os.PathLike[str]) -> PhotoFile:
    """Hash, size and EXIF capture time of a photo file; `ImageReadError` when it cannot be read."""
    path = Path(path)
    try:
        size = path.stat().st_size
        sha = sha256_file(path)
    except OSError as exc:
        raise ImageReadError(f"{path}: cannot read the file ({exc.strerror or exc})") from None
    return PhotoFile(path, sha, size, exif_time(path))


def photo_places(photo: StoredPhoto, project_folder: Path | None) -> list[Path]:
    """Where a stored photo may be, first choice first (no file system access): beside the project as
    stored relative to it, then its stored path."""
    places = []
    if photo.rel_path is not None and project_folder is not None:
        places.append(path_from_display(str(project_folder / photo.rel_path)))
    places.append(path_from_display(photo.path))
    return places


@dataclass(frozen=True)
class PhotoLookup:
    """Where a stored photo is now (None: not found), and the places that hold another file instead."""

    path: Path | None
    changed: tuple[Path, ...] = ()  # a file at one of its places whose size or SHA-256 differs


def same_file(path: Path, photo: StoredPhoto, verify: bool = True) -> bool:
    """The file at `path` is the stored photo: its size (cheap, first), then, if `verify`, its SHA-256."""
    try:
        if path.stat().st_size != photo.size:
            return False
        return not verify or sha256_file(path) == photo.sha256
    except OSError:
        return False


def locate_photo(photo: StoredPhoto, project_folder: Path | None, verify: bool = True) -> PhotoLookup:
    """The first of the photo's places holding the stored photo; a file there with other content (a
    photo copied over it, another site's photo at the relative path) is passed over and noted."""
    changed = []
    for place in dict.fromkeys(photo_places(photo, project_folder)):
        if not place.is_file():
            continue
        if same_file(place, photo, verify):
            return PhotoLookup(place, tuple(changed))
        changed.append(place)
    return PhotoLookup(None, tuple(changed))


def found_at(photo: StoredPhoto, project_folder: Path | None, verify: bool = True) -> Path | None:
    """Where the stored photo is now, or None; `verify` False compares sizes only (no file is read)."""
    return locate_photo(photo, project_folder, verify).path


def missing_photos(
    photos: Iterable[StoredPhoto], project_folder: Path | None, verify: bool = False
) -> list[StoredPhoto]:
    """The photos found at none of their places (moved, renamed, deleted or another file there now); by
    size only unless `verify`, so a large project is listed without reading every photo."""
    return [p for p in photos if found_at(p, project_folder, verify) is None]


def exif_time(path: Path) -> str | None:
    """When the photo was taken, from its EXIF (`2024-05-17T10:31:02`), or None. Never decodes the
    pixels: a photo too large to open (a decompression bomb) has no time here, and the analysis then
    fails it with the reason."""
    try:
        with pillow_notes(path), Image.open(path) as img:
            if img.format == "PNG" and "exif" not in img.info:
                return None  # Pillow would decode the whole PNG to look for an eXIf chunk after the pixels
            exif = img.getexif()
            raw = exif.get_ifd(_EXIF_IFD).get(_DATETIME_ORIGINAL) or exif.get_ifd(_EXIF_IFD).get(
                _DATETIME_DIGITIZED
            )
            raw = raw or exif.get(_DATETIME)
    except (OSError, UnidentifiedImageError, ValueError, SyntaxError, Image.DecompressionBombError):
        return None
    if not isinstance(raw, str):
        return None
    try:
        return _dt.datetime.strptime(raw.strip().rstrip("\x00"), "%Y:%m:%d %H:%M:%S").isoformat()
    except ValueError:
        log.debug("%s: unreadable EXIF time %r", path, raw)
        return None


def find_by_hash(folder: Path, wanted: Mapping[str, int], recursive: bool = True) -> dict[str, list[Path]]:
    """Photos in `folder` whose SHA-256 is a key of `wanted` (hash -> size), every file of each (two
    copies of one photo under two names are both listed, in path order); only files of a wanted size
    are hashed, so pointing at a large folder stays quick."""
    if not folder.is_dir():
        raise ImageReadError(f"{folder}: no such folder")
    sizes = set(wanted.values())
    found: dict[str, list[Path]] = {}
    files = folder.rglob("*") if recursive else folder.glob("*")
    for path in sorted(files):
        if path.suffix.lower() not in IMAGE_EXTENSIONS or not path.is_file():
            continue
        try:
            if path.stat().st_size not in sizes:
                continue
            sha = sha256_file(path)
        except OSError:
            continue
        if sha in wanted:
            found.setdefault(sha, []).append(path)
    return found


def best_match(photo: StoredPhoto, candidates: Sequence[Path], taken: set[Path]) -> Path:
    """Of the files with the photo's content, the one that is most likely it: the one ending in its
    stored relative (else absolute) path's longest tail, at least its file name; then one no other
    photo took; then the first. Two copies under two names go each to the photo of that name."""
    stored = PurePath(photo.rel_path or photo.path).parts

    def score(path: Path) -> tuple[int, bool]:
        parts, same = PurePath(display_path(path)).parts, 0  # as stored: odd bytes as \xNN
        while same < min(len(parts), len(stored)) and parts[-1 - same] == stored[-1 - same]:
            same += 1
        return same, path not in taken

    return max(candidates, key=score)  # max keeps the first of equals: path order


def path_values(path: Path, project_folder: Path | None) -> dict[str, Any]:
    """A photo's stored path: absolute, and relative to the project file's folder where it has one (a
    project moved with its photos still finds them)."""
    absolute = Path(os.path.abspath(path))
    rel = None
    if project_folder is not None:
        try:
            rel = Path(os.path.relpath(absolute, project_folder)).as_posix()
        except ValueError:  # another drive on Windows
            rel = None
    # a name that is not UTF-8 is stored with its bytes as \xNN (a database holds text); read back by
    # `found_at`
    return {"path": display_path(absolute), "rel_path": None if rel is None else display_path(rel)}


def photo_values(entry: PhotoEntry, inspection_id: int, project_folder: Path | None) -> dict[str, Any]:
    """The `photos` row of a photo stored in an inspection."""
    f, rec = entry.file, entry.record
    return dict(
        inspection_id=inspection_id,
        **path_values(f.path, project_folder),
        sha256=f.sha256,
        size=f.size,
        exif_time=f.exif_time,
        width=rec.get("width"),
        height=rec.get("height"),
        added_at=now_utc(),
    )
