"""Review state of a photo's mask, and corrected masks on disk: `<name>_mask.reviewed.png` for a signed one,
`<name>_mask.edited.png` for an edit nobody signed yet.

A reviewed mask is a PNG in the palette of docs/design.md section 3 (an indexed PNG as we write it, or any RGB
PNG in those colours), of its photo's size. We write it atomically, never replacing a file unless asked,
with the review state in an iTXt chunk, so the mask alone says who reviewed it and when.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import struct
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from app.core.errors import ImageReadError, OutputExistsError, ReviewedMaskError
from app.core.export import encode_mask_png, safe_stem
from app.core.files import atomic_write_bytes, sha256_file
from app.core.meta_json import strict_json
from app.core.palette import DEFAULT_CLASSES, OFF_PALETTE_DISTANCE, ClassInfo, background_class
from app.core.photos import read_file_bytes
from app.core.sources import EDITED, MODEL, REVIEWED, SOURCES
from app.core.text import untypable

__all__ = ["EDITED", "MODEL", "REVIEWED", "SOURCES"]  # re-exported: callers of earlier releases

REVIEWED_SUFFIX = "_mask.reviewed.png"
EDITED_SUFFIX = "_mask.edited.png"
# Names looked for in a mask folder, most specific first: an inspector's review beats an unsigned edit,
# which beats a plain mask.
MASK_NAME_PATTERNS = ("{stem}_mask.reviewed.png", "{stem}_mask.edited.png", "{stem}_mask.png", "{stem}.png")
PNG_KEY = "corroscope.review"
# Hand-drawn masks have anti-aliased edges: up to this share of pixels may be far from every class colour
# (they go to the nearest); above it the mask is refused. Pure black is background (the origin's rule).
DEFAULT_MAX_OFF_PALETTE = 0.001
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class ReviewState:
    """Where a photo's figures come from: the model's mask, an edit nobody signed ("edited"), or a mask an
    inspector reviewed (who, when, note). Only "reviewed" has a reviewer and time."""

    source: str = MODEL
    reviewed_by: str = ""
    reviewed_at: str = ""  # ISO 8601 with its UTC offset
    note: str = ""
    model_sha256: str = ""  # the model whose mask was reviewed, where known
    # the photo file the mask was saved for (`photo_sha256`): a mask is drawn over one photo, and another
    # photo saved later under the same name must not get its figures; empty in masks of older versions
    photo_sha256: str = ""
    # a model's own mask as exported (source "model"): the SHA-256 of its class ids (`labels_sha256`), so
    # that the same pixels read back are known for the model's, and pixels changed by another tool are not
    labels_sha256: str = ""

    def __post_init__(self) -> None:
        if self.source not in SOURCES:
            raise ValueError(f"review source must be one of {', '.join(SOURCES)}, got {self.source!r}")
        # a record read from a file must not smuggle terminal escapes or a fake second line into the
        # CSV, the console or a PDF ("Reviewed by X\nInjected"): the sign-off dialog refuses them too
        for name, value, lines in (("reviewer's name", self.reviewed_by, False), ("note", self.note, True)):
            if (bad := untypable(value, lines=lines)) is not None:
                raise ValueError(f"the review's {name} holds a control character ({bad})")
        if self.source == REVIEWED and self.reviewed_at:  # both may be unknown: a mask from another tool
            try:
                when = datetime.fromisoformat(self.reviewed_at)
            except (TypeError, ValueError) as exc:
                raise ValueError(f"reviewed_at must be an ISO 8601 time, got {self.reviewed_at!r}") from exc
            if when.tzinfo is None:
                raise ValueError(f"reviewed_at must carry its UTC offset, got {self.reviewed_at!r}")
        elif self.reviewed_by or self.reviewed_at:
            raise ValueError(
                f"the review by {self.reviewed_by!r} has no review time (reviewed_at is empty)"
                if self.source == REVIEWED
                else ("an unsigned edit" if self.source == EDITED else "a model result")
                + " has no reviewer or review time"
            )

    @classmethod
    def reviewed_now(
        cls, by: str, note: str = "", model_sha256: str = "", at: datetime | None = None
    ) -> ReviewState:
        """Marked reviewed by `by` at `at` (default: now), kept to the second with its offset."""
        if not by.strip():
            raise ValueError("marking a photo reviewed needs the reviewer's name")
        if untypable(by) is not None:
            raise ValueError(f"the reviewer's name holds a control character ({untypable(by)})")
        when = (at or datetime.now(timezone.utc).astimezone()).replace(microsecond=0)
        if when.tzinfo is None:
            when = when.astimezone()
        return cls(REVIEWED, by.strip(), when.isoformat(), note, model_sha256)

    @property
    def is_reviewed(self) -> bool:
        return self.source == REVIEWED

    @property
    def is_signed(self) -> bool:
        """Reviewed with the reviewer's name: what lets a mask's figures go without a review flag."""
        return self.source == REVIEWED and bool(self.reviewed_by.strip())

    @classmethod
    def of_mask(cls, mask: ReviewedMask) -> ReviewState:
        """The state of figures computed from a mask read from disk: its own record when it is signed;
        "edited" otherwise (an unsigned edit, a record without a reviewer, or a mask from another tool),
        whatever the file's name says."""
        return cls.signed_or_edited(mask.review)  # a model's own mask is never taken (`mask_folder`)

    @classmethod
    def signed_or_edited(cls, review: ReviewState | None) -> ReviewState:
        """`review` when it is signed; else "edited" keeping its note, model and photo (never "model" for
        a map someone changed): what a mask's record says, written or read."""
        if review is not None and review.is_signed:
            return review
        if review is None:
            return cls(EDITED)
        return cls(
            EDITED, note=review.note, model_sha256=review.model_sha256, photo_sha256=review.photo_sha256
        )

    @classmethod
    def of_record(cls, record: Mapping[str, Any]) -> ReviewState:
        """The state a photo's record names (`PhotoRecord.with_review`); the model's without one. A
        `ValueError` for a record whose fields cannot be a review (a hand-edited JSON)."""
        source = record.get("figures_source") or MODEL
        if source == MODEL:
            return cls()
        text = {k: str(record.get(k) or "") for k in ("reviewed_by", "reviewed_at", "review_note")}
        return cls(str(source), text["reviewed_by"], text["reviewed_at"], text["review_note"])

    def csv_fields(self) -> dict[str, str]:
        """The CSV columns of docs/design.md section 10: `source`, `reviewed_by`, `reviewed_at`."""
        return {"source": self.source, "reviewed_by": self.reviewed_by, "reviewed_at": self.reviewed_at}

    def to_json(self) -> dict[str, str]:
        return asdict(self)

    @classmethod
    def from_json(cls, raw: object) -> ReviewState:
        """Parse `to_json`'s dict; ValueError saying what is wrong."""
        if not isinstance(raw, dict):
            raise ValueError("a review state must be a JSON object")
        names = {f.name for f in fields(cls)}
        bad = sorted(k for k, v in raw.items() if k in names and not isinstance(v, str))
        if bad:
            raise ValueError(f"review state fields must be text: {', '.join(bad)}")
        return cls(**{k: v for k, v in raw.items() if k in names})


