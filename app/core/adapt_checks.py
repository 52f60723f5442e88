"""What adaptation checks before its slow work (can the new model be written where asked? are two
photos the same?), and how it names its masks truthfully: signed reviews, or corrected masks nobody
signed (used all the same)."""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from app.core.adapt_heads import AdaptRefused
from app.core.errors import ReviewedMaskError
from app.core.files import probe_writable, sha256_file
from app.core.palette import ClassInfo
from app.core.paths import models_dir
from app.core.picture_key import PictureKey, picture_key
from app.core.reviewed import ReviewState, read_reviewed_mask
from app.core.text import counted, safe_message, safe_path, safe_text

ALLOW_REPLACING = "choose another name or allow replacing it"
NAMED = 3  # names listed in one message; the rest counted
BAD_MASKS_LISTED = 5  # reasons listed when masks cannot be used


def check_output(base: Path, out: Path, overwrite: bool, how: str = ALLOW_REPLACING) -> None:
    """`AdaptRefused` when the adapted model cannot be written to `out`: the base model itself, a file in
    or of the bundled models' folder (whatever model is loaded), a file in the way (unless `overwrite`;
    `how` says how to allow it), a name not ending in .onnx, a folder, or a folder that is missing or not
    writable (found by creating and removing a temp file there)."""
    try:
        os.lstat(out)
    except OSError as exc:  # a name too long: every exists() below would raise it as a traceback
        if exc.errno not in (errno.ENOENT, errno.ENOTDIR):
            raise AdaptRefused(f"Cannot write {out}: {exc.strerror or exc}") from exc
    if out.exists() and base.exists() and os.path.samefile(out, base):
        raise AdaptRefused(
            f"{safe_path(out.name)} is the base model; write the adapted model to another file"
        )
    refuse_bundled(out)
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


def refuse_bundled(out: Path) -> None:
    """`AdaptRefused` for a file in or of the bundled models' folder: they are what "Return to the shipped
    model" loads, and an adapted file written there (or over one through a link) would load instead."""
    folder = models_dir()
    with contextlib.suppress(OSError, RuntimeError):  # a loop of links: left to the write to refuse
        shipped = folder.resolve()
        target = out.resolve()  # through links: `out` itself, or a folder on its way
        if target == shipped or shipped in target.parents:
            raise AdaptRefused(
                f"{safe_path(out)} is in the folder of the bundled models ({safe_path(folder)}); the adapted "
                "model is never written there: choose another folder"
            )
    if not out.exists():
        return
    for entry in _files(folder):  # a hard link: another name for a bundled model's file
        with contextlib.suppress(OSError):
            if os.path.samefile(out, entry):
                raise AdaptRefused(
                    f"{safe_path(out)} is the bundled model {safe_path(entry.name)} under another name; "
                    "write the adapted model to another file"
                )


def _files(folder: Path) -> list[Path]:
    try:
        return [p for p in folder.rglob("*") if p.is_file()]
    except OSError:
        return []


@dataclass(frozen=True)
class Distinct:
    """The reviewed pairs with one of each picture, its file's SHA-256 and its picture key, and the
    copies left out (copy, the photo kept in its place)."""

    pairs: tuple[tuple[Path, Path], ...]
    sha256: tuple[str, ...]
    copies: tuple[tuple[Path, Path], ...] = ()
    keys: tuple[PictureKey, ...] = ()

    def note(self) -> str | None:
        """ "2 photos are copies of others (the same picture) and were left out: b.png (of a.png), ..." """
        if not self.copies:
            return None
        n = len(self.copies)
        named = [f"{safe_path(copy.name)} (of {safe_path(kept.name)})" for copy, kept in self.copies]
        return (
            f"{counted(n, 'photo')} {'is a copy' if n == 1 else 'are copies'} of another (the same picture, "
            f"re-saved or re-encoded) and {'was' if n == 1 else 'were'} left out: {named_few(named)}"
        )


def distinct_photos(pairs: Sequence[tuple[Path, Path]]) -> Distinct:
    """One pair per picture: copies under other names (same bytes, same pixels, or the picture re-encoded,
    `PictureKey.same_picture`) would count twice towards the photos needed and score a model on a photo
    it was fitted on (leave-one-out leaves one copy out, not the other)."""
    kept: list[tuple[Path, Path, str, PictureKey]] = []
    copies = []
    for photo, mask in pairs:
        digest, key = sha256_file(photo), picture_key(photo)
        twin = next((k for k in kept if k[2] == digest or key.same_picture(k[3])), None)
        if twin is not None:
            copies.append((Path(photo), twin[0]))
        else:
            kept.append((Path(photo), Path(mask), digest, key))
    return Distinct(
        tuple((p, m) for p, m, _d, _k in kept),
        tuple(d for _p, _m, d, _k in kept),
        tuple(copies),
        tuple(k for _p, _m, _d, k in kept),
    )


def named_few(names: Iterable[str], limit: int = NAMED) -> str:
    """ "a, b, c and 4 more": names already escaped for the message."""
    names = list(names)
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


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


def bad_masks_text(errors: Sequence[ReviewedMaskError], classes: Sequence[ClassInfo]) -> str:
    """Every mask that cannot be used, with its reason (the first few), in one refusal; the class
    colours are named only where a mask's colours were wrong."""
    listed = [f"  {safe_message(str(e).rstrip().rstrip('.'))}" for e in errors[:BAD_MASKS_LISTED]]
    if len(errors) > BAD_MASKS_LISTED:
        listed.append(f"  and {len(errors) - BAD_MASKS_LISTED} more")
    hint = ""
    if any("class colour" in str(e) for e in errors):
        names = ", ".join(safe_text(c.name) for c in classes)
        hint = f"A mask must be in this model's class colours ({names}). "
    return (
        f"{counted(len(errors), 'reviewed mask')} cannot be used:\n"
        + "\n".join(listed)
        + f"\n{hint}The base model stays in use."
    )
