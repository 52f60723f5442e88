"""What adaptation checks before its slow work (can the new model be written where asked?), and how it
names its masks truthfully: signed reviews, or corrected masks nobody signed (used all the same)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from app.core.adapt_heads import AdaptRefused
from app.core.errors import ReviewedMaskError
from app.core.files import probe_writable
from app.core.reviewed import ReviewState, read_reviewed_mask
from app.core.text import counted

ALLOW_REPLACING = "choose another name or allow replacing it"


def check_output(base: Path, out: Path, overwrite: bool, how: str = ALLOW_REPLACING) -> None:
    """`AdaptRefused` when the adapted model cannot be written to `out`: the base model itself, a file in
    the way (unless `overwrite`; `how` says how to allow it), a name not ending in .onnx, a folder, or a
    folder that is missing or not writable (found by creating and removing a temp file there)."""
    if out.exists() and base.exists() and os.path.samefile(out, base):
        raise AdaptRefused(f"{out.name} is the base model; write the adapted model to another file")
    if out.is_dir():
        raise AdaptRefused(f"{out} is a folder; name the adapted model's file, ending in .onnx")
    if os.path.lexists(out) and not overwrite:
        raise AdaptRefused(f"{out} already exists; {how}")
    if out.suffix.lower() != ".onnx":
        raise AdaptRefused(f"{out.name}: the adapted model's file name must end in .onnx")
    folder = out.parent
    if not folder.is_dir():
        raise AdaptRefused(f"Cannot write {out}: the folder {folder} does not exist")
    try:
        probe_writable(folder, out.name)
    except OSError as exc:
        raise AdaptRefused(f"Cannot write {out}: {exc.strerror or exc}") from exc


def signed_masks(masks: Sequence[Path]) -> int:
    """How many of the masks carry a signed review (a reviewer's name), as `analyze` counts them; a
    mask that cannot be read counts as unsigned (adaptation then refuses it with the reason)."""
    signed = 0
    for path in masks:
        try:
            signed += ReviewState.of_mask(read_reviewed_mask(path)).is_signed
        except ReviewedMaskError:
            continue
    return signed


def masks_phrase(photos: int, signed: int) -> str:
    """ "5 reviewed photos" when every mask is signed, else "9 photos with corrected masks (0 of them
    signed)": unsigned masks are used too, but never called reviewed."""
    if signed >= photos:
        return counted(photos, "reviewed photo")
    return f"{counted(photos, 'photo')} with corrected masks ({signed} of them signed)"