@dataclass(frozen=True, eq=False)
class ReviewedMask:
    """A mask read from disk: class ids (uint8 HxW), its review state when the file holds one, and the
    count of pixels far from every class colour that were decoded to the nearest."""

    path: Path
    labels: np.ndarray = field(repr=False)
    review: ReviewState | None
    off_palette: int
    sha256: str = ""  # of the file's bytes as read: a mask changed in place is another mask


def labels_sha256(labels: np.ndarray) -> str:
    """The SHA-256 of a class-id map (uint8 H x W) with its shape: the same pixels give the same digest."""
    ids = np.ascontiguousarray(labels, dtype=np.uint8)
    return hashlib.sha256(f"{ids.shape[0]}x{ids.shape[1]}:".encode() + ids.tobytes()).hexdigest()


def is_models_own(mask: ReviewedMask) -> bool:
    """Whether a mask read from disk is a model's own mask exported unchanged: its record says "model" and
    its pixels are the ones exported. Not a correction: its figures are no inspector's."""
    review = mask.review
    if review is None or review.source != MODEL or not review.labels_sha256:
        return False
    return review.labels_sha256 == labels_sha256(mask.labels)


def photo_sha256(photo: str | os.PathLike[str]) -> str:
    """The SHA-256 of a photo file, recorded in the review record of a mask saved for it; "" when it
    cannot be read now (the record then says nothing of the photo, as older masks do)."""
    try:
        return sha256_file(Path(photo))
    except OSError:
        return ""


def check_photo(mask: ReviewedMask, photo: str | os.PathLike[str]) -> ReviewedMask:
    """`mask` when it may be applied to `photo`: its record names no photo (an older version's mask, a
    mask from another tool) or names this photo's content; `ReviewedMaskError` when the photo changed
    since the mask was saved. Refused rather than applied as unsigned: its pixels were drawn over another
    picture, so its figures (and any signature) say nothing of this one."""
    expected = mask.review.photo_sha256 if mask.review is not None else ""
    if not expected:
        return mask
    actual = photo_sha256(photo)
    if actual == expected:
        return mask
    now = f"its SHA-256 is now {actual[:12]}" if actual else "it cannot be read now"
    raise ReviewedMaskError(
        f"{Path(photo).name} changed since its mask {mask.path.name} was saved ({now}; the mask was saved "
        f"for {expected[:12]}): the mask was not applied"
    )


