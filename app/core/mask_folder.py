"""A folder of masks looked up by photo stem, as `analyze --reviewed-masks`, `adapt` and a batch's
correction search read it: corrections only, never a model's own mask exported unchanged."""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Sequence
from pathlib import Path

from app.core.errors import ReviewedMaskError
from app.core.export import safe_stem
from app.core.files import read_head
from app.core.palette import DEFAULT_CLASSES, ClassInfo
from app.core.reviewed import (
    DEFAULT_MAX_OFF_PALETTE,
    MASK_NAME_PATTERNS,
    PNG_KEY,
    ReviewedMask,
    is_models_own,
    read_reviewed_mask,
)

_RECORD_PROBE = 4096  # the review record sits right after the PNG header (`encode_reviewed_png`)
# Any JSON spacing: a record rewritten compactly (another tool, a later version) is still found.
_SAYS_MODEL = re.compile(rb'"source"\s*:\s*"model"')


@functools.lru_cache(maxsize=256)
def _models_own(path: str, mtime_ns: int, size: int) -> bool:
    del mtime_ns, size  # part of the key only: a file changed since is read again
    head = read_head(path, _RECORD_PROBE)  # a FIFO named as a mask is never waited on
    if PNG_KEY.encode("latin-1") not in head or not _SAYS_MODEL.search(head):
        return False  # a correction, a mask from another tool: no full decode
    try:
        return is_models_own(read_reviewed_mask(path))
    except ReviewedMaskError:
        return False  # read again, and refused with the reason, when it is used


def models_own_file(path: Path) -> bool:
    """Whether the mask file at `path` is a model's own mask exported unchanged (`is_models_own`)."""
    try:
        st = os.stat(path)
    except OSError:
        return False
    return _models_own(str(path), st.st_mtime_ns, st.st_size)


class MaskFolder:
    """A folder of masks listed once, to look up the mask of many photo stems (`analyze --reviewed-masks`)."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)
        try:
            # Every entry but folders: a dangling link or a FIFO named as a photo's mask fails that photo
            # with the reason when read, never lets the model's figures through unseen.
            self._names = {p.name.casefold(): p for p in self.folder.iterdir() if not p.is_dir()}
        except OSError:
            self._names = {}

    def find(self, stem: str, photo: str | os.PathLike[str] | None = None) -> Path | None:
        """The first of `MASK_NAME_PATTERNS` (`<stem>_mask.reviewed.png`, `<stem>_mask.edited.png`,
        `<stem>_mask.png`, `<stem>.png`) that is there, else for an origin photo
        `ORI_<id>` its `GT_<id>.png` (also under the safe stem our outputs use; the extension's case may
        differ), never `photo` itself (a PNG photo in its own folder) nor a model's own mask exported
        unchanged (`models_own_file`); None if none is there."""
        skip = _same_file_key(photo)
        for candidate in dict.fromkeys((stem, safe_stem(stem))):
            names = [pattern.format(stem=candidate) for pattern in MASK_NAME_PATTERNS]
            if candidate.startswith("ORI_"):  # the origin's layout: ORI_<id> is paired with GT_<id>
                names.append(f"GT_{candidate[4:]}.png")
            for name in names:
                found = self._names.get(name.casefold())
                # A case-insensitive match is taken for the extension only: the rest must match as it is.
                if found is None or found.name[:-4] != name[:-4] or _same_file_key(found) == skip:
                    continue
                if not models_own_file(found):  # an earlier export of the model's mask: no correction
                    return found
        return None

    def read(
        self,
        stem: str,
        size: tuple[int, int],
        classes: Sequence[ClassInfo] = DEFAULT_CLASSES,
        max_off_palette: float = DEFAULT_MAX_OFF_PALETTE,
        photo: str | os.PathLike[str] | None = None,
    ) -> ReviewedMask | None:
        """The mask of a photo stem, read and checked against the photo's (width, height); None when the
        folder has none; `ReviewedMaskError` with the reason when it cannot be used for that photo."""
        path = self.find(stem, photo)
        return None if path is None else read_reviewed_mask(path, size, classes, max_off_palette, photo)


def _same_file_key(path: str | os.PathLike[str] | None) -> Path | None:
    if path is None:
        return None
    try:
        return Path(path).resolve()
    except OSError:
        return Path(path).absolute()


def find_reviewed_mask(mask_dir: str | os.PathLike[str], stem: str) -> Path | None:
    """The mask for one photo stem in `mask_dir` (see `MaskFolder.find`)."""
    return MaskFolder(mask_dir).find(stem)
