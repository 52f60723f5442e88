"""Figures from a reviewed mask instead of the model's (`analyze --reviewed-masks DIR`); the record
(`app.core.record.PhotoRecord.with_review`) says where they came from."""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from app.core.analysis import PhotoResult, reassess
from app.core.files import sha256_file
from app.core.grading import ReviewPolicy
from app.core.mask_folder import MaskFolder
from app.core.palette import ClassInfo
from app.core.record_types import ModelFigures
from app.core.reviewed import ReviewedMask, ReviewState, read_reviewed_mask
from app.core.saved_corrections import CorrectionSearch


@dataclass(frozen=True)
class ReviewedFigures:
    """A photo's result with figures from the mask it was given (or the model's, without one)."""

    result: PhotoResult
    review: ReviewState
    mask_path: Path | None
    mask_sha256: str | None = None  # the mask file's content as read
    model_figures: ModelFigures | None = None  # the model's own, beside a mask's (None: no mask)


@functools.lru_cache(maxsize=8)
def _listed(folder: str, mtime_ns: int) -> MaskFolder:
    del mtime_ns  # part of the key only: a folder that changed is listed again
    return MaskFolder(folder)


def mask_folder(folder: str | os.PathLike[str]) -> MaskFolder:
    """The folder listed once per batch (again when its contents change), not once per photo."""
    try:
        mtime = os.stat(folder).st_mtime_ns
    except OSError:
        mtime = -1
    return _listed(str(folder), mtime)


def mask_sha256(path: Path | None) -> str | None:
    """The SHA-256 of the mask file at `path` (None: no mask, or it cannot be read now)."""
    if path is None:
        return None
    try:
        return sha256_file(path)
    except OSError:
        return None


def find_mask(
    folder: str | os.PathLike[str] | CorrectionSearch | None, photo: Path, own_mask: Path | None = None
) -> Path | None:
    """The mask `folder` holds for this photo (by its stem; a `CorrectionSearch`: its own saved correction),
    or None (no folder, or no mask). `own_mask`, the model's mask this run writes for the photo, is never
    taken as a reviewed one (when MASK_DIR is the output folder)."""
    if folder is None:
        return None
    if isinstance(folder, CorrectionSearch):
        found = folder.find(photo)
    else:
        found = mask_folder(folder).find(photo.stem, photo)
    if found is not None and own_mask is not None and _same(found, own_mask):
        return None
    return found


def _same(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == Path(b).resolve()
    except OSError:
        return a.absolute() == Path(b).absolute()


def read_mask(
    folder: str | os.PathLike[str] | CorrectionSearch | None,
    photo: Path,
    size: tuple[int, int],
    classes: Sequence[ClassInfo],
    own_mask: Path | None = None,
) -> ReviewedMask | None:
    """`folder`'s mask for `photo` (see `find_mask`), checked against the photo's (width, height) and
    the classes' colours (`ReviewedMaskError` saying why it cannot be used); None without one."""
    path = find_mask(folder, photo, own_mask)
    return None if path is None else read_reviewed_mask(path, size, classes, photo=photo)


def apply_reviewed_mask(
    result: PhotoResult, mask: ReviewedMask | None, policy: ReviewPolicy | None = None
) -> ReviewedFigures:
    """`result` with its figures from `mask` (and the model's own beside them); the model's result,
    unchanged, without one. The figures' source is "reviewed" only for a mask whose record is signed
    (`ReviewState.of_mask`), else "edited"."""
    if mask is None:
        return ReviewedFigures(result, ReviewState(), None)
    state = ReviewState.of_mask(mask)
    figures = reassess(result, mask.labels, policy, source=state.source)
    return ReviewedFigures(figures, state, mask.path, mask.sha256 or None, ModelFigures.of(result))