def reviewed_mask_path(out_dir: str | os.PathLike[str], stem: str, signed: bool = True) -> Path:
    """`OUT/<stem>_mask.reviewed.png` for a signed mask, `OUT/<stem>_mask.edited.png` for an unsigned edit,
    the stem made safe as for every other output."""
    return Path(out_dir) / f"{safe_stem(stem)}{REVIEWED_SUFFIX if signed else EDITED_SUFFIX}"


def corrected_mask_path(out_dir: str | os.PathLike[str], stem: str, review: ReviewState | None) -> Path:
    """Where a corrected mask with this review state goes: `.reviewed.png` only when it is signed."""
    return reviewed_mask_path(out_dir, stem, signed=review is not None and review.is_signed)


def encode_reviewed_png(
    labels: np.ndarray, classes: Sequence[ClassInfo] = DEFAULT_CLASSES, review: ReviewState | None = None
) -> bytes:
    """The palette PNG of `encode_mask_png`, with the review state as JSON in an iTXt chunk."""
    data = encode_mask_png(labels, classes)
    if review is None:
        return data
    text = json.dumps(review.to_json(), ensure_ascii=False).encode("utf-8")
    body = PNG_KEY.encode("latin-1") + b"\x00\x00\x00\x00\x00" + text  # uncompressed, no language tag
    chunk = struct.pack(">I", len(body)) + b"iTXt" + body + struct.pack(">I", zlib.crc32(b"iTXt" + body))
    ihdr_end = len(_PNG_SIGNATURE) + 8 + 13 + 4  # the IHDR chunk always comes first, 13 bytes of data
    return data[:ihdr_end] + chunk + data[ihdr_end:]


def write_reviewed_mask(
    path: str | os.PathLike[str],
    labels: np.ndarray,
    classes: Sequence[ClassInfo] = DEFAULT_CLASSES,
    review: ReviewState | None = None,
    overwrite: bool = False,
) -> Path:
    """Write the reviewed mask atomically; `OutputExistsError` when the file exists and not `overwrite`."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise OutputExistsError(f"{path} already exists (ask to overwrite to replace it)")
    return atomic_write_bytes(path, encode_reviewed_png(labels, classes, review), overwrite=overwrite)


def read_reviewed_mask(
    path: str | os.PathLike[str],
    size: tuple[int, int] | None = None,
    classes: Sequence[ClassInfo] = DEFAULT_CLASSES,
    max_off_palette: float = DEFAULT_MAX_OFF_PALETTE,
    photo: str | os.PathLike[str] | None = None,
) -> ReviewedMask:
    """Read a palette mask of `size` (width, height); `ReviewedMaskError` saying why it cannot be used,
    also for `photo` when its record says it was saved for another photo (`check_photo`)."""
    path = Path(path)
    try:
        data = read_file_bytes(path)  # a regular file only: a FIFO or a device is refused, never waited on
    except ImageReadError as exc:
        raise ReviewedMaskError(f"reviewed mask {exc}") from exc
    try:
        with Image.open(io.BytesIO(data)) as im:
            if size is not None and tuple(im.size) not in (tuple(size), tuple(size)[::-1]):
                _refuse_size(path, im.size, size)  # before decoding: a wrong file may be huge
            im.load()
            review = _review_from_info(im.info, path)
            img = ImageOps.exif_transpose(im)
    except FileNotFoundError as exc:
        raise ReviewedMaskError(f"{path}: file not found") from exc
    except (OSError, UnidentifiedImageError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise ReviewedMaskError(f"{path}: cannot read this mask ({exc})") from exc
    if size is not None and tuple(img.size) != tuple(size):
        _refuse_size(path, img.size, size)
    _refuse_transparent(path, img)
    if img.mode == "P" and "transparency" not in img.info:
        labels, off, example = _decode_indexed(img, classes)
    else:
        labels, off, example = _decode_rgb(np.asarray(img.convert("RGB")), classes)
    if off > max_off_palette * labels.size:
        raise ReviewedMaskError(
            _off_palette_reason(path, img, off, labels.size, example, classes, max_off_palette)
        )
    mask = ReviewedMask(path, labels, review, off, hashlib.sha256(data).hexdigest())
    return mask if photo is None else check_photo(mask, photo)


def _refuse_size(path: Path, got: tuple[int, int], size: tuple[int, int]) -> None:
    raise ReviewedMaskError(
        f"{path.name} is {got[0]}x{got[1]} but its photo is {size[0]}x{size[1]}: "
        "a reviewed mask must have its photo's size"
    )


def _refuse_transparent(path: Path, img: Image.Image) -> None:
    """A mask with see-through pixels: its class colours are hidden (an image editor's erased areas), and
    reading them as opaque would learn or report classes nobody painted as seen."""
    if img.mode not in ("RGBA", "LA", "PA", "La", "RGBa") and "transparency" not in img.info:
        return
    alpha = np.asarray(img.convert("RGBA"))[..., 3]
    clear = int(np.count_nonzero(alpha < 255))
    if clear:
        raise ReviewedMaskError(
            f"{path.name}: {clear:,} of its {alpha.size:,} pixels are transparent; a reviewed mask must be "
            "opaque, every pixel in a class colour (save it without transparency)"
        )


def _review_from_info(info: dict, path: Path) -> ReviewState | None:
    text = info.get(PNG_KEY)
    if text is None:
        return None
    try:
        return ReviewState.from_json(strict_json(text))  # a shared mask's text: nested past the parser too
    except (ValueError, TypeError) as exc:
        raise ReviewedMaskError(f"{path.name}: its review record is unreadable ({exc})") from exc


def _nearest(colours: np.ndarray, classes: Sequence[ClassInfo]) -> tuple[np.ndarray, np.ndarray]:
    """(class id, far-from-every-colour) per RGB colour (N x 3 int); pure black is background, not far."""
    palette = np.array([c.color for c in classes], dtype=np.int32)
    dist = ((colours[:, None, :].astype(np.int32) - palette[None]) ** 2).sum(axis=2)
    ids = np.array([c.id for c in classes], dtype=np.uint8)[dist.argmin(axis=1)]
    black = (colours == 0).all(axis=1)
    found = background_class(classes)
    background = None if found is None else found.id
    if background is not None:
        ids[black] = background
    far = (dist.min(axis=1) > OFF_PALETTE_DISTANCE**2) & ~(black & (background is not None))
    return ids, far


def _decode_indexed(img: Image.Image, classes: Sequence[ClassInfo]):
    indices = np.asarray(img)
    palette = np.zeros((256, 3), dtype=np.int32)
    raw = np.asarray(img.getpalette() or [], dtype=np.int32).reshape(-1, 3)[:256]
    palette[: len(raw)] = raw
    ids, far = _nearest(palette, classes)
    labels = ids[indices]
    used_far = far & (np.bincount(indices.ravel(), minlength=256) > 0)
    off = int(np.bincount(indices.ravel(), minlength=256)[used_far].sum())
    example = None
    if off:
        hits = used_far[indices]
        y, x = np.unravel_index(int(hits.argmax()), hits.shape)
        example = (int(x), int(y), tuple(int(v) for v in palette[indices[y, x]]))
    return labels, off, example


def _decode_rgb(rgb: np.ndarray, classes: Sequence[ClassInfo]):
    # One 24-bit key per pixel: each distinct colour is decoded once (masks hold few), then looked up.
    keys = (rgb[:, :, 0].astype(np.int32) << 16) | (rgb[:, :, 1].astype(np.int32) << 8) | rgb[:, :, 2]
    used = np.flatnonzero(np.bincount(keys.ravel(), minlength=1 << 24))
    colours = np.stack([(used >> 16) & 255, (used >> 8) & 255, used & 255], axis=1)
    ids, far = _nearest(colours, classes)
    lut = np.zeros(1 << 24, dtype=np.uint8)
    lut[used] = ids
    labels = lut[keys]
    off, example = 0, None
    if far.any():
        far_lut = np.zeros(1 << 24, dtype=bool)
        far_lut[used[far]] = True
        hits = far_lut[keys]
        off = int(hits.sum())
        y, x = np.unravel_index(int(hits.argmax()), hits.shape)
        example = (int(x), int(y), tuple(int(v) for v in rgb[y, x]))
    return labels, off, example


def _off_palette_reason(path, img, off, total, example, classes, limit) -> str:
    colours = ", ".join(f"{c.name} {c.color}" for c in classes)
    x, y, rgb = example
    hint = ""
    if img.mode in ("L", "I", "I;16") and int(np.asarray(img).max()) < len(classes):
        hint = " It looks like a grey mask of class ids: save it in the class colours instead."
    return (
        f"{path.name}: {off} pixels ({100.0 * off / total:.2f} %) are far from every class colour "
        f"({colours}), e.g. RGB {rgb} at x={x}, y={y}; at most {100.0 * limit:g} % may be.{hint}"
    )
